#!/usr/bin/env python3
"""ctest bench_cpg_smoke: cohort-cpgbench against one cohortd on 127.0.140.1,
a few thousand messages and 200 latency samples (a few seconds). Checks that the
benchmark client works, not how fast anything is.

usage: cpg_smoke.py BUILD_DIR"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "system"))
from cohort_cluster import Cluster  # noqa: E402


def main():
    build = os.path.abspath(sys.argv[1])
    client = os.path.join(build, "bench", "cohort-cpgbench")
    runs = [["--mode", "send", "--size", "64", "--count", "5000"],
            ["--mode", "send", "--size", "65536", "--count", "200"],
            ["--mode", "latency", "--size", "1024", "--count", "200"]]
    with Cluster(1, base_addr=140, build_dir=build, tag="bs%d" % os.getpid()) as cl:
        cl.start_all()
        if cl.wait(lambda: cl.one_ring([0]), 10) is None:
            print("FAIL: cohortd formed no ring in 10 s\n" + cl.log(0)[-2000:])
            return 1
        env = dict(os.environ, COHORT_IPC=cl.ipc(0))
        for args in runs:
            r = subprocess.run([client, "--timeout", "10"] + args, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            out = r.stdout.decode(errors="replace").strip()
            print(out)
            if r.returncode != 0 or not out.startswith("cpgbench ") or " bad=0" not in out:
                print("FAIL: expected exit 0 and one 'cpgbench ... bad=0' line for %s, got exit %d"
                      % (" ".join(args), r.returncode))
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
