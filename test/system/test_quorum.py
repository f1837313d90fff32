#!/usr/bin/env python3
"""System tests of the quorum service: real cohortd processes on 127.0.x.y
(network namespaces for the 2/2 split), observed through cohort-quorumtool,
which uses libquorum and libvotequorum.

Every node runs `cohort-quorumtool -m -p` for the whole test: it prints one
line per callback (libquorum nodelist and quorum, votequorum nodelist, quorum
and expected votes). At the end every node's lines are checked: each
NODELIST's joined/left lists match the change from the previous one, each
QUORUM follows the NODELIST of its ring, each quorate value is the one the
rules give for that membership, and the milestones of the scenario appear in
order.

usage: test_quorum.py BUILD_DIR TEST_NAME
tests: three twonode wfa lms runtime badconf atb lib"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cohort_cluster import Cluster, find_binary  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else None
TOOL = find_binary("cohort-quorumtool", BUILD)
SKIP = 77


def check(cond, what, cl=None, mons=None):
    if not cond:
        if cl:
            for i in range(cl.n):
                sys.stderr.write("---- log of node %d ----\n%s\n" % (i + 1, cl.log(i)[-3000:]))
        for m in mons or []:
            sys.stderr.write("---- callbacks on node %d ----\n%s\n" % (m.node, "\n".join(m.text())))
        raise AssertionError(what)


def quorum_conf(cl, body, votes=None):
    """Add a quorum section (and per-node quorum_votes) to the cluster's file."""
    with open(cl.conf) as f:
        text = f.read()
    for i, v in (votes or {}).items():
        text = text.replace("nodeid: %d\n" % (i + 1), "nodeid: %d\n        quorum_votes: %d\n" % (i + 1, v))
    text += "quorum {\n%s}\n" % "".join("    %s\n" % line for line in body)
    with open(cl.conf, "w") as f:
        f.write(text)


def tool_env(ipc):
    env = dict(os.environ)
    env["COHORT_IPC"] = ipc
    return env


