/* Wire decoder. Each body decoder first checks that the fixed run of fields it
 * is about to read is present, then reads it with unchecked cursor helpers, then
 * checks values, then checks the variable part against what is left. That order
 * makes a valid packet cut anywhere fail as "truncated", never as something
 * else, and keeps the hot path (MCAST) to a handful of compares. */
#include <stddef.h>
#include <stdint.h>

#include "wire.h"
#include "wire_int.h"

static const char *const wire_err_names[WIRE_ERR_COUNT_] = {
	[WIRE_OK] = "ok",
	[WIRE_ERR_TRUNCATED] = "truncated",
	[WIRE_ERR_MAGIC] = "bad-magic",
	[WIRE_ERR_VERSION] = "bad-version",
	[WIRE_ERR_CLUSTER] = "bad-cluster",
	[WIRE_ERR_TYPE] = "bad-type",
	[WIRE_ERR_LENGTH] = "bad-length",
	[WIRE_ERR_FIELD] = "bad-field",
};

const char *wire_err_name(enum wire_err e)
{
	if ((unsigned)e >= WIRE_ERR_COUNT_)
		return "unknown";
	return wire_err_names[e];
}

/* Walks a non-ENCAP payload once. The count is what the sender announced, so
 * running out of bytes before it is reached is a truncation, and bytes left
 * after it are trailing bytes. */
static enum wire_err wire_check_items(const struct wire_mcast *m)
{
	const uint8_t *p = m->payload;
	size_t left = m->payload_len;
	unsigned safe = 0;

	for (unsigned i = 0; i < m->item_count; i++) {
		if (left < WIRE_ITEM_HDR_LEN)
			return WIRE_ERR_TRUNCATED;
		uint8_t g = p[0], f = p[1];
		uint32_t ilen = wire_get_u32(p + 2), hl;

		if (g > 1 || (f & ~WIRE_FRAG_ALL))
			return WIRE_ERR_FIELD;
		hl = wire_item_hdr_len(f);
		if (left < hl)
			return WIRE_ERR_TRUNCATED;
		left -= hl;
		if (ilen > left)
			return WIRE_ERR_TRUNCATED;
		safe |= g & (f >> 1); /* guarantee 1 and FRAG_LAST */
		p += hl + ilen;
		left -= ilen;
	}
	if (left != 0)
		return WIRE_ERR_LENGTH;
	/* The core trusts HAS_SAFE to skip the walk, so it must not lie. */
	if (!!(m->flags & WIRE_MCAST_HAS_SAFE) != safe)
		return WIRE_ERR_FIELD;
	return WIRE_OK;
}

static enum wire_err wire_decode_mcast(const uint8_t *p, size_t n, struct wire_mcast *m)
{
	if (n < WIRE_MCAST_BODY_LEN)
		return WIRE_ERR_TRUNCATED;
	wire_rd_ring_id(&p, &m->ring_id);
	m->seq = wire_rd_u64(&p);
	m->flags = wire_rd_u8(&p);
	m->item_count = wire_rd_u16(&p);
	m->payload = p;
	m->payload_len = (uint32_t)(n - WIRE_MCAST_BODY_LEN);

	if (m->flags & ~WIRE_MCAST_FLAGS_ALL)
		return WIRE_ERR_FIELD;
	if (m->flags & WIRE_MCAST_ENCAP) {
		if ((m->flags & WIRE_MCAST_HAS_SAFE) || m->item_count != 0)
			return WIRE_ERR_FIELD;
		/* The inner packet is decoded separately by the core. */
		return m->payload_len ? WIRE_OK : WIRE_ERR_TRUNCATED;
	}
	if (m->item_count == 0)
		return WIRE_ERR_FIELD;
	return wire_check_items(m);
}

static enum wire_err wire_decode_token(const uint8_t *p, size_t n, struct wire_token *t)
{
	if (n < WIRE_TOKEN_BODY_LEN)
		return WIRE_ERR_TRUNCATED;
	wire_rd_ring_id(&p, &t->ring_id);
	t->token_seq = wire_rd_u64(&p);
	t->seq = wire_rd_u64(&p);
	t->aru = wire_rd_u64(&p);
	t->aru_id = wire_rd_u32(&p);
	t->backlog = wire_rd_u32(&p);
	t->fcc = wire_rd_u32(&p);
	t->retrans_flg = wire_rd_u8(&p);
	t->rtr_count = wire_rd_u16(&p);

	if (t->retrans_flg > 1 || t->aru > t->seq || t->rtr_count > WIRE_RTR_MAX)
		return WIRE_ERR_FIELD;
	n -= WIRE_TOKEN_BODY_LEN;
	if (n < (size_t)t->rtr_count * 8u)
		return WIRE_ERR_TRUNCATED;
	if (n > (size_t)t->rtr_count * 8u)
		return WIRE_ERR_LENGTH;
	for (unsigned i = 0; i < t->rtr_count; i++)
		t->rtr[i] = wire_rd_u64(&p);
	return WIRE_OK;
}

/* Reads count node ids; zero is never a valid node id. */
static int wire_rd_nodes(const uint8_t **p, uint32_t *ids, unsigned count)
{
	int zero = 0;

	for (unsigned i = 0; i < count; i++) {
		ids[i] = wire_rd_u32(p);
		zero |= ids[i] == 0;
	}
	return !zero;
}

