"""Network namespaces for multi-node system tests and benchmarks.

A Lab is N namespaces, each holding one node. Every link L (0, 1, ...) is a
Linux bridge in the root namespace; node i reaches it through a veth pair
whose inside end is called ethL and carries 10.77.L.(i+1)/24. Processes are
started inside a namespace directly (setns in the child, no `ip netns exec`
round trip) with PR_SET_PDEATHSIG, so they die with the process that started
them even when that process is killed outright.

Faults are iptables rules inside the namespaces, in two chains of our own:
cohort-fault (partitions, one-way drops, links down) and cohort-loss (random
loss). heal() flushes the first, no_loss() the second.

Clean-up: Lab.close() (also run by `with`, atexit, SIGTERM/SIGINT/SIGHUP and
the optional deadline given to install_deadline()) kills what was started,
deletes the namespaces and bridges. Names carry the creating pid
(cohortns-<pid>-<i>, bridges cb<pid hex>l<L>), so a later Lab removes what a
SIGKILLed run left behind.

Only root can do any of this: available() says whether it can, and why not."""
import atexit
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]

NS_PREFIX = "cohortns-"
FAULT_CHAIN = "cohort-fault"
LOSS_CHAIN = "cohort-loss"
SKIP = 77  # ctest SKIP_RETURN_CODE


def _check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def setns(fd, nstype=CLONE_NEWNET):
    _check(_libc.setns(fd, nstype), "setns")


def _run(argv, check=True, timeout=20):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stdout.decode(errors="replace").strip()))
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def available():
    """None when namespaces, veth, bridges and iptables (with the statistic
    match) work here; otherwise the reason they do not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, iptables)"
    for tool in ("ip", "iptables", "iptables-restore"):
        if not shutil.which(tool):
            return "%s not found" % tool
    name = "%sprobe-%d" % (NS_PREFIX, os.getpid())
    try:
        r = _run(["ip", "netns", "add", name], check=False)
        if r.returncode != 0:
            return "cannot create a network namespace: %s" % r.stdout.decode(errors="replace").strip()
        veth = "cp%xx" % os.getpid()
        r = _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name], check=False)
        if r.returncode != 0:
            return "cannot create a veth pair: %s" % r.stdout.decode(errors="replace").strip()
        r = _run(["ip", "netns", "exec", name, "iptables", "-w", "-A", "INPUT", "-i", "eth0", "-m", "statistic",
                  "--mode", "random", "--probability", "0.5", "-j", "DROP"], check=False)
        if r.returncode != 0:
            return "iptables (statistic match) unusable in a namespace: %s" % r.stdout.decode(errors="replace").strip()
        return None
    finally:
        _run(["ip", "link", "del", "cp%xx" % os.getpid()], check=False)
        _run(["ip", "netns", "del", name], check=False)


def sweep_stale():
    """Remove namespaces and bridges left by runs whose process is gone."""
    r = _run(["ip", "netns", "list"], check=False)
    for line in r.stdout.decode().splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"^%s(?:probe-)?(\d+)-?" % re.escape(NS_PREFIX), name)
        if m and not _pid_alive(int(m.group(1))):
            _kill_ns_pids(name)
            _run(["ip", "netns", "del", name], check=False)
    r = _run(["ip", "-o", "link", "show", "type", "bridge"], check=False)
    for line in r.stdout.decode().splitlines():
        m = re.match(r"^\d+: (cb([0-9a-f]+)l\d+)[:@]", line)
        if m and not _pid_alive(int(m.group(2), 16)):
            _run(["ip", "link", "del", m.group(1)], check=False)


def _kill_ns_pids(name):
    r = _run(["ip", "netns", "pids", name], check=False)
    for p in r.stdout.decode().split():
        try:
            os.kill(int(p), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class Deadline(Exception):
    pass


_open_labs = []


def _cleanup_all():
    for lab in list(_open_labs):
        lab.close()


def _on_signal(signum, frame):
    raise Deadline("signal %d" % signum)


def install_deadline(seconds):
    """Raise Deadline in the main thread after `seconds` (and on SIGTERM,
    SIGINT, SIGHUP), so `with Lab(...)` blocks unwind and clean up before an
    outer timeout would kill us."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)

    def alarm(signum, frame):
        raise Deadline("internal deadline of %d s reached" % seconds)

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(seconds))


atexit.register(_cleanup_all)


