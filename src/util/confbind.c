#include "util/confbind.h"

#include <string.h>
#include <strings.h>

#include "util/strnum.h"

static bool key_matches(const char *pattern, const char *key)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, key, n - 1) == 0;
	return strcmp(pattern, key) == 0;
}

static bool bind_number(const struct util_bind_ctx *x, const struct util_bind *b,
			const struct util_conf_entry *e, void *field)
{
	uint32_t v = 0;
	enum util_num_err err = util_parse_u32(e->value, b->min, b->max, &v);

	if (err == UTIL_NUM_RANGE) {
		util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key,
			      "%s is out of range (%u..%u)", e->value, b->min, b->max);
		return false;
	}
	if (err != UTIL_NUM_OK) {
		util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key, "'%s' %s", e->value,
			      util_num_strerror(err));
		return false;
	}
	if (b->type == UTIL_BIND_U32) {
		memcpy(field, &v, sizeof(v));
	} else if (b->type == UTIL_BIND_U16) {
		uint16_t v16 = (uint16_t)v;

		memcpy(field, &v16, sizeof(v16));
	} else {
		uint8_t v8 = (uint8_t)v;

		memcpy(field, &v8, sizeof(v8));
	}
	return true;
}

static bool bind_enum(const struct util_bind_ctx *x, const struct util_bind *b,
		      const struct util_conf_entry *e, void *field)
{
	char allowed[200] = "";

	for (const struct util_bind_name *n = b->names; n->name; n++) {
		if (strcasecmp(e->value, n->name) == 0) {
			memcpy(field, &n->value, sizeof(n->value));
			if (n->note)
				util_diag_add(x->diag, n->severity, x->file, e->line, e->key, "%s",
					      n->note);
			return true;
		}
		if (n->severity != UTIL_INFO)
			continue; /* accepted for compatibility, not advertised */
		if (allowed[0])
			strncat(allowed, ", ", sizeof(allowed) - strlen(allowed) - 1);
		strncat(allowed, n->name, sizeof(allowed) - strlen(allowed) - 1);
	}
	util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key,
		      "unknown value '%s' (expected %s)", e->value, allowed);
	return false;
}

static bool bind_value(const struct util_bind_ctx *x, const struct util_bind *b,
		       const struct util_conf_entry *e, void *field)
{
	bool v;

	switch (b->type) {
	case UTIL_BIND_U32:
	case UTIL_BIND_U16:
	case UTIL_BIND_U8:
		return bind_number(x, b, e, field);
	case UTIL_BIND_BOOL:
		if (util_parse_bool(e->value, &v)) {
			memcpy(field, &v, sizeof(v));
			return true;
		}
		util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key,
			      "'%s' is not a switch (use yes/no, on/off or 1/0)", e->value);
		return false;
	case UTIL_BIND_STR:
		if (util_strlcpy(field, e->value, b->size))
			return true;
		util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key,
			      "value longer than %zu characters", b->size - 1);
		return false;
	case UTIL_BIND_ENUM:
		return bind_enum(x, b, e, field);
	case UTIL_BIND_IGNORE:
		util_diag_add(x->diag, UTIL_INFO, x->file, e->line, e->key,
			      "accepted and ignored: %s", b->note ? b->note : "not used by Cohort");
		return false;
	}
	return false;
}

bool util_bind_entry(const struct util_bind_ctx *x, const struct util_bind *table,
		     const struct util_conf_entry *e, void *target)
{
	for (const struct util_bind *b = table; b->key; b++) {
		if (!key_matches(b->key, e->key))
			continue;
		if (e->section) {
			util_diag_add(x->diag, UTIL_ERROR, x->file, e->line, e->key,
				      "is a key, not a section");
			return true;
		}
		if (bind_value(x, b, e, (char *)target + b->off) && b->set_id > 0 && x->set)
			x->set[b->set_id] = true;
		return true;
	}
	return false;
}

void util_bind_unknown(const struct util_bind_ctx *x, const struct util_conf_entry *e,
		       const char *where)
{
	util_diag_add(x->diag, UTIL_WARNING, x->file, e->line, e->key, "unknown %s in %s, ignored",
		      e->section ? "section" : "key", where);
}
