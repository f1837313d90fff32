#!/usr/bin/env bash
# Static analysis of src/ (`make lint`): clang-tidy with the checks in
# .clang-tidy, and cppcheck. Fails on any finding that is not in the
# baseline, scripts/lint-baseline.txt, where every accepted finding carries
# the reason it is not a bug.
#
#   scripts/lint.sh             check (exit 1 on new findings)
#   scripts/lint.sh --update    print the current findings in baseline form
#
# A finding is keyed by file, check and the text of the flagged source line
# (whitespace squeezed), not by line number, so that edits elsewhere in a
# file do not invalidate the baseline; editing the flagged line itself asks
# for a fresh look, which is the point.
#
# Environment: LINT_BUILD_DIR (default build-lint; only configured, for
# compile_commands.json), JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${LINT_BUILD_DIR:-$root/build-lint}
jobs=${JOBS:-2}
baseline=$root/scripts/lint-baseline.txt
update=0
[ "${1:-}" = "--update" ] && update=1

for tool in clang-tidy cppcheck; do
	if ! command -v "$tool" >/dev/null; then
		echo "lint: $tool not found (scripts/install-deps.sh installs it)" >&2
		exit 1
	fi
done

cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
cd "$root"
mapfile -t files < <(find src -name '*.c' | sort)
raw=$out/lint-raw.txt
: >"$raw"

# file:line:col: warning: message [check]  ->  file:line: [check] message
printf '%s\0' "${files[@]}" |
	xargs -0 -n 4 -P "$jobs" clang-tidy -p "$out" --quiet 2>/dev/null |
	sed -nE "s#^($root/)?(src/[^:]+):([0-9]+):[0-9]+: (warning|error): (.*) \[([^]]+)\]\$#\2:\3: [\6] \5#p" \
		>>"$raw" || true
# cppcheck: one configuration (the one gcc builds), warnings and portability.
cppcheck -j"$jobs" --quiet --std=c11 --enable=warning,portability,performance \
	--inline-suppr -I src -I include -D__GNUC__ -U TOTEM_PLANTED_BUG \
	--template='{file}:{line}: [cppcheck-{id}] {message}' src 2>&1 |
	sed -nE 's|^(src/[^:]+:[0-9]+: \[.*)$|\1|p' >>"$raw"

# Key each finding: file | check | flagged line's text.
keys=$out/lint-keys.txt
sort -u "$raw" | while IFS= read -r f; do
	file=${f%%:*}
	rest=${f#*:}
	line=${rest%%:*}
	check=$(sed -nE 's/^[0-9]+: \[([^]]+)\].*/\1/p' <<<"$rest")
	text=$(sed -n "${line}p" "$file" | tr -s ' \t' ' ' | sed 's/^ //; s/ $//')
	printf '%s | %s | %s\t%s\n' "$file" "$check" "$text" "$f"
done | sort -u >"$keys"

if [ "$update" -eq 1 ]; then
	cut -f1 "$keys" | sort -u
	exit 0
fi

known=$out/lint-known.txt
grep -vE '^[[:space:]]*(#|$)' "$baseline" | sort -u >"$known" || true
new=$(cut -f1 "$keys" | sort -u | comm -23 - "$known")
stale=$(cut -f1 "$keys" | sort -u | comm -13 - "$known")
total=$(cut -f1 "$keys" | sort -u | wc -l)
if [ -n "$stale" ]; then
	echo "lint: baseline entries no longer found (remove them from $baseline):"
	printf '  %s\n' "$stale"
fi
if [ -n "$new" ]; then
	echo "lint: NEW findings (fix them, or add them to $baseline with a reason):"
	while IFS= read -r k; do
		grep -F "$k"$'\t' "$keys" | cut -f2 | sed 's/^/  /'
	done <<<"$new"
	exit 1
fi
echo "lint: PASSED (${#files[@]} files; $total findings, all in the baseline)"
