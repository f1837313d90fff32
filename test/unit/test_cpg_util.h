/* Helpers for the libcpg tests: checks, and clients that record every
 * callback as a line of text so logs of different nodes can be compared. */
#ifndef COHORT_TEST_CPG_UTIL_H
#define COHORT_TEST_CPG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <corosync/cpg.h>

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

#define CHECK_CS(call, want)                                                               \
	do {                                                                               \
		cs_error_t got_ = (call);                                                  \
		if (got_ != (want)) {                                                      \
			fprintf(stderr, "%s:%d: %s: expected %s (%d), got %d\n", __FILE__, \
				__LINE__, #call, #want, (int)(want), (int)got_);           \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* A recording client. The last delivered message is kept whole. */
struct tcli {
	cpg_handle_t h;
	int fd;
	char **lines;
	size_t n, cap;
	uint8_t *last_msg;
	size_t last_len;
	size_t delivered, confchgs, totems;
	bool finalize_in_cb; /* call cpg_finalize from the next deliver callback */
	bool finalized;
};

/* Connects to ipc (sets COHORT_IPC), model V1 with every callback. */
cs_error_t tcli_open(struct tcli *c, const char *ipc, bool totem, bool initial);
void tcli_close(struct tcli *c);
struct cpg_name tname(const char *s);
/* Dispatch until pred(c, arg) holds; fails the test after timeout_ms. */
void tcli_wait(struct tcli *c, bool (*pred)(struct tcli *, const void *), const void *arg,
	       int timeout_ms, const char *what);
bool tcli_has_line(struct tcli *c, const void *needle);
bool tcli_count_at_least(struct tcli *c, const void *n);
void tcli_wait_line(struct tcli *c, const char *needle);
/* Index of the first line containing needle, or -1. */
long tcli_find(const struct tcli *c, const char *needle, size_t from);
void tcli_dump(const struct tcli *c, const char *title);
/* cpg_join, retried while the daemon says CS_ERR_TRY_AGAIN (as
 * applications do), for at most 10 s. */
cs_error_t tjoin(cpg_handle_t h, const struct cpg_name *g);
/* True when fd has something to read within timeout_ms. */
bool fd_readable(int fd, int timeout_ms);

#endif
