/* Cohort wire codec: every Totem packet is encoded and decoded here, field by
 * field, in network byte order, with every length checked. Nothing outside this
 * module interprets packet bytes. */
#ifndef COHORT_WIRE_H
#define COHORT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0xC0A7u /* first two bytes of every packet */
#define WIRE_VERSION 1u
#define WIRE_HDR_LEN 12u    /* magic u16, version u8, type u8, cluster u32, sender u32 */
#define WIRE_MAX_NODES 384u /* Corosync's limit per ring */
#define WIRE_RTR_MAX 256u   /* retransmission requests carried by one token */
#define WIRE_MAX_PACKET 65535u

enum wire_type {
	WIRE_MCAST = 1,	       /* ordered data packet (or encapsulated old-ring packet) */
	WIRE_TOKEN = 2,	       /* regular (ORF) token */
	WIRE_JOIN = 3,	       /* membership join */
	WIRE_COMMIT = 4,       /* commit token */
	WIRE_MERGE_DETECT = 5, /* representative announces its ring */
	WIRE_LEAVE = 6,	       /* graceful departure */
	WIRE_HOLD_CANCEL = 7,  /* a member has messages: an idle held token must go */
};

/* Reasons a packet is rejected; index into counters. WIRE_OK is 0. */
enum wire_err {
	WIRE_OK = 0,
	WIRE_ERR_TRUNCATED, /* shorter than a field it announces */
	WIRE_ERR_MAGIC,
	WIRE_ERR_VERSION,
	WIRE_ERR_CLUSTER, /* other cluster id */
	WIRE_ERR_TYPE,	  /* unknown packet type */
	WIRE_ERR_LENGTH,  /* trailing bytes, or over WIRE_MAX_PACKET */
	WIRE_ERR_FIELD,	  /* a count or value outside its range */
	WIRE_ERR_COUNT_
};
const char *wire_err_name(enum wire_err e);

struct wire_ring_id {
	uint32_t rep;
	uint64_t seq;
};

struct wire_hdr {
	uint8_t type;
	uint32_t cluster_id;
	uint32_t sender;
};

/* MCAST flags */
#define WIRE_MCAST_ENCAP 0x01u	  /* payload is one whole encoded MCAST of an old ring */
#define WIRE_MCAST_HAS_SAFE 0x02u /* some item completes a SAFE message */

/* Item (one application message or fragment of one) inside an MCAST payload:
 * u8 guarantee, u8 frag flags, u32 len, then for a fragment (frag other than
 * FIRST|LAST) u32 frag_pos, then len bytes. frag_pos is the whole message's
 * length in a FIRST fragment and the fragment's byte offset in the others, so
 * a receiver can tell a complete message from one with a piece missing. */
#define WIRE_ITEM_HDR_LEN 6u
#define WIRE_FRAG_HDR_LEN 10u
#define WIRE_FRAG_FIRST 0x01u
#define WIRE_FRAG_LAST 0x02u
#define WIRE_MCAST_FIXED_LEN (WIRE_HDR_LEN + 12u + 8u + 1u + 2u) /* before payload */

struct wire_mcast {
	struct wire_ring_id ring_id;
	uint64_t seq;
	uint8_t flags;
	uint16_t item_count;	/* 0 when ENCAP */
	const uint8_t *payload; /* view into the decoded buffer */
	uint32_t payload_len;
};

struct wire_item {
	uint8_t guarantee; /* 0 agreed, 1 safe */
	uint8_t frag;	   /* WIRE_FRAG_* */
	uint32_t frag_pos; /* fragments only: total length (FIRST) or offset */
	uint32_t len;
	const uint8_t *data;
};

struct wire_token {
	struct wire_ring_id ring_id;
	uint64_t token_seq; /* incremented at every hop; duplicates are dropped */
	uint64_t seq;	    /* highest message seq assigned on the ring */
	uint64_t aru;
	uint32_t aru_id;
	uint32_t backlog;
	uint32_t fcc;
	uint8_t retrans_flg;
	uint16_t rtr_count;
	uint64_t rtr[WIRE_RTR_MAX];
};

