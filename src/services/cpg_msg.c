/* CPG ring message codec (see cpg_msg.h). */
#include <string.h>

#include "services/cpg_msg.h"

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p ? p[0] : 0;
}

static uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t rd_u64(struct rd *r)
{
	uint64_t hi = rd_u32(r);

	return hi << 32 | rd_u32(r);
}

/* false: the name is longer than allowed (the reader stays valid). */
static bool rd_name(struct rd *r, struct cpg_ipc_name *n)
{
	uint8_t l = rd_u8(r);
	const uint8_t *p = rd_take(r, l);

	n->len = 0;
	if (!p)
		return true;
	if (l > IPC_NAME_MAX)
		return false;
	memcpy(n->value, p, l);
	n->len = l;
	return true;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *cpg_msg_err_name(enum cpg_msg_err e)
{
	switch (e) {
	case CPG_MSG_OK:
		return "ok";
	case CPG_MSG_ERR_SHORT:
		return "truncated";
	case CPG_MSG_ERR_TYPE:
		return "unknown type";
	case CPG_MSG_ERR_FIELD:
		return "bad field";
	case CPG_MSG_ERR_COUNT_:
		break;
	}
	return "unknown";
}

static enum cpg_msg_err decode_jl(struct rd *r, struct cpg_msg *m)
{
	m->ring_rep = rd_u32(r);
	m->ring_seq = rd_u64(r);
	m->jl_count = rd_u32(r);
	if (r->bad)
		return CPG_MSG_ERR_SHORT;
	if (m->jl_flags & ~CPG_JL_LAST || m->jl_count > (r->len - r->off) / 9)
		return CPG_MSG_ERR_FIELD;
	m->data = r->p + r->off;
	for (uint32_t i = 0; i < m->jl_count; i++) {
		struct cpg_ipc_name n;

		rd_take(r, 8);
		if (!rd_name(r, &n))
			return CPG_MSG_ERR_FIELD;
	}
	if (r->bad)
		return CPG_MSG_ERR_SHORT;
	m->len = (size_t)(r->p + r->off - m->data);
	return r->off == r->len ? CPG_MSG_OK : CPG_MSG_ERR_FIELD;
}

static enum cpg_msg_err decode_body(struct rd *r, struct cpg_msg *m, uint8_t b1, uint8_t b2)
{
	bool name_ok;

	m->pid = rd_u32(r);
	m->conn = rd_u32(r);
	if (m->type == CPG_MSG_MCAST)
		m->total_len = rd_u32(r);
	name_ok = rd_name(r, &m->group);
	if (r->bad)
		return CPG_MSG_ERR_SHORT;
	if (!name_ok)
		return CPG_MSG_ERR_FIELD;
	switch (m->type) {
	case CPG_MSG_JOIN:
		return b1 || b2 || r->off != r->len ? CPG_MSG_ERR_FIELD : CPG_MSG_OK;
	case CPG_MSG_LEAVE:
		m->reason = b1;
		if (b2 || r->off != r->len || (b1 != 2 && b1 != 5))
			return CPG_MSG_ERR_FIELD;
		return CPG_MSG_OK;
	default:
		m->guarantee = b1;
		m->frag = b2;
		m->data = r->p + r->off;
		m->len = r->len - r->off;
		if (b1 > 3 || b2 > CPG_FRAG_WHOLE || m->len > m->total_len ||
		    m->total_len > CPG_IPC_MAX_MSG ||
		    (b2 == CPG_FRAG_WHOLE && m->len != m->total_len))
			return CPG_MSG_ERR_FIELD;
		return CPG_MSG_OK;
	}
}

enum cpg_msg_err cpg_msg_decode(const uint8_t *b, size_t len, struct cpg_msg *m)
{
	struct rd r = { .p = b, .len = len };
	uint8_t b1, b2, b3;
	enum cpg_msg_err e;

	memset(m, 0, sizeof(*m));
	m->type = rd_u8(&r);
	b1 = rd_u8(&r);
	b2 = rd_u8(&r);
	b3 = rd_u8(&r);
	if (r.bad)
		return CPG_MSG_ERR_SHORT;
	switch (m->type) {
	case CPG_MSG_JOIN:
	case CPG_MSG_LEAVE:
		e = b3 ? CPG_MSG_ERR_FIELD : decode_body(&r, m, b1, b2);
		break;
	case CPG_MSG_MCAST:
		e = b3 ? CPG_MSG_ERR_FIELD : decode_body(&r, m, b1, b2);
		break;
	case CPG_MSG_JOINLIST:
		m->jl_flags = b1;
		e = b2 || b3 ? CPG_MSG_ERR_FIELD : decode_jl(&r, m);
		break;
	case CPG_MSG_FLOW:
		m->flow_flags = b1;
		e = b1 & ~CPG_FLOW_CONGESTED || b2 || b3 || r.off != r.len ? CPG_MSG_ERR_FIELD :
									     CPG_MSG_OK;
		break;
	default:
		e = CPG_MSG_ERR_TYPE;
	}
	if (e != CPG_MSG_OK)
		memset(m, 0, sizeof(*m));
	return e;
}

void cpg_msg_jl_next(const struct cpg_msg *m, size_t *off, struct cpg_jl_entry *e)
{
	struct rd r = { .p = m->data, .len = m->len, .off = *off };

	e->pid = rd_u32(&r);
	e->conn = rd_u32(&r);
	rd_name(&r, &e->group);
	*off = r.off;
}

static size_t put_name(uint8_t *b, const struct cpg_ipc_name *n)
{
	b[0] = (uint8_t)n->len;
	memcpy(b + 1, n->value, n->len);
	return 1 + n->len;
}

size_t cpg_msg_joinleave_encode(uint8_t *b, size_t cap, uint8_t type, uint8_t reason, uint32_t pid,
				uint32_t conn, const struct cpg_ipc_name *group)
{
	if (group->len > IPC_NAME_MAX || cap < 12 + 1 + group->len)
		return 0;
	b[0] = type;
	b[1] = type == CPG_MSG_LEAVE ? reason : 0;
	b[2] = b[3] = 0;
	put_u32(b + 4, pid);
	put_u32(b + 8, conn);
	return 12 + put_name(b + 12, group);
}

size_t cpg_msg_mcast_head_encode(uint8_t *b, size_t cap, uint8_t guarantee, uint8_t frag,
				 uint32_t pid, uint32_t conn, uint32_t total_len,
				 const struct cpg_ipc_name *group)
{
	if (group->len > IPC_NAME_MAX || cap < 16 + 1 + group->len)
		return 0;
	b[0] = CPG_MSG_MCAST;
	b[1] = guarantee;
	b[2] = frag;
	b[3] = 0;
	put_u32(b + 4, pid);
	put_u32(b + 8, conn);
	put_u32(b + 12, total_len);
	return 16 + put_name(b + 16, group);
}

size_t cpg_msg_jl_head_encode(uint8_t *b, size_t cap, uint8_t flags, uint32_t rep, uint64_t seq,
			      uint32_t count)
{
	if (cap < CPG_MSG_JL_HEAD)
		return 0;
	b[0] = CPG_MSG_JOINLIST;
	b[1] = flags;
	b[2] = b[3] = 0;
	put_u32(b + 4, rep);
	put_u32(b + 8, (uint32_t)(seq >> 32));
	put_u32(b + 12, (uint32_t)seq);
	put_u32(b + 16, count);
	return CPG_MSG_JL_HEAD;
}

size_t cpg_msg_jl_entry_encode(uint8_t *b, size_t cap, const struct cpg_jl_entry *e)
{
	if (e->group.len > IPC_NAME_MAX || cap < 9 + e->group.len)
		return 0;
	put_u32(b, e->pid);
	put_u32(b + 4, e->conn);
	return 8 + put_name(b + 8, &e->group);
}

size_t cpg_msg_flow_encode(uint8_t *b, size_t cap, uint8_t flags)
{
	if (cap < CPG_MSG_FLOW_LEN)
		return 0;
	b[0] = CPG_MSG_FLOW;
	b[1] = flags;
	b[2] = b[3] = 0;
	return CPG_MSG_FLOW_LEN;
}
