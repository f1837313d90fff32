/* The boundary between cohortd's core (event loop, Totem, transport) and its
 * services (CPG, quorum) with their local IPC. The daemon owns one struct
 * svc_host and calls the services_* functions; the services never touch
 * sockets of the ring or the Totem core directly. */
#ifndef COHORT_SVC_H
#define COHORT_SVC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "daemon/loop.h"
#include "totem/totem.h"

/* First byte of every message multicast through the ring names its service. */
enum svc_id { SVC_CPG = 1, SVC_QUORUM = 2, SVC_VOTEQUORUM = 3 };

struct svc_host {
	void *ctx;
	struct dloop *loop;
	uint32_t my_nodeid;
	/* Multicast a message of service svc through the ring (the host prepends
	 * the service byte). Returns 0, or -EAGAIN when the ring's submit queue
	 * is full (services_on_flow is called when there is room again), or
	 * -EMSGSIZE when the message is larger than max_msg_bytes. */
	int (*mcast)(void *ctx, uint8_t svc, enum totem_guarantee g, const struct iovec *iov,
		     unsigned iovcnt);
	size_t max_msg_bytes; /* largest message mcast accepts, service byte excluded */
	/* Log a line: level 0 error, 1 warning, 2 notice, 3 debug. */
	void (*log)(void *ctx, int level, const char *subsys, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));
};

struct svc_uidgid {
	uid_t uid; /* (uid_t)-1 when only gid is given */
	gid_t gid; /* (gid_t)-1 when only uid is given */
};

struct cfg_quorum;
struct cfg_node;

struct services_config {
	const char *ipc_name; /* endpoint name (--ipc / COHORT_IPC), "cohort" by default */
	const struct svc_uidgid *allow; /* extra uids/gids allowed besides root and the daemon's */
	size_t allow_count;
	size_t client_buffer_max_bytes; /* per-client outgoing backlog before disconnect */
	/* The quorum { } section and the nodelist (quorum_votes, names), owned
	 * by the daemon for the services' lifetime; NULL quorum: no provider. */
	const struct cfg_quorum *quorum;
	const struct cfg_node *nodes;
	size_t node_count;
};

struct services;

int services_create(const struct svc_host *host, const struct services_config *cfg,
		    struct services **out);
void services_destroy(struct services *s);

/* Totem events, in the order Totem produced them. data excludes the service byte. */
void services_on_deliver(struct services *s, uint8_t svc, uint32_t sender_nodeid,
			 enum totem_guarantee g, const uint8_t *data, size_t len);
void services_on_confchg(struct services *s, enum totem_confchg_type type,
			 struct totem_ring_id ring_id, const uint32_t *members, size_t member_count,
			 const uint32_t *left, size_t left_count, const uint32_t *joined,
			 size_t joined_count);
/* The ring's submit queue has room again after an -EAGAIN. */
void services_on_flow(struct services *s);
/* Events to clients are gathered while on and written when turned off: the
 * daemon brackets each run of Totem actions with it. */
void services_cork(struct services *s, bool on);

/* Counters for the control socket's "stats" (cohort-top), summed over the
 * services' IPC endpoints. */
struct services_stats {
	size_t ipc_conns;	     /* open client connections, all endpoints */
	uint64_t ipc_accepted;	     /* connections accepted since start */
	uint64_t ipc_refused;	     /* refused: not allowed or table full */
	uint64_t ipc_bad_frames;     /* malformed requests (client disconnected) */
	uint64_t ipc_backlog_drops;  /* clients cut off for not reading their events */
	uint64_t ipc_congested;	     /* times a client went over the flow-control high mark */
	uint64_t ipc_stalled;	     /* ... and then read nothing for the stall time */
	bool cpg_senders_held;	     /* multicasts held now for slow receivers */
	uint64_t cpg_held_flow;	     /* times a client's multicasts waited for slow receivers */
	uint64_t cpg_held_queue;     /* ... for room in the ring's submit queue */
	size_t cpg_groups;	     /* groups with members anywhere in the ring */
	bool quorum_provider;	     /* votequorum configured */
	bool quorate;		     /* always true without a provider */
	uint32_t quorum_total_votes; /* votes present */
	uint32_t quorum_expected;    /* expected votes */
	uint32_t quorum_needed;	     /* votes needed for quorum */
};
void services_get_stats(const struct services *s, struct services_stats *out);
struct ipc_server;
/* Adds one endpoint's counters (NULL: none) to out. */
void services_add_ipc_stats(struct services_stats *out, const struct ipc_server *srv);

#endif
