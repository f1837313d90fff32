#!/usr/bin/env bash
# make demo: a 3-node Cohort cluster on loopback (127.0.0.1-3), encrypted,
# started from ordinary corosync.conf files, then put through a node crash,
# a restart and a graceful stop, with the time each took.
# KEEP=1 leaves the cluster running at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cohortd=$build/src/daemon/cohortd
cfgtool=$build/tools/cohort-cfgtool
keygen=$build/tools/cohort-keygen
demo=$build/demo
for b in "$cohortd" "$cfgtool"; do
	[ -x "$b" ] || { echo "demo: $b is missing: run make first" >&2; exit 1; }
done

rm -rf "$demo"
mkdir -p "$demo"
pids=()
cleanup() {
	if [ "${KEEP:-0}" != 1 ]; then
		for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	fi
}
trap cleanup EXIT

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

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start() { # node
	mkdir -p "$demo/state$1"
	"$cohortd" -f -p -c "$demo/corosync.conf" --nodeid "$1" --ipc "demo$1" \
		--state-dir "$demo/state$1" >>"$demo/node$1.log" 2>&1 &
	pids[$1]=$!
	disown "$!" # no "Killed" notices from bash when the demo kills it
}

members() { # node -> "1 2 3" when operational
	"$cfgtool" --ipc "demo$1" -s 2>/dev/null | awk '/^state/{s=$2} /^members/{$1=""; m=$0} END{if (s=="operational") print substr(m,2)}'
}

wait_members() { # want nodes...
	local want=$1; shift
	local t0; t0=$(now_ms)
	while :; do
		local ok=1
		for n in "$@"; do [ "$(members "$n")" = "$want" ] || ok=0; done
		[ $ok = 1 ] && { echo $(( $(now_ms) - t0 )); return 0; }
		[ $(( $(now_ms) - t0 )) -gt 10000 ] && { echo "timeout"; return 1; }
		sleep 0.002
	done
}

echo "== Cohort demo: 3 nodes on 127.0.0.1-3, AES-256-GCM, config in $demo/corosync.conf"
t0=$(now_ms)
start 1; start 2; start 3
ms=$(wait_members "1 2 3" 1 2 3)
echo "-- cold start: one ring of 3 nodes after ${ms} ms (from launching the processes)"
for n in 1 2 3; do echo "   node $n: $("$cfgtool" --ipc demo$n -s | tr '\n' ' ')"; done
echo "-- links seen by node 1:"
"$cfgtool" --ipc demo1 -l | sed 's/^/   /'

cpgdemo=$build/tools/cohort-cpgdemo
if [ -x "$cpgdemo" ]; then
	echo "-- CPG: listeners on nodes 2 and 3 join group \"demo\"; nodes 1 and 3 multicast"
	COHORT_IPC=demo2 "$cpgdemo" listen demo 4 >"$demo/listen2.out" 2>&1 &
	l2=$!
	COHORT_IPC=demo3 "$cpgdemo" listen demo 4 >"$demo/listen3.out" 2>&1 &
	l3=$!
	for f in "$demo/listen2.out" "$demo/listen3.out"; do
		for _ in $(seq 500); do grep -q listening "$f" 2>/dev/null && break; sleep 0.01; done
	done
	COHORT_IPC=demo1 "$cpgdemo" send demo "hello from alpha" "second from alpha" &
	COHORT_IPC=demo3 "$cpgdemo" send demo "hello from gamma" "second from gamma"
	wait "$l2" "$l3" || true
	echo "   received on node 2:"; grep '^node' "$demo/listen2.out" | sed 's/^/      /'
	echo "   received on node 3:"; grep '^node' "$demo/listen3.out" | sed 's/^/      /'
	if cmp -s <(grep '^node' "$demo/listen2.out") <(grep '^node' "$demo/listen3.out"); then
		echo "   same messages in the same order on both nodes"
	else
		echo "   ORDER DIFFERS between nodes" >&2
		exit 1
	fi
fi

echo "-- kill -9 of node 3"
kill -9 "${pids[3]}"
ms=$(wait_members "1 2" 1 2)
echo "   survivors agreed on the new membership after ${ms} ms (Corosync's default: about 8 s)"

echo "-- restart of node 3"
start 3
ms=$(wait_members "1 2 3" 1 2 3)
echo "   node 3 merged back after ${ms} ms, ring id now $("$cfgtool" --ipc demo1 -s | awk '/ring_id/{print $2}')"

echo "-- graceful stop (SIGTERM) of node 2"
kill -TERM "${pids[2]}"
ms=$(wait_members "1 3" 1 3)
echo "   new membership after ${ms} ms"

if [ "${KEEP:-0}" = 1 ]; then
	echo "== cluster left running (nodes 1 and 3): cohort-cfgtool --ipc demo1 -s; logs in $demo"
else
	echo "== demo done; logs in $demo (KEEP=1 make demo leaves the cluster running)"
fi
