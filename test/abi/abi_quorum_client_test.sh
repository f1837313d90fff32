#!/usr/bin/env bash
# ctest "abi_quorum_client": abi_quorum_client (built against Corosync's own headers,
# libquorum.so.5 and libvotequorum.so.8) run unchanged on cohortd with Cohort's libquorum and
# libvotequorum, through run_abi_quorum_client.sh.
#
#   abi_quorum_client_test.sh --src DIR --build DIR --work DIR --cc CC
#
# Corosync's libquorum-dev and libvotequorum-dev are needed. `make check` does not install
# them, so when one is missing and we are root this tries
# `apt-get install libquorum-dev libvotequorum-dev` once, bounded by a timeout. If the build
# tree was configured before the packages were there, the client is compiled here, the way
# test/abi/CMakeLists.txt would have. Exit 0 on OK, 1 on failure, 77 (ctest SKIP_RETURN_CODE)
# when the test cannot run here: packages missing and not installable, not root, or no
# network namespaces.
set -euo pipefail

SKIP=77
APT_TIMEOUT=${APT_TIMEOUT:-300}
LOCK=/tmp/cohort-install-deps.lock # the same lock abi_check.sh and abi_client_test.sh take
PKGS=(libquorum-dev libvotequorum-dev)

skip()
{
	printf 'abi_quorum_client: SKIP: %s\n' "$*" >&2
	exit "$SKIP"
}

die()
{
	printf 'abi_quorum_client: %s\n' "$*" >&2
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
	skip "needs root (run_abi_quorum_client.sh runs the daemon in a private network namespace)"
unshare -n true 2>/dev/null ||
	skip "cannot create a network namespace here (unshare -n failed)"

installed()
{
	local p
	for p in "${PKGS[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] ||
			return 1
	done
}

# The first file of package $1 whose path matches the awk regex $2 (never a Cohort file
# found on a search path).
pkg_file()
{
	dpkg-query -L "$1" 2>/dev/null | awk -v re="$2" '$0 ~ re && !f { print; f = 1 }'
}

apt_install()
{
	export DEBIAN_FRONTEND=noninteractive
	timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >&2 &&
		return 0
	# Empty or stale package lists: refresh once and retry.
	timeout "$APT_TIMEOUT" apt-get update -qq >&2 &&
		timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >&2
}

if ! installed && command -v apt-get >/dev/null 2>&1; then
	echo "abi_quorum_client: ${PKGS[*]} missing; trying apt-get install" >&2
	# Several abi tests may start at once under ctest -j: apt must not run twice.
	exec 9>"$LOCK"
	flock -w "$APT_TIMEOUT" 9 || true
	installed || apt_install || echo "abi_quorum_client: apt-get install ${PKGS[*]} failed" >&2
	exec 9>&-
fi
installed || skip "Corosync's ${PKGS[*]} are not installed and could not be installed" \
	"(install them with 'sudo apt-get install ${PKGS[*]}')"
QH=$(pkg_file libquorum-dev '/corosync/quorum\.h$')
VH=$(pkg_file libvotequorum-dev '/corosync/votequorum\.h$')
QLIB=$(pkg_file libquorum-dev '/libquorum\.so$')
VLIB=$(pkg_file libvotequorum-dev '/libvotequorum\.so$')
[ -f "$QH" ] && [ -f "$VH" ] && [ -n "$QLIB" ] && [ -n "$VLIB" ] ||
	skip "${PKGS[*]} are installed but lack quorum.h, votequorum.h or their .so links"
[ "$(dirname "$QH")" = "$(dirname "$VH")" ] ||
	skip "quorum.h and votequorum.h are not in the same directory ($QH, $VH)"
if grep -q COHORT_COROSYNC "$QH" "$VH"; then
	skip "$QH or $VH is Cohort's own header, not Corosync's"
fi

CLIENT="$BUILD/test/abi/abi_quorum_client"
if [ ! -x "$CLIENT" ]; then
	# Configured before the packages were there: build it as CMakeLists.txt does, with the
	# headers reached through a private directory so nothing else can stand in for them.
	echo "abi_quorum_client: not in the build tree; compiling it against $(dirname "$QH")" >&2
	rm -rf "$WORK"
	mkdir -p "$WORK/ref"
	ln -s "$(dirname "$QH")" "$WORK/ref/corosync"
	CLIENT="$WORK/abi_quorum_client"
	"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -isystem "$WORK/ref" \
		"$SRC/test/abi/abi_quorum_client.c" -o "$CLIENT" "$QLIB" "$VLIB"
fi

timeout 120 bash "$SRC/test/abi/run_abi_quorum_client.sh" cohort --build "$BUILD" \
	--client "$CLIENT" --cohortd "$BUILD/src/daemon/cohortd" --libdir "$BUILD/src/lib"