static enum wire_err wire_decode_join(const uint8_t *p, size_t n, struct wire_join *j)
{
	size_t need;

	if (n < WIRE_JOIN_BODY_LEN)
		return WIRE_ERR_TRUNCATED;
	j->ring_seq = wire_rd_u64(&p);
	j->proc_count = wire_rd_u16(&p);
	if (j->proc_count > WIRE_MAX_NODES)
		return WIRE_ERR_FIELD;
	n -= WIRE_JOIN_BODY_LEN;
	need = (size_t)j->proc_count * 4u + 2u;
	if (n < need)
		return WIRE_ERR_TRUNCATED;
	if (!wire_rd_nodes(&p, j->proc, j->proc_count))
		return WIRE_ERR_FIELD;
	j->fail_count = wire_rd_u16(&p);
	if (j->fail_count > WIRE_MAX_NODES)
		return WIRE_ERR_FIELD;
	n -= need;
	need = (size_t)j->fail_count * 4u;
	if (n < need)
		return WIRE_ERR_TRUNCATED;
	if (n > need)
		return WIRE_ERR_LENGTH;
	if (!wire_rd_nodes(&p, j->fail, j->fail_count))
		return WIRE_ERR_FIELD;
	return WIRE_OK;
}

static enum wire_err wire_decode_commit(const uint8_t *p, size_t n, struct wire_commit *c)
{
	size_t need;

	if (n < WIRE_COMMIT_BODY_LEN)
		return WIRE_ERR_TRUNCATED;
	wire_rd_ring_id(&p, &c->ring_id);
	c->token_seq = wire_rd_u64(&p);
	c->memb_count = wire_rd_u16(&p);
	c->memb_index = wire_rd_u16(&p);
	if (c->memb_count == 0 || c->memb_count > WIRE_MAX_NODES || c->memb_index > c->memb_count)
		return WIRE_ERR_FIELD;
	n -= WIRE_COMMIT_BODY_LEN;
	need = (size_t)c->memb_count * WIRE_COMMIT_MEMB_LEN;
	if (n < need)
		return WIRE_ERR_TRUNCATED;
	if (n > need)
		return WIRE_ERR_LENGTH;
	for (unsigned i = 0; i < c->memb_count; i++) {
		struct wire_commit_memb *m = &c->memb[i];

		m->nodeid = wire_rd_u32(&p);
		wire_rd_ring_id(&p, &m->old_ring_id);
		m->my_aru = wire_rd_u64(&p);
		m->high_seq = wire_rd_u64(&p);
		m->received_flg = wire_rd_u8(&p);
		if (m->received_flg > 1)
			return WIRE_ERR_FIELD;
	}
	return WIRE_OK;
}

/* MERGE_DETECT, LEAVE and HOLD_CANCEL carry only a ring id. */
static enum wire_err wire_decode_ring_only(const uint8_t *p, size_t n, struct wire_ring_id *r)
{
	if (n < WIRE_RING_ID_LEN)
		return WIRE_ERR_TRUNCATED;
	if (n > WIRE_RING_ID_LEN)
		return WIRE_ERR_LENGTH;
	wire_rd_ring_id(&p, r);
	return WIRE_OK;
}

static enum wire_err wire_decode_body(uint8_t type, const uint8_t *p, size_t n,
				      struct wire_packet *out)
{
	switch (type) {
	case WIRE_MCAST:
		return wire_decode_mcast(p, n, &out->u.mcast);
	case WIRE_TOKEN:
		return wire_decode_token(p, n, &out->u.token);
	case WIRE_JOIN:
		return wire_decode_join(p, n, &out->u.join);
	case WIRE_COMMIT:
		return wire_decode_commit(p, n, &out->u.commit);
	case WIRE_MERGE_DETECT:
		return wire_decode_ring_only(p, n, &out->u.merge.ring_id);
	case WIRE_LEAVE:
		return wire_decode_ring_only(p, n, &out->u.leave.ring_id);
	case WIRE_HOLD_CANCEL:
		return wire_decode_ring_only(p, n, &out->u.hold_cancel.ring_id);
	default:
		return WIRE_ERR_TYPE;
	}
}

enum wire_err wire_decode(const uint8_t *buf, size_t len, uint32_t expect_cluster_id,
			  struct wire_packet *out)
{
	enum wire_err e;

	if (len > WIRE_MAX_PACKET)
		e = WIRE_ERR_LENGTH;
	else if (len < WIRE_HDR_LEN)
		e = WIRE_ERR_TRUNCATED;
	else if (wire_get_u16(buf) != WIRE_MAGIC)
		e = WIRE_ERR_MAGIC;
	else if (buf[2] != WIRE_VERSION)
		e = WIRE_ERR_VERSION;
	else if (wire_get_u32(buf + 4) != expect_cluster_id)
		e = WIRE_ERR_CLUSTER;
	else
		e = wire_decode_body(buf[3], buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN, out);

	if (e != WIRE_OK) {
		/* Type 0 matches no case, so a caller that forgets the result
		 * still cannot act on a half-filled body. */
		out->hdr.type = 0;
		return e;
	}
	out->hdr.type = buf[3];
	out->hdr.cluster_id = expect_cluster_id;
	out->hdr.sender = wire_get_u32(buf + 8);
	return WIRE_OK;
}
