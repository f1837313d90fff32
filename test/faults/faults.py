"""The faults of the campaign (campaign.py). Each fault is an object with
apply(cluster, rng) and heal(cluster): apply injects it and returns at once (except
the restart loop, which is a fault in time), heal removes it (restarts what apply
killed, resumes what it stopped) and returns the time.monotonic() at which the
cluster was left to recover. `steady` says whether the membership should stay as it
is while the fault lasts: ring formations during a steady fault count as spurious."""
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 5405


class Fault:
    steady = False
    name = "fault"

    def apply(self, cl, rng):
        pass

    def heal(self, cl):
        return cl.now()

    def nodes(self):
        """Nodes whose daemon this fault kills or stops (no two such faults mix)."""
        return set()


class Loss(Fault):
    def __init__(self, p):
        self.p = p
        self.name = "loss %g%%" % (p * 100)
        # Retransmissions cover 1% and 5% (5 lost tokens in a row: 1e-10, 3e-7);
        # at 20% a whole ring re-forms now and then, which is not spurious.
        self.steady = p <= 0.05

    def apply(self, cl, rng):
        # Input only: each packet is then lost with probability p at each receiver (with
        # output too a packet between two nodes would cross two drops, about 2p).
        cl.lab.loss(self.p)

    def heal(self, cl):
        return cl.lab.no_loss()[1]


class Partition(Fault):
    def __init__(self, sizes):
        self.sizes = sizes
        self.name = "partition " + "+".join(str(s) for s in sizes)

    def apply(self, cl, rng):
        order = list(range(cl.n))
        rng.shuffle(order)
        groups, k = [], 0
        for s in self.sizes:
            groups.append(order[k:k + s])
            k += s
        self.name = "partition " + "+".join(",".join(str(i + 1) for i in sorted(g)) for g in groups)
        cl.lab.partition(*groups)

    def heal(self, cl):
        return cl.lab.heal()[1]


class OneWay(Fault):
    """Some directed links drop everything (src -> dst), the reverse still works."""

    def __init__(self, count):
        self.count = count
        self.name = "one-way x%d" % count

    def apply(self, cl, rng):
        pairs = [(a, b) for a in range(cl.n) for b in range(cl.n) if a != b]
        rng.shuffle(pairs)
        chosen = pairs[:self.count]
        self.name = "one-way " + ",".join("%d->%d" % (a + 1, b + 1) for a, b in chosen)
        for a, b in chosen:
            cl.lab.drop_oneway(a, b)

    def heal(self, cl):
        return cl.lab.heal()[1]


class KillDaemon(Fault):
    name = "kill -9 daemon"

    def apply(self, cl, rng):
        self.node = rng.randrange(cl.n)
        self.name = "kill -9 daemon %d" % (self.node + 1)
        cl.kill_daemon(self.node)

    def heal(self, cl):
        cl.start_daemon(self.node)
        return cl.now()

    def nodes(self):
        return {self.node}


class KillClient(Fault):
    name = "kill -9 client"
    steady = True

    def apply(self, cl, rng):
        node = rng.randrange(cl.n)
        self.name = "kill -9 client %d" % (node + 1)
        cl.kill_client(node)


class Stop(Fault):
    """SIGSTOP a daemon for longer than token + consensus, then SIGCONT."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.name = "SIGSTOP daemon %.1f s" % seconds

    def apply(self, cl, rng):
        self.node = rng.randrange(cl.n)
        self.name = "SIGSTOP daemon %d" % (self.node + 1)
        cl.daemon(self.node).send_signal(signal.SIGSTOP)
        cl.sleep(self.seconds)

    def heal(self, cl):
        cl.daemon(self.node).send_signal(signal.SIGCONT)
        return cl.now()

    def nodes(self):
        return {self.node}


class RestartLoop(Fault):
    """kill -9 and start one daemon again, several times, 0.05-0.8 s apart."""

    def __init__(self, times):
        self.times = times
        self.name = "restart loop x%d" % times

    def apply(self, cl, rng):
        self.node = rng.randrange(cl.n)
        self.name = "restart loop x%d daemon %d" % (self.times, self.node + 1)
        for _ in range(self.times):
            cl.kill_daemon(self.node)
            cl.sleep(rng.uniform(0.05, 0.5))
            cl.start_daemon(self.node)
            cl.sleep(rng.uniform(0.05, 0.8))
            # A client on every incarnation: its join races the ring forming.
            cl.start_client(self.node)

    def heal(self, cl):
        return cl.now()

    def nodes(self):
        return {self.node}


class WrongKey(Fault):
    """A node restarts with another authkey: it must stay out, alone, and the others
    must not be disturbed by its packets. Healed by a restart with the right key."""
    name = "wrong key"

    def apply(self, cl, rng):
        self.node = rng.randrange(cl.n)
        self.name = "wrong key daemon %d" % (self.node + 1)
        cl.kill_daemon(self.node)
        cl.start_daemon(self.node, wrong_key=True)

    def heal(self, cl):
        cl.kill_daemon(self.node)
        cl.start_daemon(self.node)
        return cl.now()

    def nodes(self):
        return {self.node}


class Forged(Fault):
    """Garbage datagrams and replayed (and bit-flipped) packets at every node's port."""
    steady = True

    def __init__(self, kind):
        self.kind = kind
        self.name = kind

    def apply(self, cl, rng):
        node = rng.randrange(cl.n)
        self.name = "%s from node %d" % (self.kind, node + 1)
        if self.kind == "garbage":
            argv = ["garbage", str(PORT), "200"] + [cl.lab.addr(j) for j in range(cl.n) if j != node]
        else:
            argv = ["replay", "eth0", str(PORT), "1.0", "3"]
        before = self.rejected(cl)
        r = cl.lab.run(node, [sys.executable, os.path.join(HERE, "packets.py")] + argv,
                       check=False, timeout=30)
        after = self.rejected(cl)
        # The daemons' own counters show the packets reached them and were refused.
        cl.note("%s: %s; daemons' counters: %s" % (
            self.name, r.stdout.decode(errors="replace").strip(),
            ", ".join("%s +%d" % (k, after[k] - before[k]) for k in sorted(after))))

    KEYS = ("net.rx_rejected", "crypto.auth_failed", "crypto.replay", "crypto.rejected.too_old")

    def rejected(self, cl):
        out = dict.fromkeys(self.KEYS, 0)
        for i in cl.live():
            for k in self.KEYS:
                out[k] += cl.c.stat(i, k) or 0
        return out


