#!/usr/bin/env python3
"""Membership benchmark: cohortd and Corosync 3.1.7 side by side, 3 nodes,
one network namespace per node (veth pairs on a bridge, see
test/system/netns.py), default timers of each, crypto on (aes256/sha256).

Events, each repeated --reps times on fresh processes (median reported):
  cold start        all 3 started -> every node reports the ring of 3
  kill -9           SIGKILL node 3 -> nodes 1 and 2 report {1,2}
  restart merge     node 3 started again -> every node reports {1,2,3}
  partition heal    node 3 isolated (iptables in its namespace, both ways)
                    until both sides report their own ring; rules removed ->
                    every node reports {1,2,3}
  graceful stop     SIGTERM node 3 -> nodes 1 and 2 report {1,2}
and once per system: ring formations counted on each node during
--loss-seconds of 1% random loss of received packets on every node.

How "reports" is observed:
  Cohort    its control socket ("status": state operational, members), polled
            every --poll-ms (default 1 ms) on every node; a time is taken
            when a node is first seen with the expected members.
  Corosync  its log on stderr with `timestamp: hires` (ms): the "[QUORUM]
            Sync members[n]: ..." line, which corosync logs when the new
            totem ring is formed (the same instant as "[TOTEM] A new
            membership ... was formed", before service synchronization); the
            later "[QUORUM] Members[n]: ..." (after synchronization, what
            clients see) is recorded too. Corosync logs from a thread, so the
            line may reach the file late; its timestamp does not.
Times run from the event (just before the signal is sent; for starts, the
moment the already forked children, waiting in a shell in their namespace,
are let exec the daemon; for the heal, when the iptables change has
returned) to the LAST node to report.

Needs root; exits 77 when namespaces are unusable. usage:
  membership.py [--build-dir DIR] [--reps N] [--loss-seconds S]
                [--only cohort|corosync] [--json FILE] [--keep]"""
import argparse
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "system"))
import netns  # noqa: E402
from netns import CohortLab, Lab  # noqa: E402

ALL = [0, 1, 2]
SURV = [0, 1]
VICTIM = 2


class Cohort:
    name = "Cohort"

    def __init__(self, lab, args):
        self.lab = lab
        self.c = CohortLab(lab, crypto=True, build_dir=args.build_dir, name="bench", realtime=True)
        self.poll = args.poll_ms / 1000.0
        self.poll_costs = []

    def start(self, i, gate=False):
        return self.c.start(i, gate)

    def signal(self, i, sig):
        self.c.kill(i, sig, wait=False)

    def reap(self, i):
        p = self.c.procs[i]
        if p:
            p.wait(timeout=10)
            self.c.procs[i] = None

    def stop_all(self):
        for i in ALL:
            self.c.kill(i, signal.SIGKILL)

    def mark(self):
        return None

    def wait(self, want, t0_mono, t0_wall, timeout, mark=None):
        """want: {node index: tuple of node ids}. Seconds from t0 to the last
        node first seen with its expected members, or None."""
        seen = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            a = time.monotonic()
            for i, members in want.items():
                if i in seen:
                    continue
                st = self.c.status(i)
                if st and st.get("state") == "operational" and tuple(st["members"]) == members:
                    seen[i] = time.monotonic()
            self.poll_costs.append(time.monotonic() - a)
            if len(seen) == len(want):
                return max(seen.values()) - t0_mono, None
            time.sleep(self.poll)
        return None, None

    def reformations(self):
        return [self.c.rings_formed(i) for i in ALL]

    def ipc_name(self, i):
        return self.c.ipc(i)

    def dump(self, out):
        for i in ALL:
            out.write("---- Cohort node %d: status: %s\n     stats: %s\n---- log (tail):\n%s\n" % (
                i + 1, (self.c.ctl(i, "status") or "(no answer)").replace("\n", "; "),
                (self.c.ctl(i, "stats") or "").replace("\n", "; "), self.c.log(i)[-2500:]))

    def libcpg(self):
        """Cohort's libcpg.so.4 in the build tree, once it exists."""
        d = os.path.dirname(os.path.dirname(os.path.dirname(self.c.bin)))  # build dir
        for sub in ("src/lib", "lib"):
            f = os.path.join(d, sub, "libcpg.so.4")
            if os.path.exists(f):
                return f
        return None

    def loss_count(self, before, mark, t_from, t_to):
        after = self.reformations()
        return [a - b for a, b in zip(after, before)]

    def describe(self):
        return "cohortd (%s), default Cohort timers (token 320 ms, consensus 1.2 x token), aes256/sha256, " \
               "real-time priority on" % self.c.bin

    def log(self, i):
        return self.c.log(i)


