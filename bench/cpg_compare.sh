#!/usr/bin/env bash
# CPG throughput and latency, Cohort against Corosync 3.1.7 (`make bench-cpg`; also
# run by bench/compare.sh, i.e. `make bench-compare`).
#
#   bench/cpg_compare.sh [cpg_bench.py options]   e.g. --seconds 3 --sizes 64,1024
#
# 3 network namespaces; a 1-node and then a 3-node cluster of each system, knet,
# aes256/sha256 with one shared authkey; cohort-cpgbench (bench/cpgbench.c) drives
# both (built against Corosync's cpg.h and libcpg for Corosync). Per message size:
# 1 sender and 3 senders throughput, and latency. Prints a table and writes
# bench/results/cpg-<UTC date>.csv. Needs root; installs Corosync when missing.
# About 6 minutes with the defaults; cpg_bench.py stops itself at --budget (570 s).
# Everything started (daemons, clients, namespaces, bridges) is removed at the end,
# also on failure or Ctrl-C.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export BUILD_DIR=${BUILD_DIR:-$root/build}

if [ "$(id -u)" != 0 ]; then
	echo "cpg_compare: needs root (network namespaces for 3 Corosync nodes); nothing measured." >&2
	exit 0
fi
if ! command -v corosync >/dev/null 2>&1 || [ ! -e /usr/include/corosync/cpg.h ]; then
	echo "cpg_compare: installing Corosync 3.1.7 (scripts/install-deps.sh --corosync)"
	bash "$root/scripts/install-deps.sh" --corosync ||
		echo "cpg_compare: Corosync could not be installed; Cohort figures only" >&2
fi
if [ ! -x "$BUILD_DIR/bench/cohort-cpgbench" ] ||
	{ [ -e /usr/include/corosync/cpg.h ] && [ ! -x "$BUILD_DIR/bench/cohort-cpgbench-corosync" ]; }; then
	# configured before Corosync's headers were there, or not built yet
	cmake "$BUILD_DIR" >/dev/null &&
		cmake --build "$BUILD_DIR" -j2 --target cohortd cohort-cpgbench >/dev/null &&
		{ [ ! -e /usr/include/corosync/cpg.h ] ||
			cmake --build "$BUILD_DIR" -j2 --target cohort-cpgbench-corosync >/dev/null; } ||
		{ echo "cpg_compare: could not build cohort-cpgbench in $BUILD_DIR" >&2; exit 1; }
fi

mkdir -p "$here/results"
csv="$here/results/cpg-$(date -u +%Y%m%dT%H%M%SZ).csv"
child=
cleanup()
{
	# cpg_bench.py removes its namespaces and processes on SIGTERM; wait for it
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# 600 s hard limit: the script stops itself at 570 s, this only catches a hang
timeout -k 10 600 python3 "$here/cpg_bench.py" --build-dir "$BUILD_DIR" --csv "$csv" "$@" &
child=$!
wait "$child"
rc=$?
child=
# 77: namespaces unusable here (reason printed): nothing measured, not a failure
[ $rc -eq 77 ] && exit 0
exit $rc
