"""Real cohortd processes on 127.0.0.x for system tests and benchmarks.

Every cluster lives in its own temporary directory; processes are killed and
the directory removed when the cluster is closed, whatever happened."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def find_binary(name, build_dir=None):
    cands = []
    if build_dir:
        cands += [os.path.join(build_dir, "src/daemon", name), os.path.join(build_dir, "tools", name)]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for b in ("build", "build-san"):
        cands += [os.path.join(root, b, "src/daemon", name), os.path.join(root, b, "tools", name)]
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    raise FileNotFoundError(name)


def ctl(ipc, command, timeout=1.0):
    """Ask a daemon's control socket; returns the reply text or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
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


def parse_status(text):
    if not text:
        return None
    st = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        st[k] = v
    st["members"] = [int(x) for x in st.get("members", "").split()]
    return st


CONF = """totem {{
    version: 2
    cluster_name: {name}
    transport: {transport}
    crypto_cipher: {cipher}
    crypto_hash: {hash}
    keyfile: {keyfile}
{extra_totem}}}
nodelist {{
{nodes}}}
logging {{
    to_stderr: yes
    timestamp: on
    debug: {debug}
}}
"""


class Cluster:
    def __init__(self, n, crypto=True, base_addr=10, extra_totem="", build_dir=None, tag=None):
        self.n = n
        self.dir = tempfile.mkdtemp(prefix="cohort-sys-")
        self.bin = find_binary("cohortd", build_dir)
        self.tag = tag or "t%d" % os.getpid()
        self.addr = ["127.0.%d.%d" % (base_addr, i + 1) for i in range(n)]
        self.keyfile = os.path.join(self.dir, "authkey")
        with open(self.keyfile, "wb") as f:
            f.write(os.urandom(256))
        os.chmod(self.keyfile, 0o400)
        nodes = "".join("    node {\n        ring0_addr: %s\n        nodeid: %d\n        name: node%d\n    }\n"
                        % (self.addr[i], i + 1, i + 1) for i in range(n))
        self.conf = os.path.join(self.dir, "corosync.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(debug="on" if os.environ.get("COHORT_DEBUG") else "off", name="sys" + self.tag, transport="knet",
                                cipher="aes256" if crypto else "none",
                                hash="sha256" if crypto else "none", keyfile=self.keyfile,
                                extra_totem=extra_totem, nodes=nodes))
        self.procs = [None] * n

    def ipc(self, i):
        return "%s-n%d" % (self.tag, i + 1)

    def start(self, i, conf=None):
        sd = os.path.join(self.dir, "state%d" % (i + 1))
        os.makedirs(sd, exist_ok=True)
        log = open(os.path.join(self.dir, "log%d" % (i + 1)), "a")
        self.procs[i] = subprocess.Popen(
            [self.bin, "-f", "-p", "-c", conf or self.conf, "--nodeid", str(i + 1),
             "--ipc", self.ipc(i), "--state-dir", sd],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start_all(self):
        for i in range(self.n):
            self.start(i)

    def status(self, i):
        return parse_status(ctl(self.ipc(i), "status"))

    def alive(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                p.wait(timeout=10)
                self.procs[i] = None

    def signal(self, i, sig):
        self.procs[i].send_signal(sig)

    def one_ring(self, nodes):
        """True when every node in `nodes` is operational in the same ring made of exactly `nodes`."""
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

    def wait(self, cond, timeout, step=0.002):
        """Poll cond() until true; returns elapsed seconds or None on timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if cond():
                return time.monotonic() - t0
            time.sleep(step)
        return None

    def log(self, i):
        try:
            with open(os.path.join(self.dir, "log%d" % (i + 1))) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        for i, p in enumerate(self.procs):
            if p and p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.kill()
                    p.wait(timeout=10)
                except Exception:
                    pass
        if os.environ.get("COHORT_KEEP_LOGS"):
            print("logs kept in", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
