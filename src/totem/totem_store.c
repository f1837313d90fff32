/* Totem core, storage: the packet buffer pool, the per-ring packet store and
 * the bounded submit queue with packing of messages into packets. */
#include <stdlib.h>
#include <string.h>

#include "totem/totem_int.h"

/* ---- buffer pool: packet buffers are recycled, not freed per message ---- */

void totem_pool_init(struct buf_pool *p, uint32_t buf_size)
{
	uint32_t keep = TOTEM_POOL_KEEP_BYTES / buf_size;

	memset(p, 0, sizeof(*p));
	p->buf_size = buf_size;
	p->keep = keep < 2 * STORE_CAP + 256 ? keep : 2 * STORE_CAP + 256;
}

void totem_pool_free(struct buf_pool *p)
{
	for (uint32_t i = 0; i < p->count; i++)
		free(p->free[i]);
	free(p->free);
	p->free = NULL;
	p->count = p->cap = 0;
}

static struct buf_pool *pool_for(struct totem_node *t, size_t len)
{
	return len <= t->pool_small.buf_size ? &t->pool_small : &t->pool;
}

static uint8_t *pool_get(struct buf_pool *p)
{
	if (p->count)
		return p->free[--p->count];
	return malloc(p->buf_size);
}

static void pool_put(struct buf_pool *p, uint8_t *b)
{
	if (p->count == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 256;
		uint8_t **n = cap <= p->keep ? realloc(p->free, cap * sizeof(*n)) : NULL;
		if (!n) {
			free(b);
			return;
		}
		p->free = n;
		p->cap = cap;
	}
	p->free[p->count++] = b;
}

/* ---- store ---- */

int store_init(struct totem_store *s)
{
	memset(s, 0, sizeof(*s));
	s->slots = calloc(STORE_CAP, sizeof(*s->slots));
	return s->slots ? 0 : -1;
}

static void slot_release(struct totem_node *t, struct store_slot *sl)
{
	if (sl->buf) {
		pool_put(pool_for(t, sl->len), sl->buf);
		sl->buf = NULL;
	}
}

void store_reset(struct totem_node *t, struct totem_store *s, struct totem_ring_id rid)
{
	for (uint64_t q = s->base; q <= s->high && q - s->base < STORE_CAP; q++)
		slot_release(t, &s->slots[q & STORE_MASK]);
	s->ring_id = rid;
	s->base = 1;
	s->aru = s->high = s->delivered = 0;
}

void store_free(struct totem_node *t, struct totem_store *s)
{
	if (!s->slots)
		return;
	store_reset(t, s, s->ring_id);
	free(s->slots);
	s->slots = NULL;
}

struct store_slot *store_get(struct totem_store *s, uint64_t seq)
{
	if (seq < s->base || seq - s->base >= STORE_CAP)
		return NULL;
	struct store_slot *sl = &s->slots[seq & STORE_MASK];
	return sl->buf ? sl : NULL;
}

/* Keep a copy of an MCAST packet. Returns false for duplicates and for
 * packets outside the window (they will be asked for again). */
bool store_put(struct totem_node *t, struct totem_store *s, uint64_t seq, const uint8_t *buf,
	       size_t len, uint32_t sender, const struct wire_mcast *m)
{
	struct store_slot *sl;

	if (seq < s->base || seq <= s->aru || seq - s->base >= STORE_CAP ||
	    len > t->pool.buf_size) {
		return false;
	}
	sl = &s->slots[seq & STORE_MASK];
	if (sl->buf) {
		return false;
	}
	sl->buf = pool_get(pool_for(t, len));
	if (!sl->buf)
		return false;
	memcpy(sl->buf, buf, len);
	sl->len = (uint32_t)len;
	sl->sender = sender;
	sl->flags = m->flags;
	sl->item_count = m->item_count;
	if (seq > s->high)
		s->high = seq;
	while (s->aru < s->high && store_get(s, s->aru + 1))
		s->aru++;
	return true;
}

/* Drop packets every member has and this node has delivered. */
void store_release_upto(struct totem_node *t, struct totem_store *s, uint64_t upto)
{
	while (s->base <= upto && s->base <= s->aru) {
		slot_release(t, &s->slots[s->base & STORE_MASK]);
		s->base++;
	}
}

/* ---- submit queue ---- */

void sq_free(struct submit_queue *q)
{
	free(q->ent);
	free(q->bytes);
	memset(q, 0, sizeof(*q));
}

/* Grow the byte ring, re-laying the queued messages out from offset 0. */
static int sq_grow(struct submit_queue *q, uint64_t need, uint64_t max)
{
	uint64_t cap = q->bytes_cap ? q->bytes_cap * 2 : 65536;
	uint8_t *nb;
	uint64_t off = 0;

	while (cap < need * 2 && cap < max)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap <= q->bytes_cap)
		return -1;
	nb = malloc(cap);
	if (!nb)
		return -1;
	for (uint32_t i = 0; i < q->count; i++) {
		struct submit_entry *e = &q->ent[(q->head + i) % q->ent_cap];
		memcpy(nb + off, q->bytes + e->off, e->len);
		e->off = off;
		off += e->len;
	}
	free(q->bytes);
	q->bytes = nb;
	q->bytes_cap = cap;
	q->bytes_head = q->count ? q->ent[q->head].off : 0;
	q->bytes_used = off;
	return 0;
}

