/* CPG bodies of the local IPC (see ipc_cpg.h and docs/ipc.md). */
#include <errno.h>
#include <string.h>

#include "ipc/ipc_cpg.h"

#define CPG_ADDR_LEN 12u

/* A counted name inside a body; soft failure for a name that is too long. */
static int rd_name(struct ipc_rd *r, struct cpg_ipc_name *n, bool *too_long)
{
	n->len = ipc_rd_name(r, n->value, IPC_NAME_MAX, too_long);
	return r->bad ? -EPROTO : 0;
}

static int finish(const struct ipc_rd *r, bool too_long)
{
	if (!ipc_rd_done(r))
		return -EPROTO;
	return too_long ? -ENAMETOOLONG : 0;
}

int cpg_ipc_name_decode(const uint8_t *b, size_t len, struct cpg_ipc_name *out)
{
	struct ipc_rd r;
	bool too_long = false;

	ipc_rd_init(&r, b, len);
	rd_name(&r, out, &too_long);
	return finish(&r, too_long);
}

/* A whole message says its own length; a fragment can't exceed it. */
static int frag_len_check(uint8_t frag, uint32_t total_len, size_t len)
{
	if (frag == CPG_FRAG_WHOLE && total_len != len)
		return -EPROTO;
	if (total_len > CPG_IPC_MAX_MSG || len > total_len)
		return -EPROTO;
	return 0;
}

int cpg_ipc_mcast_decode(const uint8_t *b, size_t len, struct cpg_ipc_mcast *out)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	out->guarantee = ipc_rd_u8(&r);
	out->frag = ipc_rd_u8(&r);
	out->flags = ipc_rd_u16(&r);
	out->total_len = ipc_rd_u32(&r);
	out->len = ipc_rd_left(&r);
	out->data = ipc_rd_bytes(&r, out->len);
	if (r.bad || out->guarantee > 3 || out->frag > CPG_FRAG_WHOLE ||
	    (out->flags & ~CPG_MCAST_ASYNC))
		return -EPROTO;
	/* Only whole messages go without an answer. */
	if ((out->flags & CPG_MCAST_ASYNC) && out->frag != CPG_FRAG_WHOLE)
		return -EPROTO;
	return frag_len_check(out->frag, out->total_len, out->len);
}

int cpg_ipc_iter_req_decode(const uint8_t *b, size_t len, struct cpg_ipc_iter_req *out)
{
	struct ipc_rd r;
	bool too_long = false;
	uint8_t has;

	ipc_rd_init(&r, b, len);
	out->type = ipc_rd_u32(&r);
	rd_name(&r, &out->group, &too_long);
	has = ipc_rd_u8(&r);
	out->has_cursor = has == 1;
	if (has > 1)
		return -EPROTO;
	rd_name(&r, &out->cur_group, &too_long);
	out->cur_nodeid = ipc_rd_u32(&r);
	out->cur_pid = ipc_rd_u32(&r);
	return finish(&r, too_long);
}

int cpg_ipc_u32_decode(const uint8_t *b, size_t len, uint32_t *out)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	*out = ipc_rd_u32(&r);
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

static int rd_addr_list(struct ipc_rd *r, size_t n, const uint8_t **entries)
{
	if (n > r->len / CPG_ADDR_LEN)
		return -EPROTO;
	*entries = ipc_rd_bytes(r, n * CPG_ADDR_LEN);
	return r->bad ? -EPROTO : 0;
}

int cpg_ipc_members_decode(const uint8_t *b, size_t len, uint32_t *count, const uint8_t **entries)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	*count = ipc_rd_u32(&r);
	if (r.bad || rd_addr_list(&r, *count, entries))
		return -EPROTO;
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

int cpg_ipc_iter_page_decode(const uint8_t *b, size_t len, uint32_t *count, bool *more,
			     struct ipc_rd *entries)
{
	struct ipc_rd r;
	uint8_t m;

	ipc_rd_init(&r, b, len);
	*count = ipc_rd_u32(&r);
	m = ipc_rd_u8(&r);
	if (r.bad || m > 1)
		return -EPROTO;
	*more = m == 1;
	ipc_rd_init(entries, b + r.off, len - r.off);
	return 0;
}

