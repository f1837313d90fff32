#!/usr/bin/env bash
# make soak: a long randomized campaign of the simulator, by default
# 1,000,000 runs, split into chunks handed alternately to two workers (one
# per core). Each chunk prints its seed range and flags; the first violation
# stops the campaign and its replay command is printed.
#
#   BUILD_DIR=build test/sim/soak.sh [--runs N | --seeds N] [--seed S] [--jobs J]
#                                    [--chunk C]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../../build}
sim=$build/test/sim/cohort-sim
runs=1000000 seed=$(( $(date +%s) % 1000000 * 1000 )) jobs=2 chunk=10000
while [ $# -gt 0 ]; do
	case $1 in
	--runs | --seeds) runs=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--chunk) chunk=$2; shift 2 ;;
	*) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ ! -x "$sim" ]; then
	echo "soak.sh: $sim not built (run make first)" >&2
	exit 2
fi
sets=(
	"--nodes-range 2-16 --all-faults"
	"--nodes-range 2-16 --partitions --loss 0.02"
	"--nodes-range 2-16 --asymmetric --loss 0.05"
	"--nodes-range 2-16 --crashes --dup 0.05"
	"--nodes-range 2-16 --pauses --reorder 0.2"
	"--nodes-range 2-16 --loss 0.15 --dup 0.1 --reorder 0.3"
	"--nodes-range 1-4 --all-faults"
	"--nodes-range 17-32 --all-faults"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chunks=$(( (runs + chunk - 1) / chunk ))
echo "soak: $runs runs from seed $seed in $chunks chunks of $chunk, $jobs workers"

worker() {
	local w=$1 c n s flags out
	for (( c = w; c < chunks; c += jobs )); do
		[ -e "$work/stop" ] && return 0
		n=$(( runs - c * chunk < chunk ? runs - c * chunk : chunk ))
		s=$(( seed + c * chunk ))
		flags=${sets[$(( c % ${#sets[@]} ))]}
		echo "soak: chunk $c: seeds $s..$(( s + n - 1 )) $flags"
		# shellcheck disable=SC2086
		out=$("$sim" --seed "$s" --runs "$n" $flags 2>/dev/null)
		if [ $? -ne 0 ]; then
			printf '%s\n' "$out" >"$work/violation.$c"
			touch "$work/stop"
			return 1
		fi
		tail -n 1 <<<"$out" | sed 's/^sim: /sim: chunk '"$c"': /' >>"$work/done"
	done
}

for (( w = 0; w < jobs; w++ )); do
	worker "$w" &
done
wait
total=0 delivered=0
if [ -e "$work/done" ]; then
	total=$(sed -n 's/.* runs=\([0-9]*\).*/\1/p' "$work/done" | awk '{s += $1} END {print s + 0}')
	delivered=$(sed -n 's/.* delivered=\([0-9]*\).*/\1/p' "$work/done" |
		awk '{s += $1} END {printf "%.0f\n", s}')
fi
if ls "$work"/violation.* >/dev/null 2>&1; then
	for f in "$work"/violation.*; do
		cat "$f"
	done
	echo "soak: FAILED after $total clean runs; the replay command is above"
	exit 1
fi
echo "soak: runs=$total violations=0 delivered=$delivered"
