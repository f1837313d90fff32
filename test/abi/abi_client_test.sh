#!/usr/bin/env bash
# ctest "abi_client": abi_client (built against Corosync's own headers and libcpg.so.4) run
# unchanged on cohortd with Cohort's libcpg, through run_abi_client.sh.
#
#   abi_client_test.sh --src DIR --build DIR --work DIR --cc CC
#
# Corosync's libcpg-dev is needed. `make check` installs only the base packages
# (check-deps runs install-deps.sh without --corosync), so when it is missing and we are
# root this tries `apt-get install libcpg-dev` once, bounded by a timeout. If the build tree
# was configured before the package was there, the client is compiled here, the way
# test/abi/CMakeLists.txt would have. Exit 0 on OK, 1 on failure, 77 (ctest
# SKIP_RETURN_CODE) when the test cannot run here: no libcpg-dev and no way to install it,
# not root, or no network namespaces.
set -euo pipefail

SKIP=77
APT_TIMEOUT=${APT_TIMEOUT:-300}
LOCK=/tmp/cohort-install-deps.lock # the same lock abi_check.sh takes around apt

skip()
{
	printf 'abi_client: SKIP: %s\n' "$*" >&2
	exit "$SKIP"
}

die()
{
	printf 'abi_client: %s\n' "$*" >&2
	exit 1
}

SRC='' BUILD='' WORK='' CC=''
while [ $# -gt 0 ]; do
	case "$1" in
	--src) SRC=$2 ;;
	--build) BUILD=$2 ;;
	--work) WORK=$2 ;;
	--cc) CC=$2 ;;
	*) die "unknown argument $1" ;;
	esac
	shift 2
done
[ -n "$SRC" ] && [ -n "$BUILD" ] && [ -n "$WORK" ] && [ -n "$CC" ] ||
	die "need --src, --build, --work and --cc"

[ "$(id -u)" -eq 0 ] ||
	skip "needs root (run_abi_client.sh runs the daemon in a private network namespace)"
unshare -n true 2>/dev/null ||
	skip "cannot create a network namespace here (unshare -n failed)"

installed()
{
	[ "$(dpkg-query -W -f='${db:Status-Status}' libcpg-dev 2>/dev/null || true)" = installed ]
}

# Corosync's libcpg.so as packaged (never a Cohort one found on a search path).
corosync_lib()
{
	dpkg-query -L libcpg-dev 2>/dev/null | awk '/\/libcpg\.so$/ && !f { print; f = 1 }'

}

apt_install()
{
	export DEBIAN_FRONTEND=noninteractive
	timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends libcpg-dev >&2 && return 0
	# Empty or stale package lists: refresh once and retry.
	timeout "$APT_TIMEOUT" apt-get update -qq >&2 &&
		timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends libcpg-dev >&2
}

if ! installed && command -v apt-get >/dev/null 2>&1; then
	echo "abi_client: libcpg-dev missing; trying apt-get install libcpg-dev" >&2
	# Two abi tests may start at once under ctest -j: apt must not run twice.
	exec 9>"$LOCK"
	flock -w "$APT_TIMEOUT" 9 || true
	installed || apt_install || echo "abi_client: apt-get install libcpg-dev failed" >&2
	exec 9>&-
fi
installed || skip "Corosync's libcpg-dev is not installed and could not be installed" \
	"(install it with 'sudo scripts/install-deps.sh --corosync')"
HDR=$(dirname "$(dpkg-query -L libcpg-dev | awk '/\/corosync\/cpg\.h$/ && !f { print; f = 1 }')")
LIB=$(corosync_lib)
[ -f "$HDR/cpg.h" ] && [ -n "$LIB" ] || skip "libcpg-dev is installed but has no cpg.h or libcpg.so"
if grep -q COHORT_COROSYNC "$HDR/cpg.h"; then
	skip "$HDR/cpg.h is Cohort's own header, not Corosync's"
fi

CLIENT="$BUILD/test/abi/abi_client"
RUN_BUILD=$BUILD
if [ ! -x "$CLIENT" ]; then
	# Configured before libcpg-dev was there: build it as CMakeLists.txt does, with the
	# headers reached through a private directory so nothing else can stand in for them.
	echo "abi_client: not in the build tree; compiling it against $HDR" >&2
	rm -rf "$WORK"
	mkdir -p "$WORK/ref" "$WORK/test/abi"
	ln -s "$HDR" "$WORK/ref/corosync"
	"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -isystem "$WORK/ref" \
		"$SRC/test/abi/abi_client.c" -o "$WORK/test/abi/abi_client" "$LIB"
	RUN_BUILD=$WORK
fi

timeout 120 bash "$SRC/test/abi/run_abi_client.sh" cohort --build "$RUN_BUILD" \
	--cohortd "$BUILD/src/daemon/cohortd" --libdir "$BUILD/src/lib"
