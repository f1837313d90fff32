#!/usr/bin/env python3
"""System tests of cohortd in network namespaces (one per node, veth pairs on
bridges), faults made with iptables inside the namespaces. Needs root; exits
77 (ctest SKIP) with the reason when namespaces or iptables are unusable.

usage: test_netns.py BUILD_DIR TEST_NAME [--loss-seconds S]
tests: partition asym loss links"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from netns import CohortLab, Lab, wait_for  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else None


def check(cond, what, c=None, lab=None):
    if not cond:
        if c:
            for i in range(c.n):
                sys.stderr.write("---- log of node %d ----\n%s\n" % (i + 1, c.log(i)[-5000:]))
                sys.stderr.write("---- status of node %d ----\n%s\n" % (i + 1, c.ctl(i, "status")))
        if lab:
            for i in range(lab.n):
                sys.stderr.write("---- iptables of node %d ----\n%s\n" % (i + 1, lab.counters(i)))
        raise AssertionError(what)


def seq(ring_id):
    return int(ring_id.split(".")[1])


def rings(c, nodes):
    return {i: c.rings_formed(i) for i in nodes}


def members_of(c, i):
    st = c.status(i)
    return tuple(st["members"]) if st and st.get("state") == "operational" else None


def test_partition(loss_seconds):
    """5 nodes cut into {1,2,3} and {4,5}: each side forms a ring of its own;
    healed: one ring of 5 with a ring seq above both sides'."""
    with Lab(5) as lab:
        c = CohortLab(lab, build_dir=BUILD)
        c.start_all()
        all5 = list(range(5))
        check(wait_for(lambda: c.one_ring(all5), 10) is not None, "5 nodes did not form one ring", c)
        seq0 = seq(c.status(0)["ring_id"])
        a, b = [0, 1, 2], [3, 4]
        lab.partition(a, b)
        t = wait_for(lambda: c.one_ring(a) and c.one_ring(b), 10)
        check(t is not None, "the two sides did not form rings of their own", c, lab)
        sa, sb = seq(c.status(0)["ring_id"]), seq(c.status(3)["ring_id"])
        print("partitioned: {1,2,3} ring seq %d and {4,5} ring seq %d in %.0f ms" % (sa, sb, t * 1000))
        check(sa > seq0 and sb > seq0, "ring seqs did not grow across the partition", c)
        time.sleep(0.5)
        check(c.one_ring(a) and c.one_ring(b), "sides not stable while partitioned", c, lab)
        _, t_heal = lab.heal()
        t = wait_for(lambda: c.one_ring(all5), 10)
        check(t is not None, "no single ring 10 s after healing", c, lab)
        t = time.monotonic() - t_heal  # from the end of the heal
        s_after = seq(c.status(0)["ring_id"])
        check(s_after > max(sa, sb), "merged ring seq %d not above %d/%d" % (s_after, sa, sb), c)
        print("healed: one ring of 5, seq %d, %.0f ms after the heal" % (s_after, t * 1000))


def wait_stable(c, nodes, stable_for, limit):
    """Wait until no node forms a ring for `stable_for` s and all are
    operational. Returns (settle time or None after `limit` s, rings formed)."""
    t0 = time.monotonic()
    last = rings(c, nodes)
    last_change = t0
    while True:
        time.sleep(0.05)
        now = rings(c, nodes)
        if now != last or any(v is None for v in now.values()):
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change >= stable_for and all(members_of(c, i) for i in nodes):
            return last_change - t0, last
        if time.monotonic() - t0 >= limit:
            return None, now


def test_asym(loss_seconds):
    """One direction dropped, both ways round the ring: first node 1 stops
    hearing node 3 (the token goes 1 -> 2 -> 3 -> 1, so 3's token to 1 is
    lost), then node 3 stops hearing node 1. Each time the cluster must
    settle in a stable membership (no ring formed for 3 s on any node)
    within 20 s, and form one ring of 3 after healing."""
    with Lab(3) as lab:
        c = CohortLab(lab, build_dir=BUILD)
        c.start_all()
        all3 = [0, 1, 2]
        check(wait_for(lambda: c.one_ring(all3), 10) is not None, "no ring", c)
        flapped = []
        for src, dst in ((2, 0), (0, 2)):
            r0 = rings(c, all3)
            lab.drop_oneway(src, dst)
            settle, r1 = wait_stable(c, all3, 3.0, 20)
            views = {i + 1: members_of(c, i) for i in all3}
            formed = {i + 1: r1[i] - r0[i] for i in all3}
            if settle is None:
                flapped.append("node %d not hearing node %d: still re-forming after 20 s, rings formed %s"
                               % (dst + 1, src + 1, formed))
                sys.stderr.write("FAIL: %s; logs follow\n" % flapped[-1])
                for i in all3:
                    sys.stderr.write("---- log of node %d (tail) ----\n%s\n" % (i + 1, c.log(i)[-2500:]))
            else:
                print("node %d stops hearing node %d: stable after %.1f s; views %s; rings formed %s"
                      % (dst + 1, src + 1, settle, views, formed))
            _, t_heal = lab.heal()
            t = wait_for(lambda: c.one_ring(all3), 10)
            check(t is not None, "no single ring 10 s after healing the one-way fault", c, lab)
            print("healed: one ring of 3 %.0f ms after the heal" % ((time.monotonic() - t_heal) * 1000))
            before = rings(c, all3)
            time.sleep(1.0)
            check(rings(c, all3) == before and c.one_ring(all3), "ring not stable after healing", c, lab)
        check(not flapped, "membership flapped under a one-way fault: " + "; ".join(flapped))


