/* Declarative binding of configuration keys to struct fields: a section's
 * keys are described by a table (type, offset, range) and values are checked
 * and stored field by field with a precise message for every mistake. */
#ifndef COHORT_UTIL_CONFBIND_H
#define COHORT_UTIL_CONFBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/conftree.h"
#include "util/diag.h"

enum util_bind_type {
	UTIL_BIND_U32 = 1,
	UTIL_BIND_U16,
	UTIL_BIND_U8,
	UTIL_BIND_BOOL,
	UTIL_BIND_STR,	  /* char array of `size` bytes */
	UTIL_BIND_ENUM,	  /* int-sized enum, values from `names` */
	UTIL_BIND_IGNORE, /* known key Cohort does not use: an info note */
};

struct util_bind_name {
	const char *name;
	int value;
	enum util_severity severity; /* of `note`, when there is one */
	const char *note;	     /* said when this value is chosen */
};

struct util_bind {
	const char *key; /* a trailing '*' matches any key with that prefix */
	enum util_bind_type type;
	size_t off;
	size_t size;			    /* STR only */
	uint32_t min, max;		    /* numbers only */
	const struct util_bind_name *names; /* ENUM only; NULL-terminated */
	int set_id;			    /* index of the "explicitly set" flag; 0 = none */
	const char *note;		    /* IGNORE: why */
};

struct util_bind_ctx {
	const char *file;
	struct util_diag *diag;
	bool *set; /* flags indexed by set_id; may be NULL */
};

/* Store e's value into target when table has its key. Returns false when the
 * key is not in the table (the caller decides), true otherwise, even when the
 * value was rejected (then an error is in the diagnostics). */
bool util_bind_entry(const struct util_bind_ctx *x, const struct util_bind *table,
		     const struct util_conf_entry *e, void *target);
/* The common "unknown key/section in <where>, ignored" warning. */
void util_bind_unknown(const struct util_bind_ctx *x, const struct util_conf_entry *e,
		       const char *where);

#endif
