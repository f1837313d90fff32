#!/usr/bin/env bash
# Keep the Totem core sans-I/O: it must not reach for sockets, clocks, threads,
# signals, processes or randomness, and must hold no file-scope mutable state,
# so that the simulator can replay any run exactly from its seed.
#
#   check_core_purity.sh [DIR...]   check *.c/*.h under DIR (default src/totem)
#   check_core_purity.sh --self-test   prove the checker catches planted faults
#
# Prints file:line: reason for each violation and exits 1 if there is any.
# It is a grep-level heuristic over comment- and string-stripped text, not a
# C parser: it aims for no false alarms on ordinary kernel-style C.
set -euo pipefail

# Headers that mean I/O, time, concurrency or process control. stdio.h stays
# allowed (snprintf into buffers); the calls below are checked separately.
FORBIDDEN_HEADERS='sys/socket\.h|sys/un\.h|sys/uio\.h|sys/select\.h|sys/ioctl\.h'
FORBIDDEN_HEADERS+='|netinet/.*|arpa/.*|net/.*|netdb\.h|ifaddrs\.h'
FORBIDDEN_HEADERS+='|time\.h|sys/time\.h|sys/timerfd\.h|sys/timeb\.h'
FORBIDDEN_HEADERS+='|pthread\.h|threads\.h|sched\.h|semaphore\.h'
FORBIDDEN_HEADERS+='|signal\.h|sys/signal\.h|sys/signalfd\.h|unistd\.h|spawn\.h|sys/wait\.h'
FORBIDDEN_HEADERS+='|sys/epoll\.h|poll\.h|sys/poll\.h|sys/eventfd\.h|fcntl\.h|sys/fcntl\.h'
FORBIDDEN_HEADERS+='|sys/random\.h|sys/mman\.h'

FORBIDDEN_CALLS='rand|rand_r|random|srand|srandom|drand48|lrand48|mrand48|getrandom|arc4random'
FORBIDDEN_CALLS+='|time|clock|clock_gettime|gettimeofday|nanosleep|usleep|sleep'
FORBIDDEN_CALLS+='|getpid|getppid|gettid|fork|getenv'

