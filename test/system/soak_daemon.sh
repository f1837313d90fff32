#!/usr/bin/env bash
# make soak-daemon (also the second half of make soak): the long resource-limit runs of
# test/system/test_limits.py on real daemons, each bounded:
#   scale1, scale3  10,240 clients / 10,113 groups / a group of 128 on 1 and 3 nodes
#   valgrind        3 daemons under memcheck through joins, fragments, flow control, PROCDOWN
#   rss             SOAK_SECONDS (default 600) of load on 3 nodes, daemon RSS every 10 s
# Prints every "figure" line at the end; exit 1 if any run failed (77 = skipped).
#
#   BUILD_DIR=build SOAK_SECONDS=600 test/system/soak_daemon.sh [TEST...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../../build}
seconds=${SOAK_SECONDS:-600}
export SOAK_SECONDS=$seconds
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(scale1 scale3 valgrind rss)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
summary=()
for t in "${tests[@]}"; do
	bound=600
	[ "$t" = rss ] && bound=$((seconds + 300))
	echo "==> soak-daemon: $t (at most $bound s)"
	start=$SECONDS
	timeout -k 10 "$bound" python3 "$here/test_limits.py" "$build" "$t" 2>&1 | tee "$out/$t.log"
	rc=${PIPESTATUS[0]}
	case $rc in
	0) summary+=("  ok    $t ($((SECONDS - start)) s)") ;;
	77) summary+=("  skip  $t") ;;
	*) summary+=("  FAIL  $t (exit $rc, $((SECONDS - start)) s)"); failed=1 ;;
	esac
done
echo
echo "==> soak-daemon figures"
cat "$out"/*.log | grep '^figure ' || true
echo "==> soak-daemon summary"
printf '%s\n' "${summary[@]}"
exit $failed
