/* A list of messages about an input file ("file:line: key: reason"), kept
 * for the caller to log or print: parsers never write to a log themselves. */
#ifndef COHORT_UTIL_DIAG_H
#define COHORT_UTIL_DIAG_H

#include <stddef.h>

enum util_severity { UTIL_INFO = 0, UTIL_WARNING, UTIL_ERROR };

struct util_msg {
	enum util_severity severity;
	char text[384];
};

struct util_diag {
	struct util_msg *msgs;
	size_t count;
	size_t cap;
	size_t errors;
	size_t warnings;
};

/* Adds "file:line: key: <fmt>" ("file: key: <fmt>" when line is 0). Never
 * fails visibly: on allocation failure the message is lost but the counts
 * still rise. */
void util_diag_add(struct util_diag *d, enum util_severity sev, const char *file, unsigned line,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Adds a message that is already formatted. */
void util_diag_add_text(struct util_diag *d, enum util_severity sev, const char *text);
/* First message containing `needle`, or NULL (tests and tools). */
const struct util_msg *util_diag_find(const struct util_diag *d, const char *needle);
const char *util_severity_name(enum util_severity s);
void util_diag_free(struct util_diag *d);

#endif
