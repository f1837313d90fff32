/* What libquorum and libvotequorum share: one connection per handle, the
 * handle life cycle, requests whose bodies are u32 words, and the dispatch
 * loop. Each library embeds struct quorum_lib_inst first in its own
 * instance and keeps its own handle table. */
#ifndef COHORT_LIB_QUORUM_LIB_H
#define COHORT_LIB_QUORUM_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ipc/ipc_client.h"
#include "lib/cslib.h"
#include "services/quorum_ipc.h"

struct quorum_lib_inst;

/* Runs the callback of one event; true when a user callback was called. */
typedef bool (*quorum_lib_event_fn)(struct quorum_lib_inst *in, const struct ipcc_event *ev);

struct quorum_lib_inst {
	struct cslib_htab *table;
	struct ipcc *conn;
	uint64_t handle;
	uint32_t nodeid;
	atomic_bool finalized;
	quorum_lib_event_fn on_event;
	/* Recursive: a callback may call dispatch again. */
	pthread_mutex_t disp_lock;
	pthread_mutex_t lock; /* the context */
	void *context;
};

/* Allocate an instance of `size` bytes (struct quorum_lib_inst first),
 * connect it to the service and give it a handle. */
cs_error_t quorum_lib_open(struct cslib_htab *table, size_t size, const char *service,
			   uint32_t service_id, quorum_lib_event_fn on_event,
			   struct quorum_lib_inst **out);
/* A live instance with a reference, or NULL with *err set (BAD_HANDLE, or
 * LIBRARY once the daemon is gone). */
struct quorum_lib_inst *quorum_lib_get(struct cslib_htab *table, uint64_t handle, cs_error_t *err);
/* The same, also for an instance whose daemon is gone (context calls). */
struct quorum_lib_inst *quorum_lib_get_any(struct cslib_htab *table, uint64_t handle);
void quorum_lib_put(struct quorum_lib_inst *in);
cs_error_t quorum_lib_finalize(struct cslib_htab *table, uint64_t handle);
cs_error_t quorum_lib_fd_get(struct cslib_htab *table, uint64_t handle, int *fd);
cs_error_t quorum_lib_dispatch(struct cslib_htab *table, uint64_t handle, cs_dispatch_flags_t type);

/* A request of n_in words answered by exactly n_out words; returns the
 * daemon's result (0 or -errno) or a transport error. */
int quorum_lib_words(struct quorum_lib_inst *in, uint16_t type, const uint32_t *args, size_t n_in,
		     uint32_t *out, size_t n_out);
/* The same for a handle: get, request, put, mapped to cs_error_t. */
cs_error_t quorum_lib_call(struct cslib_htab *table, uint64_t handle, uint16_t type,
			   const uint32_t *args, size_t n_in, uint32_t *out, size_t n_out);

#endif
