#!/bin/sh
# man_lint: lint.sh PAGES_DIR STUBS_DIR
# Formats every page with all groff warnings on (-ww) and fails on any
# output; checks that each .so stub points at a page of PAGES_DIR.
pages=$1
stubs=$2
if ! command -v groff >/dev/null 2>&1; then
	echo "groff is not installed: skipping"
	exit 77
fi
fail=0
n=0
for page in "$pages"/*.[1-8]; do
	out=$(groff -man -ww -z "$page" 2>&1)
	n=$((n + 1))
	if [ -n "$out" ]; then
		echo "FAIL $(basename "$page"):"
		echo "$out"
		fail=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "FAIL no pages found in $pages"
	fail=1
fi
for stub in "$stubs"/*.3; do
	[ -e "$stub" ] || continue
	target=$(sed -n 's/^\.so man3\///p' "$stub")
	if [ ! -f "$pages/$target" ]; then
		echo "FAIL $(basename "$stub"): points at '$target', which is not a page"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "ok   $n pages, $(ls "$stubs" | wc -l) stubs"
exit $fail
