#!/usr/bin/env bash
# Cohort against Corosync 3.1.7, side by side in the same run (`make bench-compare`).
#
#   bench/compare.sh [membership.py options]     e.g. --reps 5 --loss-seconds 60
#
# 1. bench/membership.py: 3 nodes in network namespaces, cold start, kill -9,
#    restart merge, partition heal, graceful stop, re-formations under 1% loss
#    (Cohort and Corosync each with their default timers, crypto on).
# 2. bench/cpg_compare.sh, when present and executable (message throughput and
#    latency), run with the same BUILD_DIR and no arguments.
# Needs root (namespaces, iptables). Corosync is installed with
# scripts/install-deps.sh --corosync when missing. BENCH_SKIP_MEMBERSHIP=1
# skips step 1. Exit status: non-zero when a step failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export BUILD_DIR=${BUILD_DIR:-$root/build}
status=0

if [ "$(id -u)" != 0 ]; then
	echo "bench-compare: needs root (network namespaces, veth, iptables); nothing measured." >&2
	exit 0
fi
if ! command -v corosync >/dev/null 2>&1; then
	echo "bench-compare: installing Corosync 3.1.7 (scripts/install-deps.sh --corosync)"
	bash "$root/scripts/install-deps.sh" --corosync ||
		echo "bench-compare: Corosync could not be installed; Cohort figures only" >&2
fi

if [ "${BENCH_SKIP_MEMBERSHIP:-0}" != 1 ]; then
	echo "==> membership: bench/membership.py $*"
	python3 "$here/membership.py" --build-dir "$BUILD_DIR" "$@"
	rc=$?
	# 77: namespaces unusable here (the reason was printed): not a failure
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "bench-compare: membership benchmark failed ($rc)" >&2
		status=1
	fi
fi

if [ -x "$here/cpg_compare.sh" ]; then
	echo "==> cpg: bench/cpg_compare.sh"
	if ! "$here/cpg_compare.sh"; then
		echo "bench-compare: cpg_compare.sh failed" >&2
		status=1
	fi
fi
exit $status
