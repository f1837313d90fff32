#!/usr/bin/env python3
"""Checker of the fault campaign: reads every fault_client log of a run and checks what
CPG promises (extended virtual synchrony as CPG exposes it, SPEC section 2).

usage: check_logs.py LOGDIR

A process is one client log (one run of fault_client: node id and pid). For every group
its log is a stream of configuration changes (C), deliveries (D) and totem ring changes
(T). A view is what a process saw between two C lines; it is named by the ring it was
installed in, its member list and how many times that member list had been installed in
that ring, which is the same on every member (see view_ids). Checks:

  duplicate     a message delivered twice to one process
  corrupt       content that does not match the tag (the client logs BAD)
  forged        the delivery's sender is not the one in the tag, or a process whose log
                is complete delivered a message its sender never sent (no S line)
  non-member    a message delivered from a sender not in the receiver's view
  fifo          one sender's messages delivered out of their sending order
  order         two processes delivered two messages in opposite orders
  view          processes that went from the same view to the same next view delivered
                different messages (or orders) in it; a process that quit cleanly after
                the drain is compared with everyone that stayed in its last view
  confchg       a change inconsistent with the process's previous view (M != old - L + J,
                the process missing from its own view), or processes coming from the same
                view into the same view were told different left/joined lists
  ring          totem ring ids going backwards at a process, or at a node across the
                clients it had over time (ring ids grow even across daemon restarts)
  safe          a SAFE message delivered by a process that then died (kill -9 of it or
                its daemon) in that view, but not delivered by a member of that view that
                went on to the next one: SAFE is delivered only once every member has it
  lost          a message whose cpg_mcast_joined returned CS_OK, from a process that
                survived (ended with quit), not delivered to that process; or from a
                client killed on a live node (the others' next change is its PROCDOWN),
                that it did not see itself and the others did not get before its
                departure (so the daemon dropped an acknowledged message)

Cohort delivers SAFE for real (SPEC: "delivered only once every member of the ring
has it"), so the safe check is on; AGREED messages may be lost with a dying sender."""
import collections
import os
import sys

REASON_NODEDOWN, REASON_NODEUP = 3, 4


class Proc:
    def __init__(self, path):
        self.path = os.path.basename(path)
        self.node = self.pid = None
        self.end = "cut"  # "quit" (clean), "lost" (daemon gone: X), "cut" (killed)
        self.ev = collections.defaultdict(list)  # group -> events
        self.sent = collections.defaultdict(list)  # group -> tags, in order
        self.rings = []  # (group, ms, ring seq) of every T line


def parse_addrs(text, reason):
    out = []
    for item in text.split(",") if text else []:
        f = item.split(":")
        out.append((int(f[0]), int(f[1]), int(f[2])) if reason else (int(f[0]), int(f[1])))
    return out


def parse(path):
    p = Proc(path)
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    # The last piece is empty after a whole line, or half a line cut by SIGKILL.
    lines = lines[:-1]
    for line in lines:
        f = line.split(" ")
        try:
            kind = f[0]
            if kind == "I":
                p.node, p.pid = int(f[2]), int(f[3])
            elif kind == "S":
                p.sent[f[2]].append(f[3])
            elif kind == "D":
                n, pid = f[3].split(":")
                p.ev[f[2]].append(("D", (int(n), int(pid)), f[4]))
            elif kind == "C":
                m = parse_addrs(f[3][2:], False)
                l_ = parse_addrs(f[4][2:], True)
                j = parse_addrs(f[5][2:], True)
                p.ev[f[2]].append(("C", frozenset(m), tuple(sorted(l_)), tuple(sorted(j))))
            elif kind == "T":
                rep, seq = f[3].split(".")
                p.ev[f[2]].append(("T", (int(seq), int(rep))))
                p.rings.append((f[2], int(f[1]), int(seq)))
            elif kind == "X":
                p.end = "lost"
            elif kind == "Q":
                p.end = "quit"
        except (IndexError, ValueError):
            continue  # only the last line of a killed client can be cut
    return p


