/* Totem core, ring operation: token processing (retransmission requests,
 * aru, flow control, safe stability), recovery traffic and ordered delivery. */
#include <stdlib.h>
#include <string.h>

#include "totem/totem_int.h"

/* ---- delivery ---- */

void order_reasm_reset(struct totem_node *t)
{
	for (uint32_t i = 0; i < t->cfg.member_count; i++)
		t->reasm[i].active = false;
}

static void reasm_add(struct totem_node *t, struct reasm *r, const struct wire_item *it)
{
	uint64_t need = (uint64_t)r->len + it->len;

	if (need > t->cfg.max_msg_bytes) {
		r->active = false; /* cannot be a message we would have accepted */
		return;
	}
	if (need > r->cap) {
		uint32_t cap = r->cap ? r->cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *n = realloc(r->buf, cap);
		if (!n) {
			r->active = false;
			return;
		}
		r->buf = n;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, it->data, it->len);
	r->len += it->len;
}

static void deliver_packet(struct totem_node *t, const struct totem_store *s, uint64_t seq,
			   const struct store_slot *sl)
{
	struct wire_mcast m = { .flags = sl->flags, .item_count = sl->item_count };
	struct wire_item it;
	uint32_t off = 0;
	int mi = totem_member_index(t, sl->sender);
	struct reasm *r = mi >= 0 ? &t->reasm[mi] : NULL;

	if (sl->flags & WIRE_MCAST_ENCAP || !r)
		return;
	m.payload = sl->buf + WIRE_MCAST_FIXED_LEN;
	m.payload_len = sl->len - WIRE_MCAST_FIXED_LEN;
	while (wire_item_next(&m, &off, &it)) {
		bool first = it.frag & WIRE_FRAG_FIRST, last = it.frag & WIRE_FRAG_LAST;
		if (first && last) {
			totem_act_deliver(t, sl->sender, s->ring_id, seq, it.guarantee, it.data,
					  it.len);
			continue;
		}
		if (first) {
			r->active = it.frag_pos <= t->cfg.max_msg_bytes;
			r->len = 0;
			r->total = it.frag_pos;
		} else if (!r->active || it.frag_pos != r->len) {
			/* a piece is missing (lost with a failed ring): drop the message */
			r->active = false;
			continue;
		}
		reasm_add(t, r, &it);
		if (last && r->active && r->len == r->total)
			totem_act_deliver(t, sl->sender, s->ring_id, seq, it.guarantee, r->buf,
					  r->len);
		if (last)
			r->active = false;
	}
}

#ifdef TOTEM_PLANTED_BUG
/* Deliberate ordering fault for the checker's self-test: node 2 swaps some
 * adjacent packets. Never built into the real library. */
static bool planted_swap(struct totem_node *t, struct totem_store *s, uint64_t seq)
{
	struct store_slot *a = store_get(s, seq), *b = store_get(s, seq + 1);

	if (t->cfg.nodeid != 2 || seq % 16 || !a || !b || seq + 1 > s->aru ||
	    ((a->flags | b->flags) & WIRE_MCAST_HAS_SAFE))
		return false;
	deliver_packet(t, s, seq + 1, b);
	deliver_packet(t, s, seq, a);
	s->delivered = seq + 1;
	return true;
}
#endif

/* Deliver, in seq order, every packet received without a gap; packets that
 * complete a SAFE message wait until every member is known to have them. */
void order_deliver_ready(struct totem_node *t)
{
	struct totem_store *s = &t->ops;

	if (t->state != TOTEM_OPERATIONAL)
		return;
	while (s->delivered < s->aru) {
		uint64_t seq = s->delivered + 1;
		struct store_slot *sl = store_get(s, seq);
		if (!sl)
			break;
		if ((sl->flags & WIRE_MCAST_HAS_SAFE) && seq > t->stable)
			break;
#ifdef TOTEM_PLANTED_BUG
		if (planted_swap(t, s, seq))
			continue;
#endif
		deliver_packet(t, s, seq, sl);
		s->delivered = seq;
	}
}

/* Transitional delivery: everything left of the old ring, in order; a gap
 * is a packet no surviving member has, and a message missing a piece is
 * dropped identically by every member that moves on with us. */
