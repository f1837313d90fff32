# Cohort top-level Makefile: a thin driver around CMake so that the two
# commands a newcomer needs are `make demo` and `make check`.
#
#   make / make all     configure + build build/ (gcc, RelWithDebInfo)
#   make check          deps, format check, gcc + ASan/UBSan + clang builds, all tests
#   make install        cmake --install build (PREFIX, DESTDIR honoured)
#   make demo           scripts/demo.sh (once the daemon exists)
#   make soak           test/sim/soak.sh, then test/system/soak_daemon.sh
#   make soak-daemon    only the daemon soak (SOAK_SECONDS, default 600)
#   make bench          bench/run.sh
#   make bench-compare  bench/compare.sh     make fuzz    test/fuzz/run.sh
#   make lint           clang-tidy + cppcheck on src/ against scripts/lint-baseline.txt
#   make format / format-check / clean
#
# Scripts run by soak/bench/demo get BUILD_DIR=<abs path of build/>; extra
# arguments go through ARGS, e.g. `make soak ARGS="--seeds 1000"`.

SHELL := /bin/bash
.DEFAULT_GOAL := all
# Steps share build directories and print a summary; running them in
# parallel would only interleave cmake invocations on the same tree.
.NOTPARALLEL:

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
GCC ?= gcc
CLANG ?= clang
CLANG_FORMAT ?= clang-format
PREFIX ?= /usr/local
DESTDIR ?=
ARGS ?=

BUILD := build
BUILD_SAN := build-san
BUILD_CLANG := build-clang
FORMAT_DIRS := src include tools test bench

CMAKE_COMMON := -S . -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

# Configure runs every time: the test lists are file(GLOB)s, so a newly
# added test/unit/<part>.cmake is only seen by a fresh configure (cheap).
define configure_and_build
	cmake $(CMAKE_COMMON) -B $(1) -DCMAKE_C_COMPILER=$(2) $(3)
	cmake --build $(1) -j$(JOBS)
endef

# Run a script that another part of the project owns, failing clearly when
# that part has not landed yet.
define run_script
	@if [ ! -f "$(1)" ]; then \
		echo "make $@: $(1) does not exist yet ($(2))." >&2; \
		exit 1; \
	fi
	BUILD_DIR="$(CURDIR)/$(BUILD)" bash "$(1)" $(ARGS)
endef

.PHONY: all check install demo soak bench bench-compare fuzz lint format format-check clean \
	check-deps check-build check-build-san check-build-clang check-test check-test-san \
	check-test-fuzz

all:
	$(call configure_and_build,$(BUILD),$(GCC),)

# ---------------------------------------------------------------- check
# Each step is also a target of its own. `check` runs them all, keeps going
# past a failed build where later steps do not depend on it, and ends with
# one line per step so a failure is visible without scrolling.

check-deps:
	scripts/install-deps.sh

check-build: all

check-build-san:
	$(call configure_and_build,$(BUILD_SAN),$(GCC),-DCOHORT_SANITIZE=ON)

# Proves the tree is -Werror clean under clang too, and builds the libFuzzer
# binaries that check-test-fuzz runs.
check-build-clang:
	$(call configure_and_build,$(BUILD_CLANG),$(CLANG),)

# ctest output is kept in <dir>/ctest-check.log so `check` can total the counts.
check-test:
	@rm -f $(BUILD)/ctest-check.log
	set -o pipefail; ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -LE soak \
		| tee $(BUILD)/ctest-check.log

check-test-san:
	@rm -f $(BUILD_SAN)/ctest-check.log
	set -o pipefail; UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
	ctest --test-dir $(BUILD_SAN) --output-on-failure -j$(JOBS) -L 'unit|sim' \
		| tee $(BUILD_SAN)/ctest-check.log

# The libFuzzer binaries of the clang tree, a few seconds each (label fuzz).
check-test-fuzz:
	@rm -f $(BUILD_CLANG)/ctest-check.log
	set -o pipefail; ctest --test-dir $(BUILD_CLANG) --output-on-failure -j$(JOBS) -L fuzz \
		| tee $(BUILD_CLANG)/ctest-check.log

