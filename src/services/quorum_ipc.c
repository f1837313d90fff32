/* Quorum/votequorum IPC bodies (quorum_ipc.h). */
#include "services/quorum_ipc.h"

#include <errno.h>
#include <string.h>

size_t quorum_ipc_words_encode(uint8_t *buf, size_t cap, uint16_t type, uint32_t req_id,
			       int32_t result, const uint32_t *v, size_t n)
{
	size_t len = IPC_HDR_LEN + 4u * n;
	struct ipc_hdr h = { (uint32_t)len, type, 0, req_id, result };

	if (cap < len)
		return 0;
	ipc_hdr_encode(buf, &h);
	for (size_t i = 0; i < n; i++)
		ipc_put_u32(buf + IPC_HDR_LEN + 4u * i, v[i]);
	return len;
}

int quorum_ipc_words_decode(const uint8_t *b, size_t len, uint32_t *out, size_t n)
{
	if (len != 4u * n)
		return -EPROTO;
	for (size_t i = 0; i < n; i++)
		out[i] = ipc_get_u32(b + 4u * i);
	return 0;
}

static bool is_vq(uint16_t type)
{
	return type >= VQ_IPC_EV_QUORUM;
}

static bool has_ring(uint16_t type)
{
	return type == QUORUM_IPC_EV_QUORUM || type == QUORUM_IPC_EV_NODELIST ||
	       type == VQ_IPC_EV_NODELIST;
}

static bool known_event(uint16_t type)
{
	return type == QUORUM_IPC_EV_QUORUM || type == QUORUM_IPC_EV_NODELIST ||
	       type == VQ_IPC_EV_QUORUM || type == VQ_IPC_EV_NODELIST || type == VQ_IPC_EV_EXPECTED;
}

static size_t id_count(const struct quorum_ipc_event *ev)
{
	if (ev->type == QUORUM_IPC_EV_NODELIST)
		return (size_t)ev->n_memb + ev->n_joined + ev->n_left;
	if (ev->type == VQ_IPC_EV_EXPECTED)
		return 0;
	return ev->n_memb;
}

/* The field order of every event, written or read by the same walk so that
 * the two sides cannot drift apart. */
static void event_fields_put(struct ipc_wr *w, const struct quorum_ipc_event *ev)
{
	size_t n = id_count(ev);

	if (is_vq(ev->type))
		ipc_wr_u64(w, ev->context);
	if (ev->type == QUORUM_IPC_EV_QUORUM || ev->type == VQ_IPC_EV_QUORUM)
		ipc_wr_u32(w, ev->quorate);
	if (ev->type == VQ_IPC_EV_EXPECTED)
		ipc_wr_u32(w, ev->expected);
	if (has_ring(ev->type)) {
		ipc_wr_u32(w, ev->rep);
		ipc_wr_u64(w, ev->seq);
	}
	if (ev->type != VQ_IPC_EV_EXPECTED)
		ipc_wr_u32(w, ev->n_memb);
	if (ev->type == QUORUM_IPC_EV_NODELIST) {
		ipc_wr_u32(w, ev->n_joined);
		ipc_wr_u32(w, ev->n_left);
	}
	for (size_t i = 0; i < n; i++) {
		ipc_wr_u32(w, ev->ids[i]);
		if (ev->type == VQ_IPC_EV_QUORUM)
			ipc_wr_u32(w, ev->states[i]);
	}
}

size_t quorum_ipc_event_encode(uint8_t *buf, size_t cap, const struct quorum_ipc_event *ev)
{
	struct ipc_wr w;
	uint8_t head[IPC_HDR_LEN];

	if (!known_event(ev->type) || id_count(ev) > QUORUM_IPC_MAX_IDS || cap < IPC_HDR_LEN)
		return 0;
	ipc_wr_init(&w, buf + IPC_HDR_LEN, cap - IPC_HDR_LEN);
	event_fields_put(&w, ev);
	if (w.bad)
		return 0;
	ipc_resp_head_encode(head, ev->type, 0, 0, w.off);
	memcpy(buf, head, IPC_HDR_LEN);
	return IPC_HDR_LEN + w.off;
}

