/* CPG messages multicast through the ring (after the host's service byte).
 * They come from other nodes, so they are decoded field by field with every
 * length checked; integers are big-endian (network order, as on the wire).
 *
 *   JOIN      u8 type=1, u8 0, u16 0, u32 pid, u32 conn, name
 *   LEAVE     u8 type=2, u8 reason (LEAVE 2 | PROCDOWN 5), u16 0, u32 pid, u32 conn, name
 *   MCAST     u8 type=3, u8 guarantee, u8 frag, u8 0, u32 pid, u32 conn, u32 total, name, data
 *   JOINLIST  u8 type=4, u8 flags (LAST 1), u16 0, u32 ring rep, u64 ring seq, u32 count,
 *             count x (u32 pid, u32 conn, name)
 *   FLOW      u8 type=5, u8 flags (CONGESTED 1), u16 0: the sender's clients are
 *             (or are no longer) behind; see cpg_flow.c
 *
 * A name is u8 length (<= 128) and that many bytes. conn is the sending
 * node's id for the client connection: it tells the sender which of its
 * clients a message came from and keys reassembly at receivers. */
#ifndef COHORT_CPG_MSG_H
#define COHORT_CPG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_cpg.h"

enum cpg_msg_type {
	CPG_MSG_JOIN = 1,
	CPG_MSG_LEAVE = 2,
	CPG_MSG_MCAST = 3,
	CPG_MSG_JOINLIST = 4,
	CPG_MSG_FLOW = 5,
};

#define CPG_FLOW_CONGESTED 0x1u
#define CPG_MSG_FLOW_LEN 4u

#define CPG_JL_LAST 0x1u
/* Largest head of an MCAST (everything before the data). */
#define CPG_MSG_MCAST_HEAD_MAX (20u + 1u + IPC_NAME_MAX)
#define CPG_MSG_JL_HEAD 20u
#define CPG_MSG_JL_ENTRY_MAX (8u + 1u + IPC_NAME_MAX)

struct cpg_msg {
	uint8_t type;
	uint8_t reason;	   /* LEAVE */
	uint8_t guarantee; /* MCAST */
	uint8_t frag;	   /* MCAST */
	uint32_t pid;
	uint32_t conn;
	uint32_t total_len; /* MCAST */
	struct cpg_ipc_name group;
	const uint8_t *data; /* MCAST payload, JOINLIST entries */
	size_t len;
	/* JOINLIST */
	uint8_t jl_flags;
	uint32_t ring_rep;
	uint64_t ring_seq;
	uint32_t jl_count;
	/* FLOW */
	uint8_t flow_flags;
};

struct cpg_jl_entry {
	uint32_t pid;
	uint32_t conn;
	struct cpg_ipc_name group;
};

/* Why a message was refused. */
enum cpg_msg_err {
	CPG_MSG_OK = 0,
	CPG_MSG_ERR_SHORT, /* truncated */
	CPG_MSG_ERR_TYPE,  /* unknown type */
	CPG_MSG_ERR_FIELD, /* value out of range, name too long, trailing bytes */
	CPG_MSG_ERR_COUNT_
};
const char *cpg_msg_err_name(enum cpg_msg_err e);

enum cpg_msg_err cpg_msg_decode(const uint8_t *b, size_t len, struct cpg_msg *m);
/* Entry i of a decoded JOINLIST, walking from *off (start at 0). The whole
 * list was validated by cpg_msg_decode, so this cannot fail on it. */
void cpg_msg_jl_next(const struct cpg_msg *m, size_t *off, struct cpg_jl_entry *e);

/* Encoders return the bytes written, 0 when cap is too small. */
size_t cpg_msg_joinleave_encode(uint8_t *b, size_t cap, uint8_t type, uint8_t reason, uint32_t pid,
				uint32_t conn, const struct cpg_ipc_name *group);
/* The MCAST head; the payload (len bytes) follows it in the same message. */
size_t cpg_msg_mcast_head_encode(uint8_t *b, size_t cap, uint8_t guarantee, uint8_t frag,
				 uint32_t pid, uint32_t conn, uint32_t total_len,
				 const struct cpg_ipc_name *group);
size_t cpg_msg_jl_head_encode(uint8_t *b, size_t cap, uint8_t flags, uint32_t rep, uint64_t seq,
			      uint32_t count);
size_t cpg_msg_jl_entry_encode(uint8_t *b, size_t cap, const struct cpg_jl_entry *e);
size_t cpg_msg_flow_encode(uint8_t *b, size_t cap, uint8_t flags);

#endif
