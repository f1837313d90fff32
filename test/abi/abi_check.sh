#!/usr/bin/env bash
# Compare Cohort's public headers with Corosync 3.1.7's installed ones.
#
#   abi_check.sh MODE --src DIR --work DIR --cc CC [--cxx CXX]
#
# MODE is one of
#   layout      compile abi_layout.c against both header sets, run both, diff the output
#   prototypes  abi_types.c must compile against both; gcc -aux-info prototype lists must match
#   names       every identifier and macro Corosync's headers define must exist in ours
#   headers     each of our headers compiles on its own (C and C++, -pedantic); C linkage
#
# Exit 0 on success, 1 on a difference, 77 (ctest SKIP_RETURN_CODE) when Corosync's headers
# are not installed and cannot be installed. Set COROSYNC_INCLUDE_DIR to compare against
# headers elsewhere than /usr/include.
set -euo pipefail

SKIP=77
HEADERS=(corotypes cpg quorum votequorum)

# Corosync's inline cs_timestamp_get() uses these and ours does not (it reads the time
# with clock_gettime/timespec_get instead): implementation, not API.
IDENT_ALLOW=(gettimeofday time_from_epoch timeval tv_usec ts result)
# Include guards are named differently on purpose.
MACRO_ALLOW=(COROTYPES_H_DEFINED COROSYNC_CPG_H_DEFINED COROSYNC_QUORUM_H_DEFINED
	COROSYNC_VOTEQUORUM_H_DEFINED)

# The same warning set the project builds with; Corosync's headers are included as system
# headers, so only ours are held to it.
WARN=(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes)

die()
{
	printf 'abi_check %s: %s\n' "$MODE" "$*" >&2
	exit 1
}

skip()
{
	printf 'abi_check %s: SKIP: %s\n' "$MODE" "$*" >&2
	exit "$SKIP"
}

parse_args()
{
	MODE=${1:-}
	shift || true
	SRC='' WORK='' CC='' CXX=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--src) SRC=$2 ;;
		--work) WORK=$2 ;;
		--cc) CC=$2 ;;
		--cxx) CXX=$2 ;;
		*) die "unknown argument $1" ;;
		esac
		shift 2
	done
	if [ -z "$SRC" ] || [ -z "$WORK" ] || [ -z "$CC" ]; then
		die "need --src, --work and --cc"
	fi
	HERE="$SRC/test/abi"
	OURS="$SRC/include"
	WORK="$WORK/$MODE"
	rm -rf "$WORK"
	mkdir -p "$WORK"
}

have_corosync_headers()
{
	local h
	for h in "${HEADERS[@]}"; do
		[ -f "$REF_DIR/corosync/$h.h" ] || return 1
	done
}

