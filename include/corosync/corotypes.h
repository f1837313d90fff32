/*
 * Cohort: types shared by every Corosync-compatible client library.
 *
 * Binary programs built against Corosync 3.1.7 must run unchanged on Cohort, so every
 * identifier, value and layout below is dictated by that release; only the wording and the
 * arrangement of this file are Cohort's. test/abi/ proves the equivalence.
 */
#ifndef COHORT_COROSYNC_COROTYPES_H
#define COHORT_COROSYNC_COROTYPES_H

/*
 * Clients have long relied on this header pulling in errno values and the time types, so
 * keep offering them. inttypes.h is extra: the CS_PRI_* formats below expand to PRI*
 * macros and should work without the client knowing that.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A signed 64-bit time value; CS_TIME_END, its largest value, stands for "never". */
typedef int64_t cs_time_t;

#define CS_FALSE 0
#define CS_TRUE (!CS_FALSE)
#define CS_MAX_NAME_LENGTH 256
#define CS_TIME_END ((cs_time_t)0x7FFFFFFFFFFFFFFFULL)
#define CS_MAX(x, y) (((x) > (y)) ? (x) : (y))

/* printf formats for node ids and ring ids, so logs read the same as Corosync's. */
#define CS_PRI_NODE_ID "%" PRIu32
#define CS_PRI_NODE_ID_PADDED "%10" PRIu32
#define CS_PRI_RING_ID_SEQ "%" PRIx64
#define CS_PRI_RING_ID "%" PRIx32 ".%" PRIx64

/* Timeout of the libraries' requests to the daemon, in ms; -1 waits as long as it takes. */
#define CS_IPC_TIMEOUT_MS -1

#define CS_TIME_MS_IN_SEC 1000ULL
#define CS_TIME_US_IN_SEC 1000000ULL
#define CS_TIME_NS_IN_SEC 1000000000ULL
#define CS_TIME_US_IN_MSEC 1000ULL
#define CS_TIME_NS_IN_MSEC 1000000ULL
#define CS_TIME_NS_IN_USEC 1000ULL

/* The uint8_t value and 16-bit length are part of the ABI, not a choice of ours. */
typedef struct {
	uint16_t length;
	uint8_t value[CS_MAX_NAME_LENGTH];
} cs_name_t;

typedef struct {
	char releaseCode;
	unsigned char majorVersion;
	unsigned char minorVersion;
} cs_version_t;

/* How much work a *_dispatch() call does before it returns. */
typedef enum {
	CS_DISPATCH_ONE = 1,
	CS_DISPATCH_ALL = 2,
	CS_DISPATCH_BLOCKING = 3,
	CS_DISPATCH_ONE_NONBLOCKING = 4
} cs_dispatch_flags_t;

/* Bits for the *_trackstart() calls. */
#define CS_TRACK_CURRENT 0x01
#define CS_TRACK_CHANGES 0x02
#define CS_TRACK_CHANGES_ONLY 0x04

/*
 * Every public call returns one of these. Success is 1, not 0, and 29 is unused: both are
 * Corosync's numbering, which compiled clients compare against.
 */
typedef enum {
	CS_OK = 1,
	CS_ERR_LIBRARY = 2,
	CS_ERR_VERSION = 3,
	CS_ERR_INIT = 4,
	CS_ERR_TIMEOUT = 5,
	CS_ERR_TRY_AGAIN = 6,
	CS_ERR_INVALID_PARAM = 7,
	CS_ERR_NO_MEMORY = 8,
	CS_ERR_BAD_HANDLE = 9,
	CS_ERR_BUSY = 10,
	CS_ERR_ACCESS = 11,
	CS_ERR_NOT_EXIST = 12,
	CS_ERR_NAME_TOO_LONG = 13,
	CS_ERR_EXIST = 14,
	CS_ERR_NO_SPACE = 15,
	CS_ERR_INTERRUPT = 16,
	CS_ERR_NAME_NOT_FOUND = 17,
	CS_ERR_NO_RESOURCES = 18,
	CS_ERR_NOT_SUPPORTED = 19,
	CS_ERR_BAD_OPERATION = 20,
	CS_ERR_FAILED_OPERATION = 21,
	CS_ERR_MESSAGE_ERROR = 22,
	CS_ERR_QUEUE_FULL = 23,
	CS_ERR_QUEUE_NOT_AVAILABLE = 24,
	CS_ERR_BAD_FLAGS = 25,
	CS_ERR_TOO_BIG = 26,
	CS_ERR_NO_SECTIONS = 27,
	CS_ERR_CONTEXT_NOT_FOUND = 28,
	CS_ERR_TOO_MANY_GROUPS = 30,
	CS_ERR_SECURITY = 100
} cs_error_t;

/*
 * A nanosecond timestamp for measuring intervals. Monotonic whenever POSIX clocks are
 * visible; a strict ISO C build can only read wall-clock time (Corosync, too, falls back to
 * wall-clock time when it cannot see CLOCK_MONOTONIC), and strict C99 only whole seconds.
 */
static inline uint64_t cs_timestamp_get(void)
{
#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 199309L
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * CS_TIME_NS_IN_SEC + (uint64_t)now.tv_nsec;
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
	struct timespec now;

	timespec_get(&now, TIME_UTC);
	return (uint64_t)now.tv_sec * CS_TIME_NS_IN_SEC + (uint64_t)now.tv_nsec;
#else
	return (uint64_t)time(NULL) * CS_TIME_NS_IN_SEC;
#endif
}

/*
 * Corosync exports these three from libcorosync_common.so.4, not from the service
 * libraries; see docs/compatibility.md for where Cohort provides them. The int arguments
 * are negative errno values (libqb's and the handle database's error convention).
 */
const char *cs_strerror(cs_error_t err);
cs_error_t qb_to_cs_error(int result);
cs_error_t hdb_error_to_cs(int res);

#ifdef __cplusplus
}
#endif

#endif /* COHORT_COROSYNC_COROTYPES_H */