static void event_fields_get(struct ipc_rd *r, struct quorum_ipc_event *ev)
{
	size_t n;

	if (is_vq(ev->type))
		ev->context = ipc_rd_u64(r);
	if (ev->type == QUORUM_IPC_EV_QUORUM || ev->type == VQ_IPC_EV_QUORUM)
		ev->quorate = ipc_rd_u32(r);
	if (ev->type == VQ_IPC_EV_EXPECTED)
		ev->expected = ipc_rd_u32(r);
	if (has_ring(ev->type)) {
		ev->rep = ipc_rd_u32(r);
		ev->seq = ipc_rd_u64(r);
	}
	if (ev->type != VQ_IPC_EV_EXPECTED)
		ev->n_memb = ipc_rd_u32(r);
	if (ev->type == QUORUM_IPC_EV_NODELIST) {
		ev->n_joined = ipc_rd_u32(r);
		ev->n_left = ipc_rd_u32(r);
	}
	/* Each count alone is bounded first so that the sum cannot wrap. */
	if (ev->n_memb > QUORUM_IPC_MAX_IDS || ev->n_joined > QUORUM_IPC_MAX_IDS ||
	    ev->n_left > QUORUM_IPC_MAX_IDS || id_count(ev) > QUORUM_IPC_MAX_IDS) {
		r->bad = true;
		return;
	}
	n = id_count(ev);
	if (n * (ev->type == VQ_IPC_EV_QUORUM ? 8u : 4u) != ipc_rd_left(r)) {
		r->bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ev->ids[i] = ipc_rd_u32(r);
		if (ev->type == VQ_IPC_EV_QUORUM)
			ev->states[i] = ipc_rd_u32(r);
	}
}

int quorum_ipc_event_decode(uint16_t type, const uint8_t *b, size_t len,
			    struct quorum_ipc_event *out)
{
	struct ipc_rd r;

	if (!known_event(type))
		return -EPROTO;
	out->type = type;
	out->context = 0;
	out->quorate = out->expected = out->rep = 0;
	out->seq = 0;
	out->n_memb = out->n_joined = out->n_left = 0;
	ipc_rd_init(&r, b, len);
	event_fields_get(&r, out);
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

void quorum_ipc_nodes_put_count(struct ipc_wr *w, uint32_t count)
{
	ipc_wr_u32(w, count);
}

void quorum_ipc_node_put(struct ipc_wr *w, const struct quorum_ipc_node *n)
{
	size_t len = strnlen(n->name, QUORUM_IPC_NAME_MAX);

	ipc_wr_u32(w, n->nodeid);
	ipc_wr_u32(w, n->state);
	ipc_wr_u32(w, n->votes);
	ipc_wr_u32(w, n->expected);
	ipc_wr_name(w, (const uint8_t *)n->name, (uint32_t)len);
}

int quorum_ipc_nodes_count(struct ipc_rd *r, uint32_t *count)
{
	*count = ipc_rd_u32(r);
	/* Each node takes at least 20 bytes: a count beyond that is a lie. */
	if (r->bad || *count > ipc_rd_left(r) / 20u)
		return -EPROTO;
	return 0;
}

int quorum_ipc_node_next(struct ipc_rd *r, struct quorum_ipc_node *out)
{
	bool too_long = false;
	uint32_t len;

	out->nodeid = ipc_rd_u32(r);
	out->state = ipc_rd_u32(r);
	out->votes = ipc_rd_u32(r);
	out->expected = ipc_rd_u32(r);
	len = ipc_rd_name(r, (uint8_t *)out->name, QUORUM_IPC_NAME_MAX, &too_long);
	if (r->bad || too_long)
		return -EPROTO;
	out->name[len] = 0;
	return 0;
}