# Find Corosync's headers, installing them when we are root and they are missing. The
# headers are reached through a symlink in the work directory so that an -I of our own (or
# a Cohort installed under /usr/local/include) can never stand in for them.
find_reference()
{
	REF_DIR=${COROSYNC_INCLUDE_DIR:-/usr/include}
	if ! have_corosync_headers && [ -z "${COROSYNC_INCLUDE_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
		echo "abi_check $MODE: Corosync headers missing; running install-deps.sh --corosync" >&2
		# Two abi tests may start at once under ctest -j; apt must not run twice.
		flock /tmp/cohort-install-deps.lock "$SRC/scripts/install-deps.sh" --corosync >&2 ||
			echo "abi_check $MODE: install-deps.sh --corosync failed" >&2
	fi
	have_corosync_headers ||
		skip "Corosync's headers are not in $REF_DIR/corosync (install them with" \
			"'sudo scripts/install-deps.sh --corosync' or set COROSYNC_INCLUDE_DIR)"
	if grep -q COHORT_COROSYNC "$REF_DIR/corosync/cpg.h"; then
		skip "$REF_DIR/corosync/cpg.h is Cohort's own header, not Corosync's;" \
			"point COROSYNC_INCLUDE_DIR at Corosync 3.1.7's headers"
	fi
	mkdir -p "$WORK/ref"
	ln -sfn "$REF_DIR/corosync" "$WORK/ref/corosync"
	REF_FLAGS=(-isystem "$WORK/ref")
	OUR_FLAGS=(-I "$OURS")
	echo "abi_check $MODE: Cohort $OURS/corosync vs Corosync $REF_DIR/corosync, $CC" >&2
}

all_headers_tu()
{
	local h
	for h in "${HEADERS[@]}"; do
		printf '#include <corosync/%s.h>\n' "$h"
	done >"$WORK/all.c"
}

# Print lines that differ as "-" (Cohort) / "+" (Corosync) and fail.
compare()
{
	local what=$1 ours=$2 theirs=$3
	if ! diff -u --label "Cohort" --label "Corosync" "$ours" "$theirs" >"$WORK/$what.diff"; then
		echo "abi_check $MODE: $what differs (- Cohort, + Corosync):" >&2
		cat "$WORK/$what.diff" >&2
		return 1
	fi
	echo "abi_check $MODE: $what identical ($(wc -l <"$ours") lines)" >&2
}

mode_layout()
{
	find_reference
	"$CC" -std=gnu11 "${WARN[@]}" "${OUR_FLAGS[@]}" "$HERE/abi_layout.c" -o "$WORK/layout-cohort"
	"$CC" -std=gnu11 "${WARN[@]}" "${REF_FLAGS[@]}" "$HERE/abi_layout.c" -o "$WORK/layout-corosync"
	"$WORK/layout-cohort" >"$WORK/layout-cohort.txt"
	"$WORK/layout-corosync" >"$WORK/layout-corosync.txt"
	compare layout "$WORK/layout-cohort.txt" "$WORK/layout-corosync.txt"
}

# gcc's -aux-info writes one line per function declaration seen, with the declaring file in
# a comment: keep the ones from corosync/*.h as "header: prototype", parameter names dropped.
aux_prototypes()
{
	local cc=$1 out=$2
	shift 2
	"$cc" -std=gnu11 "$@" -c "$WORK/all.c" -o /dev/null -aux-info "$WORK/aux.raw"
	sed -n 's|^/\* .*/corosync/\([a-z]*\.h\):[0-9]*:[A-Za-z]* \*/ \(.*\)$|\1: \2|p' \
		"$WORK/aux.raw" | sed 's| */\*.*\*/$||' | LC_ALL=C sort >"$out"
}

find_gcc()
{
	local c
	for c in "$CC" gcc; do
		if command -v "$c" >/dev/null 2>&1 &&
			"$c" -x c -c /dev/null -o /dev/null -aux-info /dev/null 2>/dev/null; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

mode_prototypes()
{
	local aux_cc failed=0
	find_reference
	all_headers_tu
	"$CC" -std=gnu11 "${WARN[@]}" "${OUR_FLAGS[@]}" -c "$HERE/abi_types.c" -o "$WORK/t1.o" ||
		die "abi_types.c: Cohort's headers do not declare the types listed (see above)"
	"$CC" -std=gnu11 "${WARN[@]}" "${REF_FLAGS[@]}" -c "$HERE/abi_types.c" -o "$WORK/t2.o" ||
		die "abi_types.c: Corosync's headers disagree with the list (fix abi_types.c)"
	echo "abi_check $MODE: abi_types.c holds for both header sets" >&2

	if ! aux_cc=$(find_gcc); then
		echo "abi_check $MODE: no gcc for -aux-info; prototype list comparison not run" >&2
		return 0
	fi
	aux_prototypes "$aux_cc" "$WORK/protos-cohort.txt" "${OUR_FLAGS[@]}"
	aux_prototypes "$aux_cc" "$WORK/protos-corosync.txt" "${REF_FLAGS[@]}"
	[ -s "$WORK/protos-corosync.txt" ] || die "no prototypes found in Corosync's headers"
	compare prototypes "$WORK/protos-cohort.txt" "$WORK/protos-corosync.txt" || failed=1
	return "$failed"
}

# Identifiers in the preprocessed text of corosync/*.h only (line markers tell which file
# each line came from): type names, tags, members, enum constants, functions, parameters.
identifiers()
{
	"$CC" -std=gnu11 -E "$@" "$WORK/all.c" |
		awk '/^# [0-9]+ "/ { keep = ($3 ~ /\/corosync\/[a-z]+\.h"$/); next } keep' |
		grep -oE '\b[A-Za-z_][A-Za-z0-9_]*\b' | LC_ALL=C sort -u
}

macro_names()
{
	"$CC" -std=gnu11 -E -dM "$@" "$WORK/all.c" | awk '{ sub(/\(.*/, "", $2); print $2 }' |
		LC_ALL=C sort -u
}

# Report names Corosync has and Cohort lacks, minus an allow-list. Extra names on our side
# (inttypes.h macros, our guards) are fine: a superset breaks no client.
missing_names()
{
	local what=$1 ours=$2 theirs=$3
	shift 3
	printf '%s\n' "$@" | LC_ALL=C sort -u >"$WORK/$what.allow"
	LC_ALL=C comm -13 "$ours" "$theirs" | LC_ALL=C comm -23 - "$WORK/$what.allow" \
		>"$WORK/$what.missing"
	if [ -s "$WORK/$what.missing" ]; then
		echo "abi_check $MODE: $what in Corosync's headers but not in Cohort's:" >&2
		sed 's/^/  /' "$WORK/$what.missing" >&2
		return 1
	fi
	echo "abi_check $MODE: all $(wc -l <"$theirs") $what seen with Corosync's headers present" >&2
}

mode_names()
{
	local failed=0
	find_reference
	all_headers_tu
	identifiers "${OUR_FLAGS[@]}" >"$WORK/ident-cohort.txt"
	identifiers "${REF_FLAGS[@]}" >"$WORK/ident-corosync.txt"
	macro_names "${OUR_FLAGS[@]}" >"$WORK/macro-cohort.txt"
	macro_names "${REF_FLAGS[@]}" >"$WORK/macro-corosync.txt"
	grep -qx cpg_join "$WORK/ident-corosync.txt" || die "could not read Corosync's identifiers"
	missing_names identifiers "$WORK/ident-cohort.txt" "$WORK/ident-corosync.txt" \
		"${IDENT_ALLOW[@]}" || failed=1
	missing_names macros "$WORK/macro-cohort.txt" "$WORK/macro-corosync.txt" \
		"${MACRO_ALLOW[@]}" || failed=1
	return "$failed"
}

# Every C and C++ compiler on the machine, each once.
compilers()
{
	local kind=$1 c seen=" "
	shift
	for c in "$@"; do
		if [ -z "$c" ] || ! command -v "$c" >/dev/null 2>&1; then
			continue
		fi
		c=$(readlink -f "$(command -v "$c")")
		case "$seen" in *" $c "*) continue ;; esac
		seen="$seen$c "
		echo "$c"
	done
	[ "$seen" != " " ] || echo "abi_check headers: no $kind compiler found" >&2
}

try_compile()
{
	local lang=$1 cc=$2 std=$3 src=$4 log="$WORK/compile.log"
	shift 4
	if ! "$cc" -x "$lang" -std="$std" -pedantic "$@" -I "$OURS" -fsyntax-only "$src" \
		>"$log" 2>&1; then
		echo "abi_check headers: FAIL $(basename "$cc") -std=$std $(head -1 "$src")" >&2
		cat "$log" >&2
		return 1
	fi
}

# A C++ object taking every function's address must reference the plain C symbol names.
check_cxx_linkage()
{
	local cxx=$1 obj="$WORK/linkage.o" f
	local funcs
	funcs=$(sed -n 's/^CHECK_FUNC(\([a-z_]*\),.*/\1/p' "$HERE/abi_types.c" | grep -vx cs_timestamp_get)
	{
		for f in "${HEADERS[@]}"; do
			printf '#include <corosync/%s.h>\n' "$f"
		done
		echo 'extern void *const abi_funcs[];'
		echo 'void *const abi_funcs[] = {'
		for f in $funcs; do
			printf '\treinterpret_cast<void *>(&%s),\n' "$f"
		done
		echo '};'
	} >"$WORK/linkage.cc"
	if ! "$cxx" -std=c++11 -I "$OURS" -c "$WORK/linkage.cc" -o "$obj"; then
		echo "abi_check headers: $WORK/linkage.cc does not compile with $cxx" >&2
		return 1
	fi
	for f in $funcs; do
		if ! nm -u "$obj" | grep -qx " *U $f"; then
			echo "abi_check headers: $f does not have C linkage under $(basename "$cxx")" >&2
			return 1
		fi
	done
	echo "abi_check headers: $(echo "$funcs" | wc -w) functions have C linkage ($cxx)" >&2
}

mode_headers()
{
	local cc std h failed=0 n=0 cxx
	local -a ccs cxxs
	mapfile -t ccs < <(compilers C "$CC" gcc clang)
	mapfile -t cxxs < <(compilers C++ "$CXX" g++ clang++)
	for h in "${HEADERS[@]}"; do
		printf '#include <corosync/%s.h>\n' "$h" >"$WORK/$h.c"
	done
	# Reverse order too: each header must bring what it needs whoever comes first.
	printf '#include <corosync/%s.h>\n' votequorum quorum cpg corotypes >"$WORK/reverse.c"
	for cc in "${ccs[@]}"; do
		for std in c99 c11 gnu11 gnu17; do
			for h in "${HEADERS[@]}" reverse; do
				try_compile c "$cc" "$std" "$WORK/$h.c" "${WARN[@]}" || failed=1
				n=$((n + 1))
			done
		done
	done
	for cxx in "${cxxs[@]}"; do
		for std in c++11 c++17; do
			for h in "${HEADERS[@]}" reverse; do
				try_compile c++ "$cxx" "$std" "$WORK/$h.c" -Wall -Wextra -Werror ||
					failed=1
				n=$((n + 1))
			done
		done
	done
	echo "abi_check headers: $n standalone compiles (${#ccs[@]} C, ${#cxxs[@]} C++ compilers)" >&2
	if [ "${#cxxs[@]}" -gt 0 ]; then
		check_cxx_linkage "${cxxs[0]}" || failed=1
	fi
	return "$failed"
}

parse_args "$@"
case "$MODE" in
layout) mode_layout ;;
prototypes) mode_prototypes ;;
names) mode_names ;;
headers) mode_headers ;;
*) die "unknown mode (layout, prototypes, names, headers)" ;;
esac
echo "abi_check $MODE: PASS" >&2
