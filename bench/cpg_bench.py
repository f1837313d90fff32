#!/usr/bin/env python3
"""CPG throughput and latency, cohortd against Corosync 3.1.7 side by side
(run by bench/cpg_compare.sh; `make bench-cpg`).

Nodes live in network namespaces (test/system/netns.py): 3 namespaces on one
bridge. For each cluster size (1 node, then 3 nodes) a Cohort cluster is
started, every case is measured, it is stopped, and the same is done with a
Corosync cluster in the same namespaces. Both: knet, crypto_cipher aes256,
crypto_hash sha256, one authkey file shared by both, each with its default
timers and default real-time scheduling.

Every case runs bench/cpgbench.c: cohort-cpgbench (Cohort's libcpg) on Cohort,
cohort-cpgbench-corosync (built against Corosync's cpg.h, Corosync's
libcpg.so.4) on Corosync. Cases, for every message size:
  1 sender    node 1 sends AGREED messages for --seconds; every other node
              runs a receiver in the same group (joined, counting)
  3 senders   one sender per node (on 1 node: 3 sending processes)
  latency     node 1 sends one message at a time and times its own delivery
              (--samples, at most --seconds); receivers joined elsewhere
Throughput is messages delivered per second at a sender's node during its
sending window (all senders' messages), averaged over senders.

Needs root; exits 77 when namespaces are unusable. usage:
  cpg_bench.py [--build-dir DIR] [--seconds S] [--sizes 64,1024,...]
               [--nodes 1,3] [--only cohort|corosync] [--csv FILE]"""
import argparse
import csv
import datetime
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "system"))
import netns  # noqa: E402
from cohort_cluster import CONF, find_binary, parse_status  # noqa: E402
from membership import COROSYNC_CONF  # noqa: E402

SIZES = [64, 1024, 8192, 65536, 1048576]


def fmt_size(n):
    if n >= 1 << 20:
        return "%d MiB" % (n >> 20)
    if n >= 1024:
        return "%d KiB" % (n >> 10)
    return "%d B" % n


def write_key(path):
    with open(path, "wb") as f:
        f.write(os.urandom(256))
    os.chmod(path, 0o400)


class CohortCluster:
    name = "Cohort"

    def __init__(self, lab, n, key, build_dir, tag):
        self.lab, self.n = lab, n
        self.bin = find_binary("cohortd", build_dir)
        self.client = os.path.join(build_dir, "bench", "cohort-cpgbench")
        self.dir = os.path.join(lab.dir, "cohort-%s" % tag)
        os.makedirs(self.dir)
        nodes = "".join("    node {\n        ring0_addr: %s\n        nodeid: %d\n        name: node%d\n    }\n"
                        % (lab.addr(i), i + 1, i + 1) for i in range(n))
        self.conf = os.path.join(self.dir, "corosync.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(debug="off", name="cpgbench", transport="knet", cipher="aes256",
                                hash="sha256", keyfile=key, nodes=nodes,
                                extra_totem=os.environ.get("COHORT_BENCH_TOTEM", "")))
        self.procs = []

    def env(self, i):
        return dict(os.environ, COHORT_IPC="n%d" % (i + 1))

    def log(self, i):
        return os.path.join(self.dir, "log%d" % (i + 1))

    def start(self):
        for i in range(self.n):
            sd = os.path.join(self.dir, "state%d" % (i + 1))
            os.makedirs(sd)
            with open(self.log(i), "a") as log:
                # no -p: real-time priority and mlockall, Cohort's default
                self.procs.append(self.lab.popen(
                    i, [self.bin, "-f", "-c", self.conf, "--nodeid", str(i + 1), "--ipc", "n%d" % (i + 1),
                        "--state-dir", sd], stdout=log, stderr=subprocess.STDOUT))

    def ready(self):
        want = list(range(1, self.n + 1))
        rid = None
        for i in range(self.n):
            st = parse_status(netns.ns_ctl(self.lab, i, "n%d" % (i + 1), "status"))
            if not st or st.get("state") != "operational" or st["members"] != want:
                return False
            if rid is not None and st["ring_id"] != rid:
                return False
            rid = st["ring_id"]
        return True

    def stop(self):
        stop_procs(self.procs)

    def describe(self):
        return "cohortd %s, knet, aes256/sha256, default timers, real-time priority on" % self.bin