# Rules, in awk so it runs on mawk as well as gawk:
#  - strip comments (tracking /* */ across lines) and blank string/char literals
#  - forbidden #include and forbidden calls (not member calls like x->time())
#  - at brace depth 0, a declaration starting in column 0 that is neither a
#    function, a type, a typedef, an extern nor const is a mutable global.
check_files()
{
	awk -v hdrs="^($FORBIDDEN_HEADERS)\$" -v calls="^($FORBIDDEN_CALLS)\$" '
	function report(line, why) {
		printf "%s:%d: %s\n", FILENAME, line, why
		bad = 1
	}
	# Return s with comments removed and literals emptied; keeps in_comment.
	function strip(s,    out, i, c, n, q) {
		out = ""; n = length(s); i = 1
		while (i <= n) {
			c = substr(s, i, 1)
			if (in_comment) {
				if (substr(s, i, 2) == "*/") { in_comment = 0; i += 2 } else i++
				continue
			}
			if (substr(s, i, 2) == "/*") { in_comment = 1; out = out " "; i += 2; continue }
			if (substr(s, i, 2) == "//") break
			if (c == "\"" || c == "\047") {
				q = c; out = out q q; i++
				while (i <= n && substr(s, i, 1) != q) {
					if (substr(s, i, 1) == "\\") i++
					i++
				}
				i++
				continue
			}
			out = out c; i++
		}
		return out
	}
	function check_calls(s, line,    rest, name) {
		rest = " " s
		while (match(rest, /[^A-Za-z0-9_.>][A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
			name = substr(rest, RSTART + 1, RLENGTH - 1)
			sub(/[ \t]*\($/, "", name)
			if (name ~ calls)
				report(line, "calls " name "(): time, randomness and identity come from the caller")
			rest = substr(rest, RSTART + RLENGTH - 1)
		}
	}
	function is_const(decl,    d) {
		d = decl
		sub(/=.*/, "", d)
		# Function pointer: only "(* const name)" makes the variable itself const.
		if (d ~ /\([ \t]*\*/)
			return d ~ /\([ \t]*\*[ \t]*const[^A-Za-z0-9_]/
		return (" " d " ") ~ /[^A-Za-z0-9_]const[^A-Za-z0-9_]/
	}
	function is_function(decl,    d) {
		d = decl
		sub(/=.*/, "", d)
		gsub(/__attribute__[ \t]*\(\(.*\)\)/, "", d)
		if (d ~ /\([ \t]*\*/)
			return 0
		return d ~ /[A-Za-z0-9_][ \t]*\(/
	}
	# decl: statement text up to its first ";" or "{"; ender: which one.
	function classify(decl, ender, line,    d, ntok, tok) {
		d = decl
		sub(/^[ \t]+/, "", d)
		if (d ~ /^(typedef|extern)[^A-Za-z0-9_]/ || d ~ /^_Static_assert/)
			return
		if (is_function(d))
			return
		# "struct x {" or "enum { ... };" defines a type, "struct x;" declares one.
		if (d !~ /=/ && (ender == "{" || d ~ /^(struct|union|enum)[ \t]+[A-Za-z0-9_]+[ \t]*$/))
			return
		if (d ~ /^(struct|union|enum)[ \t]*$/)
			return
		if (is_const(d))
			return
		tok = d
		sub(/[ \t]*=.*/, "", tok)
		if (d ~ /^static[^A-Za-z0-9_]/)
			report(line, "file-scope mutable static: " tok)
		else
			report(line, "file-scope mutable global: " tok)
	}
	FNR == 1 { depth = 0; in_comment = 0; in_stmt = 0; stmt = ""; continued = 0 }
	{
		raw = $0
		was_continued = continued
		continued = (raw ~ /\\$/)
		starts_in_comment = in_comment
		s = strip(raw)
		if (!starts_in_comment && s ~ /^[ \t]*#[ \t]*include/) {
			h = s
			sub(/^[ \t]*#[ \t]*include[ \t]*/, "", h)
			# strip() emptied a quoted name: read it from the raw line.
			if (h ~ /^""/) { h = raw; sub(/^[^"]*"/, "", h); sub(/".*/, "", h) }
			else { sub(/^</, "", h); sub(/>.*/, "", h) }
			if (h ~ hdrs)
				report(FNR, "includes <" h ">: the core is sans-I/O")
			next
		}
		check_calls(s, FNR)
		if (was_continued || s ~ /^[ \t]*#/)
			next
		if (depth == 0 && !in_stmt && s ~ /^[A-Za-z_]/) {
			in_stmt = 1; stmt = ""; stmt_line = FNR
		}
		if (in_stmt) {
			stmt = stmt " " s
			if (match(stmt, /[;{]/)) {
				classify(substr(stmt, 1, RSTART - 1), substr(stmt, RSTART, 1), stmt_line)
				in_stmt = 0
			}
		}
		opens = gsub(/\{/, "{", s); closes = gsub(/\}/, "}", s)
		depth += opens - closes
		if (depth < 0) depth = 0
	}
	END { exit bad }
	' "$@"
}

check_dirs()
{
	local -a files=()
	local dir
	for dir in "$@"; do
		if [ ! -d "$dir" ]; then
			echo "core_purity: no such directory: $dir" >&2
			return 2
		fi
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$dir" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
	done
	if [ "${#files[@]}" -eq 0 ]; then
		echo "core_purity: no C sources under $* (nothing to check)"
		return 0
	fi
	if check_files "${files[@]}"; then
		echo "core_purity: ${#files[@]} files clean"
		return 0
	fi
	echo "core_purity: FAILED: the Totem core must stay free of I/O, time and global state" >&2
	return 1
}

# Plant one fault per rule next to a file full of legal look-alikes; every
# fault must be reported and nothing else.
self_test()
{
	local tmp rc=0
	tmp=$(mktemp -d)
	SELF_TEST_DIR=$tmp
	trap 'rm -rf "$SELF_TEST_DIR"' EXIT
	mkdir -p "$tmp/good" "$tmp/bad"
	cat >"$tmp/good/good.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include "totem.h" /* not <time.h> */
#define NOW(x) \
	x->time(x)
static const uint32_t table[] = { 1, 2 };
static const char *const names[] = { "time(", "rand()" };
static void (*const hook)(int) = NULL;
static int helper(int a);
static inline int
helper2(int b)
{
	return b; /* srand(1) in a comment */
}
struct totem_node;
struct totem_node {
	uint64_t time;
};
enum x { A = 1 };
typedef int (*cb_t)(void);
extern int undefined_elsewhere;
_Static_assert(sizeof(int) == 4, "int");
int totem_thing(struct totem_node *t)
{
	static const int k = 3;
	t->time = k;
out:
	return helper(t->time) + names[0][0] + table[0];
}
EOF
	cat >"$tmp/bad/bad.c" <<'EOF'
#include <stdint.h>
#include <sys/socket.h>
#  include "time.h"
#include <netinet/in.h>
static int counter;
static struct totem_node *nodes[4] = { 0 };
static void (*log_fn)(const char *) = NULL;
uint32_t exported_state = 7;
int f(void)
{
	return rand() + (int)time(NULL) + getpid();
}
#define STAMP() \
	gettimeofday(&tv, NULL)
EOF
	local out
	if ! out=$(check_dirs "$tmp/good" 2>&1); then
		echo "self-test: false alarm on legal code:"; echo "$out"; rc=1
	fi
	out=$(check_dirs "$tmp/bad" 2>&1) && { echo "self-test: planted faults not caught"; rc=1; }
	local want
	for want in "bad.c:2:.*sys/socket.h" "bad.c:3:.*time.h" "bad.c:4:.*netinet/in.h" \
		"bad.c:5:.*static: static int counter" "bad.c:6:.*static" "bad.c:7:.*static" \
		"bad.c:8:.*global" "bad.c:11:.*rand()" "bad.c:11:.*time()" "bad.c:11:.*getpid()" \
		"bad.c:14:.*gettimeofday()"; do
		if ! grep -q "$want" <<<"$out"; then
			echo "self-test: expected a report matching '$want'"; rc=1
		fi
	done
	if [ "$(grep -c '^.*bad\.c:[0-9]*:' <<<"$out")" -ne 11 ]; then
		echo "self-test: expected exactly 11 reports, got:"; echo "$out"; rc=1
	fi
	[ "$rc" -eq 0 ] && echo "core_purity self-test: ok"
	[ "${VERBOSE:-0}" = 0 ] || echo "$out"
	return "$rc"
}

main()
{
	if [ "${1:-}" = "--self-test" ]; then
		self_test
		return
	fi
	if [ "$#" -eq 0 ]; then
		set -- "$(cd "$(dirname "$0")/../.." && pwd)/src/totem"
	fi
	check_dirs "$@"
}

main "$@"