struct wire_join {
	uint64_t ring_seq; /* highest ring seq the sender has seen */
	uint16_t proc_count;
	uint16_t fail_count;
	uint32_t proc[WIRE_MAX_NODES];
	uint32_t fail[WIRE_MAX_NODES];
};

struct wire_commit_memb {
	uint32_t nodeid;
	struct wire_ring_id old_ring_id;
	uint64_t my_aru;
	uint64_t high_seq;
	uint8_t received_flg;
};

struct wire_commit {
	struct wire_ring_id ring_id;
	uint64_t token_seq;
	uint16_t memb_count;
	uint16_t memb_index; /* entries filled so far */
	struct wire_commit_memb memb[WIRE_MAX_NODES];
};

struct wire_merge_detect {
	struct wire_ring_id ring_id;
};

struct wire_leave {
	struct wire_ring_id ring_id;
};

struct wire_hold_cancel {
	struct wire_ring_id ring_id;
};

struct wire_packet {
	struct wire_hdr hdr;
	union {
		struct wire_mcast mcast;
		struct wire_token token;
		struct wire_join join;
		struct wire_commit commit;
		struct wire_merge_detect merge;
		struct wire_leave leave;
		struct wire_hold_cancel hold_cancel;
	} u;
};

/* Decode buf into out. Checks magic, version, cluster id (expect_cluster_id),
 * type, every count against its maximum, every length against the buffer, and
 * that no bytes trail. For MCAST without ENCAP it also walks the items and
 * checks that they fill the payload exactly and match item_count. */
enum wire_err wire_decode(const uint8_t *buf, size_t len, uint32_t expect_cluster_id,
			  struct wire_packet *out);

/* Encoders write into buf (capacity cap) and return the bytes written, or 0
 * when the packet does not fit or a count is over its maximum. */
size_t wire_encode_token(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			 const struct wire_token *t);
size_t wire_encode_join(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			const struct wire_join *j);
size_t wire_encode_commit(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			  const struct wire_commit *c);
size_t wire_encode_merge_detect(uint8_t *buf, size_t cap, const struct wire_hdr *h,
				const struct wire_merge_detect *m);
size_t wire_encode_leave(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			 const struct wire_leave *l);
size_t wire_encode_hold_cancel(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			       const struct wire_hold_cancel *c);

/* MCAST is built incrementally so that messages are packed in place.
 * begin writes the fixed part and returns its length (0 if cap too small);
 * add_item appends one item and returns the new total length (0 if it does
 * not fit, leaving the packet unchanged); finish patches item_count and flags.
 * For ENCAP packets use add_raw once with the inner packet bytes. */
struct wire_mcast_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t item_count;
	uint8_t flags;
};
size_t wire_mcast_begin(struct wire_mcast_builder *b, uint8_t *buf, size_t cap,
			const struct wire_hdr *h, const struct wire_ring_id *ring_id, uint64_t seq);
size_t wire_mcast_add_item(struct wire_mcast_builder *b, uint8_t guarantee, uint8_t frag,
			   const void *data, uint32_t len);
/* The same with the fragment position (add_item writes 0 for fragments). */
size_t wire_mcast_add_frag(struct wire_mcast_builder *b, uint8_t guarantee, uint8_t frag,
			   uint32_t frag_pos, const void *data, uint32_t len);
/* Header bytes of an item with these frag flags. */
static inline uint32_t wire_item_hdr_len(uint8_t frag)
{
	return (frag & 3u) == 3u ? WIRE_ITEM_HDR_LEN : WIRE_FRAG_HDR_LEN;
}
size_t wire_mcast_add_raw(struct wire_mcast_builder *b, const void *data, uint32_t len);
size_t wire_mcast_finish(struct wire_mcast_builder *b);

/* Iterate the items of a decoded (validated) MCAST payload. *off starts at 0.
 * Returns 1 and fills it while items remain, 0 at the end. */
int wire_item_next(const struct wire_mcast *m, uint32_t *off, struct wire_item *it);

/* Rewrite the seq field of an encoded MCAST in place (used when a queued
 * packet gets its sequence number at send time). */
void wire_mcast_set_seq(uint8_t *buf, uint64_t seq);

#endif