COROSYNC_CONF = """totem {{
    version: 2
    cluster_name: bench
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: {key}
}}
nodelist {{
{nodes}}}
quorum {{
    provider: corosync_votequorum
}}
logging {{
    to_stderr: yes
    to_syslog: no
    to_logfile: no
    timestamp: hires
}}
system {{
    state_dir: {state}
}}
"""

LOG_RE = re.compile(r"^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)\.(\d{3}) +\w+ +\[(\w+) *\] (.*)$")
MONTHS = {m: k + 1 for k, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def corosync_time(mon, day, hh, mm, ss, ms):
    now = datetime.datetime.now()
    d = datetime.datetime(now.year, MONTHS[mon], int(day), int(hh), int(mm), int(ss), int(ms) * 1000)
    if d - now > datetime.timedelta(days=180):  # a line from last December read in January
        d = d.replace(year=now.year - 1)
    return d.timestamp()


class Corosync:
    name = "Corosync"

    def __init__(self, lab, args):
        self.lab = lab
        self.dir = os.path.join(lab.dir, "corosync")
        key = os.path.join(self.dir, "authkey")
        os.makedirs(self.dir)
        with open(key, "wb") as f:
            f.write(os.urandom(256))
        os.chmod(key, 0o400)
        nodes = "".join("    node {\n        ring0_addr: %s\n        nodeid: %d\n        name: node%d\n    }\n"
                        % (lab.addr(i), i + 1, i + 1) for i in ALL)
        self.procs = [None] * lab.n
        self.conf, self.run, self.logs = [], [], []
        for i in ALL:
            d = os.path.join(self.dir, "node%d" % (i + 1))
            for sub in ("run", "lib"):
                os.makedirs(os.path.join(d, sub))
            conf = os.path.join(d, "corosync.conf")
            with open(conf, "w") as f:
                f.write(COROSYNC_CONF.format(key=key, nodes=nodes, state=os.path.join(d, "lib")))
            self.conf.append(conf)
            self.run.append(os.path.join(d, "run"))
            self.logs.append(os.path.join(d, "log"))
        self.version = subprocess.run(["corosync", "-v"], stdout=subprocess.PIPE).stdout.decode().splitlines()[0]

    def start(self, i, gate=False):
        with open(self.logs[i], "a") as log:
            # A mount namespace of its own with a private /run (corosync
            # locks /run/corosync.pid); its state_dir is per node already.
            self.procs[i] = self.lab.popen(i, ["corosync", "-f", "-c", self.conf[i]],
                                           private_dirs={"/run": self.run[i]},
                                           stdout=log, stderr=subprocess.STDOUT, gate=gate)
        return self.procs[i]

    def signal(self, i, sig):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(sig)

    def reap(self, i):
        p = self.procs[i]
        if p:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.procs[i] = None

    def stop_all(self):
        for i in ALL:
            self.signal(i, signal.SIGKILL)
            self.reap(i)
        for r in self.run:  # a SIGKILLed corosync leaves its pid file
            for f in os.listdir(r):
                try:
                    os.unlink(os.path.join(r, f))
                except OSError:
                    pass

    def mark(self):
        return [os.path.getsize(f) if os.path.exists(f) else 0 for f in self.logs]

    def lines(self, i, since):
        """(wall time, subsystem, text) of node i's log lines after byte `since`."""
        try:
            with open(self.logs[i], "rb") as f:
                f.seek(since)
                data = f.read()
        except OSError:
            return []
        out = []
        for raw in data.decode(errors="replace").splitlines():
            m = LOG_RE.match(raw)
            if m:
                out.append((corosync_time(*m.groups()[:6]), m.group(7), m.group(8)))
        return out

    @staticmethod
    def members_line(text, prefix):
        m = re.match(r"^%s\[\d+\]:((?: \d+)*)\s*$" % re.escape(prefix), text)
        return tuple(sorted(int(x) for x in m.group(1).split())) if m else None

    def first(self, i, since, t0_wall, members, prefix):
        for ts, sub, text in self.lines(i, since):
            if sub == "QUORUM" and ts >= t0_wall - 0.001 and self.members_line(text, prefix) == members:
                return ts
        return None

    def wait(self, want, t0_mono, t0_wall, timeout, mark=None):
        """Seconds from t0 to the last node's "Sync members" line with its
        expected members (and the same for "Members", after sync)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ring = {i: self.first(i, mark[i], t0_wall, m, "Sync members") for i, m in want.items()}
            if all(v is not None for v in ring.values()):
                # the post-sync line follows within milliseconds; give it a moment
                svc = {}
                end = time.monotonic() + 2.0
                while time.monotonic() < end:
                    svc = {i: self.first(i, mark[i], t0_wall, m, "Members") for i, m in want.items()}
                    if all(v is not None for v in svc.values()):
                        break
                    time.sleep(0.01)
                s = max(svc.values()) - t0_wall if all(v is not None for v in svc.values()) else None
                return max(ring.values()) - t0_wall, s
            time.sleep(0.005)
        return None, None

    def reformations(self):
        return None

    def ipc_name(self, i):
        return ""

    def dump(self, out):
        for i in ALL:
            out.write("---- Corosync node %d log (tail):\n%s\n" % (i + 1, self.log(i)[-2500:]))

    def libcpg(self):
        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"):
            f = os.path.join(d, "libcpg.so.4")
            if os.path.exists(f):
                return f
        return None

    def loss_count(self, before, mark, t_from, t_to):
        out = []
        for i in ALL:
            out.append(sum(1 for ts, sub, text in self.lines(i, mark[i])
                           if sub == "TOTEM" and text.startswith("A new membership") and t_from <= ts <= t_to))
        return out

    def describe(self):
        return "%s, knet, default totem timers (token 3000 ms + 650 ms per node above 2, consensus " \
               "1.2 x token), aes256/sha256, votequorum, default real-time priority" % self.version

    def log(self, i):
        try:
            with open(self.logs[i]) as f:
                return f.read()
        except OSError:
            return ""


def cpg_load_child(rate, size, libpath):
    """Runs inside a node's namespace: joins CPG group "bench-load" through
    libcpg (Corosync's, or Cohort's when LD_LIBRARY_PATH points at it) and
    multicasts `rate` AGREED messages of `size` bytes a second until SIGTERM;
    prints "sent N delivered M try_again K"."""
    import ctypes as C
    cpg = C.CDLL(libpath or "libcpg.so.4")

    class Name(C.Structure):
        _fields_ = [("length", C.c_uint32), ("value", C.c_char * 128)]

    class Iovec(C.Structure):
        _fields_ = [("base", C.c_void_p), ("len", C.c_size_t)]

    deliver_t = C.CFUNCTYPE(None, C.c_uint64, C.POINTER(Name), C.c_uint32, C.c_uint32, C.c_void_p, C.c_size_t)
    confchg_t = C.CFUNCTYPE(None, C.c_uint64, C.POINTER(Name), C.c_void_p, C.c_size_t, C.c_void_p, C.c_size_t,
                            C.c_void_p, C.c_size_t)

    class Callbacks(C.Structure):
        _fields_ = [("deliver", deliver_t), ("confchg", confchg_t)]

    count = {"delivered": 0, "sent": 0, "again": 0}

    def on_deliver(h, g, nodeid, pid, msg, ln):
        count["delivered"] += 1

    def on_confchg(*a):
        pass

    cbs = Callbacks(deliver_t(on_deliver), confchg_t(on_confchg))
    h = C.c_uint64()
    for _ in range(200):
        rc = cpg.cpg_initialize(C.byref(h), C.byref(cbs))
        if rc == 1:
            break
        time.sleep(0.05)
    else:
        print("cpg_initialize failed: %d" % rc, flush=True)
        return 1
    name = Name(10, b"bench-load")
    rc = cpg.cpg_join(h, C.byref(name))
    if rc != 1:
        print("cpg_join failed: %d" % rc, flush=True)
        return 1
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    buf = C.create_string_buffer(size)
    iov = Iovec(C.cast(buf, C.c_void_p), size)
    period = 1.0 / rate
    nxt = time.monotonic()
    while not stop:
        nowt = time.monotonic()
        if nowt >= nxt:
            rc = cpg.cpg_mcast_joined(h, 2, C.byref(iov), 1)  # CPG_TYPE_AGREED
            if rc == 1:
                count["sent"] += 1
                nxt += period
            elif rc == 6:  # CS_ERR_TRY_AGAIN
                count["again"] += 1
            else:
                print("cpg_mcast_joined: %d" % rc, flush=True)
                nxt += period
        cpg.cpg_dispatch(h, 2)  # CS_DISPATCH_ALL: what is pending, without blocking
        time.sleep(min(0.002, max(0.0, nxt - time.monotonic())))
    cpg.cpg_dispatch(h, 2)
    print("sent %d delivered %d try_again %d" % (count["sent"], count["delivered"], count["again"]), flush=True)
    cpg.cpg_finalize(h)
    return 0


def now():
    return time.monotonic(), time.time()


class RepFailed(Exception):
    def __init__(self, what, partial):
        super().__init__(what)
        self.partial = partial


def one_rep(sysm, lab, timeout, verbose):
    """One cold start .. graceful stop sequence; {event: (seconds, post-sync
    seconds)}. Raises RepFailed (with what was measured) when an event does
    not complete in `timeout` s; the caller stops the system and goes on."""
    r = {}
    ring3 = {i: (1, 2, 3) for i in ALL}
    ring2 = {i: (1, 2) for i in SURV}

    def measure(event, want, t0, mark, limit=timeout):
        t, s = sysm.wait(want, t0[0], t0[1], limit, mark)
        r[event] = (t, s)
        if verbose:
            print("  %-8s %-15s %s" % (sysm.name, event, "%.1f ms" % (t * 1000) if t is not None else "TIMEOUT"),
                  flush=True)
        if t is None:
            raise RepFailed("%s: %s did not complete in %d s" % (sysm.name, event, limit), r)

    lab.warm_arp()
    gated = [sysm.start(i, gate=True) for i in ALL]
    time.sleep(0.2)
    mark = sysm.mark()
    t0 = now()
    lab.release(gated)
    measure("cold start", ring3, t0, mark)
    time.sleep(1.0)

    mark = sysm.mark()
    t0 = now()
    sysm.signal(VICTIM, signal.SIGKILL)
    measure("kill -9", ring2, t0, mark)
    sysm.reap(VICTIM)
    time.sleep(0.5)

    gated = [sysm.start(VICTIM, gate=True)]
    time.sleep(0.2)
    mark = sysm.mark()
    t0 = now()
    lab.release(gated)
    measure("restart merge", ring3, t0, mark)
    time.sleep(1.0)

    mark = sysm.mark()
    t_cut = now()
    lab.isolate(VICTIM)
    t, _ = sysm.wait({**ring2, VICTIM: (3,)}, t_cut[0], t_cut[1], timeout, mark)
    if t is None:
        raise RepFailed("%s: the sides did not form rings of their own within %d s of the partition"
                        % (sysm.name, timeout), r)
    time.sleep(0.5)
    mark = sysm.mark()
    _, t_end = lab.heal([VICTIM])
    t0 = (t_end, time.time() - (time.monotonic() - t_end))
    measure("partition heal", ring3, t0, mark)
    time.sleep(1.0)

    mark = sysm.mark()
    t0 = now()
    sysm.signal(VICTIM, signal.SIGTERM)
    measure("graceful stop", ring2, t0, mark)
    sysm.reap(VICTIM)
    sysm.stop_all()
    return r


def start_load(sysm, lab, args):
    """A CPG load child per node, or [] when this system has no libcpg."""
    lib = sysm.libcpg()
    if lib is None:
        return []
    out = []
    for i in ALL:
        env = dict(os.environ, COHORT_IPC=sysm.ipc_name(i))
        argv = [sys.executable, os.path.abspath(__file__), "--cpg-load-child", "--load", str(args.load),
                "--load-size", str(args.load_size), "--libcpg", lib]
        out.append(lab.popen(i, argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    return out


def stop_load(procs):
    res = []
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        res.append(out.decode(errors="replace").strip())
    return res


def loss_run(sysm, lab, seconds, timeout, verbose, args=None):
    """Ring formations per node during `seconds` of 1% loss; with args, a
    CPG load runs meanwhile. None when the load was asked for and this
    system has no libcpg."""
    ring3 = {i: (1, 2, 3) for i in ALL}
    if args is not None and sysm.libcpg() is None:
        return None
    lab.warm_arp()
    mark = sysm.mark()
    t0 = now()
    for i in ALL:
        sysm.start(i)
    t, _ = sysm.wait(ring3, t0[0], t0[1], timeout, mark)
    if t is None:
        raise RuntimeError("%s: no ring before the loss run" % sysm.name)
    load = start_load(sysm, lab, args) if args is not None else []
    time.sleep(2.0)
    before = sysm.reformations()
    mark = sysm.mark()
    _, t_on = lab.loss(0.01)
    w_from = time.time()
    time.sleep(seconds)
    w_to = time.time()
    time.sleep(0.5)  # corosync's log thread
    counts = sysm.loss_count(before, mark, w_from, w_to)
    load_out = stop_load(load)
    dropped = 0
    for i in ALL:
        for line in lab.counters(i).splitlines():
            f = line.split()
            if "statistic" in line and f and f[0].isdigit():
                dropped += int(f[0])
    lab.no_loss()
    sysm.stop_all()
    if verbose:
        print("  %-8s %d s of 1%% loss%s: ring formations per node %s, %d packets dropped" %
              (sysm.name, seconds, " + cpg load" if load else "", counts, dropped), flush=True)
        for i, o in enumerate(load_out):
            print("           load on node %d: %s" % (i + 1, o), flush=True)
    return counts, dropped


def fmt_ms(v):
    if v is None:
        return "-"
    if v < 0.01:
        return "%.1f ms" % (v * 1000)
    if v < 1:
        return "%.0f ms" % (v * 1000)
    return "%.2f s" % v


TARGETS = {"cold start": "< 200 ms", "kill -9": "< 1 s", "restart merge": "< 300 ms",
           "partition heal": "-", "graceful stop": "< 10 ms"}
EVENTS = ["cold start", "kill -9", "restart merge", "partition heal", "graceful stop"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--loss-seconds", type=int, default=60)
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--only", choices=["cohort", "corosync"])
    ap.add_argument("--timeout", type=int, default=40, help="per event, seconds")
    ap.add_argument("--load", type=int, default=100,
                    help="CPG messages/s per node during a second loss run (0: no loaded run)")
    ap.add_argument("--load-size", type=int, default=1024)
    ap.add_argument("--json")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--cpg-load-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--libcpg", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cpg_load_child:
        return cpg_load_child(args.load, args.load_size, args.libcpg)

    why = netns.available()
    if why:
        print("membership benchmark skipped: %s" % why)
        return netns.SKIP
    want_corosync = args.only != "cohort"
    if want_corosync and not subprocess.run(["sh", "-c", "command -v corosync"], stdout=subprocess.DEVNULL).returncode == 0:
        print("corosync not installed (bash scripts/install-deps.sh --corosync): measuring Cohort only")
        want_corosync = False
    budget = args.reps * (60 if want_corosync else 15) + 4 * args.loss_seconds + 300
    netns.install_deadline(budget)

    verbose = not args.quiet
    results = {}
    losses = {}
    loaded = {}
    failures = []
    with Lab(3) as lab:
        systems = []
        if args.only != "corosync":
            systems.append(Cohort(lab, args))
        if want_corosync:
            systems.append(Corosync(lab, args))
        for s in systems:
            results[s.name] = {e: [] for e in EVENTS}
            results[s.name + " post-sync"] = {e: [] for e in EVENTS}
        try:
            for rep in range(args.reps):
                if verbose:
                    print("repetition %d/%d" % (rep + 1, args.reps), flush=True)
                for s in systems:
                    try:
                        r = one_rep(s, lab, args.timeout, verbose)
                    except RepFailed as e:
                        failures.append("repetition %d: %s" % (rep + 1, e))
                        print("  FAILED: %s" % e, flush=True)
                        s.dump(sys.stdout)
                        s.stop_all()
                        lab.heal()
                        r = e.partial
                    for e, (t, post) in r.items():
                        if t is None:
                            continue
                        results[s.name][e].append(t)
                        if post is not None:
                            results[s.name + " post-sync"][e].append(post)
            if args.loss_seconds > 0:
                for s in systems:
                    losses[s.name] = loss_run(s, lab, args.loss_seconds, args.timeout, verbose)
                if args.load > 0:
                    for s in systems:
                        loaded[s.name] = loss_run(s, lab, args.loss_seconds, args.timeout, verbose, args)
        except BaseException:
            for s in systems:
                for i in ALL:
                    sys.stderr.write("---- %s node %d log (tail) ----\n%s\n" % (s.name, i + 1, s.log(i)[-3000:]))
            raise
        finally:
            for s in systems:
                s.stop_all()
        cohort_poll = None
        for s in systems:
            if isinstance(s, Cohort) and s.poll_costs:
                cohort_poll = statistics.median(s.poll_costs)

    names = [s for s in ("Cohort", "Corosync") if s in results]
    print()
    print("Membership, 3 nodes in network namespaces, medians of %d repetitions (min-max)" % args.reps)
    head = "| event | " + " | ".join(names) + (" | ratio (Corosync / Cohort)" if len(names) == 2 else "") + \
        " | issue 4 target |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for e in EVENTS:
        cells, meds = [], []
        for n in names:
            v = results[n][e]
            med = statistics.median(v) if v else None
            meds.append(med)
            cells.append("%s (%s-%s)%s" % (fmt_ms(med), fmt_ms(min(v)), fmt_ms(max(v)),
                                           "" if len(v) == args.reps else " n=%d" % len(v)) if v else "-")
        row = "| %s | %s" % (e, " | ".join(cells))
        if len(names) == 2:
            row += " | %s" % ("%.0fx" % (meds[1] / meds[0]) if meds[0] and meds[1] else "-")
        print(row + " | %s |" % TARGETS[e])
    if losses:
        cells = []
        for n in names:
            counts, dropped = losses[n]
            cells.append("%d (per node %s)" % (max(counts), "/".join(str(c) for c in counts)))
        row = "| ring re-formations in %d s of 1%% loss, idle | %s" % (args.loss_seconds, " | ".join(cells))
        if len(names) == 2:
            row += " | -"
        print(row + " | 0 |")
    if loaded:
        cells = []
        for n in names:
            if loaded.get(n) is None:
                cells.append("n/a (no libcpg)")
            else:
                counts, dropped = loaded[n]
                cells.append("%d (per node %s)" % (max(counts), "/".join(str(c) for c in counts)))
        row = "| ring re-formations in %d s of 1%% loss, CPG load %d msg/s of %d B per node | %s" % (
            args.loss_seconds, args.load, args.load_size, " | ".join(cells))
        if len(names) == 2:
            row += " | -"
        print(row + " | 0 |")
    print()
    for f in failures:
        print("FAILED %s (left out of the medians)" % f)
    if "Corosync post-sync" in results and results["Corosync post-sync"]["cold start"]:
        print("Corosync after service synchronization ([QUORUM] Members line), medians: " + ", ".join(
            "%s %s" % (e, fmt_ms(statistics.median(v))) for e, v in results["Corosync post-sync"].items() if v))
    if cohort_poll is not None:
        print("Resolution: Cohort polled every %.1f ms, one poll of 3 control sockets takes %.2f ms (median); "
              "Corosync log timestamps are 1 ms." % (args.poll_ms, cohort_poll * 1000))
    for s in systems:
        print("%s: %s" % (s.name, s.describe()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"reps": args.reps, "results": results, "failures": failures,
                       "loss": {k: {"per_node": v[0], "dropped": v[1]} for k, v in losses.items()},
                       "loss_loaded": {k: (None if v is None else {"per_node": v[0], "dropped": v[1]})
                                       for k, v in loaded.items()},
                       "loss_seconds": args.loss_seconds}, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
