#!/usr/bin/env bash
# Runs every libFuzzer target of the project (`make fuzz`).
#
# Configures a clang tree (build-fuzz/ at the top of the repository), builds
# every CMake target whose name starts with fuzz_, and runs each libFuzzer
# binary among them for FUZZ_SECONDS (default 60) on its own corpus directory,
# build-fuzz/corpus/<target>/. A target foo that has a foo_replay companion
# gets its corpus seeded by `foo_replay --write-seeds DIR` (valid packets).
# Crash inputs land in build-fuzz/artifacts/; replay one with
# `build-fuzz/test/fuzz/<target>_replay FILE`.
#
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (space-separated
# names, default all), FUZZ_MAX_LEN (default 16384), FUZZ_BUILD_DIR,
# JOBS (default 2). BUILD_DIR (the gcc tree, from the Makefile) is not used.
# Exits non-zero if any target crashes or none could be built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-16384}
jobs=${JOBS:-2}

if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found (scripts/install-deps.sh installs it)" >&2
	exit 1
fi

cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Both generators' help formats: "... fuzz_x" (Makefiles) and "fuzz_x: phony" (Ninja).
mapfile -t targets < <(cmake --build "$out" --target help |
	sed -nE 's/^(\.\.\. )?(fuzz_[A-Za-z0-9_]+)(:.*)?$/\2/p' | sort -u)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz_* targets in $out" >&2
	exit 1
fi
cmake --build "$out" -j"$jobs" --target "${targets[@]}"

find_bin() {
	find "$out" -type f -perm -u+x -name "$1" -not -path '*/CMakeFiles/*' | head -n 1
}

mkdir -p "$out/corpus" "$out/artifacts"
ran=0
failed=()
summary=()
for t in "${targets[@]}"; do
	case $t in *_replay) continue ;; esac
	if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $t "* ]]; then
		continue
	fi
	bin=$(find_bin "$t")
	[ -n "$bin" ] || continue
	corpus=$out/corpus/$t
	mkdir -p "$corpus"
	replay=$(find_bin "${t}_replay")
	if [ -n "$replay" ]; then
		"$replay" --write-seeds "$corpus" >/dev/null
	fi
	# Inputs that once crashed the target are the best seeds it has.
	if [ -d "$root/test/fuzz/regress/$t" ]; then
		cp -f "$root/test/fuzz/regress/$t"/* "$corpus"/ 2>/dev/null || true
	fi
	log=$out/$t.log
	echo "==> fuzz: $t for ${seconds}s (corpus $corpus, log $log)"
	ran=$((ran + 1))
	if "$bin" -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" "$corpus" >"$log" 2>&1; then
		status=ok
	else
		status=CRASH
		failed+=("$t")
		grep -E 'ERROR|runtime error|check failed|Test unit written' "$log" >&2 || true
	fi
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
	rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
	summary+=("  $status  $t: ${execs:-?} execs, ${rate:-?} execs/s, ${cov:-no coverage line}")
done

if [ "$ran" -eq 0 ]; then
	echo "fuzz: no libFuzzer binary was built (clang needs libclang-rt-14-dev)" >&2
	exit 1
fi
echo "==> fuzz summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (inputs in $out/artifacts/)" >&2
	exit 1
fi
echo "fuzz: PASSED"
