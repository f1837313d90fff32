/* Quorum and votequorum messages of the local IPC (frames as in
 * ipc/ipc_wire.h): between libquorum/libvotequorum/cohort-quorumtool and
 * cohortd. All integers little-endian; every decoder checks lengths and
 * counts against the body before reading and returns 0 or -EPROTO.
 *
 * Requests and plain responses are bodies of N u32 values (a u64 is two,
 * low word first):
 *   QUORUM_IPC_GETTYPE      -> quorum_type
 *   QUORUM_IPC_GETQUORATE   -> quorate
 *   QUORUM_IPC_TRACKSTART   flags
 *   QUORUM_IPC_TRACKSTOP
 *   VQ_IPC_GETINFO          nodeid -> VQ_IPC_INFO_WORDS words (struct votequorum_info
 *                           order, qdevice name left out: always empty)
 *   VQ_IPC_SETEXPECTED      expected
 *   VQ_IPC_SETVOTES         nodeid, votes
 *   VQ_IPC_TRACKSTART       context lo, context hi, flags
 *   VQ_IPC_TRACKSTOP
 *   VQ_IPC_NODES            -> u32 count, then per node: nodeid, state, votes,
 *                           expected, counted name (Cohort's, for quorumtool -l)
 * Events (req_id 0), see struct quorum_ipc_event.
 */
#ifndef COHORT_SERVICES_QUORUM_IPC_H
#define COHORT_SERVICES_QUORUM_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_wire.h"

/* Endpoints and hello service ids (svc.h's SVC_QUORUM, SVC_VOTEQUORUM). */
#define QUORUM_IPC_SERVICE_ID 2u
#define QUORUM_IPC_SERVICE_NAME "quorum"
#define VQ_IPC_SERVICE_ID 3u
#define VQ_IPC_SERVICE_NAME "votequorum"

enum quorum_ipc_type {
	QUORUM_IPC_GETTYPE = 0x301,
	QUORUM_IPC_GETQUORATE = 0x302,
	QUORUM_IPC_TRACKSTART = 0x303,
	QUORUM_IPC_TRACKSTOP = 0x304,
	QUORUM_IPC_EV_QUORUM = 0x381,	/* quorate, ring, members */
	QUORUM_IPC_EV_NODELIST = 0x382, /* ring, members, joined, left */

	VQ_IPC_GETINFO = 0x401,
	VQ_IPC_SETEXPECTED = 0x402,
	VQ_IPC_SETVOTES = 0x403,
	VQ_IPC_TRACKSTART = 0x404,
	VQ_IPC_TRACKSTOP = 0x405,
	VQ_IPC_NODES = 0x406,
	VQ_IPC_EV_QUORUM = 0x481,   /* context, quorate, every known node with its state */
	VQ_IPC_EV_NODELIST = 0x482, /* context, ring, members */
	VQ_IPC_EV_EXPECTED = 0x483, /* context, expected votes */
};

#define VQ_IPC_INFO_WORDS 9u
/* Largest node list in one event: members, joined and left of a ring, or
 * every node votequorum knows. */
#define QUORUM_IPC_MAX_IDS 1152u
#define QUORUM_IPC_NAME_MAX 255u
/* Room for any quorum frame but VQ_IPC_NODES responses. */
#define QUORUM_IPC_MAX_EVENT (IPC_HDR_LEN + 48u + 8u * QUORUM_IPC_MAX_IDS)

struct quorum_ipc_event {
	uint16_t type;	   /* QUORUM_IPC_EV_* or VQ_IPC_EV_* */
	uint64_t context;  /* VQ_IPC_EV_*: the tracking context */
	uint32_t quorate;  /* *_EV_QUORUM */
	uint32_t expected; /* VQ_IPC_EV_EXPECTED */
	uint32_t rep;	   /* QUORUM_IPC_EV_*, VQ_IPC_EV_NODELIST */
	uint64_t seq;
	/* ids[0..n_memb) members (or all nodes), then joined, then left. */
	uint32_t n_memb, n_joined, n_left;
	uint32_t ids[QUORUM_IPC_MAX_IDS];
	uint32_t states[QUORUM_IPC_MAX_IDS]; /* VQ_IPC_EV_QUORUM: node state per id */
};

struct quorum_ipc_node {
	uint32_t nodeid;
	uint32_t state;
	uint32_t votes;
	uint32_t expected;
	char name[QUORUM_IPC_NAME_MAX + 1];
};

/* A frame whose body is n u32 values: requests (result 0) and responses. */
size_t quorum_ipc_words_encode(uint8_t *buf, size_t cap, uint16_t type, uint32_t req_id,
			       int32_t result, const uint32_t *v, size_t n);
/* Exactly n u32 values, no more, no less. */
int quorum_ipc_words_decode(const uint8_t *b, size_t len, uint32_t *out, size_t n);

/* Whole event frame; 0 when it does not fit or the counts are too large. */
size_t quorum_ipc_event_encode(uint8_t *buf, size_t cap, const struct quorum_ipc_event *ev);
/* Body of an event frame of type `type`. */
int quorum_ipc_event_decode(uint16_t type, const uint8_t *b, size_t len,
			    struct quorum_ipc_event *out);

/* VQ_IPC_NODES response body: quorum_ipc_nodes_put_count once, then
 * quorum_ipc_node_put per node; read back with quorum_ipc_nodes_count and
 * quorum_ipc_node_next (which return -EPROTO on malformed input). */
void quorum_ipc_nodes_put_count(struct ipc_wr *w, uint32_t count);
void quorum_ipc_node_put(struct ipc_wr *w, const struct quorum_ipc_node *n);
#define QUORUM_IPC_NODE_MAX_BYTES (20u + QUORUM_IPC_NAME_MAX)
int quorum_ipc_nodes_count(struct ipc_rd *r, uint32_t *count);
int quorum_ipc_node_next(struct ipc_rd *r, struct quorum_ipc_node *out);

#endif