def tag_fields(tag):
    """group/node/pid/seq<A|S> -> (node, pid, seq, safe) or None."""
    f = tag.split("/")
    if len(f) != 4 or len(f[3]) < 2:
        return None
    try:
        return int(f[1]), int(f[2]), int(f[3][:-1]), f[3][-1] == "S"
    except ValueError:
        return None


class View:
    def __init__(self, vid, change, prev):
        self.vid, self.change, self.prev = vid, change, prev
        self.msgs = []
        self.next = None  # the next view's id; "end" when the log ends in this view


def view_ids(events):
    """The views of one process in one group, in order. A change caused by the ring
    (NODEDOWN/NODEUP, from the CPG sync) belongs to the ring announced by the next T
    line (Cohort announces a ring once the sync is done); any other change happened in
    the ring last announced. Within one ring a member list can come back (a process
    joins and leaves again): the count of earlier installs keeps the names apart, and it
    is the same on every member, since all of them saw the same changes in that ring."""
    views, ring, pending, seen = [], None, [], collections.Counter()
    for e in events:
        if e[0] == "T":
            if ring is not None and e[1] < ring:
                views.append(("ring-backwards", ring, e[1]))
            ring = e[1]
            for v in pending:
                name = (ring, v.vid)
                v.vid = (ring, v.vid, seen[name])
                seen[name] += 1
            pending = []
        elif e[0] == "C":
            by_ring = any(r == REASON_NODEDOWN for _, _, r in e[2]) or any(r == REASON_NODEUP for _, _, r in e[3])
            prev = views[-1] if views and isinstance(views[-1], View) else None
            v = View(e[1], e, prev)
            if by_ring:
                pending.append(v)
            else:
                name = (ring, e[1])
                v.vid = (ring, e[1], seen[name])
                seen[name] += 1
            if prev:
                prev.next = v
            views.append(v)
        elif views and isinstance(views[-1], View):
            views[-1].msgs.append(e)
    for v in pending:
        v.vid = (None, v.vid, id(v))  # its ring was never announced: matches nobody
    return views


class Result:
    def __init__(self):
        self.violations = collections.Counter()
        self.examples = collections.defaultdict(list)
        self.sent = self.delivered = self.lost = 0
        self.procs = 0
        self.views_compared = 0  # (view, next view) pairs shared by 2+ processes
        self.safe_checked = 0  # SAFE messages delivered by a process that died right after
        self.killed_checked = 0  # killed clients whose daemon stayed: last view checked

    def bad(self, kind, text):
        self.violations[kind] += 1
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(text)


def check_process(res, p, g, views, senders):
    """Checks that need one process only."""
    seen, last_seq = set(), {}
    for v in views:
        if not isinstance(v, View):
            res.bad("ring", "%s: ring %s then %s" % (p.path, v[1], v[2]))
            continue
        _, m, left, joined = v.change
        me = (p.node, p.pid)
        gone = {(n, pid) for n, pid, _ in left}
        if v.prev is not None:
            want = (v.prev.change[1] - gone) | {(n, pid) for n, pid, _ in joined}
            if want != m:
                res.bad("confchg", "%s %s: M=%s, but previous view minus L plus J is %s"
                        % (p.path, g, sorted(m), sorted(want)))
        if me not in m and me not in gone:
            res.bad("confchg", "%s %s: not in its own view %s" % (p.path, g, sorted(m)))
        for _, sender, tag in v.msgs:
            if tag == "BAD":
                res.bad("corrupt", "%s %s: from %s" % (p.path, g, sender))
                continue
            if tag in seen:
                res.bad("duplicate", "%s %s: %s" % (p.path, g, tag))
            seen.add(tag)
            tf = tag_fields(tag)
            if tf is None or tf[:2] != sender or not tag.startswith(g + "/"):
                res.bad("forged", "%s %s: %s from %s" % (p.path, g, tag, sender))
                continue
            if sender not in m:
                res.bad("non-member", "%s %s: %s delivered in view %s" % (p.path, g, tag, sorted(m)))
            if tf[2] <= last_seq.get(sender, -1):
                res.bad("fifo", "%s %s: %s after seq %d" % (p.path, g, tag, last_seq[sender]))
            last_seq[sender] = tf[2]
            s = senders.get(sender)
            if s is not None and s.end != "cut" and tag not in s.sent_set[g]:
                res.bad("forged", "%s %s: %s delivered but never sent" % (p.path, g, tag))
    return seen