class CorosyncCluster:
    name = "Corosync"

    def __init__(self, lab, n, key, build_dir, tag):
        self.lab, self.n = lab, n
        self.client = os.path.join(build_dir, "bench", "cohort-cpgbench-corosync")
        self.dir = os.path.join(lab.dir, "corosync-%s" % tag)
        nodes = "".join("    node {\n        ring0_addr: %s\n        nodeid: %d\n        name: node%d\n    }\n"
                        % (lab.addr(i), i + 1, i + 1) for i in range(n))
        self.conf, self.run, self.logs = [], [], []
        for i in range(n):
            d = os.path.join(self.dir, "node%d" % (i + 1))
            for sub in ("run", "lib"):
                os.makedirs(os.path.join(d, sub))
            conf = os.path.join(d, "corosync.conf")
            with open(conf, "w") as f:
                f.write(COROSYNC_CONF.format(key=key, nodes=nodes, state=os.path.join(d, "lib")))
            self.conf.append(conf)
            self.run.append(os.path.join(d, "run"))
            self.logs.append(os.path.join(d, "log"))
        self.procs = []
        self.version = subprocess.run(["corosync", "-v"], stdout=subprocess.PIPE).stdout.decode().splitlines()[0]

    def env(self, i):
        return dict(os.environ)

    def log(self, i):
        return self.logs[i]

    def start(self):
        for i in range(self.n):
            with open(self.logs[i], "a") as log:
                # private /run: corosync locks /run/corosync.pid
                self.procs.append(self.lab.popen(i, ["corosync", "-f", "-c", self.conf[i]],
                                                 private_dirs={"/run": self.run[i]},
                                                 stdout=log, stderr=subprocess.STDOUT))

    def ready(self):
        # "[QUORUM] Members[n]: ..." is logged once services are synchronized
        pat = re.compile(r"\[QUORUM\] Members\[%d\]:" % self.n)
        for f in self.logs:
            try:
                with open(f) as fh:
                    if not pat.search(fh.read()):
                        return False
            except OSError:
                return False
        return True

    def stop(self):
        stop_procs(self.procs)

    def describe(self):
        return "%s, knet, aes256/sha256, default totem timers, votequorum" % self.version


