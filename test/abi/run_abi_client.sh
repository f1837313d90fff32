#!/usr/bin/env bash
# Run abi_client (built against Corosync's headers, linked with Corosync's libcpg.so.4)
# against a single-node cluster in a private network namespace.
#
#   run_abi_client.sh corosync --build DIR
#       baseline: the real Corosync daemon and Corosync's libcpg
#   run_abi_client.sh cohort --build DIR [--cohortd PATH] [--libdir DIR]
#       the same binary, unmodified, on cohortd with LD_LIBRARY_PATH=Cohort's libcpg
#
# --build is the CMake tree holding test/abi/abi_client (and, by default, src/daemon/cohortd
# and src/lib/libcpg.so.4). Needs root: the network namespace keeps the daemon's UDP port and
# its abstract IPC sockets away from anything else on the machine. Exit status is the
# client's; its "OK" is the success line.
set -euo pipefail

usage()
{
	sed -n '2,13s/^# \{0,1\}//p' "$0"
	exit 2
}

TARGET=${1:-}
shift || usage
BUILD='' COHORTD='' LIBDIR=''
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2 ;;
	--cohortd) COHORTD=$2 ;;
	--libdir) LIBDIR=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$BUILD" ] || usage
CLIENT="$BUILD/test/abi/abi_client"
[ -x "$CLIENT" ] || {
	echo "run_abi_client: $CLIENT not built (needs libcpg-dev at configure time)" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || {
	echo "run_abi_client: needs root for a private network namespace" >&2
	exit 1
}

TMP=$(mktemp -d /tmp/cohort-abi-client.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/state"

# One node on loopback, no crypto: the client only needs a ring it belongs to.
cat >"$TMP/corosync.conf" <<EOF
totem {
	version: 2
	cluster_name: cohort-abi
	transport: knet
	crypto_cipher: none
	crypto_hash: none
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: abi1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
}
system {
	state_dir: $TMP/state
}
EOF

case "$TARGET" in
corosync)
	DAEMON=(corosync -f -c "$TMP/corosync.conf")
	CLIENT_LIBS=
	;;
cohort)
	COHORTD=${COHORTD:-$BUILD/src/daemon/cohortd}
	LIBDIR=${LIBDIR:-$BUILD/src/lib}
	[ -x "$COHORTD" ] || {
		echo "run_abi_client: no cohortd at $COHORTD" >&2
		exit 1
	}
	[ -e "$LIBDIR/libcpg.so.4" ] || {
		echo "run_abi_client: no libcpg.so.4 in $LIBDIR" >&2
		exit 1
	}
	DAEMON=("$COHORTD" -f -p -c "$TMP/corosync.conf" --state-dir "$TMP/state")
	CLIENT_LIBS=$LIBDIR
	;;
*) usage ;;
esac

export CLIENT CLIENT_LIBS TMP
unshare -n bash -s "${DAEMON[@]}" <<'INNER'
set -u
ip link set lo up
"$@" >"$TMP/daemon.log" 2>&1 &
daemon=$!
# The daemon needs a moment to form its ring; until then initialisation reports
# CS_ERR_LIBRARY (2). Any other failure is the client's verdict.
rc=1
for _ in $(seq 40); do
	LD_LIBRARY_PATH=$CLIENT_LIBS "$CLIENT" cohort-abi-client 10 >"$TMP/client.out" 2>"$TMP/client.err"
	rc=$?
	grep -q 'cpg_model_initialize: expected CS_OK (1), got 2$' "$TMP/client.err" || break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.25
done
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
cat "$TMP/client.err" >&2
cat "$TMP/client.out"
if [ "$rc" -ne 0 ]; then
	echo "run_abi_client: client failed (rc $rc); daemon log:" >&2
	tail -n 40 "$TMP/daemon.log" >&2
fi
exit "$rc"
INNER
