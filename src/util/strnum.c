#include "util/strnum.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum util_num_err util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = s;
	char *end = NULL;
	unsigned long long v;

	if (!s)
		return UTIL_NUM_EMPTY;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return UTIL_NUM_EMPTY;
	if (*p == '-') {
		/* "-0" is still a sign the writer thought in signed terms; a
		 * negative vote count or timeout is always a mistake. */
		return isdigit((unsigned char)p[1]) ? UTIL_NUM_NEGATIVE : UTIL_NUM_NOT_NUMBER;
	}
	if (*p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return UTIL_NUM_NOT_NUMBER;
	errno = 0;
	/* Base 10 unless 0x: a zero-padded "0300" must not turn octal. */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return UTIL_NUM_NOT_NUMBER;
		v = strtoull(p, &end, 16);
	} else {
		v = strtoull(p, &end, 10);
	}
	if (end == p)
		return UTIL_NUM_NOT_NUMBER;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return UTIL_NUM_NOT_NUMBER;
	if (errno == ERANGE || v < min || v > max)
		return UTIL_NUM_RANGE;
	*out = v;
	return UTIL_NUM_OK;
}

enum util_num_err util_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	enum util_num_err e = util_parse_u64(s, min, max, &v);

	if (e == UTIL_NUM_OK)
		*out = (uint32_t)v;
	return e;
}

const char *util_num_strerror(enum util_num_err e)
{
	switch (e) {
	case UTIL_NUM_OK:
		return "ok";
	case UTIL_NUM_EMPTY:
		return "is empty, a number is required";
	case UTIL_NUM_NOT_NUMBER:
		return "is not a number";
	case UTIL_NUM_NEGATIVE:
		return "must not be negative";
	case UTIL_NUM_RANGE:
		return "is out of range";
	}
	return "is invalid";
}

bool util_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

uint32_t util_fnv1a32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

bool util_strlcpy(char *dst, const char *src, size_t dst_size)
{
	size_t n = strlen(src);

	if (dst_size == 0)
		return false;
	if (n >= dst_size) {
		memcpy(dst, src, dst_size - 1);
		dst[dst_size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}
