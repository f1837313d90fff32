/* Private state of the CPG service (cpg_svc.c, cpg_req.c, cpg_ring.c,
 * cpg_sync.c, cpg_group.c, cpg_event.c).
 *
 * The group view (groups and their members) changes only on ring events
 * (deliveries and configuration changes), processed in Totem's total order,
 * so every node that saw the same history holds the same view. Client
 * requests never change the view directly: they multicast a message and the
 * view changes when it comes back. See docs/ipc.md, "CPG service". */
#ifndef COHORT_CPG_INT_H
#define COHORT_CPG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_cpg.h"
#include "ipc/ipc_server.h"
#include "services/cpg_msg.h"
#include "services/cpg_svc.h"

#define CPG_SUBSYS "CPG"
/* Entries one node may announce in its join list; bounds sync memory. */
#define CPG_JL_MAX_PER_NODE 65536u
/* Connections that died while their leave could not be multicast yet. */
#define CPG_PENDING_LEAVES_MAX 65536u

struct cpg_conn;

struct cpg_member {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t conn;		/* connection id on its node */
	struct cpg_conn *local; /* our live client, for our own members */
};

struct cpg_group {
	struct cpg_group *hnext;
	uint32_t hash;
	bool mark; /* scratch flag for sync */
	struct cpg_ipc_name name;
	struct cpg_member *m; /* sorted by (nodeid, pid) */
	size_t n, cap;
	uint64_t changes; /* membership changes so far: aborts fragmented messages */
};

struct cpg_groups {
	struct cpg_group **tab;
	size_t nbuckets;
	size_t count;
};

struct cpg_conn {
	struct cpg_conn *prev, *next;
	struct cpg_svc *svc;
	struct ipc_conn *ipc;
	uint32_t id;
	uint32_t pid;
	uint32_t flags; /* CPG_IPC_HELLO_* */
	/* What the client asked for last: joined to intent_group or not. */
	bool intent_joined;
	struct cpg_ipc_name intent_group;
	struct cpg_group *memb; /* where the view has us, or NULL */
	/* Sending a fragmented message. */
	bool frag_active;	/* FIRST accepted, LAST not yet */
	bool await_last;	/* LAST multicast; answered when it comes back */
	bool held;		/* reading paused until await_last is answered */
	bool waiting;		/* a request waits for room in the ring (IPC_RETRY) */
	bool first_seen;	/* our FIRST came back ... */
	uint64_t first_changes; /* ... when the group had seen this many changes */
	struct ipc_hdr last_hdr;
	bool want_initial_totem;
};

struct cpg_jl_node {
	uint32_t nodeid;
	bool done;
	struct cpg_jl_entry *e;
	size_t n, cap;
};

struct cpg_pending_leave {
	struct cpg_ipc_name group;
	uint32_t pid;
	uint32_t conn;
};

struct cpg_svc {
	struct svc_host host;
	struct ipc_server *ipc;
	struct cpg_groups groups;
	struct cpg_conn *conns;
	size_t nconns;
	/* current ring */
	bool have_ring;
	struct totem_ring_id ring;
	uint32_t *members;
	size_t nmembers;
	/* The transitional configuration, until the regular one that follows it. */
	uint32_t *trans;
	size_t ntrans;
	/* sync (join list exchange) after a regular configuration */
	bool syncing;
	bool jl_sent;
	size_t jl_progress; /* entries of our list already multicast */
	uint32_t inflight;  /* our messages not yet delivered back */
	struct cpg_jl_node *jl;
	size_t njl;
	/* flow control */
	bool ring_blocked;
	/* Slow receivers (cpg_flow.c): local connections over the high mark,
	 * what we last multicast about them, and per member of the ring
	 * (parallel to members) whether it reported congestion. */
	size_t flow_local;
	bool flow_announced;
	uint8_t *flow_node;
	size_t flow_nodes;
	struct dloop_timer flow_timer;
	uint64_t flow_blocked_count; /* times local multicasts were held for it */
	uint64_t queue_full_count;   /* times they were held for a full submit queue */
	struct cpg_pending_leave *pl;
	size_t npl, cap_pl;
	/* scratch for encoding events */
	uint8_t *scratch;
	size_t scratch_cap;
	struct cpg_ipc_addr *addrs;
	size_t addrs_cap;
	size_t backlog_max; /* client_buffer_max_bytes */
	uint64_t bad_msgs[CPG_MSG_ERR_COUNT_];
};