int cpg_ipc_iter_entry_next(struct ipc_rd *r, struct cpg_ipc_iter_entry *e)
{
	bool too_long = false;

	rd_name(r, &e->group, &too_long);
	e->nodeid = ipc_rd_u32(r);
	e->pid = ipc_rd_u32(r);
	return r->bad || too_long ? -EPROTO : 0;
}

int cpg_ipc_deliver_decode(const uint8_t *b, size_t len, struct cpg_ipc_deliver *out)
{
	struct ipc_rd r;
	bool too_long = false;

	ipc_rd_init(&r, b, len);
	rd_name(&r, &out->group, &too_long);
	out->nodeid = ipc_rd_u32(&r);
	out->pid = ipc_rd_u32(&r);
	out->stream = ipc_rd_u32(&r);
	out->frag = ipc_rd_u8(&r);
	out->guarantee = ipc_rd_u8(&r);
	if (ipc_rd_u16(&r) != 0)
		return -EPROTO;
	out->total_len = ipc_rd_u32(&r);
	out->len = ipc_rd_left(&r);
	out->data = ipc_rd_bytes(&r, out->len);
	if (r.bad || too_long || out->frag > CPG_FRAG_WHOLE || out->guarantee > 3)
		return -EPROTO;
	return frag_len_check(out->frag, out->total_len, out->len);
}

int cpg_ipc_confchg_decode(const uint8_t *b, size_t len, struct cpg_ipc_confchg *out)
{
	struct ipc_rd r;
	bool too_long = false;
	uint64_t n;

	ipc_rd_init(&r, b, len);
	rd_name(&r, &out->group, &too_long);
	out->n_memb = ipc_rd_u32(&r);
	out->n_left = ipc_rd_u32(&r);
	out->n_joined = ipc_rd_u32(&r);
	n = (uint64_t)out->n_memb + out->n_left + out->n_joined;
	if (r.bad || too_long || n > len || rd_addr_list(&r, (size_t)n, &out->entries))
		return -EPROTO;
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

int cpg_ipc_totem_decode(const uint8_t *b, size_t len, struct cpg_ipc_totem *out)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	out->rep = ipc_rd_u32(&r);
	out->seq = ipc_rd_u64(&r);
	out->count = ipc_rd_u32(&r);
	if (r.bad || out->count > len / 4)
		return -EPROTO;
	out->ids = ipc_rd_bytes(&r, (size_t)out->count * 4);
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

struct cpg_ipc_addr cpg_ipc_addr_at(const uint8_t *entries, size_t i)
{
	const uint8_t *p = entries + i * CPG_ADDR_LEN;

	return (struct cpg_ipc_addr){ .nodeid = ipc_get_u32(p),
				      .pid = ipc_get_u32(p + 4),
				      .reason = ipc_get_u32(p + 8) };
}

/* ---------------------------------------------------------------- encoders */

static size_t finish_frame(uint8_t *buf, struct ipc_wr *w, uint16_t type, uint32_t req_id)
{
	if (w->bad)
		return 0;
	ipc_resp_head_encode(buf, type, req_id, 0, w->off);
	return IPC_HDR_LEN + w->off;
}

size_t cpg_ipc_name_req_encode(uint8_t *buf, size_t cap, uint16_t type, uint32_t req_id,
			       const struct cpg_ipc_name *name)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	if (name)
		ipc_wr_name(&w, name->value, name->len);
	return finish_frame(buf, &w, type, req_id);
}

size_t cpg_ipc_mcast_head_encode(uint8_t *buf, size_t cap, uint32_t req_id, uint8_t guarantee,
				 uint8_t frag, uint32_t total_len, size_t payload_len)
{
	struct ipc_wr w;

	if (cap < CPG_IPC_MCAST_HEAD)
		return 0;
	ipc_resp_head_encode(buf, CPG_IPC_MCAST, req_id, 0, 8 + payload_len);
	ipc_wr_init(&w, buf + IPC_HDR_LEN, 8);
	ipc_wr_u8(&w, guarantee);
	ipc_wr_u8(&w, frag);
	ipc_wr_u16(&w, 0);
	ipc_wr_u32(&w, total_len);
	return CPG_IPC_MCAST_HEAD;
}