class Starve(Fault):
    """CPU starvation: the daemon pinned (taskset) to CPU 0 together with three busy
    loops. rt=False: ordinary loops, which a daemon at real-time priority (cohortd's
    default) does not even notice. rt=True: one loop at the daemon's own SCHED_RR
    priority, which takes turns with it in 100 ms slices (sched_rr_timeslice_ms), and two
    ordinary ones."""
    steady = True

    def __init__(self, rt=False):
        self.rt = rt
        self.name = "cpu starvation" + (" (rt)" if rt else "")

    def apply(self, cl, rng):
        self.node = rng.choice(cl.live())  # not one another fault of the mix just killed
        self.name = "cpu starvation%s daemon %d" % (" (rt)" if self.rt else "", self.node + 1)
        pid = str(cl.daemon(self.node).pid)
        subprocess.run(["taskset", "-a", "-p", "-c", "0", pid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)
        loop = [sys.executable, "-c", "while True: pass"]
        rr = ["chrt", "-r", "99"] if self.rt and cl.c.realtime else []
        self.burners = [subprocess.Popen(["taskset", "-c", "0"] + (rr if k == 0 else []) + loop)
                        for k in range(3)]
        for b in self.burners:
            cl.lab.procs.append(b)  # killed by Lab.close() if we never get to heal()

    def heal(self, cl):
        for b in self.burners:
            b.kill()
            b.wait(timeout=10)
        p = cl.daemon(self.node)
        if p is not None:
            subprocess.run(["taskset", "-a", "-p", "-c", "0-%d" % (os.cpu_count() - 1), str(p.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        return cl.now()


def single_faults(short=False):
    """Every fault once, in the order of the short run. The short run (in make check,
    next to other tests) leaves out the real-time busy loop, which would take half of
    CPU 0 from everything else on the machine for the length of the fault."""
    return [Loss(0.01), Partition([2, 3]), KillDaemon(), Stop(1.5), Loss(0.05), Partition([1, 1, 3]),
            OneWay(1), KillClient(), RestartLoop(4), WrongKey(), Forged("garbage"), Forged("replay"),
            Starve()] + ([] if short else [Starve(rt=True)]) + [Loss(0.20), OneWay(3)]


KINDS = {
    "loss": lambda rng: Loss(rng.choice([0.01, 0.05, 0.20])),
    "partition": lambda rng: Partition(rng.choice([[2, 3], [1, 1, 3]])),
    "oneway": lambda rng: OneWay(rng.randint(1, 4)),
    "kill": lambda rng: KillDaemon(),
    "killclient": lambda rng: KillClient(),
    "stop": lambda rng: Stop(rng.uniform(1.0, 3.0)),
    "restart": lambda rng: RestartLoop(rng.randint(2, 5)),
    "wrongkey": lambda rng: WrongKey(),
    "garbage": lambda rng: Forged("garbage"),
    "replay": lambda rng: Forged("replay"),
    "starve": lambda rng: Starve(rng.random() < 0.5),
}


def by_kind(kind, rng):
    return KINDS[kind](rng)


def random_fault(rng):
    # Partitions twice as likely as the rest: they are the richest in view changes.
    return by_kind(rng.choice(sorted(KINDS) + ["partition"]), rng)


def mixed(rng):
    """One to three faults at once: at most one on daemons (kill, stop, restart), one
    on the network rules (a partition replaces one-way rules) and one loss rate."""
    faults, kinds = [], set()
    for _ in range(rng.randint(1, 3)):
        f = random_fault(rng)
        kind = ("daemon" if isinstance(f, (KillDaemon, Stop, RestartLoop, WrongKey)) else
                "rules" if isinstance(f, (Partition, OneWay)) else
                "loss" if isinstance(f, Loss) else type(f).__name__ + f.name)
        if kind in kinds:
            continue
        kinds.add(kind)
        faults.append(f)
    return faults
