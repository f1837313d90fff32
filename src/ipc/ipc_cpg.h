/* CPG messages of the local IPC: request and response bodies between libcpg
 * and cohortd, and the events cohortd pushes on the event channel. Layouts
 * are listed in docs/ipc.md; all integers little-endian, names counted
 * (u32 length, at most IPC_NAME_MAX bytes, no terminator). */
#ifndef COHORT_IPC_CPG_H
#define COHORT_IPC_CPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_wire.h"

/* Service id in the hello: SVC_CPG of services/svc.h. */
#define CPG_IPC_SERVICE_ID 1u
#define CPG_IPC_SERVICE_NAME "cpg"

enum cpg_ipc_type {
	CPG_IPC_JOIN = 0x101,
	CPG_IPC_LEAVE = 0x102,
	CPG_IPC_MCAST = 0x103,
	CPG_IPC_MEMBERSHIP = 0x104,
	CPG_IPC_LOCAL_GET = 0x105,
	CPG_IPC_ITER = 0x106,
	CPG_IPC_FLOW = 0x107,
	CPG_IPC_EV_DELIVER = 0x201,
	CPG_IPC_EV_CONFCHG = 0x202,
	CPG_IPC_EV_TOTEM = 0x203,
};

/* Hello flags of a CPG connection (cpg_model_initialize). */
#define CPG_IPC_HELLO_TOTEM 0x1u   /* wants totem confchg events */
#define CPG_IPC_HELLO_INITIAL 0x2u /* ... and one for the current ring at once */

/* Fragment bits of a multicast: a message larger than the atomic size is
 * sent as FIRST, zero or more middles (no bit), LAST. WHOLE = FIRST|LAST. */
#define CPG_FRAG_FIRST 0x1u
#define CPG_FRAG_LAST 0x2u
#define CPG_FRAG_WHOLE 0x3u
/* Largest message the library splits and reassembles. */
#define CPG_IPC_MAX_MSG (128u << 20)

/* Bytes before the payload in an MCAST request frame (header included);
 * cpg_zcb_alloc reserves this much in front of the user's buffer. */
#define CPG_IPC_MCAST_HEAD (IPC_HDR_LEN + 8u)

struct cpg_ipc_name {
	uint32_t len;
	uint8_t value[IPC_NAME_MAX];
};

/* MCAST request flags. ASYNC: the client does not wait for an answer (an
 * atomic message from a joined client); the daemon keeps it until the ring
 * takes it, and the socket buffer is the client's bounded queue. */
#define CPG_MCAST_ASYNC 0x1u

struct cpg_ipc_mcast {
	uint8_t guarantee; /* cpg_guarantee_t */
	uint8_t frag;
	uint16_t flags;	    /* CPG_MCAST_* */
	uint32_t total_len; /* whole message length (FIRST and WHOLE) */
	const uint8_t *data;
	size_t len;
};

struct cpg_ipc_iter_req {
	uint32_t type; /* cpg_iteration_type_t */
	struct cpg_ipc_name group;
	bool has_cursor; /* continue after this entry */
	struct cpg_ipc_name cur_group;
	uint32_t cur_nodeid;
	uint32_t cur_pid;
};

struct cpg_ipc_addr {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t reason;
};

struct cpg_ipc_deliver {
	struct cpg_ipc_name group;
	uint32_t nodeid;
	uint32_t pid;
	uint32_t stream; /* sender's connection id on its node: reassembly key */
	uint8_t frag;
	uint8_t guarantee;
	uint32_t total_len;
	const uint8_t *data;
	size_t len;
};

/* Decoded confchg/membership lists point into the frame; read entries with
 * cpg_ipc_addr_at. */
struct cpg_ipc_confchg {
	struct cpg_ipc_name group;
	uint32_t n_memb, n_left, n_joined;
	const uint8_t *entries; /* (n_memb + n_left + n_joined) x 12 bytes */
};

struct cpg_ipc_totem {
	uint32_t rep;
	uint64_t seq;
	uint32_t count;
	const uint8_t *ids; /* count x u32 */
};

