/* Shared standalone driver of the fuzz targets that have no driver of their
 * own (fuzz_totem, fuzz_config, fuzz_crypto). A target defines
 * LLVMFuzzerTestOneInput and fuzz_target_seeds(); linked with fuzz_driver.c
 * (gcc, no libFuzzer) it becomes <target>_replay:
 *
 *   <target>_replay                    seeds, then a deterministic mutation loop
 *   <target>_replay --iterations N     the same with N mutated inputs
 *   <target>_replay --write-seeds DIR  write the seed corpus for libFuzzer
 *   <target>_replay FILE|DIR...        replay inputs (a directory: every file in it)
 *
 * The mutation loop is what `make check` runs under gcc and ASan+UBSan; the
 * replay form runs the checked-in regression inputs (test/fuzz/regress/).
 * fuzz_wire and fuzz_ipc have mains of their own and use only FZ_CHECK. */
#ifndef COHORT_FUZZ_DRIVER_H
#define COHORT_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(c)                                                                                \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Provided by the target (only in the standalone build). */
void fuzz_target_seeds(void);
extern const char fuzz_target_name[];
extern const unsigned long fuzz_target_iterations; /* default mutation loop length */

/* For fuzz_target_seeds(): one seed input (copied). */
void fuzz_seed_add(const char *name, const void *bytes, size_t len);

#endif
