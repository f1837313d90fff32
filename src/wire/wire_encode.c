/* Wire encoders and the MCAST builder. Encoders refuse (return 0) anything the
 * decoder would reject, so a packet that leaves this node always decodes on
 * the others; the packet type comes from the encoder, never from h->type. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"
#include "wire_int.h"

/* Receivers drop anything over WIRE_MAX_PACKET, so a larger buffer buys nothing. */
static size_t wire_eff_cap(size_t cap)
{
	return cap < WIRE_MAX_PACKET ? cap : WIRE_MAX_PACKET;
}

static uint8_t *wire_wr_hdr(uint8_t *p, uint8_t type, const struct wire_hdr *h)
{
	wire_wr_u16(&p, WIRE_MAGIC);
	wire_wr_u8(&p, WIRE_VERSION);
	wire_wr_u8(&p, type);
	wire_wr_u32(&p, h->cluster_id);
	wire_wr_u32(&p, h->sender);
	return p;
}

size_t wire_encode_token(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			 const struct wire_token *t)
{
	size_t len = WIRE_HDR_LEN + WIRE_TOKEN_BODY_LEN + (size_t)t->rtr_count * 8u;
	uint8_t *p;

	if (t->rtr_count > WIRE_RTR_MAX || t->retrans_flg > 1 || t->aru > t->seq)
		return 0;
	if (len > wire_eff_cap(cap))
		return 0;
	p = wire_wr_hdr(buf, WIRE_TOKEN, h);
	wire_wr_ring_id(&p, &t->ring_id);
	wire_wr_u64(&p, t->token_seq);
	wire_wr_u64(&p, t->seq);
	wire_wr_u64(&p, t->aru);
	wire_wr_u32(&p, t->aru_id);
	wire_wr_u32(&p, t->backlog);
	wire_wr_u32(&p, t->fcc);
	wire_wr_u8(&p, t->retrans_flg);
	wire_wr_u16(&p, t->rtr_count);
	for (unsigned i = 0; i < t->rtr_count; i++)
		wire_wr_u64(&p, t->rtr[i]);
	return len;
}

static int wire_nodes_valid(const uint32_t *ids, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (ids[i] == 0)
			return 0;
	return 1;
}

size_t wire_encode_join(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			const struct wire_join *j)
{
	size_t len = WIRE_HDR_LEN + WIRE_JOIN_BODY_LEN + 2u +
		     ((size_t)j->proc_count + j->fail_count) * 4u;
	uint8_t *p;

	if (j->proc_count > WIRE_MAX_NODES || j->fail_count > WIRE_MAX_NODES)
		return 0;
	if (!wire_nodes_valid(j->proc, j->proc_count) || !wire_nodes_valid(j->fail, j->fail_count))
		return 0;
	if (len > wire_eff_cap(cap))
		return 0;
	p = wire_wr_hdr(buf, WIRE_JOIN, h);
	wire_wr_u64(&p, j->ring_seq);
	wire_wr_u16(&p, j->proc_count);
	for (unsigned i = 0; i < j->proc_count; i++)
		wire_wr_u32(&p, j->proc[i]);
	wire_wr_u16(&p, j->fail_count);
	for (unsigned i = 0; i < j->fail_count; i++)
		wire_wr_u32(&p, j->fail[i]);
	return len;
}

size_t wire_encode_commit(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			  const struct wire_commit *c)
{
	size_t len =
		WIRE_HDR_LEN + WIRE_COMMIT_BODY_LEN + (size_t)c->memb_count * WIRE_COMMIT_MEMB_LEN;
	uint8_t *p;

	if (c->memb_count == 0 || c->memb_count > WIRE_MAX_NODES || c->memb_index > c->memb_count)
		return 0;
	for (unsigned i = 0; i < c->memb_count; i++)
		if (c->memb[i].received_flg > 1)
			return 0;
	if (len > wire_eff_cap(cap))
		return 0;
	p = wire_wr_hdr(buf, WIRE_COMMIT, h);
	wire_wr_ring_id(&p, &c->ring_id);
	wire_wr_u64(&p, c->token_seq);
	wire_wr_u16(&p, c->memb_count);
	wire_wr_u16(&p, c->memb_index);
	for (unsigned i = 0; i < c->memb_count; i++) {
		const struct wire_commit_memb *m = &c->memb[i];

		wire_wr_u32(&p, m->nodeid);
		wire_wr_ring_id(&p, &m->old_ring_id);
		wire_wr_u64(&p, m->my_aru);
		wire_wr_u64(&p, m->high_seq);
		wire_wr_u8(&p, m->received_flg);
	}
	return len;
}

static size_t wire_encode_ring_only(uint8_t *buf, size_t cap, uint8_t type,
				    const struct wire_hdr *h, const struct wire_ring_id *r)
{
	uint8_t *p;

	if (WIRE_HDR_LEN + WIRE_RING_ID_LEN > cap)
		return 0;
	p = wire_wr_hdr(buf, type, h);
	wire_wr_ring_id(&p, r);
	return WIRE_HDR_LEN + WIRE_RING_ID_LEN;
}

