#!/usr/bin/env bash
# make demo: a 3-node Cohort cluster on loopback (127.0.0.1-3), encrypted,
# started from an ordinary corosync.conf, then shown working step by step:
# the ring forming, a CPG group delivering the same messages in the same
# order, the group view, quorum, a node killed with kill -9 and the survivors'
# new ring (timed), quorum again, the node restarted and merging back (timed),
# and a graceful stop (timed).
#
# Times are measured from the event (just before the signal or the start) to
# the moment the last node concerned reports the new ring on its control
# socket, polled about every millisecond by a small python3 helper (or with
# cohort-cfgtool -s when python3 is missing, which is coarser).
#
# As root the daemons run with real-time priority (cohortd's default); as a
# normal user they run without (-p). No package is installed by this script:
# `make demo` builds first and everything used here is part of the build,
# except python3 (optional, see above). Everything started here is stopped at
# the end, on error and on Ctrl-C; the whole demo stops itself after
# DEMO_TIMEOUT seconds (45). KEEP=1 leaves the cluster running at the end.
# The files (config, key, logs) go to $BUILD_DIR/demo, or to a new directory
# under $TMPDIR (/tmp) when the build directory is not writable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cohortd=$build/src/daemon/cohortd
cfgtool=$build/tools/cohort-cfgtool
quorumtool=$build/tools/cohort-quorumtool
cpgtool=$build/tools/cohort-cpgtool
cpgdemo=$build/tools/cohort-cpgdemo
keygen=$build/tools/cohort-keygen
for b in "$cohortd" "$cfgtool" "$quorumtool" "$cpgtool" "$cpgdemo"; do
	[ -x "$b" ] || { echo "demo: $b is missing: run make first" >&2; exit 1; }
done

# ---------------------------------------------------------------- setup

# Another cluster answering on the demo's IPC names (a KEEP=1 run, another
# user's demo) would be measured instead of ours.
for n in 1 2 3; do
	if "$cfgtool" --ipc "demo$n" -s >/dev/null 2>&1; then
		echo "demo: a cohortd already answers on IPC name demo$n (an earlier KEEP=1 demo?);" \
			"stop it first: cohort-cfgtool --ipc demo$n -H" >&2
		exit 1
	fi
done

if [ -w "$build" ]; then
	demo=$build/demo
	rm -rf "$demo"
	mkdir -p "$demo"
else
	demo=$(mktemp -d "${TMPDIR:-/tmp}/cohort-demo.XXXXXX")
fi

if [ "$(id -u)" = 0 ]; then
	rtflag=()
	rtnote="real-time priority (root)"
else
	rtflag=(-p)
	rtnote="no real-time priority (not root: cohortd -p)"
fi

daemons=()  # node -> pid of its cohortd
helpers=()  # clients and pollers started in the background
watchdog=
cleanup() {
	trap - EXIT INT TERM USR1
	local p
	for p in "${helpers[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" != 1 ]; then
		for p in "${daemons[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	fi
	[ -n "$watchdog" ] && { kill -TERM "$watchdog" 2>/dev/null || true; }
	for p in "${helpers[@]}" $watchdog; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo "demo: interrupted; everything it started is stopped" >&2; exit 130' INT
trap 'echo "demo: terminated; everything it started is stopped" >&2; exit 143' TERM
trap 'echo "demo: stopped after ${DEMO_TIMEOUT:-45} s (DEMO_TIMEOUT); everything it started is stopped; logs in $demo" >&2; exit 124' USR1

# The watchdog: USR1 to this script after DEMO_TIMEOUT s. Its own sleep is
# killed with it.
main_pid=$$
(
	sleep "${DEMO_TIMEOUT:-45}" &
	s=$!
	trap 'kill $s 2>/dev/null; wait $s; exit 0' TERM
	wait "$s" && kill -USR1 "$main_pid" 2>/dev/null
) &
watchdog=$!

if [ -x "$keygen" ]; then
	"$keygen" -k "$demo/authkey" >/dev/null
else
	head -c 256 /dev/urandom >"$demo/authkey"
	chmod 0400 "$demo/authkey"
fi
cat >"$demo/corosync.conf" <<CONF
totem {
    version: 2
    cluster_name: cohort-demo
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: $demo/authkey
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        nodeid: 1
        name: alpha
    }
    node {
        ring0_addr: 127.0.0.2
        nodeid: 2
        name: beta
    }
    node {
        ring0_addr: 127.0.0.3
        nodeid: 3
        name: gamma
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: yes
    timestamp: on
}
CONF

