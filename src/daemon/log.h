/* cohortd's logger: stderr, a log file and syslog, with subsystem tags and
 * per-key rate limiting for noisy warnings (dropped packets). */
#ifndef COHORT_DAEMON_LOG_H
#define COHORT_DAEMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum dlog_level { DLOG_ERR = 0, DLOG_WARN = 1, DLOG_NOTICE = 2, DLOG_DEBUG = 3 };

struct dlog {
	bool to_stderr;
	bool to_syslog;
	bool timestamp;
	bool debug;
	FILE *file;
	uint32_t nodeid;
};

void dlog_init(struct dlog *l);
int dlog_open_file(struct dlog *l, const char *path);
void dlog_close(struct dlog *l);
void dlog_vprintf(struct dlog *l, int level, const char *subsys, const char *fmt, va_list ap);
void dlog_printf(struct dlog *l, int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Allows one message per interval per limiter; counts what it suppressed. */
struct dlog_limit {
	uint64_t next_us;
	uint64_t suppressed;
};
bool dlog_limit_ok(struct dlog_limit *r, uint64_t now_us, uint64_t interval_us);

#endif
