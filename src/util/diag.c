#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct util_msg *grow(struct util_diag *d, enum util_severity sev)
{
	if (sev == UTIL_ERROR)
		d->errors++;
	else if (sev == UTIL_WARNING)
		d->warnings++;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct util_msg *m = realloc(d->msgs, cap * sizeof(*m));

		if (!m)
			return NULL;
		d->msgs = m;
		d->cap = cap;
	}
	d->msgs[d->count].severity = sev;
	d->msgs[d->count].text[0] = '\0';
	return &d->msgs[d->count++];
}

void util_diag_add(struct util_diag *d, enum util_severity sev, const char *file, unsigned line,
		   const char *key, const char *fmt, ...)
{
	struct util_msg *m = grow(d, sev);
	va_list ap;
	int n;

	if (!m)
		return;
	/* Line 0 stands for "the file as a whole" (a section that is missing). */
	if (line)
		n = snprintf(m->text, sizeof(m->text), "%s:%u: %s: ", file, line, key);
	else
		n = snprintf(m->text, sizeof(m->text), "%s: %s: ", file, key);
	if (n < 0 || (size_t)n >= sizeof(m->text))
		return;
	va_start(ap, fmt);
	vsnprintf(m->text + n, sizeof(m->text) - (size_t)n, fmt, ap);
	va_end(ap);
}

void util_diag_add_text(struct util_diag *d, enum util_severity sev, const char *text)
{
	struct util_msg *m = grow(d, sev);

	if (m)
		snprintf(m->text, sizeof(m->text), "%s", text);
}

const struct util_msg *util_diag_find(const struct util_diag *d, const char *needle)
{
	for (size_t i = 0; i < d->count; i++) {
		if (strstr(d->msgs[i].text, needle))
			return &d->msgs[i];
	}
	return NULL;
}

const char *util_severity_name(enum util_severity s)
{
	return s == UTIL_ERROR ? "error" : s == UTIL_WARNING ? "warning" : "info";
}

void util_diag_free(struct util_diag *d)
{
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}
