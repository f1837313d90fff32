/* Strict parsing of numbers and switches from configuration text, and a
 * stable string hash. Configuration values come from people, so every helper
 * rejects trailing junk, signs where none belong and silent wrap-around. */
#ifndef COHORT_UTIL_STRNUM_H
#define COHORT_UTIL_STRNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum util_num_err {
	UTIL_NUM_OK = 0,
	UTIL_NUM_EMPTY, /* nothing to parse */
	UTIL_NUM_NOT_NUMBER,
	UTIL_NUM_NEGATIVE, /* a leading '-' where only unsigned values make sense */
	UTIL_NUM_RANGE,	   /* parsed, but outside [min, max] */
};

/* Decimal (or 0x hexadecimal) unsigned integer in [min, max]. */
enum util_num_err util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
enum util_num_err util_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Human-readable reason for an error, e.g. "is not a number". */
const char *util_num_strerror(enum util_num_err e);

/* yes/no, on/off, true/false, 1/0 (case-insensitive). False when unrecognised. */
bool util_parse_bool(const char *s, bool *out);

/* FNV-1a, 32 bits: stable across builds and machines, used for cluster ids. */
uint32_t util_fnv1a32(const void *data, size_t len);

/* Copy with truncation check: false (and dst holds a truncated string) when
 * src does not fit. */
bool util_strlcpy(char *dst, const char *src, size_t dst_size);

#endif