def tool(cl, i, *args, timeout=10):
    r = subprocess.run([TOOL] + list(args), env=tool_env(cl.ipc(i)), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def status(cl, i):
    """-s parsed: {'Quorate': 'Yes', 'Expected votes': '3', ...} plus 'rc'."""
    rc, out, _ = tool(cl, i, "-s")
    st = {"rc": rc}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep and not line.startswith(" "):
            st[k.strip()] = v.strip()
    return st


def quorate(cl, i):
    return status(cl, i).get("rc") == 0


def ids(s):
    return tuple(int(x) for x in s.split(",")) if s else ()


class Monitor:
    """cohort-quorumtool -m -p on one node, its lines kept with a timestamp."""

    def __init__(self, cl, i):
        self.node = i + 1
        self.lines = []
        self.p = subprocess.Popen([TOOL, "-m", "-p"], env=tool_env(cl.ipc(i)), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.p.stdout:
            self.lines.append(raw.decode().rstrip("\n"))

    def text(self):
        return list(self.lines)

    def events(self, kind):
        out = []
        for line in self.text():
            f = line.split()
            if not f or f[0] != kind:
                continue
            d = {}
            for kv in f[1:]:
                k, _, v = kv.partition("=")
                d[k] = v
            out.append(d)
        return out

    def wait_quorum(self, members, q, timeout=10):
        """Until the last QUORUM line shows exactly these members and quorate."""
        want = tuple(sorted(members))
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            ev = self.events("QUORUM")
            if ev and tuple(sorted(ids(ev[-1]["members"]))) == want and int(ev[-1]["quorate"]) == q:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()


def check_sequence(mon, rule, milestones, cl=None, mons=None):
    """Every libquorum callback of one node against the rules (see the
    module comment); rule(members) gives the expected quorate or None when
    either answer is acceptable (a transient ring)."""
    prev = None
    ring_of_nodelist = None
    got = []
    for line in mon.text():
        f = line.split()
        if not f:
            continue
        d = dict(kv.partition("=")[::2] for kv in f[1:])
        if f[0] == "NODELIST":
            m = ids(d["members"])
            if prev is None:
                check(not d["joined"] and not d["left"], "node %d: first NODELIST has joined/left: %s"
                      % (mon.node, line), cl, mons)
            else:
                j = tuple(x for x in m if x not in prev)
                lft = tuple(x for x in prev if x not in m)
                check(ids(d["joined"]) == j and ids(d["left"]) == lft,
                      "node %d: joined/left wrong after %s: %s" % (mon.node, prev, line), cl, mons)
            prev = m
            ring_of_nodelist = d["ring"]
        elif f[0] == "QUORUM":
            check(d["ring"] == ring_of_nodelist, "node %d: QUORUM without the NODELIST of its ring: %s"
                  % (mon.node, line), cl, mons)
            m = tuple(sorted(ids(d["members"])))
            want = rule(m)
            check(want is None or int(d["quorate"]) == want, "node %d: quorate=%s for members %s, "
                  "expected %s" % (mon.node, d["quorate"], m, want), cl, mons)
            got.append((m, int(d["quorate"])))
    # The milestones must appear in this order (other states may come between).
    k = 0
    for state in got:
        if k < len(milestones) and state == (tuple(sorted(milestones[k][0])), milestones[k][1]):
            k += 1
    check(k == len(milestones), "node %d: milestones %s not all seen in order in %s"
          % (mon.node, milestones[k:], got), cl, mons)


def start_and_form(cl, nodes, timeout=10):
    for i in nodes:
        if not cl.alive(i):
            cl.start(i)
    check(cl.wait(lambda: cl.one_ring(nodes), timeout) is not None, "no ring of %s" % nodes, cl)
    with open(cl.conf) as f:
        configured = "provider: corosync_votequorum" in f.read()
    if configured:
        out = tool(cl, nodes[0], "-s")[1]
        check("corosync_votequorum" in out, "cohortd runs without the quorum provider its "
              "corosync.conf sets (is services_config.quorum passed by the daemon?):\n" + out, cl)


# ---- scenarios ---------------------------------------------------------------------------

def test_three(base):
    """3 nodes: kill one, still quorate; kill another, the last is not quorate
    and is told so; restart both, quorate again."""
    with Cluster(3, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum"])
        start_and_form(cl, [0, 1, 2])
        mons = [Monitor(cl, i) for i in range(3)]
        try:
            check(all(m.wait_quorum([1, 2, 3], 1) for m in mons), "not quorate with 3", cl, mons)
            st = status(cl, 0)
            check(st["rc"] == 0 and st["Expected votes"] == "3" and st["Quorum"].startswith("2")
                  and st["Total votes"] == "3" and "Quorate" in st["Flags"], "status: %s" % st, cl)
            cl.kill(2)
            check(mons[0].wait_quorum([1, 2], 1) and mons[1].wait_quorum([1, 2], 1),
                  "2 of 3 not quorate", cl, mons)
            cl.kill(1)
            check(mons[0].wait_quorum([1], 0), "last node still quorate", cl, mons)
            st = status(cl, 0)
            check(st["rc"] == 2 and st["Quorate"] == "No" and "Activity blocked" in st["Quorum"],
                  "status of the last node: %s" % st, cl)
            cl.start(1)
            cl.start(2)
            check(mons[0].wait_quorum([1, 2, 3], 1, 15), "not quorate again after restart", cl, mons)
            check(cl.wait(lambda: quorate(cl, 1) and quorate(cl, 2), 5) is not None,
                  "restarted nodes not quorate", cl)
            rule = lambda m: 1 if len(m) >= 2 else 0  # noqa: E731
            check_sequence(mons[0], rule, [([1, 2, 3], 1), ([1, 2], 1), ([1], 0), ([1, 2, 3], 1)], cl, mons)
            check_sequence(mons[1], rule, [([1, 2, 3], 1), ([1, 2], 1)], cl, mons)
            check_sequence(mons[2], rule, [([1, 2, 3], 1)], cl, mons)
        finally:
            for m in mons:
                m.stop()


def test_twonode(base):
    """two_node: the survivor of two stays quorate; a cold start of one node
    waits (wait_for_all is implied)."""
    with Cluster(2, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum", "two_node: 1"])
        start_and_form(cl, [0])
        time.sleep(1.0)
        st = status(cl, 0)
        check(st["rc"] == 2 and "2Node" in st["Flags"] and "WaitForAll" in st["Flags"],
              "lone two_node node at cold start: %s" % st, cl)
        mon = Monitor(cl, 0)
        try:
            start_and_form(cl, [0, 1])
            check(mon.wait_quorum([1, 2], 1), "two_node pair not quorate", cl, [mon])
            check(status(cl, 1)["Quorum"].startswith("1"), "two_node quorum is not 1", cl)
            cl.kill(1)
            check(mon.wait_quorum([1], 1), "two_node survivor not quorate", cl, [mon])
            check(quorate(cl, 0), "-s says the survivor is not quorate", cl)
            check_sequence(mon, lambda m: None if len(m) == 1 else 1,
                           [([1], 0), ([1, 2], 1), ([1], 1)], cl, [mon])
        finally:
            mon.stop()


def test_wfa(base):
    """wait_for_all: two of three after a cold start are not quorate until
    the third has been seen."""
    with Cluster(3, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum", "wait_for_all: 1"])
        start_and_form(cl, [0, 1])
        mons = [Monitor(cl, i) for i in range(2)]
        try:
            time.sleep(2.0)
            check(not quorate(cl, 0) and not quorate(cl, 1), "quorate before all nodes were seen", cl)
            start_and_form(cl, [0, 1, 2])
            check(all(m.wait_quorum([1, 2, 3], 1) for m in mons), "not quorate with all 3", cl, mons)
            cl.kill(2)
            check(mons[0].wait_quorum([1, 2], 1), "2 of 3 not quorate once all were seen", cl, mons)
            for m in mons:
                check_sequence(m, lambda mm: None, [([1, 2], 0), ([1, 2, 3], 1), ([1, 2], 1)], cl, mons)
        finally:
            for m in mons:
                m.stop()


def test_lms(base):
    """last_man_standing shrinks expected votes 5 -> 4 -> 3 -> 2 one node at a
    time; each step stays quorate."""
    with Cluster(5, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum", "last_man_standing: 1",
                         "last_man_standing_window: 1000"])
        alive = [0, 1, 2, 3, 4]
        start_and_form(cl, alive)
        mon = Monitor(cl, 0)
        try:
            check(mon.wait_quorum([1, 2, 3, 4, 5], 1), "5 nodes not quorate", cl, [mon])
            for victim in (4, 3, 2):
                cl.kill(victim)
                alive.remove(victim)
                n = len(alive)
                check(mon.wait_quorum([i + 1 for i in alive], 1), "not quorate with %d" % n, cl, [mon])
                ok = cl.wait(lambda: status(cl, 0).get("Expected votes") == str(n), 6, step=0.1)
                check(ok is not None, "expected votes not lowered to %d: %s" % (n, status(cl, 0)), cl)
                check(all(status(cl, i)["Expected votes"] == str(n) for i in alive),
                      "members disagree on expected votes", cl)
            ev = [int(e["expected"]) for e in mon.events("VQ_EXPECTED")]
            check(ev == [4, 3, 2], "expected-votes callbacks %s, not [4, 3, 2]" % ev, cl, [mon])
            check("LastManStanding" in status(cl, 0)["Flags"], "flag missing", cl)
            # Rings seen on the way (a survivor briefly alone with one other)
            # may be inquorate; the stable memberships must all be quorate.
            check_sequence(mon, lambda m: None, [([1, 2, 3, 4, 5], 1), ([1, 2, 3, 4], 1),
                                                 ([1, 2, 3], 1), ([1, 2], 1)], cl, [mon])
        finally:
            mon.stop()


def test_runtime(base):
    """setexpected and setvotes through the tool, applied on every node;
    values that would lose quorum refused with a clear error."""
    with Cluster(3, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum"])
        start_and_form(cl, [0, 1, 2])
        mon = Monitor(cl, 2)
        try:
            check(cl.wait(lambda: quorate(cl, 0), 5) is not None, "not quorate", cl)
            rc, _, err = tool(cl, 0, "-e", "7")
            check(rc == 1 and "quorum would be 4 votes but only 3 are present" in err,
                  "-e 7 not refused clearly: %d %r" % (rc, err), cl)
            rc, _, err = tool(cl, 0, "-e", "0")
            check(rc == 1 and "at least 1" in err, "-e 0: %d %r" % (rc, err), cl)
            rc, _, err = tool(cl, 0, "-v", "-1")
            check(rc == 1 and "negative" in err, "-v -1: %d %r" % (rc, err), cl)
            rc, _, err = tool(cl, 0, "-v", "1", "-n", "9")
            check(rc == 1 and "no such node" in err, "-v for node 9: %d %r" % (rc, err), cl)
            rc, _, err = tool(cl, 0, "-e", "5")
            check(rc == 0, "-e 5 refused: %r" % err, cl)
            check(all(status(cl, i)["Expected votes"] == "5" for i in range(3)), "-e 5 not everywhere", cl)
            rc, _, err = tool(cl, 1, "-v", "3", "-n", "2")
            check(rc == 0, "-v 3 -n 2 refused: %r" % err, cl)
            st = status(cl, 2)
            check(st["Total votes"] == "5" and st["Quorum"].startswith("3"), "after -v: %s" % st, cl)
            rc, out, _ = tool(cl, 2, "-l", "-o", "i")
            rows = [ln.split() for ln in out.splitlines() if re.match(r"^\s+\d+\s+\d+", ln)]
            check([(r[0], r[1]) for r in rows] == [("1", "1"), ("2", "3"), ("3", "1")],
                  "-l rows: %s" % rows, cl)
            check(cl.wait(lambda: [int(e["expected"]) for e in mon.events("VQ_EXPECTED")][-1:] == [5], 3,
                          step=0.05) is not None, "no expected-votes callback", cl, [mon])
        finally:
            mon.stop()


def test_badconf(base):
    """Configuration mistakes stop cohortd at start with a message naming them."""
    cases = [
        (["provider: corosync_bogus"], None, "provider"),
        (["provider: corosync_votequorum", "expected_votes: 0"], None, "expected_votes"),
        (["provider: corosync_votequorum"], {0: -1}, "quorum_votes"),
    ]
    for body, votes, word in cases:
        with Cluster(1, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
            quorum_conf(cl, body)
            if votes:
                with open(cl.conf) as f:
                    text = f.read().replace("nodeid: 1\n", "nodeid: 1\n        quorum_votes: -1\n")
                with open(cl.conf, "w") as f:
                    f.write(text)
            cl.start(0)
            try:
                rc = cl.procs[0].wait(timeout=10)
            except subprocess.TimeoutExpired:
                rc = None
            log = cl.log(0)
            check(rc not in (None, 0), "cohortd started with %s" % body, cl)
            check(word in log and "corosync.conf" in log, "error does not name %s: %r" % (word, log[-500:]))
            print("refused (%d): %s" % (rc, [ln for ln in log.splitlines() if word in ln][:1]))


def test_atb(base):
    """auto_tie_breaker on an even 2/2 split of 4 nodes (namespaces): exactly
    the half with the lowest node id is quorate."""
    import netns
    from netns import CohortLab, Lab, wait_for
    why = netns.available()
    if why:
        print("skipped:", why)
        sys.exit(SKIP)
    with Lab(4) as lab:
        c = CohortLab(lab, crypto=False, build_dir=BUILD)
        with open(c.conf, "a") as f:
            f.write("quorum {\n    provider: corosync_votequorum\n    auto_tie_breaker: 1\n}\n")
        c.start_all()
        check(wait_for(lambda: c.one_ring([0, 1, 2, 3]), 10) is not None, "no ring of 4")

        def ns_quorate(i):
            env = tool_env(c.ipc(i))
            p = lab.popen(i, [TOOL, "-s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            out, _ = p.communicate(timeout=10)
            return p.returncode, out.decode()

        check(wait_for(lambda: all(ns_quorate(i)[0] == 0 for i in range(4)), 5, 0.1) is not None,
              "4 nodes not quorate")
        lab.partition([0, 1], [2, 3])
        check(wait_for(lambda: c.one_ring([0, 1]) and c.one_ring([2, 3]), 10) is not None, "no split")
        ok = wait_for(lambda: [ns_quorate(i)[0] for i in range(4)] == [0, 0, 2, 2], 5, 0.1)
        check(ok is not None, "after the split: %s" % [ns_quorate(i) for i in range(4)])
        time.sleep(1.0)
        check([ns_quorate(i)[0] for i in range(4)] == [0, 0, 2, 2], "split decision not stable")
        check("AutoTieBreaker" in ns_quorate(0)[1], "flag missing")
        lab.heal()
        check(wait_for(lambda: c.one_ring([0, 1, 2, 3]), 10) is not None, "no ring after heal")
        check(wait_for(lambda: all(ns_quorate(i)[0] == 0 for i in range(4)), 5, 0.1) is not None,
              "not quorate after heal")


# ---- the libraries called directly (ctypes) -------------------------------------------------

CS = {"OK": 1, "LIBRARY": 2, "TRY_AGAIN": 6, "INVALID_PARAM": 7, "BAD_HANDLE": 9,
      "NOT_EXIST": 12, "EXIST": 14, "NOT_SUPPORTED": 19}


def load_libs():
    import ctypes as C
    d = os.path.join(BUILD or "", "src/lib")
    q = C.CDLL(os.path.join(d, "libquorum.so.5"))
    v = C.CDLL(os.path.join(d, "libvotequorum.so.8"))
    return C, q, v


def test_lib(base):
    """Every libquorum/libvotequorum call from a client of our own: the V0
    model, CHANGES_ONLY, trackstop, contexts, getinfo of unknown nodes,
    qdevice calls, finalize, a daemon that goes away, and QUORUM_FREE."""
    C, q, v = load_libs()
    V0_FN = C.CFUNCTYPE(None, C.c_uint64, C.c_uint32, C.c_uint64, C.c_uint32, C.POINTER(C.c_uint32))
    VQ_FN = C.CFUNCTYPE(None, C.c_uint64, C.c_uint64, C.c_uint32, C.c_uint32, C.POINTER(C.c_uint32 * 2))
    EV_FN = C.CFUNCTYPE(None, C.c_uint64, C.c_uint64, C.c_uint32)

    class VqInfo(C.Structure):
        _fields_ = [(n, C.c_uint) for n in ("node_id", "node_state", "node_votes", "node_expected_votes",
                                            "highest_expected", "total_votes", "quorum", "flags",
                                            "qdevice_votes")] + [("qdevice_name", C.c_char * 255)]

    class VqCallbacks(C.Structure):
        _fields_ = [("quorum", VQ_FN), ("expected", EV_FN), ("nodelist", C.c_void_p)]

    seen, vq_seen = [], []
    v0 = V0_FN(lambda h, quorate, seq, n, ids: seen.append((quorate, seq, sorted(ids[i] for i in range(n)))))
    vqf = VQ_FN(lambda h, ctx, quorate, n, nodes: vq_seen.append((ctx, quorate, n)))
    evf = EV_FN(lambda h, ctx, e: vq_seen.append((ctx, "expected", e)))
    with Cluster(3, crypto=False, base_addr=base, build_dir=BUILD, tag="q%d" % base) as cl:
        quorum_conf(cl, ["provider: corosync_votequorum"])
        start_and_form(cl, [0, 1, 2])
        os.environ["COHORT_IPC"] = cl.ipc(0)
        h, t, qr = C.c_uint64(), C.c_uint32(9), C.c_int(-1)
        cb = (V0_FN * 1)(v0)
        check(q.quorum_initialize(C.byref(h), cb, C.byref(t)) == CS["OK"] and t.value == 1, "init", cl)
        check(cl.wait(lambda: q.quorum_getquorate(h, C.byref(qr)) == CS["OK"] and qr.value == 1, 5)
              is not None, "getquorate", cl)
        ctx = C.c_void_p()
        check(q.quorum_context_set(h, C.c_void_p(0x1234)) == CS["OK"], "context_set", cl)
        check(q.quorum_context_get(h, C.byref(ctx)) == CS["OK"] and ctx.value == 0x1234, "context", cl)
        check(q.quorum_trackstart(h, 4) == CS["OK"], "trackstart CHANGES_ONLY", cl)
        check(q.quorum_trackstart(h, 4) == CS["EXIST"], "second trackstart", cl)
        check(q.quorum_dispatch(h, 4) == CS["TRY_AGAIN"] and not seen, "CHANGES_ONLY sent the current "
              "state: %s" % seen, cl)
        vh = C.c_uint64()
        vcb = VqCallbacks(vqf, evf, None)
        check(v.votequorum_initialize(C.byref(vh), C.byref(vcb)) == CS["OK"], "vq init", cl)
        info = VqInfo()
        check(v.votequorum_getinfo(vh, 0, C.byref(info)) == CS["OK"] and info.node_id == 1 and
              info.total_votes == 3 and info.quorum == 2 and info.node_state == 1, "getinfo", cl)
        check(v.votequorum_getinfo(vh, 99, C.byref(info)) == CS["NOT_EXIST"], "getinfo 99", cl)
        check(v.votequorum_trackstart(vh, C.c_uint64(0xabc), 1) == CS["OK"], "vq CURRENT", cl)
        check(v.votequorum_dispatch(vh, 2) == CS["OK"] and vq_seen == [(0xabc, 1, 3)],
              "vq CURRENT callback: %s" % vq_seen, cl)
        check(v.votequorum_trackstop(vh) == CS["NOT_EXIST"], "CURRENT alone does not track", cl)
        check(v.votequorum_qdevice_register(vh, b"dev") == CS["NOT_SUPPORTED"], "qdevice", cl)
        check(v.votequorum_qdevice_poll(vh, b"dev", 1, C.c_uint64(0), C.c_uint64(0)) ==
              CS["NOT_SUPPORTED"], "qdevice poll", cl)
        check(v.votequorum_trackstart(vh, C.c_uint64(7), 2) == CS["OK"], "vq CHANGES", cl)
        check(v.votequorum_setexpected(vh, 4) == CS["OK"], "setexpected 4", cl)
        # Expected 4 needs 3 votes: losing a node now loses quorum.
        cl.kill(2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (seen and seen[-1][2] == [1, 2]):
            q.quorum_dispatch(h, 4)
            time.sleep(0.02)
        check(seen and seen[-1][0] == 0 and seen[-1][2] == [1, 2] and seen[-1][1] > 0,
              "V0 callback after a node left: %s" % seen, cl)
        check(q.quorum_trackstop(h) == CS["OK"] and q.quorum_trackstop(h) == CS["NOT_EXIST"], "trackstop", cl)
        while time.monotonic() < deadline and (7, 0, 3) not in vq_seen:
            v.votequorum_dispatch(vh, 4)
            time.sleep(0.02)
        check((7, "expected", 4) in vq_seen and (7, 0, 3) in vq_seen, "vq callbacks: %s" % vq_seen, cl)
        check(q.quorum_finalize(h) == CS["OK"] and q.quorum_getquorate(h, C.byref(qr)) == CS["BAD_HANDLE"],
              "finalize", cl)
        cl.kill(0)
        check(cl.wait(lambda: v.votequorum_getinfo(vh, 0, C.byref(info)) == CS["LIBRARY"], 5) is not None,
              "calls after the daemon went away", cl)
        check(v.votequorum_finalize(vh) == CS["OK"], "finalize after the daemon went away", cl)
    with Cluster(1, crypto=False, base_addr=base, build_dir=BUILD, tag="q%df" % base) as cl:
        start_and_form(cl, [0])
        os.environ["COHORT_IPC"] = cl.ipc(0)
        h, t = C.c_uint64(), C.c_uint32(9)
        check(q.quorum_initialize(C.byref(h), None, C.byref(t)) == CS["OK"] and t.value == 0,
              "QUORUM_FREE type %d" % t.value, cl)
        check(q.quorum_getquorate(h, C.byref(qr)) == CS["OK"] and qr.value == 1, "FREE is quorate", cl)
        check(q.quorum_trackstart(h, 3) == CS["OK"] and q.quorum_dispatch(h, 4) == CS["TRY_AGAIN"],
              "FREE sends callbacks", cl)
        check(v.votequorum_initialize(C.byref(vh), None) == CS["NOT_EXIST"], "votequorum without provider",
              cl)
        rc, out, _ = tool(cl, 0, "-s")
        check(rc == 0 and "Quorate:          Yes" in out, "-s without provider: %d %s" % (rc, out), cl)
        q.quorum_finalize(h)


TESTS = {
    "three": (test_three, 61), "twonode": (test_twonode, 62), "wfa": (test_wfa, 63),
    "lms": (test_lms, 64), "runtime": (test_runtime, 65), "badconf": (test_badconf, 66),
    "atb": (test_atb, 67), "lib": (test_lib, 68),
}

if __name__ == "__main__":
    names = sys.argv[2:] or list(TESTS)
    for name in names:
        fn, base = TESTS[name]
        fn(base)
        print("ok", name)