/* Where the next message of len bytes goes in the ring, or -1 if it does not
 * fit. A wrap wastes the tail end; that waste counts as used until the head
 * passes it. */
static int64_t sq_place(struct submit_queue *q, uint64_t len)
{
	uint64_t tail;

	if (q->count == 0) {
		q->bytes_head = 0;
		q->bytes_used = 0;
		return len <= q->bytes_cap ? 0 : -1;
	}
	if (q->bytes_used + len > q->bytes_cap || q->bytes_used == q->bytes_cap)
		return -1;
	tail = (q->bytes_head + q->bytes_used) % q->bytes_cap;
	if (tail > q->bytes_head) { /* free: [tail, cap) and [0, head) */
		if (q->bytes_cap - tail >= len)
			return (int64_t)tail;
		if (q->bytes_head >= len) {
			q->bytes_used += q->bytes_cap - tail;
			return 0;
		}
		return -1;
	}
	/* free: [tail, head); tail == head cannot happen with 0 < used < cap */
	return q->bytes_head - tail >= len ? (int64_t)tail : -1;
}

int sq_push(struct totem_node *t, uint8_t g, const void *data, size_t len)
{
	struct submit_queue *q = &t->sq;
	int64_t at;

	if (q->count >= t->cfg.send_queue_max_msgs ||
	    q->payload_bytes + len > t->cfg.send_queue_max_bytes)
		return TOTEM_E_AGAIN;
	if (!q->ent) {
		q->ent = calloc(t->cfg.send_queue_max_msgs, sizeof(*q->ent));
		if (!q->ent)
			return TOTEM_E_NOMEM;
		q->ent_cap = t->cfg.send_queue_max_msgs;
	}
	at = sq_place(q, len);
	if (at < 0) {
		if (sq_grow(q, q->payload_bytes + len, t->cfg.send_queue_max_bytes * 2 + 65536))
			return TOTEM_E_AGAIN;
		at = sq_place(q, len);
		if (at < 0)
			return TOTEM_E_AGAIN;
	}
	struct submit_entry *e = &q->ent[(q->head + q->count) % q->ent_cap];
	e->off = (uint64_t)at;
	e->len = (uint32_t)len;
	e->guarantee = g;
	if (len)
		memcpy(q->bytes + at, data, len);
	q->bytes_used += len;
	q->count++;
	q->payload_bytes += len;
	return TOTEM_OK;
}

static void sq_pop(struct submit_queue *q)
{
	struct submit_entry *e = &q->ent[q->head];

	q->payload_bytes -= e->len;
	q->head = (q->head + 1) % q->ent_cap;
	q->count--;
	q->head_frag_off = 0;
	if (q->count) {
		uint64_t next = q->ent[q->head].off;
		uint64_t consumed = next >= q->bytes_head ? next - q->bytes_head :
							    q->bytes_cap - q->bytes_head + next;
		q->bytes_head = next;
		q->bytes_used -= consumed;
	} else {
		q->bytes_head = q->bytes_used = 0;
	}
}

/* Fill one MCAST with as many queued messages as fit; a message larger than a
 * packet is cut into fragments sent in consecutive packets. */
size_t order_pack_packet(struct totem_node *t, struct wire_mcast_builder *bp, uint8_t *buf,
			 uint64_t seq)
{
	struct submit_queue *q = &t->sq;
	struct wire_mcast_builder b;
	struct wire_hdr h = totem_hdr(t, WIRE_MCAST);
	struct wire_ring_id rid = { t->ring_id.rep, t->ring_id.seq };
	size_t cap = t->max_app_payload + WIRE_MCAST_FIXED_LEN;

	wire_mcast_begin(&b, buf, cap, &h, &rid, seq);
	while (q->count) {
		struct submit_entry *e = &q->ent[q->head];
		uint32_t rest = e->len - q->head_frag_off;
		size_t room = cap - b.len;
		uint8_t frag = q->head_frag_off ? 0 : WIRE_FRAG_FIRST;
		const uint8_t *at = q->bytes + e->off + q->head_frag_off;

		if (room >= WIRE_ITEM_HDR_LEN + rest && !q->head_frag_off) {
			wire_mcast_add_item(&b, e->guarantee, WIRE_FRAG_FIRST | WIRE_FRAG_LAST, at,
					    rest);
			sq_pop(q);
			continue;
		}
		if (room >= WIRE_FRAG_HDR_LEN + rest && q->head_frag_off) {
			wire_mcast_add_frag(&b, e->guarantee, WIRE_FRAG_LAST, q->head_frag_off, at,
					    rest);
			sq_pop(q);
			continue;
		}
		/* Do not split a message that would fit whole in the next packet. */
		if (room <= WIRE_FRAG_HDR_LEN || (q->head_frag_off == 0 && b.item_count &&
						  e->len + WIRE_ITEM_HDR_LEN <= t->max_app_payload))
			break;
		room -= WIRE_FRAG_HDR_LEN;
		wire_mcast_add_frag(&b, e->guarantee, frag, frag ? e->len : q->head_frag_off, at,
				    (uint32_t)room);
		q->head_frag_off += (uint32_t)room;
		break;
	}
	size_t len = wire_mcast_finish(&b);
	*bp = b;
	return len;
}
