#!/bin/sh
# tools_help: each argument is a tool's path. Every tool must answer --help
# and -h with exit 0 and a "Usage:" line on stdout, and refuse an unknown
# option with its usage-error code: 2, except cohort-quorumtool, which keeps
# corosync-quorumtool's codes (2 means "not quorate" there, so usage is 1).
# Nothing here needs a running daemon: option parsing comes first.
fail=0
for tool in "$@"; do
	name=$(basename "$tool")
	for opt in --help -h; do
		out=$("$tool" "$opt" 2>&1)
		rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "FAIL $name $opt: expected exit 0, got $rc"
			fail=1
		fi
		case "$out" in
		Usage:*) ;;
		*)
			echo "FAIL $name $opt: expected output starting with 'Usage:', got:"
			echo "$out" | head -3
			fail=1
			;;
		esac
	done
	want=2
	[ "$name" = cohort-quorumtool ] && want=1
	"$tool" --no-such-option >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name --no-such-option: expected exit $want, got $rc"
		fail=1
	fi
	[ "$fail" -eq 0 ] && echo "ok   $name"
done
exit $fail
