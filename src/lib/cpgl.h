/* libcpg internals: one struct cpgl_inst per cpg_handle_t. */
#ifndef COHORT_CPGL_H
#define COHORT_CPGL_H

#include <pthread.h>
#include <stdatomic.h>

#include <corosync/cpg.h>

#include "ipc/ipc_client.h"
#include "ipc/ipc_cpg.h"
#include "lib/cslib.h"

/* A message being reassembled from fragments, per sender connection. */
struct cpgl_partial {
	struct cpgl_partial *next;
	uint32_t nodeid, stream, pid;
	struct cpg_ipc_name group;
	uint8_t *buf;
	size_t total, got;
};

/* A zero-copy buffer: the request head sits right before the user's bytes
 * so the whole frame goes out in one write. */
struct cpgl_zcb {
	struct cpgl_zcb *next;
	size_t size;
	uint8_t pad[8];
	uint8_t head[CPG_IPC_MCAST_HEAD];
};

struct cpgl_inst {
	struct ipcc *conn;
	cpg_handle_t handle;
	cpg_deliver_fn_t deliver_fn;
	cpg_confchg_fn_t confchg_fn;
	cpg_totem_confchg_fn_t totem_fn;
	uint32_t nodeid;
	uint32_t max_atomic;
	atomic_bool finalized;
	/* Joined as far as the daemon answered join/leave: atomic multicasts
	 * of a joined handle go without waiting for an answer. */
	atomic_bool joined;
	/* Recursive: a callback may call cpg_dispatch again. */
	pthread_mutex_t disp_lock;
	/* Keeps the fragments of one message together. */
	pthread_mutex_t send_lock;
	/* context, zcbs, iters */
	pthread_mutex_t lock;
	void *context;
	struct cpgl_zcb *zcbs;
	uint64_t *iters;
	size_t niters, cap_iters;
	/* under disp_lock */
	struct cpgl_partial *partials;
	size_t npartials;
};

extern struct cslib_htab cpgl_handles;

/* A live instance with a reference, or NULL with *err set (BAD_HANDLE, or
 * LIBRARY once the daemon is known to be gone). */
struct cpgl_inst *cpgl_get(cpg_handle_t h, cs_error_t *err);
void cpgl_put(struct cpgl_inst *in);
/* One request; returns the daemon's result (0 or -errno) or a transport
 * error. resp may be NULL when no body is expected. */
int cpgl_call(struct cpgl_inst *in, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n, struct ipcc_resp *resp);
/* Check and copy a group name for the wire. */
cs_error_t cpgl_name_in(const struct cpg_name *in, struct cpg_ipc_name *out);
void cpgl_name_out(const struct cpg_ipc_name *in, struct cpg_name *out);

/* cpgl_dispatch.c */
void cpgl_partials_free(struct cpgl_inst *in);
/* cpgl_iter.c */
void cpgl_iters_free(struct cpgl_inst *in);
/* cpgl_send.c */
void cpgl_zcbs_free(struct cpgl_inst *in);

#endif