void order_deliver_old_ring(struct totem_node *t)
{
	struct totem_store *s = &t->ops;

	for (uint64_t seq = s->delivered + 1; seq <= s->high; seq++) {
		struct store_slot *sl = store_get(s, seq);
		if (!sl)
			continue; /* no survivor has it; fragment positions expose the damage */
		deliver_packet(t, s, seq, sl);
		s->delivered = seq;
	}
	order_reasm_reset(t);
}

/* ---- receiving ---- */

static struct totem_store *cur_store(struct totem_node *t)
{
	return t->state == TOTEM_RECOVERY ? &t->rec : &t->ops;
}

static bool ring_eq(struct wire_ring_id a, struct totem_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

/* An encapsulated packet re-sent during recovery: keep the inner one if it
 * belongs to this node's old ring. */
static void unwrap_old(struct totem_node *t, const struct wire_packet *p)
{
	const struct wire_mcast *m = &p->u.mcast;
	struct wire_packet *in = &t->inner;

	if (!t->have_ops ||
	    wire_decode(m->payload, m->payload_len, t->cfg.cluster_id, in) != WIRE_OK ||
	    in->hdr.type != WIRE_MCAST || (in->u.mcast.flags & WIRE_MCAST_ENCAP) ||
	    !ring_eq(in->u.mcast.ring_id, t->ops.ring_id))
		return;
	store_put(t, &t->ops, in->u.mcast.seq, m->payload, m->payload_len, in->hdr.sender,
		  &in->u.mcast);
}

void order_on_mcast(struct totem_node *t, const struct wire_packet *p, const uint8_t *buf,
		    size_t len)
{
	const struct wire_mcast *m = &p->u.mcast;
	struct totem_store *s;

	if (t->state == TOTEM_RECOVERY && ring_eq(m->ring_id, t->rec.ring_id)) {
		s = &t->rec;
	} else if (t->have_ops && t->state != TOTEM_RECOVERY &&
		   ring_eq(m->ring_id, t->ops.ring_id)) {
		/* In gather/commit every old packet helps recovery. Once recovery
		 * has begun, old packets only count when they come encapsulated
		 * on the new ring, so all members agree on what the old ring held. */
		s = &t->ops;
	} else {
		t->stats.rx_foreign++;
		return;
	}
	if (ring_eq(m->ring_id, t->ring_id))
		totem_timer_stop(t, TMR_TOKEN_RETRANS); /* the ring is moving */
	if (!store_put(t, s, m->seq, buf, len, p->hdr.sender, m)) {
		t->stats.rx_dup++;
		return;
	}
	if (s == &t->rec && (m->flags & WIRE_MCAST_ENCAP))
		unwrap_old(t, p);
	if (s == &t->ops)
		order_deliver_ready(t);
}

/* ---- token ---- */

static void rtr_answer(struct totem_node *t, struct wire_token *tok, struct totem_store *s,
		       uint32_t *sent)
{
	uint16_t keep = 0;

	for (uint16_t i = 0; i < tok->rtr_count; i++) {
		struct store_slot *sl = store_get(s, tok->rtr[i]);
		if (sl && *sent < t->cfg.max_messages) {
			totem_act_send_copy(t, TOTEM_TO_ALL, sl->buf, sl->len);
			t->stats.tx_retransmits++;
			(*sent)++;
		} else {
			tok->rtr[keep++] = tok->rtr[i];
		}
	}
	tok->rtr_count = keep;
}

static void rtr_request(struct wire_token *tok, struct totem_store *s)
{
	for (uint64_t q = s->aru + 1; q <= tok->seq && tok->rtr_count < WIRE_RTR_MAX; q++) {
		bool listed = false;
		if (store_get(s, q))
			continue;
		if (q - s->base >= STORE_CAP)
			break;
		for (uint16_t i = 0; i < tok->rtr_count && !listed; i++)
			listed = tok->rtr[i] == q;
		if (!listed)
			tok->rtr[tok->rtr_count++] = q;
	}
}

/* Recovery ends after the ring has been seen quiet (nothing new, nothing
 * missing) on two visits, and on the third visit everyone still has the
 * install point; this lets every member leave recovery in the same rotation. */
static bool recovery_check(struct totem_node *t, const struct wire_token *tok)
{
	/* backlog sums every member's pending recovery packets as of its last
	 * visit; a drained queue never refills, so 0 means all have been sent. */
	bool quiet = t->have_prev_visit && tok->seq == t->prev_visit_seq && tok->aru == tok->seq &&
		     tok->rtr_count == 0 && tok->backlog == 0 && t->recq_count == 0 &&
		     t->rec.aru == tok->seq;

	if (t->quiet_count >= 2)
		return tok->aru >= t->install_seq;
	if (!quiet) {
		t->quiet_count = 0;
		return false;
	}
	if (++t->quiet_count == 2)
		t->install_seq = tok->seq;
	return false;
}

static void token_visit_stats(struct totem_node *t, const struct wire_token *tok,
			      struct totem_store *s)
{
	uint64_t stable =
		t->have_prev_visit && t->prev_in_aru < tok->aru ? t->prev_in_aru : tok->aru;

	if (t->have_prev_visit && stable > t->stable)
		t->stable = stable;
	if (t->have_prev_visit && tok->seq == t->prev_visit_seq)
		t->seq_unchanged++;
	else
		t->seq_unchanged = 0;
	if (s->aru < tok->seq && s->aru == t->prev_my_aru)
		t->aru_stalled++;
	else
		t->aru_stalled = 0;
	t->prev_in_aru = tok->aru;
	t->prev_my_aru = s->aru;
	if (t->have_prev_visit && t->now >= t->prev_visit_us) {
		uint64_t r = t->now - t->prev_visit_us, avg = t->stats.token_rotation_us;

		t->stats.token_rotation_last_us = r;
		t->stats.token_rotation_us = avg == 0 ? r : avg - avg / 8 + r / 8;
	}
	t->prev_visit_us = t->now;
}

/* How long to keep a busy token so this visit carries a fuller batch: only
 * while we stream (3 or more messages in our last visit and queue, less than
 * batch_bytes queued) and the last rotation was shorter than batch_us; 0: go. */
static uint64_t batch_hold_us(const struct totem_node *t)
{
	uint64_t r = t->stats.token_rotation_last_us;

	if (!t->cfg.batch_us || t->state != TOTEM_OPERATIONAL || !t->sq.count ||
	    t->my_last_msgs + t->sq.count < 3 || t->tok.rtr_count ||
	    t->sq.payload_bytes >= t->cfg.batch_bytes || r >= t->cfg.batch_us)
		return 0;
	return t->cfg.batch_us - r;
}

void order_on_token(struct totem_node *t, const struct wire_token *in)
{
	struct totem_store *s = cur_store(t);
	uint64_t hold_us;

	if ((t->state != TOTEM_OPERATIONAL && t->state != TOTEM_RECOVERY) ||
	    !ring_eq(in->ring_id, t->ring_id)) {
		t->stats.rx_foreign++;
		return;
	}
	if (in->token_seq <= t->last_token_seq || t->holding) {
		t->stats.rx_dup++;
		return;
	}
	/* Every seq we hold was handed out by an earlier visit of this token, so
	 * a token below our aru is forged or corrupt; passed on, it would carry
	 * aru > seq, which no encoder accepts, and the ring would lose it. */
	if (in->seq < s->aru) {
		t->stats.rx_rejected[WIRE_ERR_FIELD]++;
		return;
	}
	t->last_token_seq = in->token_seq;
	t->tok = *in;
	t->hold_cancel_sent = false;
	totem_timer_stop(t, TMR_TOKEN_RETRANS);
	totem_timer_arm(t, TMR_TOKEN_LOSS, t->cfg.token_ms);
	token_visit_stats(t, &t->tok, s);
	if (t->state == TOTEM_RECOVERY && recovery_check(t, &t->tok)) {
		memb_recovery_done(t);
		s = &t->ops;
	} else if (t->aru_stalled >= t->cfg.fail_recv_const) {
		memb_gather_enter(t, "messages not received");
		return;
	}
	if (t->state == TOTEM_OPERATIONAL) {
		store_release_upto(t, s, t->stable < s->delivered ? t->stable : s->delivered);
		order_deliver_ready(t);
	} else {
		store_release_upto(t, s, t->stable);
	}
	t->have_prev_visit = true;
	/* Only the representative holds an idle token, so one rotation of an idle
	 * ring stays shorter than the retransmit timeout of every other member. */
	if (t->state == TOTEM_OPERATIONAL && t->seq_unchanged >= t->cfg.seqno_unchanged_const &&
	    t->memb[0] == t->cfg.nodeid && t->sq.count == 0 && t->tok.rtr_count == 0 &&
	    s->aru == t->tok.seq) {
		t->holding = true; /* idle ring: keep the token a while */
		totem_timer_arm(t, TMR_HOLD, t->cfg.hold_ms);
		return;
	}
	t->holding = true;
	hold_us = batch_hold_us(t);
	if (hold_us) {
		t->batch_holding = true;
		t->stats.batch_holds++;
		totem_timer_arm_us(t, TMR_HOLD, hold_us);
		return;
	}
	order_token_emit(t);
}

bool order_batch_full(const struct totem_node *t)
{
	return t->sq.payload_bytes >= t->cfg.batch_bytes;
}

/* We have messages and the ring is idle: the representative may be holding
 * the token for up to hold_ms; ask it to pass it on now. Once per visit. */
void order_hold_cancel_send(struct totem_node *t)
{
	struct wire_hdr h = totem_hdr(t, WIRE_HOLD_CANCEL);
	struct wire_hold_cancel c = { .ring_id = { t->ring_id.rep, t->ring_id.seq } };
	uint8_t *b;

	if (t->state != TOTEM_OPERATIONAL || t->holding || t->self_token_pending ||
	    t->hold_cancel_sent || t->memb[0] == t->cfg.nodeid ||
	    t->seq_unchanged + 1 < t->cfg.seqno_unchanged_const)
		return;
	t->hold_cancel_sent = true;
	b = totem_act_send_reserve(t, t->memb[0], 64);
	totem_act_send_commit(t, wire_encode_hold_cancel(b, 64, &h, &c));
}

void order_on_hold_cancel(struct totem_node *t, const struct wire_packet *p)
{
	if (t->state == TOTEM_OPERATIONAL && t->holding && !t->batch_holding &&
	    ring_eq(p->u.hold_cancel.ring_id, t->ring_id) &&
	    totem_set_has(t->memb, t->memb_count, p->hdr.sender)) {
		t->stats.hold_cancels++;
		order_token_emit(t);
	}
}

/* Send one recovery packet: an old-ring packet wrapped in a new-ring MCAST. */
static bool send_recovery_packet(struct totem_node *t, struct wire_token *tok)
{
	while (t->recq_count) {
		uint64_t old = t->recq[t->recq_head];
		struct store_slot *sl = store_get(&t->ops, old);
		t->recq_head = (t->recq_head + 1) % t->recq_cap;
		t->recq_count--;
		if (!sl)
			continue;
		struct wire_mcast_builder b;
		struct wire_hdr h = totem_hdr(t, WIRE_MCAST);
		struct wire_ring_id rid = { t->ring_id.rep, t->ring_id.seq };
		uint8_t *buf = totem_act_send_reserve(t, TOTEM_TO_ALL, t->pool.buf_size);
		wire_mcast_begin(&b, buf, t->pool.buf_size, &h, &rid, tok->seq + 1);
		wire_mcast_add_raw(&b, sl->buf, sl->len);
		size_t len = wire_mcast_finish(&b);
		totem_act_send_commit(t, len);
		if (!len)
			continue;
		tok->seq++;
		struct wire_mcast meta = { .flags = WIRE_MCAST_ENCAP };
		store_put(t, &t->rec, tok->seq, buf, len, t->cfg.nodeid, &meta);
		return true;
	}
	return false;
}

static bool send_new_packet(struct totem_node *t, struct wire_token *tok)
{
	struct wire_mcast_builder b;
	uint8_t *buf;
	size_t len;

	if (!t->sq.count)
		return false;
	buf = totem_act_send_reserve(t, TOTEM_TO_ALL, t->pool.buf_size);
	len = order_pack_packet(t, &b, buf, tok->seq + 1);
	totem_act_send_commit(t, len);
	if (!len)
		return false;
	tok->seq++;
	struct wire_mcast meta = { .flags = b.flags, .item_count = b.item_count };
	store_put(t, &t->ops, tok->seq, buf, len, t->cfg.nodeid, &meta);
	return true;
}

static uint32_t flow_allowance(struct totem_node *t, const struct wire_token *tok, uint32_t sent)
{
	uint32_t fcc = tok->fcc > t->my_last_sent ? tok->fcc - t->my_last_sent : 0;
	uint32_t allowed = t->cfg.window_size > fcc ? t->cfg.window_size - fcc : 0;
	uint64_t in_flight = tok->seq - tok->aru;
	uint64_t cap = TOTEM_INFLIGHT_BYTES / t->pool.buf_size;

	if (allowed > t->cfg.max_messages)
		allowed = t->cfg.max_messages;
	allowed = allowed > sent ? allowed - sent : 0;
	/* Never run further ahead of the slowest member than the stores hold,
	 * nor than a bounded amount of memory holds with large packets. */
	if (cap > STORE_CAP / 2)
		cap = STORE_CAP / 2;
	if (in_flight + allowed > cap)
		allowed = in_flight >= cap ? 0 : (uint32_t)(cap - in_flight);
	return allowed;
}

/* Second half of a token visit: retransmit, send, update aru and pass on. */
void order_token_emit(struct totem_node *t)
{
	struct wire_token *tok = &t->tok;
	struct totem_store *s = cur_store(t);
	uint32_t sent = 0, allowed, n = 0;
	uint32_t fcc = tok->fcc > t->my_last_sent ? tok->fcc - t->my_last_sent : 0;
	uint32_t queued = t->sq.count;

	t->holding = false;
	t->batch_holding = false;
	totem_timer_stop(t, TMR_HOLD);
	rtr_answer(t, tok, s, &sent);
	allowed = flow_allowance(t, tok, sent);
	while (n < allowed) {
		bool ok = t->state == TOTEM_RECOVERY ? send_recovery_packet(t, tok) :
						       send_new_packet(t, tok);
		if (!ok)
			break;
		n++;
	}
	t->my_last_msgs = queued - t->sq.count;
	rtr_request(tok, s);
	if (s->aru < tok->aru || tok->aru_id == t->cfg.nodeid || tok->aru_id == 0) {
		tok->aru = s->aru;
		tok->aru_id = tok->aru == tok->seq ? 0 : t->cfg.nodeid;
	}
	tok->fcc = fcc + sent + n;
	t->my_last_sent = sent + n;
	uint32_t backlog = t->state == TOTEM_RECOVERY ? t->recq_count : t->sq.count;
	tok->backlog = (tok->backlog > t->my_last_backlog ? tok->backlog - t->my_last_backlog : 0) +
		       backlog;
	t->my_last_backlog = backlog;
	tok->retrans_flg = t->recq_count ? 1 : 0;
	t->prev_visit_seq = tok->seq;
	tok->token_seq++;
	t->last_token_seq = tok->token_seq;
	order_token_send(t, tok, totem_next_member(t));
	if (t->state == TOTEM_OPERATIONAL)
		order_deliver_ready(t);
}

void order_token_send(struct totem_node *t, const struct wire_token *tok, uint32_t to)
{
	struct wire_hdr h = totem_hdr(t, WIRE_TOKEN);

	if (to == t->cfg.nodeid) {
		/* A ring of one: the token comes straight back, but never in a busy loop. */
		t->last_token_seq = tok->token_seq - 1;
		t->self_tok = *tok;
		t->holding = false;
		t->self_token_pending = true;
		totem_timer_arm(t, TMR_HOLD,
				t->sq.count || t->state != TOTEM_OPERATIONAL ? 0 : t->cfg.hold_ms);
		return;
	}
	t->last_tok_len = wire_encode_token(t->last_tok_buf, WIRE_MAX_PACKET, &h, tok);
	t->last_tok_to = to;
	t->tok_retrans_count = 0;
	totem_act_send_copy(t, to, t->last_tok_buf, t->last_tok_len);
	totem_timer_arm(t, TMR_TOKEN_RETRANS, t->cfg.token_retransmit_ms);
}

/* Fresh token state for a ring being installed. */
void order_begin_ring(struct totem_node *t)
{
	t->last_token_seq = 0;
	t->holding = false;
	t->self_token_pending = false;
	t->have_prev_visit = false;
	t->prev_in_aru = t->prev_visit_seq = t->prev_my_aru = t->stable = 0;
	t->seq_unchanged = t->aru_stalled = 0;
	t->my_last_sent = t->my_last_backlog = t->my_last_msgs = 0;
	t->quiet_count = 0;
	t->install_seq = 0;
	t->last_tok_len = 0;
	totem_timer_stop(t, TMR_TOKEN_RETRANS);
	totem_timer_stop(t, TMR_HOLD);
}
