/* Reader for corosync.conf's syntax: nested "name { ... }" sections holding
 * "key: value" lines, '#' comments, free whitespace and optionally quoted
 * values. It builds a tree and knows nothing about which keys exist: the
 * daemon's configuration layer gives the tree its meaning. */
#ifndef COHORT_UTIL_CONFTREE_H
#define COHORT_UTIL_CONFTREE_H

#include <stddef.h>

#define UTIL_CONF_MAX_DEPTH 16
#define UTIL_CONF_MAX_BYTES (16u << 20)

struct util_conf_section;

struct util_conf_entry {
	char *key;			   /* key, or the section's name */
	char *value;			   /* NULL for a section */
	struct util_conf_section *section; /* non-NULL for a section */
	unsigned line;			   /* where the key or the section name is */
};

struct util_conf_section {
	struct util_conf_entry *entries;
	size_t count;
	size_t cap;
};

/* Parse text. `name` is only used in error messages ("name:line: ..."). On
 * failure returns -1, *out is NULL and err holds one message. */
int util_conf_parse(const char *name, const char *text, size_t len, struct util_conf_section **out,
		    char *err, size_t errlen);
/* Read and parse a file; errors name the file (missing, unreadable, syntax). */
int util_conf_parse_file(const char *path, struct util_conf_section **out, char *err,
			 size_t errlen);
void util_conf_free(struct util_conf_section *s);

#endif
