#!/usr/bin/env bash
# ctest <target>_libfuzzer: run one libFuzzer binary briefly on its seeds.
#   smoke.sh FUZZER REPLAY SECONDS WORKDIR
# The corpus starts from `REPLAY --write-seeds` each time (no state carried
# between runs, so a result does not depend on earlier runs); a crash input
# is left in WORKDIR/ and the test fails.
set -euo pipefail
bin=$1 replay=$2 seconds=$3 work=$4
rm -rf "$work"
mkdir -p "$work/corpus"
"$replay" --write-seeds "$work/corpus" >/dev/null
# -rss_limit_mb: a leak or a runaway allocation fails the test, not the machine.
exec "$bin" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$work/" "$work/corpus"
