#!/usr/bin/env bash
# Install the Debian 12 packages Cohort needs to build and test.
#
#   scripts/install-deps.sh              build + test toolchain
#   scripts/install-deps.sh --corosync   also Corosync 3.1.7 (ABI tests, benchmarks)
#   scripts/install-deps.sh --lint       also clang-tidy and cppcheck (make lint)
#   scripts/install-deps.sh --check      only report what is missing (exit 1 if any)
#
# Idempotent: packages already present are left alone and apt is not touched
# at all when nothing is missing, so `make check` can call this every time.
set -euo pipefail

# The toolchain and everything the tests drive (namespaces, veth, packet
# filters for partitions, process tools for kill/restart scenarios).
BASE_PKGS=(
	build-essential
	cmake
	clang
	clang-format
	libclang-rt-14-dev
	pkg-config
	libssl-dev
	python3
	iproute2
	iptables
	nftables
	procps
	psmisc
	util-linux
)

# Static analysis (make lint); not needed to build or test.
LINT_PKGS=(
	clang-tidy
	cppcheck
)

# The real Corosync, to compare against; never needed to build Cohort.
COROSYNC_PKGS=(
	corosync
	libcpg-dev
	libquorum-dev
	libvotequorum-dev
)

POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_SAVED=/usr/sbin/policy-rc.d.cohort-saved

usage()
{
	sed -n '2,7s/^# \{0,1\}//p' "$0"
}

log()
{
	printf 'install-deps: %s\n' "$*"
}

# Print the packages of "$@" that dpkg does not report as installed.
missing_of()
{
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [ "$status" != "installed" ]; then
			printf '%s\n' "$pkg"
		fi
	done
}

APT_UPDATED=0

apt_install()
{
	log "installing: $*"
	export DEBIAN_FRONTEND=noninteractive
	if [ "$APT_UPDATED" -eq 0 ]; then
		apt-get update -qq
		APT_UPDATED=1
	fi
	apt-get install -y -qq --no-install-recommends "$@"
}

# A package's postinst may start its service; in a container or on a
# developer's machine a stray corosync would grab port 5405 and confuse the
# ABI tests, which start their own. policy-rc.d exit 101 denies every start.
deny_service_starts()
{
	if [ -e "$POLICY_RC" ]; then
		mv -f "$POLICY_RC" "$POLICY_RC_SAVED"
	fi
	printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
	chmod 0755 "$POLICY_RC"
	trap restore_service_policy EXIT
}

restore_service_policy()
{
	rm -f "$POLICY_RC"
	if [ -e "$POLICY_RC_SAVED" ]; then
		mv -f "$POLICY_RC_SAVED" "$POLICY_RC"
	fi
	trap - EXIT
}

# Belt and braces after the install: keep corosync from starting at boot and
# stop it if something started it anyway. Only runs right after we installed
# it, so a corosync someone started on purpose later is never touched.
keep_corosync_stopped()
{
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now corosync.service >/dev/null 2>&1 || true
	else
		# Offline, systemctl still edits the .wants links a later boot would use.
		if command -v systemctl >/dev/null 2>&1; then
			systemctl disable corosync.service >/dev/null 2>&1 || true
		fi
		if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/corosync ]; then
			update-rc.d corosync disable >/dev/null 2>&1 || true
		fi
		if [ -n "$1" ] && [ -x /etc/init.d/corosync ]; then
			/etc/init.d/corosync stop >/dev/null 2>&1 || true
		fi
	fi
	if pgrep -x corosync >/dev/null 2>&1; then
		log "warning: a corosync process is running (pid $(pgrep -x corosync | tr '\n' ' '))"
	fi
}

install_corosync()
{
	local -a missing
	mapfile -t missing < <(missing_of "${COROSYNC_PKGS[@]}")
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	local was_running=
	pgrep -x corosync >/dev/null 2>&1 && was_running=yes
	deny_service_starts
	apt_install "${missing[@]}"
	restore_service_policy
	# Stop only a daemon that appeared during our install.
	if [ -z "$was_running" ] && pgrep -x corosync >/dev/null 2>&1; then
		keep_corosync_stopped started
	else
		keep_corosync_stopped ""
	fi
}

main()
{
	local want_corosync=0 want_lint=0 check_only=0 arg
	for arg in "$@"; do
		case "$arg" in
		--corosync) want_corosync=1 ;;
		--lint) want_lint=1 ;;
		--check) check_only=1 ;;
		-h | --help)
			usage
			return 0
			;;
		*)
			log "unknown argument: $arg"
			usage >&2
			return 2
			;;
		esac
	done

	local -a wanted=("${BASE_PKGS[@]}")
	if [ "$want_corosync" -eq 1 ]; then
		wanted+=("${COROSYNC_PKGS[@]}")
	fi
	if [ "$want_lint" -eq 1 ]; then
		wanted+=("${LINT_PKGS[@]}")
	fi
	local -a missing
	mapfile -t missing < <(missing_of "${wanted[@]}")
	if [ "${#missing[@]}" -eq 0 ]; then
		log "all ${#wanted[@]} packages present"
		return 0
	fi
	if [ "$check_only" -eq 1 ] || [ "$(id -u)" -ne 0 ]; then
		log "missing packages: ${missing[*]}"
		local flag=""
		[ "$want_corosync" -eq 1 ] && flag=" --corosync"
		[ "$want_lint" -eq 1 ] && flag="$flag --lint"
		log "install them with: sudo $0$flag"
		log "  (or: sudo apt-get install --no-install-recommends ${missing[*]})"
		return 1
	fi

	local -a base_missing
	local -a base=("${BASE_PKGS[@]}")
	[ "$want_lint" -eq 1 ] && base+=("${LINT_PKGS[@]}")
	mapfile -t base_missing < <(missing_of "${base[@]}")
	if [ "${#base_missing[@]}" -gt 0 ]; then
		apt_install "${base_missing[@]}"
	fi
	if [ "$want_corosync" -eq 1 ]; then
		install_corosync
	fi
	mapfile -t missing < <(missing_of "${wanted[@]}")
	if [ "${#missing[@]}" -gt 0 ]; then
		log "still missing after install: ${missing[*]}"
		return 1
	fi
	log "all ${#wanted[@]} packages present"
}

main "$@"
