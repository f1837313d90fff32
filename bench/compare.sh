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
# 3. bench/plot.py: the membership times (written by step 1 as
#    bench/results/membership-<UTC time>.csv) and the CPG throughput (step 2's
#    bench/results/cpg-<UTC time>.csv) as PNG charts next to the CSVs, with
#    gnuplot (gnuplot-nox is installed when missing; no chart if that fails).
# Needs root (namespaces, iptables). Corosync is installed with
# scripts/install-deps.sh --corosync when missing. BENCH_SKIP_MEMBERSHIP=1
# skips step 1. Exit status: non-zero when a step failed (not for the charts).
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

results=$here/results
mkdir -p "$results"
csvs=()

if [ "${BENCH_SKIP_MEMBERSHIP:-0}" != 1 ]; then
	echo "==> membership: bench/membership.py $*"
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	json=$results/membership-$stamp.json
	# a --json in "$@" comes later and wins: then there is no CSV (said below)
	python3 "$here/membership.py" --build-dir "$BUILD_DIR" --json "$json" "$@"
	rc=$?
	# 77: namespaces unusable here (the reason was printed): not a failure
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "bench-compare: membership benchmark failed ($rc)" >&2
		status=1
	fi
	if [ -s "$json" ]; then
		python3 "$here/plot.py" membership-csv "$json" "$results/membership-$stamp.csv" &&
			csvs+=("$results/membership-$stamp.csv")
	else
		echo "bench-compare: no membership figures in $json: no membership CSV or chart"
	fi
fi

if [ -x "$here/cpg_compare.sh" ]; then
	echo "==> cpg: bench/cpg_compare.sh"
	mark=$(mktemp)
	if ! "$here/cpg_compare.sh"; then
		echo "bench-compare: cpg_compare.sh failed" >&2
		status=1
	fi
	# its CSV: the newest cpg-*.csv written since it started (also after a failure)
	csv=$(find "$results" -maxdepth 1 -name 'cpg-*.csv' -newer "$mark" -printf '%T@ %p\n' |
		sort -n | tail -n 1 | cut -d' ' -f2-)
	rm -f "$mark"
	if [ -n "$csv" ]; then
		csvs+=("$csv")
	else
		echo "bench-compare: cpg_compare.sh wrote no CSV: no CPG chart"
	fi
fi

if [ ${#csvs[@]} -gt 0 ]; then
	echo "==> charts: bench/plot.py"
	python3 "$here/plot.py" "${csvs[@]}" ||
		echo "bench-compare: a chart could not be drawn (the CSVs are there)" >&2
fi
exit $status