size_t wire_encode_merge_detect(uint8_t *buf, size_t cap, const struct wire_hdr *h,
				const struct wire_merge_detect *m)
{
	return wire_encode_ring_only(buf, cap, WIRE_MERGE_DETECT, h, &m->ring_id);
}

size_t wire_encode_leave(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			 const struct wire_leave *l)
{
	return wire_encode_ring_only(buf, cap, WIRE_LEAVE, h, &l->ring_id);
}

size_t wire_encode_hold_cancel(uint8_t *buf, size_t cap, const struct wire_hdr *h,
			       const struct wire_hold_cancel *c)
{
	return wire_encode_ring_only(buf, cap, WIRE_HOLD_CANCEL, h, &c->ring_id);
}

/* A builder whose begin failed keeps len 0, which makes every later call fail
 * instead of writing into a buffer that is too small. */
size_t wire_mcast_begin(struct wire_mcast_builder *b, uint8_t *buf, size_t cap,
			const struct wire_hdr *h, const struct wire_ring_id *ring_id, uint64_t seq)
{
	uint8_t *p;

	b->buf = buf;
	b->cap = wire_eff_cap(cap);
	b->len = 0;
	b->item_count = 0;
	b->flags = 0;
	if (b->cap < WIRE_MCAST_FIXED_LEN)
		return 0;
	p = wire_wr_hdr(buf, WIRE_MCAST, h);
	wire_wr_ring_id(&p, ring_id);
	wire_wr_u64(&p, seq);
	wire_wr_u8(&p, 0);
	wire_wr_u16(&p, 0);
	b->len = WIRE_MCAST_FIXED_LEN;
	return b->len;
}

size_t wire_mcast_add_item(struct wire_mcast_builder *b, uint8_t guarantee, uint8_t frag,
			   const void *data, uint32_t len)
{
	return wire_mcast_add_frag(b, guarantee, frag, 0, data, len);
}

size_t wire_mcast_add_frag(struct wire_mcast_builder *b, uint8_t guarantee, uint8_t frag,
			   uint32_t frag_pos, const void *data, uint32_t len)
{
	uint8_t *p;
	uint32_t hl = wire_item_hdr_len(frag);

	if (b->len < WIRE_MCAST_FIXED_LEN || (b->flags & WIRE_MCAST_ENCAP) ||
	    b->item_count == UINT16_MAX)
		return 0;
	if (guarantee > 1 || (frag & ~WIRE_FRAG_ALL))
		return 0;
	if (b->cap - b->len < hl || len > b->cap - b->len - hl)
		return 0;
	p = b->buf + b->len;
	wire_wr_u8(&p, guarantee);
	wire_wr_u8(&p, frag);
	wire_wr_u32(&p, len);
	if (hl != WIRE_ITEM_HDR_LEN)
		wire_wr_u32(&p, frag_pos);
	if (len)
		memcpy(p, data, len);
	b->len += hl + len;
	b->item_count++;
	if (guarantee == 1 && (frag & WIRE_FRAG_LAST))
		b->flags |= WIRE_MCAST_HAS_SAFE;
	return b->len;
}

size_t wire_mcast_add_raw(struct wire_mcast_builder *b, const void *data, uint32_t len)
{
	if (b->len < WIRE_MCAST_FIXED_LEN || (b->flags & WIRE_MCAST_ENCAP) || b->item_count)
		return 0;
	if (len == 0 || len > b->cap - b->len)
		return 0;
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->flags |= WIRE_MCAST_ENCAP;
	return b->len;
}

size_t wire_mcast_finish(struct wire_mcast_builder *b)
{
	/* An MCAST with nothing in it is invalid on the wire. */
	if (b->len < WIRE_MCAST_FIXED_LEN)
		return 0;
	if (!(b->flags & WIRE_MCAST_ENCAP) && b->item_count == 0)
		return 0;
	b->buf[WIRE_OFF_MCAST_FLAGS] = b->flags;
	wire_put_u16(b->buf + WIRE_OFF_MCAST_COUNT, b->item_count);
	return b->len;
}

int wire_item_next(const struct wire_mcast *m, uint32_t *off, struct wire_item *it)
{
	const uint8_t *p;
	uint32_t left;

	/* Checked again although decode validated the payload: this costs two
	 * compares and keeps a misused iterator inside the buffer. */
	if ((m->flags & WIRE_MCAST_ENCAP) || *off >= m->payload_len)
		return 0;
	left = m->payload_len - *off;
	if (left < WIRE_ITEM_HDR_LEN)
		return 0;
	p = m->payload + *off;
	it->guarantee = p[0];
	it->frag = p[1];
	it->len = wire_get_u32(p + 2);
	uint32_t hl = wire_item_hdr_len(it->frag);
	if (left < hl || it->len > left - hl)
		return 0;
	it->frag_pos = hl == WIRE_ITEM_HDR_LEN ? 0 : wire_get_u32(p + WIRE_ITEM_HDR_LEN);
	it->data = p + hl;
	*off += hl + it->len;
	return 1;
}

void wire_mcast_set_seq(uint8_t *buf, uint64_t seq)
{
	wire_put_u64(buf + WIRE_OFF_MCAST_SEQ, seq);
}