#define CPG_LOG(s, lvl, ...) (s)->host.log((s)->host.ctx, lvl, CPG_SUBSYS, __VA_ARGS__)

static inline bool cpg_name_eq(const struct cpg_ipc_name *a, const struct cpg_ipc_name *b)
{
	return a->len == b->len && !__builtin_memcmp(a->value, b->value, a->len);
}
int cpg_name_cmp(const struct cpg_ipc_name *a, const struct cpg_ipc_name *b);

/* cpg_group.c: the group table */
int cpg_groups_init(struct cpg_groups *g);
void cpg_groups_free(struct cpg_groups *g);
struct cpg_group *cpg_group_find(struct cpg_groups *g, const struct cpg_ipc_name *name);
struct cpg_group *cpg_group_get(struct cpg_groups *g, const struct cpg_ipc_name *name);
void cpg_group_drop_if_empty(struct cpg_groups *g, struct cpg_group *grp);
/* Index of (nodeid, pid), or -1. */
long cpg_group_index(const struct cpg_group *grp, uint32_t nodeid, uint32_t pid);
int cpg_group_insert(struct cpg_group *grp, const struct cpg_member *m);
void cpg_group_remove_at(struct cpg_group *grp, size_t i);
/* Every group, in no particular order; out must hold g->count entries. */
size_t cpg_groups_list(const struct cpg_groups *g, struct cpg_group **out);

/* cpg_event.c: events to local clients */
void cpg_emit_confchg(struct cpg_svc *s, struct cpg_group *grp, const struct cpg_ipc_addr *left,
		      size_t nleft, const struct cpg_ipc_addr *joined, size_t njoined,
		      struct cpg_conn *extra);
void cpg_emit_deliver(struct cpg_svc *s, struct cpg_group *grp, uint32_t nodeid,
		      const struct cpg_msg *m);
void cpg_emit_totem(struct cpg_svc *s, struct cpg_conn *only);
void *cpg_scratch(struct cpg_svc *s, size_t len);

/* cpg_req.c: client requests */
enum ipc_req_rc cpg_req_handle(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
			       const uint8_t *body, size_t len);
int cpg_send(struct cpg_svc *s, const struct iovec *iov, unsigned n, enum totem_guarantee g);
void cpg_flush_pending_leaves(struct cpg_svc *s);
int cpg_queue_leave(struct cpg_svc *s, const struct cpg_ipc_name *group, uint32_t pid,
		    uint32_t conn);
void cpg_kick_waiting(struct cpg_svc *s);
struct cpg_conn *cpg_conn_find(struct cpg_svc *s, uint32_t id);
bool cpg_ring_busy(const struct cpg_svc *s);
/* cpg_flow.c: back-pressure from slow receivers, cluster-wide */
void cpg_flow_congestion(void *arg, struct ipc_conn *ic, bool on);
bool cpg_flow_blocked(const struct cpg_svc *s);
void cpg_flow_update(struct cpg_svc *s);
void cpg_flow_deliver(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m);
int cpg_flow_new_ring(struct cpg_svc *s, size_t nmembers);
/* cpg_iter.c */
enum ipc_req_rc cpg_req_iter(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
			     const uint8_t *body, size_t len);

/* cpg_sync.c: join list exchange after each regular configuration */
void cpg_sync_start(struct cpg_svc *s);
void cpg_sync_abort(struct cpg_svc *s);
void cpg_sync_try_send(struct cpg_svc *s);
void cpg_sync_joinlist(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m);

#endif
