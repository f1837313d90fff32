/* Helpers shared by the client libraries (libcpg, and later libquorum and
 * libvotequorum): the process-wide handle tables and the one mapping from
 * the internal error convention (0 / negative errno) to cs_error_t. */
#ifndef COHORT_CSLIB_H
#define COHORT_CSLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <corosync/corotypes.h>

/* Public API functions; everything else stays hidden (-fvisibility=hidden
 * and the linker version script). */
#define CS_EXPORT __attribute__((visibility("default")))

/* The only translation to cs_error_t. */
cs_error_t cslib_error(int err);

struct ipcc;
struct ipcc_event;
/* A library's event handler: true when it called an application callback. */
typedef bool (*cslib_event_fn)(void *arg, const struct ipcc_event *ev);
/* Run the dispatch loop of one connection for cpg_dispatch and friends. */
cs_error_t cslib_dispatch(struct ipcc *conn, atomic_bool *finalized, cs_dispatch_flags_t type,
			  cslib_event_fn on_event, void *arg);

/* Handles are process-wide, so the table is the one shared mutable state
 * a library keeps, under its mutex. A handle holds a reference on its
 * object while it exists; every call takes one more for its duration, so
 * finalizing from another thread or from a callback never frees an object
 * still in use. */
struct cslib_hslot {
	void *obj;
	uint32_t gen;
	uint32_t refs;
	bool dead;
};

struct cslib_htab {
	pthread_mutex_t lock;
	struct cslib_hslot *slots;
	size_t n;
	uint32_t tag; /* mixed into handles so tables do not accept each other's */
};

#define CSLIB_HTAB_INIT(tag_)                              \
	{                                                  \
		PTHREAD_MUTEX_INITIALIZER, NULL, 0, (tag_) \
	}

int cslib_h_add(struct cslib_htab *t, void *obj, uint64_t *handle);
/* The object with one more reference, or NULL (unknown or removed). */
void *cslib_h_get(struct cslib_htab *t, uint64_t handle);
/* Drop a reference; returns the object when that was the last one (the
 * caller frees it), NULL otherwise. */
void *cslib_h_put(struct cslib_htab *t, uint64_t handle);
/* Make the handle unknown and drop its own reference. Returns -EBADF when
 * it was already unknown; *last gets the object if nothing else holds it. */
int cslib_h_remove(struct cslib_htab *t, uint64_t handle, void **last);

#endif
