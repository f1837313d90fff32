#!/usr/bin/env python3
"""Self-test of check_logs.py: a small history written by hand (three clients on three
nodes, one killed together with its daemon right after a SAFE delivery, the others
going on in a new ring), which must pass, and one broken copy of it per kind of
violation, each of which must be reported as that kind. Needs nothing but Python."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_logs  # noqa: E402

G = "ga"
P = {1: 101, 2: 202, 3: 303}


def tag(node, seq, safe=False):
    return "%s/%d/%d/%d%s" % (G, node, P[node], seq, "S" if safe else "A")


def members(nodes):
    return ",".join("%d:%d" % (n, P[n]) for n in nodes)


def history():
    """{node: [log lines]} of a correct run."""
    logs = {n: ["I 1 %d %d %s" % (n, P[n], G), "T 2 %s 1.4 1,2,3" % G] for n in P}
    # Everyone joins in node order; each sees the joins from its own on.
    for k, n in enumerate(sorted(P)):
        for m in sorted(P)[:k + 1]:
            logs[m].append("C 3 %s M=%s L= J=%d:%d:1" % (G, members(sorted(P)[:k + 1]), n, P[n]))
    msgs = [(1, 0, False), (2, 0, False), (3, 0, True), (1, 1, True), (3, 1, False)]
    for n, s, safe in msgs:
        logs[n].append("S 4 %s %s" % (G, tag(n, s, safe)))
    for n, s, safe in msgs:
        for m in P:
            logs[m].append("D 5 %s %d:%d %s" % (G, n, P[n], tag(n, s, safe)))
    # Node 3 and its client die here (X: the daemon went away). The others see it go at
    # the next regular configuration, then the new ring, then more traffic and a drain.
    logs[3].append("X 6 %s 2" % G)
    for m in (1, 2):
        logs[m].append("C 7 %s M=%s L=3:%d:3 J=" % (G, members([1, 2]), P[3]))
        logs[m].append("T 8 %s 1.8 1,2" % G)
    for n, s in ((2, 1), (1, 2)):
        logs[n].append("S 9 %s %s" % (G, tag(n, s)))
    for n, s in ((2, 1), (1, 2)):
        for m in (1, 2):
            logs[m].append("D 10 %s %d:%d %s" % (G, n, P[n], tag(n, s)))
    for m in (1, 2):
        logs[m].append("Q 11")
    return logs


def write(d, logs):
    for n, lines in logs.items():
        with open(os.path.join(d, "client-%02d-n%d.log" % (n, n)), "w") as f:
            f.write("\n".join(lines) + "\n")


def deliveries(lines, t):
    return [k for k, line in enumerate(lines) if line.startswith("D ") and line.endswith(" " + t)]


def mutations():
    """(expected kind, function changing the logs) pairs."""
    def drop_own(logs):  # node 1 never gets its own last message back
        logs[1].pop(deliveries(logs[1], tag(1, 2))[0])

    def swap(logs):  # node 2 delivers two messages the other way round
        a, b = deliveries(logs[2], tag(1, 0))[0], deliveries(logs[2], tag(2, 0))[0]
        logs[2][a], logs[2][b] = logs[2][b], logs[2][a]

    def dup(logs):
        k = deliveries(logs[1], tag(2, 0))[0]
        logs[1].insert(k + 1, logs[1][k])

    def safe(logs):  # node 3 delivered its SAFE 3/0, died; the survivors never get it
        for n in (1, 2):
            logs[n].pop(deliveries(logs[n], tag(3, 0, True))[0])

    def forged(logs):
        logs[2].insert(-1, "D 10 %s 1:%d %s" % (G, P[1], tag(1, 77)))

    def corrupt(logs):
        k = deliveries(logs[1], tag(2, 1))[0]
        logs[1][k] = logs[1][k].rsplit(" ", 1)[0] + " BAD"

    def confchg(logs):  # node 2 is told node 3 left, but keeps it in the member list
        k = logs[2].index("C 7 %s M=%s L=3:%d:3 J=" % (G, members([1, 2]), P[3]))
        logs[2][k] = "C 7 %s M=%s L=3:%d:3 J=" % (G, members([1, 2, 3]), P[3])

    def ring(logs):
        logs[1][logs[1].index("T 8 %s 1.8 1,2" % G)] = "T 8 %s 1.2 1,2" % G

    return [("lost", drop_own), ("order", swap), ("duplicate", dup), ("safe", safe),
            ("forged", forged), ("corrupt", corrupt), ("confchg", confchg), ("ring", ring)]


def main():
    d = tempfile.mkdtemp(prefix="cohort-checker-")
    failures = []
    try:
        write(d, history())
        r = check_logs.check_dir(d)
        if r.violations or r.lost or r.delivered != 19:
            failures.append("clean history: violations %s, lost %d, deliveries %d (want 0, 0, 19)"
                            % (dict(r.violations), r.lost, r.delivered))
        # An AGREED message of a dying sender may vanish with it: not a violation.
        logs = history()
        for n in (1, 2):
            logs[n].pop(deliveries(logs[n], tag(3, 1))[0])
        write(d, logs)
        r = check_logs.check_dir(d)
        if r.violations or r.lost:
            failures.append("AGREED message of a dead sender delivered only by it: reported %s"
                            % dict(r.violations))
        for kind, change in mutations():
            logs = history()
            change(logs)
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            write(d, logs)
            r = check_logs.check_dir(d)
            if not r.violations[kind]:
                failures.append("%s: not reported (got %s)" % (kind, dict(r.violations)))
            else:
                print("ok %-10s reported (%s)" % (kind, ", ".join(sorted(r.violations))))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