def test_loss(loss_seconds):
    """1% random loss of received packets on every node: no ring re-forms."""
    with Lab(3) as lab:
        c = CohortLab(lab, build_dir=BUILD)
        c.start_all()
        all3 = [0, 1, 2]
        check(wait_for(lambda: c.one_ring(all3), 10) is not None, "no ring", c)
        time.sleep(0.5)
        before = rings(c, all3)
        rid = c.status(0)["ring_id"]
        lab.loss(0.01)
        t_end = time.monotonic() + loss_seconds
        worst = 0
        while time.monotonic() < t_end:
            time.sleep(0.25)
            now = rings(c, all3)
            check(all(v is not None for v in now.values()), "a daemon stopped answering under loss", c, lab)
            worst = max(worst, max(now[i] - before[i] for i in all3))
            check(worst == 0, "spurious ring re-formation under 1%% loss after %.1f s: rings formed %s -> %s"
                  % (loss_seconds - (t_end - time.monotonic()), before, now), c, lab)
        dropped = sum(int(line.split()[0]) for i in all3 for line in lab.counters(i).splitlines()
                      if "statistic" in line and line.split()[0].isdigit())
        lab.no_loss()
        check(c.one_ring(all3) and c.status(0)["ring_id"] == rid, "ring changed under loss", c, lab)
        tl = [c.stat(i, "totem.token_losses") for i in all3]
        rt = [c.stat(i, "totem.token_retransmits") for i in all3]
        print("%d s of 1%% loss on every node: 0 re-formations (ring %s); %d packets dropped by the "
              "loss rules; token retransmits %s; token losses %s" % (loss_seconds, rid, dropped, rt, tl))


def link_states(c, i):
    """{(peer, link): 'up'|'down'} from node i's `links` reply."""
    out = {}
    for line in (c.ctl(i, "links") or "").splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == "node" and f[2] == "link":
            out[(int(f[1]), int(f[3]))] = f[5]
    return out


def test_links(loss_seconds):
    """Two links on two bridges/subnets; link 0 down everywhere (iptables on
    eth0, both directions): no membership change, `links` shows link 0 down
    and link 1 up; healed: link 0 up again, still the same ring."""
    with Lab(3, links=2) as lab:
        c = CohortLab(lab, build_dir=BUILD)
        c.start_all()
        all3 = [0, 1, 2]
        check(wait_for(lambda: c.one_ring(all3), 10) is not None, "no ring", c)

        def all_links(state, link):
            for i in all3:
                ls = link_states(c, i)
                for j in all3:
                    if j != i and ls.get((j + 1, link)) != state:
                        return False
            return True

        check(wait_for(lambda: all_links("up", 0) and all_links("up", 1), 5) is not None,
              "links did not all come up", c)
        before = rings(c, all3)
        rid = c.status(0)["ring_id"]
        _, t0 = lab.link_down(0)
        t = wait_for(lambda: all_links("down", 0), 5)
        check(t is not None, "link 0 not reported down: %s" % link_states(c, 0), c, lab)
        print("link 0 reported down on every node %.0f ms after the fault" % ((time.monotonic() - t0) * 1000))
        check(all_links("up", 1), "link 1 not up while link 0 is down: %s" % link_states(c, 0), c, lab)
        time.sleep(1.5)
        check(rings(c, all3) == before and c.one_ring(all3) and c.status(0)["ring_id"] == rid,
              "membership changed when one link of two went down", c, lab)
        _, t0 = lab.heal()
        t = wait_for(lambda: all_links("up", 0), 5)
        check(t is not None, "link 0 not back up after healing: %s" % link_states(c, 0), c, lab)
        print("link 0 up again %.0f ms after healing" % ((time.monotonic() - t0) * 1000))
        # and the other way round: link 1 down, traffic on link 0
        lab.link_down(1)
        check(wait_for(lambda: all_links("down", 1), 5) is not None, "link 1 not reported down", c, lab)
        time.sleep(1.0)
        lab.heal()
        check(wait_for(lambda: all_links("up", 1), 5) is not None, "link 1 not back up", c, lab)
        check(rings(c, all3) == before and c.one_ring(all3) and c.status(0)["ring_id"] == rid,
              "membership changed during link failures: rings formed %s -> %s" % (before, rings(c, all3)), c, lab)
        print("no membership change through both link failures (ring %s)" % rid)


TESTS = {"partition": test_partition, "asym": test_asym, "loss": test_loss, "links": test_links}

if __name__ == "__main__":
    args = sys.argv[2:]
    loss_seconds = 20
    if "--loss-seconds" in args:
        k = args.index("--loss-seconds")
        loss_seconds = int(args[k + 1])
        del args[k:k + 2]
    why = netns.available()
    if why:
        print("SKIP: network namespace tests unavailable: %s" % why)
        sys.exit(netns.SKIP)
    netns.install_deadline(int(os.environ.get("COHORT_NETNS_DEADLINE", "58")))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    for name in args or list(TESTS):
        TESTS[name](loss_seconds)
        print("ok", name)