check:
	@rm -f $(BUILD)/ctest-check.log $(BUILD_SAN)/ctest-check.log $(BUILD_CLANG)/ctest-check.log; \
	summary=(); failed=0; \
	step() { \
		local name=$$1 target=$$2 start=$$SECONDS; \
		echo "==> [check] $$name"; \
		if $(MAKE) --no-print-directory $$target; then \
			summary+=("  ok    $$name ($$((SECONDS - start))s)"); return 0; \
		fi; \
		summary+=("  FAIL  $$name ($$((SECONDS - start))s)"); failed=1; return 1; \
	}; \
	skip() { summary+=("  skip  $$1 (its build failed)"); }; \
	if step "install-deps" check-deps; then \
		step "format (clang-format, dry run)" format-check || true; \
		step "build (gcc)" check-build && gcc_ok=1 || gcc_ok=0; \
		step "build-san (gcc, ASan+UBSan)" check-build-san && san_ok=1 || san_ok=0; \
		step "build-clang (+ libFuzzer targets)" check-build-clang && clang_ok=1 || clang_ok=0; \
		if [ $$gcc_ok = 1 ]; then step "ctest build (all labels)" check-test || true; \
		else skip "ctest build (all labels)"; fi; \
		if [ $$san_ok = 1 ]; then step "ctest build-san (unit|sim)" check-test-san || true; \
		else skip "ctest build-san (unit|sim)"; fi; \
		if [ $$clang_ok = 1 ]; then step "fuzz smoke (clang, libFuzzer)" check-test-fuzz || true; \
		else skip "fuzz smoke (clang, libFuzzer)"; fi; \
	fi; \
	echo; echo "==> make check summary"; printf '%s\n' "$${summary[@]}"; \
	if [ $$failed = 0 ]; then echo "make check: PASSED"; else echo "make check: FAILED"; fi; \
	cat $(BUILD)/ctest-check.log $(BUILD_SAN)/ctest-check.log $(BUILD_CLANG)/ctest-check.log \
		2>/dev/null \
		| sed -n 's/.*tests passed, \([0-9]*\) tests\? failed out of \([0-9]*\).*/\1 \2/p' \
		| { p=0; f=0; while read -r nf nt; do p=$$((p + nt - nf)); f=$$((f + nf)); done; \
		    echo "tests: $$p passed, $$f failed"; }; \
	exit $$failed

# ---------------------------------------------------------------- install

install: all
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# ---------------------------------------------------------------- scripts

# Packages first (root installs them, a normal user is told what is missing),
# then the build, then the demo itself.
demo: check-deps
	@$(MAKE) --no-print-directory all
	@BUILD_DIR="$(CURDIR)/$(BUILD)" bash scripts/demo.sh $(ARGS)

soak: all
	$(call run_script,test/sim/soak.sh,the simulator soak arrives with the simulator)
	@$(MAKE) --no-print-directory soak-daemon

# Real daemons: scale (10,000 clients and groups), memory over SOAK_SECONDS
# (default 600) of load, valgrind memcheck. ARGS go to the simulator soak only.
.PHONY: soak-daemon
soak-daemon: all
	BUILD_DIR="$(CURDIR)/$(BUILD)" bash test/system/soak_daemon.sh

bench: all
	$(call run_script,bench/run.sh,benchmarks arrive with the daemon)

bench-compare: all
	$(call run_script,bench/compare.sh,the Cohort vs Corosync comparison is not there yet)

# CPG throughput and latency against Corosync alone (bench-compare runs it too).
.PHONY: bench-cpg
bench-cpg: all
	$(call run_script,bench/cpg_compare.sh,the CPG comparison is not there yet)

# No gcc build first: fuzzing needs clang + libFuzzer, so run.sh configures
# its own build tree.
fuzz:
	$(call run_script,test/fuzz/run.sh,fuzz targets arrive with the codec)

# Static analysis; not part of `check` (several minutes on 2 cores).
lint:
	scripts/install-deps.sh --lint
	JOBS=$(JOBS) bash scripts/lint.sh

# ---------------------------------------------------------------- format

format:
	find $(wildcard $(FORMAT_DIRS)) -type f \( -name '*.c' -o -name '*.h' \) -print0 \
		| xargs -0 -r $(CLANG_FORMAT) -i

format-check:
	find $(wildcard $(FORMAT_DIRS)) -type f \( -name '*.c' -o -name '*.h' \) -print0 \
		| xargs -0 -r $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(sort $(BUILD) $(BUILD_SAN) $(BUILD_CLANG) $(patsubst %/,%,$(wildcard build-*/)))

# ---------------------------------------------------------------- faults
# The fault campaign on five cohortd in network namespaces (test/faults/campaign.py;
# root only). Bounded by FAULTS_DURATION seconds (default 900) and FAULTS_SCENARIOS
# (default 60); FAULTS_SEED replays a run's choice of faults, FAULTS_KEEP=DIR keeps the
# logs. Namespaces are removed on exit, Ctrl-C and at the deadline.
.PHONY: faults
faults: all
	BUILD_DIR="$(CURDIR)/$(BUILD)" python3 test/faults/campaign.py --build "$(CURDIR)/$(BUILD)" $(ARGS)