void cpg_ipc_mcast_set_flags(uint8_t *head, uint16_t flags)
{
	ipc_put_u16(head + IPC_HDR_LEN + 2, flags);
}

size_t cpg_ipc_iter_req_encode(uint8_t *buf, size_t cap, uint32_t req_id,
			       const struct cpg_ipc_iter_req *q)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	ipc_wr_u32(&w, q->type);
	ipc_wr_name(&w, q->group.value, q->group.len);
	ipc_wr_u8(&w, q->has_cursor ? 1 : 0);
	ipc_wr_name(&w, q->cur_group.value, q->cur_group.len);
	ipc_wr_u32(&w, q->cur_nodeid);
	ipc_wr_u32(&w, q->cur_pid);
	return finish_frame(buf, &w, CPG_IPC_ITER, req_id);
}

size_t cpg_ipc_deliver_head_encode(uint8_t *buf, size_t cap, const struct cpg_ipc_deliver *d,
				   size_t payload_len)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	ipc_wr_name(&w, d->group.value, d->group.len);
	ipc_wr_u32(&w, d->nodeid);
	ipc_wr_u32(&w, d->pid);
	ipc_wr_u32(&w, d->stream);
	ipc_wr_u8(&w, d->frag);
	ipc_wr_u8(&w, d->guarantee);
	ipc_wr_u16(&w, 0);
	ipc_wr_u32(&w, d->total_len);
	if (w.bad)
		return 0;
	ipc_resp_head_encode(buf, CPG_IPC_EV_DELIVER, 0, 0, w.off + payload_len);
	return IPC_HDR_LEN + w.off;
}

size_t cpg_ipc_confchg_size(size_t n_entries)
{
	return IPC_HDR_LEN + 4 + IPC_NAME_MAX + 12 + n_entries * CPG_ADDR_LEN;
}

static void wr_addrs(struct ipc_wr *w, const struct cpg_ipc_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ipc_wr_u32(w, a[i].nodeid);
		ipc_wr_u32(w, a[i].pid);
		ipc_wr_u32(w, a[i].reason);
	}
}

size_t cpg_ipc_confchg_encode(uint8_t *buf, size_t cap, const struct cpg_ipc_name *group,
			      const struct cpg_ipc_addr *memb, size_t n_memb,
			      const struct cpg_ipc_addr *left, size_t n_left,
			      const struct cpg_ipc_addr *joined, size_t n_joined)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	ipc_wr_name(&w, group->value, group->len);
	ipc_wr_u32(&w, (uint32_t)n_memb);
	ipc_wr_u32(&w, (uint32_t)n_left);
	ipc_wr_u32(&w, (uint32_t)n_joined);
	wr_addrs(&w, memb, n_memb);
	wr_addrs(&w, left, n_left);
	wr_addrs(&w, joined, n_joined);
	return finish_frame(buf, &w, CPG_IPC_EV_CONFCHG, 0);
}

size_t cpg_ipc_totem_encode(uint8_t *buf, size_t cap, uint32_t rep, uint64_t seq,
			    const uint32_t *ids, size_t count)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	ipc_wr_u32(&w, rep);
	ipc_wr_u64(&w, seq);
	ipc_wr_u32(&w, (uint32_t)count);
	for (size_t i = 0; i < count; i++)
		ipc_wr_u32(&w, ids[i]);
	return finish_frame(buf, &w, CPG_IPC_EV_TOTEM, 0);
}

void cpg_ipc_members_put(struct ipc_wr *w, const struct cpg_ipc_addr *a, size_t n)
{
	ipc_wr_u32(w, (uint32_t)n);
	wr_addrs(w, a, n);
}

void cpg_ipc_iter_entry_put(struct ipc_wr *w, const struct cpg_ipc_iter_entry *e)
{
	ipc_wr_name(w, e->group.value, e->group.len);
	ipc_wr_u32(w, e->nodeid);
	ipc_wr_u32(w, e->pid);
}
