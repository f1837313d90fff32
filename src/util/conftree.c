#include "util/conftree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lexer {
	const char *name;
	const char *p;
	const char *end;
	unsigned line;
	char *err;
	size_t errlen;
	bool failed;
};

static void lex_error(struct lexer *lx, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lex_error(struct lexer *lx, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (lx->failed)
		return;
	lx->failed = true;
	n = snprintf(lx->err, lx->errlen, "%s:%u: ", lx->name, line);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_to_eol(struct lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
}

/* Skips whitespace, newlines and comment lines. */
static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (is_blank(c)) {
			lx->p++;
		} else if (c == '#') {
			skip_to_eol(lx);
		} else {
			break;
		}
	}
}

static char *dup_range(const char *a, const char *b)
{
	size_t n = (size_t)(b - a);
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, a, n);
		s[n] = '\0';
	}
	return s;
}

static bool is_name_char(char c)
{
	return !is_blank(c) && c != '\n' && c != ':' && c != '=' && c != '{' && c != '}' &&
	       c != '#' && c != '"' && c != '\'';
}

static struct util_conf_entry *add_entry(struct util_conf_section *s)
{
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct util_conf_entry *e = realloc(s->entries, cap * sizeof(*e));

		if (!e)
			return NULL;
		s->entries = e;
		s->cap = cap;
	}
	memset(&s->entries[s->count], 0, sizeof(s->entries[0]));
	return &s->entries[s->count++];
}

/* A quoted value: "..." with \" and \\ escapes, or '...' taken literally. */
static char *read_quoted(struct lexer *lx, unsigned line)
{
	char q = *lx->p++;
	size_t cap = 64, n = 0;
	char *s = malloc(cap);

	while (s && lx->p < lx->end && *lx->p != q && *lx->p != '\n') {
		char c = *lx->p++;

		if (q == '"' && c == '\\' && lx->p < lx->end && (*lx->p == '"' || *lx->p == '\\'))
			c = *lx->p++;
		if (n + 1 >= cap) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				return NULL;
			}
			s = t;
		}
		s[n++] = c;
	}
	if (!s)
		return NULL;
	if (lx->p >= lx->end || *lx->p != q) {
		free(s);
		lex_error(lx, line, "unterminated quoted value");
		return NULL;
	}
	lx->p++;
	s[n] = '\0';
	return s;
}

/* The value runs to the end of the line, a comment ('#' after a blank) or an
 * unquoted '}' so that one-line sections like "totem { version: 2 }" work. */
static char *read_value(struct lexer *lx, unsigned line)
{
	const char *start, *stop;
	char *v;

	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
	if (lx->p < lx->end && (*lx->p == '"' || *lx->p == '\'')) {
		v = read_quoted(lx, line);
		if (!v)
			return NULL;
		while (lx->p < lx->end && is_blank(*lx->p))
			lx->p++;
		if (lx->p < lx->end && *lx->p != '\n' && *lx->p != '#' && *lx->p != '}') {
			free(v);
			lex_error(lx, line, "unexpected text after quoted value");
			return NULL;
		}
		return v;
	}
	start = lx->p;
	while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '}' &&
	       !(*lx->p == '#' && (lx->p == start || is_blank(lx->p[-1]))))
		lx->p++;
	stop = lx->p;
	while (stop > start && is_blank(stop[-1]))
		stop--;
	return dup_range(start, stop);
}

static bool parse_body(struct lexer *lx, struct util_conf_section *sec, int depth,
		       unsigned open_line, const char *open_name);

static bool parse_item(struct lexer *lx, struct util_conf_section *sec, int depth)
{
	unsigned line = lx->line;
	const char *start = lx->p;
	struct util_conf_entry *e;
	char *name;

	while (lx->p < lx->end && is_name_char(*lx->p))
		lx->p++;
	if (lx->p == start) {
		lex_error(lx, line, "unexpected '%c'", *lx->p);
		return false;
	}
	name = dup_range(start, lx->p);
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '\n')
		skip_space(lx); /* brace on the next line */
	e = name ? add_entry(sec) : NULL;
	if (!e) {
		free(name);
		lex_error(lx, line, "out of memory");
		return false;
	}
	e->key = name;
	e->line = line;
	if (lx->p < lx->end && (*lx->p == ':' || *lx->p == '=')) {
		lx->p++;
		e->value = read_value(lx, line);
		if (!e->value)
			lex_error(lx, line, "%s: out of memory", name);
		return !lx->failed;
	}
	if (lx->p < lx->end && *lx->p == '{') {
		lx->p++;
		if (depth + 1 >= UTIL_CONF_MAX_DEPTH) {
			lex_error(lx, line, "%s: sections nested too deeply", name);
			return false;
		}
		e->section = calloc(1, sizeof(*e->section));
		if (!e->section) {
			lex_error(lx, line, "out of memory");
			return false;
		}
		return parse_body(lx, e->section, depth + 1, line, name);
	}
	lex_error(lx, line, "%s: expected ':' or '{' after the name", name);
	return false;
}

static bool parse_body(struct lexer *lx, struct util_conf_section *sec, int depth,
		       unsigned open_line, const char *open_name)
{
	for (;;) {
		skip_space(lx);
		if (lx->p >= lx->end) {
			if (depth > 0) {
				lex_error(lx, open_line,
					  "%s: unbalanced braces: section is never closed",
					  open_name);
				return false;
			}
			return true;
		}
		if (*lx->p == '}') {
			if (depth == 0) {
				lex_error(lx, lx->line,
					  "unbalanced braces: '}' without a matching '{'");
				return false;
			}
			lx->p++;
			return true;
		}
		if (!parse_item(lx, sec, depth))
			return false;
	}
}

int util_conf_parse(const char *name, const char *text, size_t len, struct util_conf_section **out,
		    char *err, size_t errlen)
{
	struct lexer lx = {
		.name = name, .p = text, .end = text + len, .line = 1, .err = err, .errlen = errlen
	};
	struct util_conf_section *root = calloc(1, sizeof(*root));

	*out = NULL;
	if (!root) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte: not a text file", name);
		util_conf_free(root);
		return -1;
	}
	if (!parse_body(&lx, root, 0, 0, "")) {
		util_conf_free(root);
		return -1;
	}
	*out = root;
	return 0;
}

int util_conf_parse_file(const char *path, struct util_conf_section **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;
	int rc;

	*out = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > UTIL_CONF_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 UTIL_CONF_MAX_BYTES);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 buf ? strerror(errno ? errno : EIO) : "out of memory");
		free(buf);
		return -1;
	}
	rc = util_conf_parse(path, buf, got, out, err, errlen);
	free(buf);
	return rc;
}

void util_conf_free(struct util_conf_section *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++) {
		free(s->entries[i].key);
		free(s->entries[i].value);
		util_conf_free(s->entries[i].section);
	}
	free(s->entries);
	free(s);
}