def check_order(res, g, procs):
    """Pairwise: the common messages of two processes in the same relative order."""
    pos = {p: {t: k for k, t in enumerate(p.order[g])} for p in procs}
    for a in range(len(procs)):
        for b in range(a + 1, len(procs)):
            p, q = procs[a], procs[b]
            qpos, last = pos[q], -1
            for t in p.order[g]:
                k = qpos.get(t)
                if k is None:
                    continue
                if k < last:
                    res.bad("order", "%s and %s %s: %s" % (p.path, q.path, g, t))
                    break
                last = k


def check_views(res, g, allviews):
    """Virtual synchrony, confchg agreement and SAFE delivery, per view."""
    byid = collections.defaultdict(list)
    for p, v in allviews:
        byid[v.vid].append((p, v))
    for vid, members in byid.items():
        if vid[0] is None:
            continue
        nexts = collections.defaultdict(list)
        for p, v in members:
            key = "end" if v.next is None else v.next.vid
            nexts[key].append((p, v))
        for key, group in nexts.items():
            if key == "end":
                continue
            ref_p, ref = group[0]
            res.views_compared += len(group) > 1
            for p, v in group[1:]:
                if [e[2] for e in v.msgs] != [e[2] for e in ref.msgs]:
                    res.bad("view", "%s and %s %s: view %s -> %s delivered %d and %d messages"
                            % (ref_p.path, p.path, g, sorted(vid[1]), sorted(key[1]), len(ref.msgs), len(v.msgs)))
        went_on = [(p, v) for p, v in members if v.next is not None]
        for p, v in members:
            if v.next is not None:
                continue
            tags = [e[2] for e in v.msgs]
            if p.end == "quit":  # drained: the same messages as those that stayed
                for q, w in went_on:
                    if [e[2] for e in w.msgs][:len(tags)] != tags:
                        res.bad("view", "%s (quit) and %s %s: last view %s differs"
                                % (p.path, q.path, g, sorted(vid[1])))
                continue
            for t in tags:
                tf = tag_fields(t)
                if not tf or not tf[3]:
                    continue
                res.safe_checked += bool(went_on)
                for q, w in went_on:
                    if t not in q.seen[g]:
                        res.bad("safe", "%s died in view %s after SAFE %s; %s went on without it"
                                % (p.path, sorted(vid[1]), t, q.path))
        # Same previous view and same view: the same left/joined lists.
        by_prev = collections.defaultdict(set)
        for p, v in members:
            if v.prev is not None:
                by_prev[v.prev.vid].add((v.change[2], v.change[3]))
        for prev, changes in by_prev.items():
            if len(changes) > 1:
                res.bad("confchg", "%s: from the same view, different changes into %s: %s"
                        % (g, sorted(vid[1]), sorted(changes)))