def stop_procs(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    del procs[:]


def parse_line(text):
    for line in text.splitlines():
        if line.startswith("cpgbench "):
            return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return None


def run_case(cl, kind, size, senders, args, group):
    """Start the cpgbench processes of one case; returns (value dict, problems)."""
    n = cl.n
    nprocs = max(n, senders if kind == "thr" else 1)
    base = [cl.client, "--size", str(size), "--group", group, "--wait-members", str(nprocs),
            "--timeout", str(args.timeout)]
    procs = []
    for k in range(nprocs):
        node = k % n
        if kind == "lat":
            argv = base + (["--mode", "latency", "--count", str(args.samples), "--seconds", str(args.seconds)]
                           if k == 0 else ["--mode", "recv", "--ends", "1"])
        elif k < senders:
            argv = base + ["--mode", "send", "--seconds", str(args.seconds), "--ends", str(senders)]
        else:
            argv = base + ["--mode", "recv", "--ends", str(senders)]
        argv += ["--label", "%s/%s/%d/%d/%d" % (cl.name, kind, size, senders, k)]
        procs.append(cl.lab.popen(node, argv, env=cl.env(node), stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    outs, problems = [], []
    limit = time.monotonic() + args.seconds + 2 * args.timeout + 10
    for k, p in enumerate(procs):
        try:
            out, _ = p.communicate(timeout=max(1, limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            problems.append("process %d timed out" % k)
        text = out.decode(errors="replace")
        outs.append(parse_line(text))
        if p.returncode != 0:
            problems.append("process %d exit %s: %s" % (k, p.returncode, text.strip()[-400:]))
    res = {}
    if kind == "lat":
        if outs[0] and int(outs[0].get("samples", 0)) > 0:
            res = {"p50_us": float(outs[0]["p50_us"]), "p99_us": float(outs[0]["p99_us"]),
                   "samples": int(outs[0]["samples"])}
    else:
        rates = [float(o["msgs_s"]) for o in outs[:senders] if o and "msgs_s" in o]
        if len(rates) == senders:
            res = {"msgs_s": sum(rates) / len(rates), "try_again": sum(int(o["try_again"]) for o in outs[:senders]),
                   "sent": sum(int(o["sent"]) for o in outs[:senders])}
    res["raw"] = [o for o in outs if o]
    return res, problems


def wait_ready(cl, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cl.ready():
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def measure_system(cls, lab, n, key, args, results, problems, described):
    tag = "%dn" % n
    cl = cls(lab, n, key, args.build_dir, tag)
    described[cl.name] = cl.describe()
    lab.warm_arp()
    cl.start()
    try:
        t = wait_ready(cl, 30)
        if t is None:
            problems.append("%s %d node(s): no ring within 30 s" % (cl.name, n))
            return
        time.sleep(1.0)  # let start-up traffic settle
        print("  %s, %d node(s): ring after %.2f s" % (cl.name, n, t), flush=True)
        for size in args.sizes:
            for kind, senders in (("thr", 1), ("thr", 3), ("lat", 1)):
                group = "b%s%d%d%s" % (kind, size, senders, tag)
                res, probs = run_case(cl, kind, size, senders, args, group)
                results[(cl.name, kind, size, senders, n)] = res
                for pr in probs:
                    problems.append("%s %s size %d senders %d nodes %d: %s" % (cl.name, kind, size, senders, n, pr))
                if kind == "thr":
                    print("    %-8s %-8s senders %d: %s msgs/s%s" % (
                        cl.name, fmt_size(size), senders, "%.0f" % res["msgs_s"] if "msgs_s" in res else "-",
                        " (%d problem(s))" % len(probs) if probs else ""), flush=True)
                else:
                    print("    %-8s %-8s latency: p50 %s us p99 %s us%s" % (
                        cl.name, fmt_size(size), res.get("p50_us", "-"), res.get("p99_us", "-"),
                        " (%d problem(s))" % len(probs) if probs else ""), flush=True)
    finally:
        cl.stop()


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"


def report(results, args, systems, csv_path):
    print()
    print("| size | senders | nodes | Cohort msgs/s | Corosync msgs/s | ratio | Cohort MB/s | Corosync MB/s "
          "| Cohort p50/p99 us | Corosync p50/p99 us | p99 ratio (Corosync/Cohort) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for n in args.nodes:
        for size in args.sizes:
            for senders in (1, 3):
                a = results.get(("Cohort", "thr", size, senders, n), {})
                b = results.get(("Corosync", "thr", size, senders, n), {})
                ra, rb = a.get("msgs_s"), b.get("msgs_s")
                la = results.get(("Cohort", "lat", size, 1, n), {}) if senders == 1 else {}
                lb = results.get(("Corosync", "lat", size, 1, n), {}) if senders == 1 else {}

                def lat(x):
                    return "%.0f / %.0f" % (x["p50_us"], x["p99_us"]) if "p50_us" in x else "-"

                print("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    fmt_size(size), senders, n, "%.0f" % ra if ra else "-", "%.0f" % rb if rb else "-",
                    ratio(ra, rb), "%.1f" % (ra * size / 1e6) if ra else "-",
                    "%.1f" % (rb * size / 1e6) if rb else "-", lat(la) if senders == 1 else "",
                    lat(lb) if senders == 1 else "",
                    ratio(lb.get("p99_us"), la.get("p99_us")) if senders == 1 else ""))
                for sysname, thr, la_ in (("Cohort", a, la), ("Corosync", b, lb)):
                    rows.append([sysname, size, senders, n, thr.get("msgs_s", ""),
                                 thr["msgs_s"] * size / 1e6 if "msgs_s" in thr else "", thr.get("try_again", ""),
                                 la_.get("p50_us", ""), la_.get("p99_us", ""), la_.get("samples", "")])
    print("ratio = Cohort / Corosync messages per second; MB = 10^6 bytes; latency measured with 1 sender,"
          " one message in flight")
    if csv_path:
        os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["system", "size", "senders", "nodes", "msgs_s", "mb_s", "try_again", "p50_us", "p99_us",
                        "latency_samples"])
            w.writerows(rows)
        print("CSV: %s" % csv_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR") or os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--seconds", type=float, default=3.0, help="sending window per throughput case")
    ap.add_argument("--samples", type=int, default=2000, help="latency samples (at most --seconds)")
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--nodes", default="1,3")
    ap.add_argument("--only", choices=["cohort", "corosync"])
    ap.add_argument("--timeout", type=float, default=20.0, help="cpgbench --timeout (join, drain)")
    ap.add_argument("--budget", type=int, default=570, help="whole run, seconds")
    ap.add_argument("--csv")
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.nodes = [int(s) for s in args.nodes.split(",")]
    args.build_dir = os.path.abspath(args.build_dir)

    why = netns.available()
    if why:
        print("cpg benchmark skipped: %s" % why)
        return netns.SKIP
    classes = []
    if args.only != "corosync":
        if not os.access(os.path.join(args.build_dir, "bench", "cohort-cpgbench"), os.X_OK):
            print("cohort-cpgbench not built in %s" % args.build_dir)
            return 1
        classes.append(CohortCluster)
    if args.only != "cohort":
        if not os.access(os.path.join(args.build_dir, "bench", "cohort-cpgbench-corosync"), os.X_OK):
            print("cohort-cpgbench-corosync not built (Corosync's libcpg-dev missing at configure time):"
                  " Cohort only")
        else:
            classes.append(CorosyncCluster)
    netns.install_deadline(args.budget)
    results, problems, described = {}, [], {}
    t0 = time.monotonic()
    with netns.Lab(3) as lab:
        key = os.path.join(lab.dir, "authkey")
        write_key(key)  # the same key for both systems
        for n in args.nodes:
            for cls in classes:
                measure_system(cls, lab, n, key, args, results, problems, described)
    print("\nCPG benchmark, %s, %d s windows, took %.0f s" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), args.seconds,
        time.monotonic() - t0))
    report(results, args, [c.name for c in classes], args.csv)
    for name, d in described.items():
        print("%s: %s" % (name, d))
    for p in problems:
        print("PROBLEM: %s" % p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
