#!/usr/bin/env bash
# Run abi_quorum_client (built against Corosync's headers, linked with Corosync's
# libquorum.so.5 and libvotequorum.so.8) against a single-node cluster with
# quorum { provider: corosync_votequorum expected_votes: 1 } in a private network namespace.
#
#   run_abi_quorum_client.sh corosync --build DIR [--client PATH]
#       baseline: the real Corosync daemon and Corosync's libraries
#   run_abi_quorum_client.sh cohort --build DIR [--client PATH] [--cohortd PATH] [--libdir DIR]
#       the same binary, unmodified, on cohortd with LD_LIBRARY_PATH=Cohort's libraries
#
# --build is the CMake tree holding src/daemon/cohortd and src/lib/libquorum.so.5 and
# libvotequorum.so.8 (the defaults for --cohortd and --libdir); --client defaults to
# DIR/test/abi/abi_quorum_client. Needs root: the network namespace keeps the daemon's UDP
# port and its abstract IPC sockets away from anything else on the machine. Exit status is
# the client's; its "OK" is the success line.
set -euo pipefail

usage()
{
	sed -n '2,16s/^# \{0,1\}//p' "$0"
	exit 2
}

NODEID=1
TARGET=${1:-}
shift || usage
BUILD='' CLIENT='' COHORTD='' LIBDIR=''
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2 ;;
	--client) CLIENT=$2 ;;
	--cohortd) COHORTD=$2 ;;
	--libdir) LIBDIR=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$BUILD" ] || usage
CLIENT=${CLIENT:-$BUILD/test/abi/abi_quorum_client}
[ -x "$CLIENT" ] || {
	echo "run_abi_quorum_client: $CLIENT not built" \
		"(needs libquorum-dev and libvotequorum-dev at configure time)" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || {
	echo "run_abi_quorum_client: needs root for a private network namespace" >&2
	exit 1
}

TMP=$(mktemp -d /tmp/cohort-abi-quorum.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/state"

# One node on loopback, no crypto, one expected vote: quorate on its own.
cat >"$TMP/corosync.conf" <<EOF
totem {
	version: 2
	cluster_name: cohort-abi-quorum
	transport: knet
	crypto_cipher: none
	crypto_hash: none
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: $NODEID
		name: abiq1
	}
}
quorum {
	provider: corosync_votequorum
	expected_votes: 1
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
		echo "run_abi_quorum_client: no cohortd at $COHORTD" >&2
		exit 1
	}
	for lib in libquorum.so.5 libvotequorum.so.8; do
		[ -e "$LIBDIR/$lib" ] || {
			echo "run_abi_quorum_client: no $lib in $LIBDIR" >&2
			exit 1
		}
	done
	DAEMON=("$COHORTD" -f -p -c "$TMP/corosync.conf" --state-dir "$TMP/state")
	CLIENT_LIBS=$LIBDIR
	;;
*) usage ;;
esac

export CLIENT CLIENT_LIBS TMP NODEID
unshare -n bash -s "${DAEMON[@]}" <<'INNER'
set -u
ip link set lo up
"$@" >"$TMP/daemon.log" 2>&1 &
daemon=$!
# Until the daemon has formed its ring the first initialisation reports CS_ERR_LIBRARY (2).
# Any other failure is the client's verdict.
rc=1
for _ in $(seq 40); do
	LD_LIBRARY_PATH=$CLIENT_LIBS "$CLIENT" "$NODEID" 10 >"$TMP/client.out" 2>"$TMP/client.err"
	rc=$?
	grep -q '^abi_quorum_client: quorum_initialize: expected CS_OK (1), got 2$' \
		"$TMP/client.err" || break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.25
done
# Which libraries the client really ran with, so a log shows whose code was tested.
LD_LIBRARY_PATH=$CLIENT_LIBS ldd "$CLIENT" | grep -E 'lib(vote)?quorum\.so' >&2 || true
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
cat "$TMP/client.err" >&2
cat "$TMP/client.out"
if [ "$rc" -ne 0 ]; then
	echo "run_abi_quorum_client: client failed (rc $rc); daemon log:" >&2
	tail -n 40 "$TMP/daemon.log" >&2
fi
exit "$rc"
INNER