start() { # node
	mkdir -p "$demo/state$1"
	"$cohortd" -f "${rtflag[@]}" -c "$demo/corosync.conf" --nodeid "$1" --ipc "demo$1" \
		--state-dir "$demo/state$1" >>"$demo/node$1.log" 2>&1 &
	daemons[$1]=$!
	disown "$!" # no "Killed" notice from bash when the demo kills it
}

bg() { # command... : run in the background, stopped at the end
	"$@" &
	helpers+=("$!")
}

# ---------------------------------------------------------------- timing
# poll_start WANT NODES: start watching the control sockets of NODES until all
# report state operational with members WANT; returns once the watcher has
# polled once. poll_ms T0: wait for it, set ms to the ms from T0 (an
# $EPOCHREALTIME taken just before the event), or return 1 on a timeout.
# One python3 process does every watch (starting python3 takes 0.5-1 s on a
# loaded machine): requests in on one FIFO, answers out on another.
if command -v python3 >/dev/null 2>&1; then
	how="control sockets polled every ~1 ms"
	cat >"$demo/poll.py" <<'PY'
import socket, sys, time

def members(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect("\0cohort-demo%s-ctl" % n)
        s.sendall(b"status\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except OSError:
        return None
    finally:
        s.close()
    st = dict(l.partition(" ")[::2] for l in data.decode(errors="replace").splitlines())
    return st.get("members", "").split() if st.get("state") == "operational" else None

for line in sys.stdin:  # "WANT|NODES|LIMIT_S"
    want, nodes, limit = line.rstrip("\n").split("|")
    want, nodes, end = want.split(), nodes.split(), time.monotonic() + float(limit)
    first, result = True, "timeout"
    while time.monotonic() < end:
        ok = all(members(n) == want for n in nodes)
        now = time.time_ns()
        if first:
            print("ready", flush=True)
            first = False
        if ok:
            result = "%d" % (now // 1000)
            break
        time.sleep(0.001)
    print(result, flush=True)
PY
	mkfifo "$demo/poll.in" "$demo/poll.out"
	python3 -S "$demo/poll.py" <"$demo/poll.in" >"$demo/poll.out" &
	poll_pid=$!
	helpers+=("$poll_pid")
	exec {poll_in}>"$demo/poll.in" {poll_out}<"$demo/poll.out"
	poll_start() {
		local line
		# a write to the FIFO without its reader would kill this script (SIGPIPE)
		kill -0 "$poll_pid" 2>/dev/null || return 0
		echo "$1|$2|10" >&"$poll_in"
		read -r -t 15 line <&"$poll_out" || true
	}
	poll_ms() {
		local t1=
		read -r -t 15 t1 <&"$poll_out" || true
		case $t1 in *[!0-9]* | "") return 1 ;; esac
		ms=$(((t1 - ${1/[.,]/}) / 1000))
	}
else
	how="cohort-cfgtool -s polled in a loop (coarse: install python3 for ~1 ms resolution)"
	members() { # node -> "1 2 3" when operational
		"$cfgtool" --ipc "demo$1" -s 2>/dev/null |
			awk '/^state/{s=$2} /^members/{$1=""; m=$0} END{if (s=="operational") print substr(m,2)}'
	}
	poll_start() { poll_want=$1 poll_nodes=$2; }
	poll_ms() {
		local t0=${1/[.,]/} n ok now
		while :; do
			ok=1
			for n in $poll_nodes; do [ "$(members "$n")" = "$poll_want" ] || ok=0; done
			now=${EPOCHREALTIME/[.,]/}
			[ $ok = 1 ] && { ms=$(((now - t0) / 1000)); return 0; }
			[ $((now - t0)) -gt 10000000 ] && return 1
			sleep 0.002
		done
	}
fi

fail() { # what
	echo "demo: FAILED: $1; last lines of each node's log:" >&2
	for n in 1 2 3; do
		echo "---- node $n ($demo/node$n.log)" >&2
		tail -n 5 "$demo/node$n.log" 2>/dev/null >&2 || true
	done
	exit 1
}

quorum() { # node: the quorum status on one line, from cohort-quorumtool -s
	local out rc=0
	out=$(COHORT_IPC=demo$1 "$quorumtool" -s 2>&1) || rc=$?
	echo "   cohort-quorumtool -s on node $1 (exit $rc: 0 quorate, 2 not quorate):"
	echo "$out" | awk -F': *' '
		/^(Nodes|Quorate|Expected votes|Total votes|Quorum|Flags):/ {
			sub(/ +$/, "", $2); line = line sep $1 " " $2; sep = ", " }
		END { print "      " line }'
}

# ---------------------------------------------------------------- the demo

echo "== Cohort demo: 3 nodes (alpha, beta, gamma) on 127.0.0.1-3, AES-256-GCM, $rtnote"
echo "   config: $demo/corosync.conf; times: $how"

echo "-- 1. ring forming: start 3 cohortd; Totem joins them into one ring, in which a token circulates"
poll_start "1 2 3" "1 2 3"
t0=$EPOCHREALTIME
start 1
start 2
start 3
poll_ms "$t0" || fail "no ring of 3 nodes within 10 s"
echo "   one ring of 3 nodes after $ms ms (from launching the processes, exec included):"
for n in 1 2 3; do echo "   node $n: $("$cfgtool" --ipc "demo$n" -s | tr '\n' ' ')"; done

echo "-- 2. quorum: votequorum, 1 vote per node, 3 expected, so 2 are needed to be quorate"
quorum 1

echo "-- 3. CPG group \"demo\": listeners join on nodes 2 and 3, then nodes 1 and 3 send 2 messages each"
COHORT_IPC=demo2 bg "$cpgdemo" listen demo 4 >"$demo/listen2.out" 2>&1
l2=$!
COHORT_IPC=demo3 bg "$cpgdemo" listen demo 4 >"$demo/listen3.out" 2>&1
l3=$!
for f in "$demo/listen2.out" "$demo/listen3.out"; do
	for _ in $(seq 500); do grep -q listening "$f" 2>/dev/null && break; sleep 0.01; done
done
# a join is in the group once it has gone through the total order: wait for both
for _ in $(seq 200); do
	[ "$("$cpgtool" --ipc demo1 -d ' ' 2>/dev/null | awk '$1 == "demo"' | wc -l)" -ge 2 ] && break
	sleep 0.01
done
echo "   group view from node 1 (cohort-cpgtool: every member of every group, cluster-wide):"
"$cpgtool" --ipc demo1 | expand -t 8 | sed 's/^/      /'
COHORT_IPC=demo1 bg "$cpgdemo" send demo "hello from alpha" "second from alpha"
s1=$!
COHORT_IPC=demo3 "$cpgdemo" send demo "hello from gamma" "second from gamma" ||
	fail "cohort-cpgdemo send on node 3"
wait "$s1" || fail "cohort-cpgdemo send on node 1"
wait "$l2" || fail "the listener on node 2 did not get 4 messages"
wait "$l3" || fail "the listener on node 3 did not get 4 messages"
for n in 2 3; do
	echo "   received on node $n: $(grep '^node' "$demo/listen$n.out" | sed 's/^node \([0-9]*\) pid [0-9]*: /\1:/' |
		paste -sd '|' | sed 's/|/ | /g')"
done
if cmp -s <(grep '^node' "$demo/listen2.out") <(grep '^node' "$demo/listen3.out"); then
	echo "   same messages in the same order on both nodes (one total order for the group)"
else
	fail "the order differs between nodes 2 and 3"
fi

echo "-- 4. kill -9 of node 3: the survivors miss the token, agree on who is left and form a new ring"
poll_start "1 2" "1 2"
t0=$EPOCHREALTIME
kill -9 "${daemons[3]}"
poll_ms "$t0" || fail "nodes 1 and 2 did not form a ring within 10 s of the kill"
echo "   nodes 1 and 2 report the ring {1,2} $ms ms after the kill (Corosync's defaults: about 8 s)"

echo "-- 5. quorum after the kill: 2 votes of 3 are still a majority, so the survivors stay quorate"
quorum 1

echo "-- 6. restart of node 3: it finds the ring of 1 and 2 and they merge into one ring of 3"
poll_start "1 2 3" "1 2 3"
t0=$EPOCHREALTIME
start 3
poll_ms "$t0" || fail "node 3 did not merge back within 10 s"
echo "   every node reports the ring {1,2,3} $ms ms after the restart, ring id now" \
	"$("$cfgtool" --ipc demo1 -s | awk '/ring_id/{print $2}')"
quorum 1

echo "-- 7. graceful stop (SIGTERM) of node 2: it says it is leaving, so no timeout is waited for"
poll_start "1 3" "1 3"
t0=$EPOCHREALTIME
kill -TERM "${daemons[2]}"
poll_ms "$t0" || fail "nodes 1 and 3 did not form a ring within 10 s of the stop"
echo "   nodes 1 and 3 report the ring {1,3} $ms ms after the signal"

if [ "${KEEP:-0}" = 1 ]; then
	echo "== cluster left running (nodes 1 and 3): $cfgtool --ipc demo1 -s; logs in $demo"
	echo "   stop it with: $cfgtool --ipc demo1 -H; $cfgtool --ipc demo3 -H"
else
	echo "== demo done in $SECONDS s, every process it started is stopped; logs in $demo"
	echo "   (KEEP=1 make demo leaves the cluster running)"
fi