def check_lost(res, g, procs, allviews):
    """Acknowledged messages of survivors must come back to them. A client killed on a
    live node: its daemon saw it go (the others' next change is its PROCDOWN), so every
    message it had acknowledged is still sent, ahead of that departure; the others must
    have delivered, in its last view, all it delivered there (in the same order) and
    every message it sent that it did not live to see."""
    last_view = {p: v for p, v in allviews if v.next is None}
    for p in procs:
        res.sent += len(p.sent[g])
        if p.end == "quit":
            for t in p.sent[g]:
                if t not in p.seen[g]:
                    res.lost += 1
                    res.bad("lost", "%s %s: %s sent (CS_OK), never delivered to its sender" % (p.path, g, t))
            continue
        if p.end != "cut" or p not in last_view:
            continue
        v = last_view[p]
        procdown = ((p.node, p.pid, 5),)
        others = [(q, w) for q, w in allviews
                  if w.vid == v.vid and q is not p and w.next is not None and w.next.change[2] == procdown]
        mine = [e[2] for e in v.msgs]
        res.killed_checked += bool(others)
        for q, w in others:
            theirs = [e[2] for e in w.msgs]
            if theirs[:len(mine)] != mine:
                res.bad("view", "%s %s: killed client's deliveries in view %s are not a prefix of %s's"
                        % (p.path, g, sorted(v.vid[1]), q.path))
            got = set(theirs)
            for t in p.sent[g]:
                if t not in p.seen[g] and t not in got:
                    res.lost += 1
                    res.bad("lost", "%s %s: %s sent (CS_OK) by a client killed on a live node, "
                            "not delivered to %s before its departure" % (p.path, g, t, q.path))


def check_node_rings(res, procs):
    """Ring seqs seen on one node, over all its clients in time order, never go down:
    the daemon keeps its highest ring seq across restarts (SPEC section 2, property 6).
    Per group: a client's handles are dispatched one after the other, so the ring
    changes of two groups interleave in its log in no particular order."""
    by_node = collections.defaultdict(list)
    for p in procs:
        for g, t, seq in p.rings:
            by_node[(p.node, g)].append((t, seq, p.path))
    for (node, g), seen in by_node.items():
        seen.sort()
        for (t0, s0, f0), (t1, s1, f1) in zip(seen, seen[1:]):
            if s1 < s0 and t1 > t0:
                res.bad("ring", "node %d %s: ring seq %d (%s) after %d (%s)" % (node, g, s1, f1, s0, f0))
                break


def check_dir(logdir):
    res = Result()
    procs = [parse(os.path.join(logdir, f)) for f in sorted(os.listdir(logdir)) if f.endswith(".log")]
    procs = [p for p in procs if p.node is not None]
    res.procs = len(procs)
    senders = {(p.node, p.pid): p for p in procs}
    groups = sorted({g for p in procs for g in p.ev})
    for p in procs:
        p.sent_set = {g: set(p.sent[g]) for g in groups}
        p.seen, p.order, p.views = {}, {}, {}
    for g in groups:
        allviews = []
        for p in procs:
            views = view_ids(p.ev[g])
            p.seen[g] = check_process(res, p, g, views, senders)
            p.order[g] = [e[2] for v in views if isinstance(v, View) for e in v.msgs if e[2] != "BAD"]
            res.delivered += len(p.order[g])
            allviews += [(p, v) for v in views if isinstance(v, View)]
        check_order(res, g, procs)
        check_views(res, g, allviews)
        check_lost(res, g, procs, allviews)
    check_node_rings(res, procs)
    res.groups = groups
    return res


def report(res):
    total = sum(res.violations.values()) - res.violations["lost"]
    print("checker: %d client processes, groups %s" % (res.procs, ",".join(res.groups)))
    print("messages sent (CS_OK): %d, deliveries: %d, lost: %d, violations: %d"
          % (res.sent, res.delivered, res.lost, total))
    print("coverage: %d views shared by 2+ processes compared, %d SAFE deliveries by a "
          "process that died in that view checked against the survivors, %d clients killed "
          "on a live node checked" % (res.views_compared, res.safe_checked, res.killed_checked))
    for kind, n in sorted(res.violations.items()):
        print("  %-10s %d" % (kind, n))
        for e in res.examples[kind]:
            print("      " + e)
    res.violations_total = total


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    r = check_dir(sys.argv[1])
    report(r)
    sys.exit(1 if r.lost or r.violations_total or not r.delivered else 0)
