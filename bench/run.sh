#!/usr/bin/env bash
# make bench: benchmarks of the build in BUILD_DIR (default: ./build).
# Extra arguments go to cohort-core-bench (the minimum CPU seconds per
# throughput measurement, default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../build}
bench=$build/bench/cohort-core-bench
if [ ! -x "$bench" ]; then
	echo "bench/run.sh: $bench not built (run make first)" >&2
	exit 1
fi
echo "== cohort-core-bench (Totem core alone, simulated lossless network)"
"$bench" "$@"