class Lab:
    def __init__(self, n, links=1, net=77):
        self.n = n
        self.links = links
        self.net = net
        self.pid = os.getpid()
        self.names = ["%s%d-%d" % (NS_PREFIX, self.pid, i + 1) for i in range(n)]
        self.bridges = ["cb%xl%d" % (self.pid, link) for link in range(links)]
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="cohort-netns-")
        self._fds = {}
        self._home = None
        self.closed = False
        _open_labs.append(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ topology
    def addr(self, i, link=0):
        return "10.%d.%d.%d" % (self.net, link, i + 1)

    def _build(self):
        sweep_stale()
        for b in self.bridges:
            _run(["ip", "link", "add", b, "type", "bridge", "forward_delay", "0"])
            _run(["ip", "link", "set", b, "up"])
        for i, ns in enumerate(self.names):
            _run(["ip", "netns", "add", ns])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            for link, b in enumerate(self.bridges):
                outside = "cv%xl%dn%d" % (self.pid, link, i + 1)
                inside = "eth%d" % link
                _run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns])
                _run(["ip", "link", "set", outside, "master", b, "up"])
                _run(["ip", "-n", ns, "addr", "add", "%s/24" % self.addr(i, link), "dev", inside])
                _run(["ip", "-n", ns, "link", "set", inside, "up"])
            rules = "*filter\n:%s - [0:0]\n:%s - [0:0]\n" % (FAULT_CHAIN, LOSS_CHAIN)
            for chain in ("INPUT", "OUTPUT"):
                rules += "-A %s -j %s\n-A %s -j %s\n" % (chain, FAULT_CHAIN, chain, LOSS_CHAIN)
            rules += "COMMIT\n"
            self.iptables_restore(i, rules)
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        for i, ns in enumerate(self.names):
            self._fds[i] = os.open("/run/netns/" + ns, os.O_RDONLY | os.O_CLOEXEC)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.kill()
                    p.wait(timeout=10)
                except Exception:
                    pass
        for ns in self.names:
            _kill_ns_pids(ns)
        for fd in list(self._fds.values()) + ([self._home] if self._home is not None else []):
            try:
                os.close(fd)
            except OSError:
                pass
        for ns in self.names:
            _run(["ip", "netns", "del", ns], check=False)
        for b in self.bridges:
            _run(["ip", "link", "del", b], check=False)
        if os.environ.get("COHORT_KEEP_LOGS"):
            print("netns lab files kept in", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self in _open_labs:
            _open_labs.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # ------------------------------------------------------------ processes
    def socket(self, i, family, type_):
        """A socket created inside node i's namespace (abstract unix sockets
        and IP sockets both belong to the namespace they were made in)."""
        import socket as _s
        setns(self._fds[i])
        try:
            return _s.socket(family, type_)
        finally:
            setns(self._home)

    def popen(self, i, argv, private_dirs=None, gate=False, **kw):
        """Start argv inside node i's namespace. private_dirs maps a path to
        a directory bind-mounted over it in a mount namespace of the child's
        own (e.g. {"/run": ...} so several corosyncs each have their pid
        file). gate=True: the child waits in a shell until release(), then
        execs argv (same pid): starting a Python child takes tens of ms, too
        much to include in a timed start."""
        fd = self._fds[i]
        if gate:
            argv = ["/bin/sh", "-c", 'read -r _; exec "$@"', "sh"] + list(argv)
            kw["stdin"] = subprocess.PIPE
        binds = [(os.fsencode(src), os.fsencode(dst)) for dst, src in (private_dirs or {}).items()]

        def child():
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            setns(fd)
            if binds:
                _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
                _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
                for src, dst in binds:
                    _check(_libc.mount(src, dst, None, MS_BIND, None), "bind mount")

        p = subprocess.Popen(argv, preexec_fn=child, **kw)
        self.procs.append(p)
        return p

    @staticmethod
    def release(procs):
        """Let gated children (popen(gate=True)) exec, as close together as
        possible."""
        for p in procs:
            p.stdin.write(b"go\n")
            p.stdin.flush()
        for p in procs:
            p.stdin.close()

    def run(self, i, argv, check=True, timeout=20):
        return _run(["ip", "netns", "exec", self.names[i]] + list(argv), check=check, timeout=timeout)

    # ------------------------------------------------------------ faults
    def iptables_restore(self, i, rules):
        r = subprocess.run(["ip", "netns", "exec", self.names[i], "iptables-restore", "-w", "--noflush"],
                           input=rules.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        if r.returncode != 0:
            raise RuntimeError("iptables-restore in %s: %s\n%s" % (self.names[i], r.stdout.decode(), rules))

    def _apply(self, per_node):
        """per_node: {i: rules text}. Applied to all namespaces concurrently;
        returns (t_start, t_end) in time.monotonic()."""
        t0 = time.monotonic()
        ps = []
        for i, rules in per_node.items():
            p = subprocess.Popen(["ip", "netns", "exec", self.names[i], "iptables-restore", "-w", "--noflush"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            ps.append((i, p, rules))
        for i, p, rules in ps:
            out, _ = p.communicate(("*filter\n" + rules + "COMMIT\n").encode(), timeout=20)
            if p.returncode != 0:
                raise RuntimeError("iptables-restore in %s: %s\n%s" % (self.names[i], out.decode(), rules))
        return t0, time.monotonic()

    def _all_links_from(self, j):
        return ["10.%d.%d.%d" % (self.net, link, j + 1) for link in range(self.links)]

    def partition(self, *groups):
        """Cut the nodes into groups that do not hear each other (on every
        link). Nodes not named form one more group."""
        named = set(x for g in groups for x in g)
        groups = [list(g) for g in groups]
        rest = [i for i in range(self.n) if i not in named]
        if rest:
            groups.append(rest)
        side = {i: k for k, g in enumerate(groups) for i in g}
        per = {}
        for i in range(self.n):
            rules = "-F %s\n" % FAULT_CHAIN
            for j in range(self.n):
                if side[j] != side[i]:
                    for a in self._all_links_from(j):
                        rules += "-A %s -s %s -j DROP\n" % (FAULT_CHAIN, a)
            per[i] = rules
        return self._apply(per)

    def isolate(self, i):
        """Cut node i off from every other node, both directions, with rules
        in node i's namespace only: one atomic change, and heal([i]) undoes
        it the same way (what the benchmark times a heal from). Node i's own
        sends to the others fail with EPERM meanwhile."""
        rules = "-F %s\n" % FAULT_CHAIN
        for j in range(self.n):
            if j != i:
                for a in self._all_links_from(j):
                    rules += "-A %s -s %s -j DROP\n-A %s -d %s -j DROP\n" % (FAULT_CHAIN, a, FAULT_CHAIN, a)
        return self._apply({i: rules})

    def warm_arp(self):
        """Send one UDP datagram from every node to every other address (port
        9, discard), so neighbour entries exist before something is timed."""
        import socket as _s
        for i in range(self.n):
            s = self.socket(i, _s.AF_INET, _s.SOCK_DGRAM)
            try:
                for j in range(self.n):
                    for a in self._all_links_from(j):
                        if j != i:
                            s.sendto(b"arp", (a, 9))
            finally:
                s.close()
        time.sleep(0.05)

    def drop_oneway(self, src, dst):
        """dst no longer hears src (src still hears dst)."""
        rules = "".join("-A %s -s %s -j DROP\n" % (FAULT_CHAIN, a) for a in self._all_links_from(src))
        return self._apply({dst: rules})

    def link_down(self, link, nodes=None, output=True):
        """Link `link` stops carrying anything at `nodes` (default all): its
        interface drops input and, with output=True, output too."""
        per = {}
        for i in (range(self.n) if nodes is None else nodes):
            rules = "-A %s -i eth%d -j DROP\n" % (FAULT_CHAIN, link)
            if output:
                rules += "-A %s -o eth%d -j DROP\n" % (FAULT_CHAIN, link)
            per[i] = rules
        return self._apply(per)

    def heal(self, nodes=None):
        """Remove partitions, one-way drops and link failures."""
        return self._apply({i: "-F %s\n" % FAULT_CHAIN for i in (range(self.n) if nodes is None else nodes)})

    def loss(self, p, nodes=None, output=False):
        """Drop each received packet with probability p at every node in
        `nodes` (default all); output=True drops sent packets too."""
        per = {}
        for i in (range(self.n) if nodes is None else nodes):
            rules = "-F %s\n" % LOSS_CHAIN
            for ch, flag in (("INPUT", "-i"), ("OUTPUT", "-o")) if output else (("INPUT", "-i"),):
                rules += "-A %s %s eth+ -m statistic --mode random --probability %.6f -j DROP\n" % (
                    LOSS_CHAIN, flag, p)
            per[i] = rules
        return self._apply(per)

    def no_loss(self, nodes=None):
        return self._apply({i: "-F %s\n" % LOSS_CHAIN for i in (range(self.n) if nodes is None else nodes)})

    def counters(self, i):
        """iptables -L -v -x of node i (for diagnostics)."""
        return self.run(i, ["iptables", "-w", "-L", "-v", "-x", "-n"], check=False).stdout.decode()


# ---------------------------------------------------------------- cohortd in a Lab

def ns_ctl(lab, i, ipc, command, timeout=1.0):
    """cohort_cluster.ctl(), but for a daemon inside node i's namespace."""
    import socket as _s
    s = lab.socket(i, _s.AF_UNIX, _s.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect("\0cohort-%s-ctl" % ipc)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode()
    except OSError:
        return None
    finally:
        s.close()


class CohortLab:
    """cohortd on every node of a Lab, one corosync.conf shared by all (each
    node finds itself by its addresses; --nodeid is passed too)."""

    def __init__(self, lab, crypto=True, extra_totem="", build_dir=None, name=None, realtime=False):
        from cohort_cluster import CONF, find_binary
        self.lab = lab
        self.n = lab.n
        self.bin = find_binary("cohortd", build_dir)
        self.dir = os.path.join(lab.dir, "cohort")
        os.makedirs(self.dir, exist_ok=True)
        self.keyfile = os.path.join(self.dir, "authkey")
        with open(self.keyfile, "wb") as f:
            f.write(os.urandom(256))
        os.chmod(self.keyfile, 0o400)
        nodes = ""
        for i in range(lab.n):
            nodes += "    node {\n"
            for link in range(lab.links):
                nodes += "        ring%d_addr: %s\n" % (link, lab.addr(i, link))
            nodes += "        nodeid: %d\n        name: node%d\n    }\n" % (i + 1, i + 1)
        self.conf = os.path.join(self.dir, "corosync.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(debug="on" if os.environ.get("COHORT_DEBUG") else "off", name=name or "ns%d" % os.getpid(), transport="knet",
                                cipher="aes256" if crypto else "none",
                                hash="sha256" if crypto else "none", keyfile=self.keyfile,
                                extra_totem=extra_totem, nodes=nodes))
        self.procs = [None] * lab.n
        self.realtime = realtime  # False: -p (no SCHED_RR, no mlockall), like the loopback tests

    def ipc(self, i):
        return "n%d" % (i + 1)

    def logfile(self, i):
        return os.path.join(self.dir, "log%d" % (i + 1))

    def start(self, i, gate=False):
        """Start node i; with gate=True it waits for Lab.release()."""
        sd = os.path.join(self.dir, "state%d" % (i + 1))
        os.makedirs(sd, exist_ok=True)
        with open(self.logfile(i), "a") as log:
            self.procs[i] = self.lab.popen(
                i, [self.bin, "-f"] + ([] if self.realtime else ["-p"]) +
                ["-c", self.conf, "--nodeid", str(i + 1), "--ipc", self.ipc(i), "--state-dir", sd],
                stdout=log, stderr=subprocess.STDOUT, gate=gate)
        return self.procs[i]

    def start_all(self):
        for i in range(self.n):
            self.start(i)

    def kill(self, i, sig=signal.SIGKILL, wait=True):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(sig)
            if wait and sig in (signal.SIGKILL, signal.SIGTERM):
                p.wait(timeout=10)
                self.procs[i] = None

    def ctl(self, i, command):
        return ns_ctl(self.lab, i, self.ipc(i), command)

    def status(self, i):
        from cohort_cluster import parse_status
        return parse_status(self.ctl(i, "status"))

    def stat(self, i, key):
        for line in (self.ctl(i, "stats") or "").splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
        return None

    def rings_formed(self, i):
        st = self.status(i)
        return int(st["rings_formed"]) if st and "rings_formed" in st else None

    def one_ring(self, nodes):
        want = sorted(i + 1 for i in nodes)
        rid = None
        for i in nodes:
            st = self.status(i)
            if not st or st.get("state") != "operational" or st["members"] != want:
                return False
            if rid is not None and st["ring_id"] != rid:
                return False
            rid = st["ring_id"]
        return True

    def ring_seq(self, i):
        st = self.status(i)
        return int(st["ring_id"].split(".")[1]) if st else None

    def log(self, i):
        try:
            with open(self.logfile(i)) as f:
                return f.read()
        except OSError:
            return ""


def wait_for(cond, timeout, step=0.001):
    """Poll cond() until true; seconds elapsed, or None on timeout."""
    t0 = time.monotonic()
    while True:
        if cond():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(step)
