#!/usr/bin/env bash
# sim_planted: the simulator, linked against the core built with a deliberate
# ordering fault, must report a total-order violation and exit non-zero.
set -u
sim=$1
out=$("$sim" --nodes-range 2-8 --runs 500 --seed 1 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q '^VIOLATION of property 2 ' <<<"$out" &&
	grep -q '^replay: cohort-sim --planted ' <<<"$out"; then
	grep -E '^(VIOLATION|  node|replay:|sim: runs=)' <<<"$out" | head -5
	echo "sim_planted: 1 passed, 0 failed (the planted fault was caught)"
	exit 0
fi
printf '%s\n' "$out" | tail -40
echo "sim_planted: 0 passed, 1 failed (expected a property 2 violation and a non-zero exit, got exit $rc)"
exit 1
