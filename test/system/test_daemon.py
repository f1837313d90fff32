#!/usr/bin/env python3
"""System tests of cohortd: real daemons on 127.0.x.y, bounded and self-cleaning.

usage: test_daemon.py BUILD_DIR TEST_NAME"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cohort_cluster import Cluster, ctl, find_binary  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else None
ALL3 = [0, 1, 2]


def check(cond, what, cl=None):
    if not cond:
        if cl:
            for i in range(cl.n):
                sys.stderr.write("---- log of node %d ----\n%s\n" % (i + 1, cl.log(i)[-4000:]))
        raise AssertionError(what)


def stat_value(cl, i, key):
    text = ctl(cl.ipc(i), "stats") or ""
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return None


def test_form(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="f%d" % base) as cl:
        cl.start_all()
        t = cl.wait(lambda: cl.one_ring(ALL3), 5)
        check(t is not None, "3 nodes did not form one ring in 5 s", cl)
        print("formed one ring in %.0f ms" % (t * 1000))
        rid = cl.status(0)["ring_id"]
        check(all(cl.status(i)["ring_id"] == rid for i in ALL3), "ring ids differ", cl)


def test_kill9(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="k%d" % base) as cl:
        cl.start_all()
        check(cl.wait(lambda: cl.one_ring(ALL3), 5) is not None, "no ring", cl)
        cl.kill(2)
        t = cl.wait(lambda: cl.one_ring([0, 1]), 5)
        check(t is not None, "survivors did not re-form after kill -9", cl)
        print("kill -9 to new membership: %.0f ms" % (t * 1000))
        check(t < 2.0, "failure detection took %.2f s" % t, cl)


def test_pause_resume(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="p%d" % base) as cl:
        cl.start_all()
        check(cl.wait(lambda: cl.one_ring(ALL3), 5) is not None, "no ring", cl)
        cl.signal(1, signal.SIGSTOP)
        check(cl.wait(lambda: cl.one_ring([0, 2]), 5) is not None, "pause not detected", cl)
        cl.signal(1, signal.SIGCONT)
        t = cl.wait(lambda: cl.one_ring(ALL3), 10)
        check(t is not None, "paused node did not rejoin after SIGCONT", cl)
        print("paused node rejoined %.0f ms after SIGCONT" % (t * 1000))


def test_restart_merge(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="r%d" % base) as cl:
        cl.start_all()
        check(cl.wait(lambda: cl.one_ring(ALL3), 5) is not None, "no ring", cl)
        before = int(cl.status(0)["ring_id"].split(".")[1])
        cl.kill(0)
        check(cl.wait(lambda: cl.one_ring([1, 2]), 5) is not None, "no ring after kill", cl)
        mid = int(cl.status(1)["ring_id"].split(".")[1])
        cl.start(0)
        t = cl.wait(lambda: cl.one_ring(ALL3), 10)
        check(t is not None, "restarted node did not merge back", cl)
        after = int(cl.status(0)["ring_id"].split(".")[1])
        check(after > mid > before, "ring ids not increasing: %d %d %d" % (before, mid, after), cl)
        print("restarted node merged back in %.0f ms, ring seq %d -> %d -> %d" % (t * 1000, before, mid, after))


def test_graceful_stop(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="g%d" % base) as cl:
        cl.start_all()
        check(cl.wait(lambda: cl.one_ring(ALL3), 5) is not None, "no ring", cl)
        cl.signal(2, signal.SIGTERM)
        t = cl.wait(lambda: cl.one_ring([0, 1]), 5, step=0.0005)
        check(t is not None, "no new ring after graceful stop", cl)
        print("graceful stop to new membership: %.1f ms" % (t * 1000))
        # the token timeout is 320 ms: anything well below it came from the leave message
        check(t < 0.25, "graceful stop took %.0f ms (token timeout path?)" % (t * 1000), cl)


def test_wrong_key(base):
    with Cluster(3, base_addr=base, build_dir=BUILD, tag="w%d" % base) as cl:
        bad_key = os.path.join(cl.dir, "otherkey")
        with open(bad_key, "wb") as f:
            f.write(os.urandom(256))
        os.chmod(bad_key, 0o400)
        bad_conf = os.path.join(cl.dir, "bad.conf")
        with open(cl.conf) as f, open(bad_conf, "w") as g:
            g.write(f.read().replace(cl.keyfile, bad_key))
        cl.start(0)
        cl.start(1)
        cl.start(2, conf=bad_conf)
        check(cl.wait(lambda: cl.one_ring([0, 1]), 5) is not None, "good nodes did not form", cl)
        time.sleep(1.5)  # node 3 keeps trying meanwhile; it must never get in
        check(cl.one_ring([0, 1]), "node with the wrong key got in", cl)
        st = cl.status(2)
        check(st and st["members"] == [3], "wrong-key node is not alone: %s" % st, cl)
        fails = stat_value(cl, 0, "crypto.auth_failed")
        check(fails and fails > 0, "no authentication failures counted", cl)
        print("wrong-key node kept out; %d packets failed authentication at node 1" % fails)


def test_garbage_and_replay(base):
    # node 4 is configured but never started: we play it, capture what the
    # cluster sends it, and send that back, plus garbage.
    with Cluster(4, base_addr=base, build_dir=BUILD, tag="j%d" % base) as cl:
        for i in range(3):
            cl.start(i)
        check(cl.wait(lambda: cl.one_ring(ALL3), 5) is not None, "no ring", cl)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((cl.addr[3], 5405))
        s.settimeout(2)
        captured = []
        deadline = time.monotonic() + 3
        while len(captured) < 20 and time.monotonic() < deadline:
            try:
                captured.append(s.recv(65536))
            except socket.timeout:
                break
        check(captured, "captured nothing sent to node 4", cl)
        rej0 = stat_value(cl, 0, "net.rx_rejected") or 0
        for p in captured:
            s.sendto(p, (cl.addr[0], 5405))
        for _ in range(50):
            s.sendto(os.urandom(200), (cl.addr[0], 5405))
        g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        g.bind(("127.0.%d.200" % base, 0))
        for _ in range(20):
            g.sendto(os.urandom(100), (cl.addr[0], 5405))
        time.sleep(0.3)
        rej1 = stat_value(cl, 0, "net.rx_rejected") or 0
        unk = stat_value(cl, 0, "net.rx_unknown_source") or 0
        check(rej1 - rej0 >= 50, "garbage/replays not counted (%d)" % (rej1 - rej0), cl)
        check(unk >= 20, "unknown sources not counted (%d)" % unk, cl)
        check(cl.one_ring(ALL3), "ring disturbed by garbage", cl)
        print("%d replayed + 50 garbage rejected, %d unknown-source dropped, ring intact"
              % (len(captured), unk))
        s.close()
        g.close()


def cpg_init_as(lib_path, ipc, uid, gid):
    """cs_error_t of cpg_initialize called by a child running as uid/gid."""
    import ctypes
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.environ["COHORT_IPC"] = ipc
            lib = ctypes.CDLL(lib_path)  # loaded while still root: the build dir may be private
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            h = ctypes.c_uint64(0)
            code = lib.cpg_initialize(ctypes.byref(h), None)
            if code == 1:
                lib.cpg_finalize(h)
        finally:
            os._exit(code)
    _, st = os.waitpid(pid, 0)
    return os.WEXITSTATUS(st)


def test_uidgid(base):
    """uidgid { uid: } in the configuration lets that user in; others get
    CS_ERR_ACCESS (11) from cpg_initialize."""
    if os.geteuid() != 0:
        print("SKIP: needs root to run a client as another user")
        sys.exit(77)
    lib = os.path.join(os.path.dirname(os.path.dirname(find_binary("cohortd", BUILD))), "lib", "libcpg.so")
    with Cluster(1, base_addr=base, build_dir=BUILD, tag="u%d" % base) as cl:
        with open(cl.conf, "a") as f:
            f.write("uidgid {\n    uid: 65534\n}\nuidgid {\n    gid: 4242\n}\n")
        cl.start(0)
        check(cl.wait(lambda: cl.one_ring([0]), 5) is not None, "no ring", cl)
        got = (cpg_init_as(lib, cl.ipc(0), 65534, 65534), cpg_init_as(lib, cl.ipc(0), 4001, 4242),
               cpg_init_as(lib, cl.ipc(0), 4001, 4001))
        check(got == (1, 1, 11), "allowed uid, allowed gid, other: got %s, want (1, 1, 11)" % (got,), cl)
        print("uidgid: allowed uid OK, allowed gid OK, other user CS_ERR_ACCESS")


def test_reload_shutdown(base):
    """SIGHUP and the control socket's reload re-read the file (logging at
    once, the rest reported as needing a restart; a broken file changes
    nothing); shutdown leaves the cluster and exits 0."""
    with Cluster(2, base_addr=base, build_dir=BUILD, tag="r%d" % base) as cl:
        cl.start_all()
        check(cl.wait(lambda: cl.one_ring([0, 1]), 5) is not None, "no ring", cl)
        text = open(cl.conf).read()
        with open(cl.conf, "w") as f:
            f.write(text.replace("debug: off", "debug: on"))
        cl.signal(0, signal.SIGHUP)
        check(cl.wait(lambda: "reloaded: logging applied" in cl.log(0), 3) is not None, "SIGHUP did not reload", cl)
        with open(cl.conf, "w") as f:
            f.write(text.replace("token: ", "token: 1").replace("totem {", "totem {\n    token: 500"))
        reply = ctl(cl.ipc(0), "reload") or ""
        check("need a restart" in reply, "token change not reported: %r" % reply, cl)
        with open(cl.conf, "w") as f:
            f.write(text + "\ntotem { token: many }\n")
        reply = ctl(cl.ipc(0), "reload") or ""
        check(reply.startswith("error:"), "broken file accepted: %r" % reply, cl)
        check(cl.one_ring([0, 1]), "reload disturbed the ring", cl)
        t0 = time.monotonic()
        ctl(cl.ipc(1), "shutdown")
        check(cl.wait(lambda: not cl.alive(1), 3) is not None, "shutdown did not stop the daemon", cl)
        check(cl.procs[1].returncode == 0, "exit code %s" % cl.procs[1].returncode, cl)
        t = cl.wait(lambda: cl.one_ring([0]), 3)
        check(t is not None, "survivor did not re-form after shutdown", cl)
        print("reload via SIGHUP and ctl OK; shutdown to survivor's new ring %.0f ms"
              % ((time.monotonic() - t0) * 1000))


TESTS = {
    "form": (test_form, 21), "kill9": (test_kill9, 22), "pause": (test_pause_resume, 23),
    "restart": (test_restart_merge, 24), "graceful": (test_graceful_stop, 25),
    "wrongkey": (test_wrong_key, 26), "garbage": (test_garbage_and_replay, 27),
    "uidgid": (test_uidgid, 28), "reload": (test_reload_shutdown, 29),
}

if __name__ == "__main__":
    names = sys.argv[2:] or list(TESTS)
    for name in names:
        fn, base = TESTS[name]
        fn(base)
        print("ok", name)