struct cpg_ipc_iter_entry {
	struct cpg_ipc_name group;
	uint32_t nodeid;
	uint32_t pid;
};

/* Decoders return 0, -EPROTO for a malformed body, or -ENAMETOOLONG for a
 * well-formed body carrying a name over IPC_NAME_MAX. */
int cpg_ipc_name_decode(const uint8_t *b, size_t len, struct cpg_ipc_name *out);
int cpg_ipc_mcast_decode(const uint8_t *b, size_t len, struct cpg_ipc_mcast *out);
int cpg_ipc_iter_req_decode(const uint8_t *b, size_t len, struct cpg_ipc_iter_req *out);
int cpg_ipc_u32_decode(const uint8_t *b, size_t len, uint32_t *out);
int cpg_ipc_members_decode(const uint8_t *b, size_t len, uint32_t *count, const uint8_t **entries);
/* Iteration page: *count entries, *more when the daemon has further ones. */
int cpg_ipc_iter_page_decode(const uint8_t *b, size_t len, uint32_t *count, bool *more,
			     struct ipc_rd *entries);
int cpg_ipc_iter_entry_next(struct ipc_rd *r, struct cpg_ipc_iter_entry *e);
int cpg_ipc_deliver_decode(const uint8_t *b, size_t len, struct cpg_ipc_deliver *out);
int cpg_ipc_confchg_decode(const uint8_t *b, size_t len, struct cpg_ipc_confchg *out);
int cpg_ipc_totem_decode(const uint8_t *b, size_t len, struct cpg_ipc_totem *out);
struct cpg_ipc_addr cpg_ipc_addr_at(const uint8_t *entries, size_t i);

/* Encoders write a whole frame (header included) into buf and return its
 * length, or 0 when cap is too small. Frames with a bulk payload (MCAST,
 * DELIVER) get only their head written here; the payload follows it. */
/* A request whose body is one name (JOIN, LEAVE, MEMBERSHIP) or empty (name NULL). */
size_t cpg_ipc_name_req_encode(uint8_t *buf, size_t cap, uint16_t type, uint32_t req_id,
			       const struct cpg_ipc_name *name);
size_t cpg_ipc_mcast_head_encode(uint8_t *buf, size_t cap, uint32_t req_id, uint8_t guarantee,
				 uint8_t frag, uint32_t total_len, size_t payload_len);
/* The same head with flags (CPG_MCAST_ASYNC). */
void cpg_ipc_mcast_set_flags(uint8_t *head, uint16_t flags);
size_t cpg_ipc_iter_req_encode(uint8_t *buf, size_t cap, uint32_t req_id,
			       const struct cpg_ipc_iter_req *q);
size_t cpg_ipc_deliver_head_encode(uint8_t *buf, size_t cap, const struct cpg_ipc_deliver *d,
				   size_t payload_len);
size_t cpg_ipc_confchg_size(size_t n_entries);
size_t cpg_ipc_confchg_encode(uint8_t *buf, size_t cap, const struct cpg_ipc_name *group,
			      const struct cpg_ipc_addr *memb, size_t n_memb,
			      const struct cpg_ipc_addr *left, size_t n_left,
			      const struct cpg_ipc_addr *joined, size_t n_joined);
size_t cpg_ipc_totem_encode(uint8_t *buf, size_t cap, uint32_t rep, uint64_t seq,
			    const uint32_t *ids, size_t count);
/* Body writers of the MEMBERSHIP response and of ITER page entries (the
 * page starts with u32 count, u8 more). */
void cpg_ipc_members_put(struct ipc_wr *w, const struct cpg_ipc_addr *a, size_t n);
void cpg_ipc_iter_entry_put(struct ipc_wr *w, const struct cpg_ipc_iter_entry *e);
/* Bytes one iteration entry takes at most. */
#define CPG_IPC_ITER_ENTRY_MAX (4u + IPC_NAME_MAX + 8u)

#endif
