/* An in-process fake ring for CPG tests: N "daemons", each a thread running
 * a real dloop with the real services (IPC endpoint "<prefix>-<node>"), fed
 * one totally ordered stream of deliveries and configuration changes. Real
 * libcpg clients connect to them. Ordering is guaranteed by appending every
 * message and configuration change to the inboxes of all nodes of a ring
 * under one mutex. */
#ifndef COHORT_TEST_CPG_RING_H
#define COHORT_TEST_CPG_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tring;

struct tring_opts {
	unsigned nodes;	    /* node ids are 1..nodes */
	const char *prefix; /* IPC names "<prefix>-<nodeid>" */
	size_t backlog;	    /* client_buffer_max_bytes, 0: default */
	size_t queue_limit; /* undelivered copies before -EAGAIN, 0: none */
	bool reentrant;	    /* deliver own messages inside mcast, like cohortd */
};

struct tring *tring_new(const struct tring_opts *o);
void tring_free(struct tring *r);
/* Form one ring of these nodes: each gets a transitional configuration
 * (its old ring minus the nodes not here) and then the regular one. */
void tring_form(struct tring *r, const uint32_t *nodes, size_t n);
/* While blocked, mcast returns -EAGAIN; unblocking calls services_on_flow. */
void tring_block(struct tring *r, bool blocked);
/* While held, mcast accepts messages (returns 0) but keeps them in the
 * sender's submit queue; releasing sends them, in order, in whatever ring
 * each sender is in by then (as Totem does with queued messages across a
 * ring change). */
void tring_hold(struct tring *r, bool hold);
/* Stop a node's daemon: its clients see the connection drop. */
void tring_kill(struct tring *r, uint32_t nodeid);
/* Wait until every inbox is empty and every node is idle. */
void tring_settle(struct tring *r);
const char *tring_ipc(const struct tring *r, uint32_t nodeid);
/* Messages delivered so far (copies), for throughput checks. */
uint64_t tring_delivered(struct tring *r);

#endif
