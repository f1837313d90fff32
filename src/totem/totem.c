/* Totem core: node lifecycle, event dispatch, the action queue and timers.
 * The protocol itself lives in totem_order.c (ring operation) and
 * totem_memb.c (membership). */
#include <stdlib.h>
#include <string.h>

#include "totem/totem_int.h"

void totem_config_defaults(struct totem_config *c)
{
	memset(c, 0, sizeof(*c));
	c->token_ms = 3000;
	c->token_retransmits_before_loss = 4;
	c->join_ms = 50;
	c->merge_ms = 200;
	c->downcheck_ms = 1000;
	c->fail_recv_const = 2500;
	c->seqno_unchanged_const = 30;
	c->max_messages = 17;
	c->window_size = 50;
	c->netmtu = 1500;
	c->send_queue_max_msgs = 4096;
	c->send_queue_max_bytes = 16u << 20;
	c->max_msg_bytes = 1u << 20;
	c->merge_backoff_max_ms = 4000;
	totem_config_derive(c);
}

void totem_config_derive(struct totem_config *c)
{
	uint32_t n = c->token_retransmits_before_loss ? c->token_retransmits_before_loss : 4;

	/* Corosync's rules: the token is retransmitted n times before it is
	 * declared lost, and an idle token is held for a bit less than that. */
	c->token_retransmit_ms = (uint32_t)((c->token_ms * 10u) / (n * 10u + 2u));
	if (c->token_retransmit_ms == 0)
		c->token_retransmit_ms = 1;
	c->hold_ms = (c->token_retransmit_ms * 8u) / 10u;
	c->consensus_ms = (c->token_ms * 12u) / 10u;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int config_check(const struct totem_config *c)
{
	if (c->nodeid == 0 || c->member_count == 0 || c->member_count > TOTEM_MAX_NODES)
		return TOTEM_E_INVAL;
	if (c->netmtu < 256 || c->netmtu > WIRE_MAX_PACKET || c->window_size == 0 ||
	    c->max_messages == 0 || c->token_ms == 0 || c->send_queue_max_msgs == 0)
		return TOTEM_E_INVAL;
	if (c->window_size > STORE_CAP / 4)
		return TOTEM_E_INVAL;
	return TOTEM_OK;
}

int totem_create(const struct totem_config *cfg, struct totem_node **out)
{
	struct totem_node *t;
	bool self_listed = false;

	*out = NULL;
	if (config_check(cfg) != TOTEM_OK)
		return TOTEM_E_INVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return TOTEM_E_NOMEM;
	t->cfg = *cfg;
	memcpy(t->members_sorted, cfg->members, cfg->member_count * sizeof(uint32_t));
	qsort(t->members_sorted, cfg->member_count, sizeof(uint32_t), cmp_u32);
	for (uint32_t i = 0; i < cfg->member_count; i++) {
		if (t->members_sorted[i] == 0 ||
		    (i && t->members_sorted[i] == t->members_sorted[i - 1]))
			goto inval;
		if (t->members_sorted[i] == cfg->nodeid)
			self_listed = true;
	}
	if (!self_listed)
		goto inval;
	t->max_app_payload = cfg->netmtu - 2u * WIRE_MCAST_FIXED_LEN;
	totem_pool_init(&t->pool, cfg->netmtu);
	totem_pool_init(&t->pool_small,
			cfg->netmtu < TOTEM_SMALL_BUF ? cfg->netmtu : TOTEM_SMALL_BUF);
	t->reasm = calloc(cfg->member_count, sizeof(*t->reasm));
	t->peer = calloc(cfg->member_count, sizeof(*t->peer));
	t->last_tok_buf = malloc(WIRE_MAX_PACKET);
	t->recq = malloc(STORE_CAP * sizeof(uint64_t));
	t->recq_cap = STORE_CAP;
	if (!t->reasm || !t->peer || !t->last_tok_buf || !t->recq || store_init(&t->ops) ||
	    store_init(&t->rec))
		goto nomem;
	t->highest_ring_seq = cfg->ring_seq_start;
	for (int i = 0; i < TMR_COUNT_; i++)
		t->tmr[i] = TOTEM_NO_DEADLINE;
	t->reported_deadline = TOTEM_NO_DEADLINE;
	*out = t;
	return TOTEM_OK;
inval:
	totem_destroy(t);
	return TOTEM_E_INVAL;
nomem:
	totem_destroy(t);
	return TOTEM_E_NOMEM;
}

void totem_destroy(struct totem_node *t)
{
	if (!t)
		return;
	store_free(t, &t->ops);
	store_free(t, &t->rec);
	totem_pool_free(&t->pool);
	totem_pool_free(&t->pool_small);
	if (t->reasm)
		for (uint32_t i = 0; i < t->cfg.member_count; i++)
			free(t->reasm[i].buf);
	free(t->reasm);
	free(t->peer);
	sq_free(&t->sq);
	free(t->recq);
	free(t->acts);
	free(t->arena);
	free(t->last_tok_buf);
	free(t);
}

/* ---- small set helpers ---- */

int totem_member_index(const struct totem_node *t, uint32_t nodeid)
{
	uint32_t lo = 0, hi = t->cfg.member_count;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (t->members_sorted[mid] == nodeid)
			return (int)mid;
		if (t->members_sorted[mid] < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool totem_set_has(const uint32_t *set, uint32_t n, uint32_t id)
{
	for (uint32_t i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

/* Sets are kept sorted so that equality is a memcmp. */
void totem_set_add(uint32_t *set, uint32_t *n, uint32_t id)
{
	uint32_t i = *n;

	if (totem_set_has(set, *n, id) || *n >= TOTEM_MAX_NODES)
		return;
	while (i > 0 && set[i - 1] > id) {
		set[i] = set[i - 1];
		i--;
	}
	set[i] = id;
	(*n)++;
}

uint32_t totem_next_member(const struct totem_node *t)
{
	for (uint32_t i = 0; i < t->memb_count; i++)
		if (t->memb[i] == t->cfg.nodeid)
			return t->memb[(i + 1) % t->memb_count];
	return t->cfg.nodeid;
}

struct wire_hdr totem_hdr(const struct totem_node *t, uint8_t type)
{
	struct wire_hdr h = { .type = type,
			      .cluster_id = t->cfg.cluster_id,
			      .sender = t->cfg.nodeid };
	return h;
}

/* ---- timers ---- */

void totem_timer_arm(struct totem_node *t, enum totem_timer w, uint64_t after_ms)
{
	t->tmr[w] = t->now + after_ms * 1000u;
}

void totem_timer_arm_us(struct totem_node *t, enum totem_timer w, uint64_t after_us)
{
	t->tmr[w] = t->now + after_us;
}

void totem_timer_stop(struct totem_node *t, enum totem_timer w)
{
	t->tmr[w] = TOTEM_NO_DEADLINE;
}

uint64_t totem_next_deadline(const struct totem_node *t)
{
	uint64_t d = TOTEM_NO_DEADLINE;

	for (int i = 0; i < TMR_COUNT_; i++)
		if (t->tmr[i] < d)
			d = t->tmr[i];
	return d;
}

/* ---- actions ---- */

static struct act_rec *act_push(struct totem_node *t, enum totem_action_type type)
{
	if (t->acts_count == t->acts_cap) {
		uint32_t cap = t->acts_cap ? t->acts_cap * 2 : ACT_MAX_INLINE;
		struct act_rec *n = realloc(t->acts, cap * sizeof(*n));
		if (!n)
			abort(); /* out of memory for bookkeeping: nothing sane to do */
		t->acts = n;
		t->acts_cap = cap;
	}
	struct act_rec *r = &t->acts[t->acts_count++];
	memset(r, 0, sizeof(*r));
	r->a.type = type;
	return r;
}

/* Arena space is addressed by offset so that growing it never invalidates
 * earlier actions of the same event. */
static size_t arena_reserve(struct totem_node *t, size_t len)
{
	/* 8-byte aligned so that member arrays can be read as uint32_t */
	size_t off = (t->arena_len + 7u) & ~(size_t)7u;

	if (off + len > t->arena_cap) {
		size_t cap = t->arena_cap ? t->arena_cap : 65536;
		while (cap < off + len)
			cap *= 2;
		uint8_t *n = realloc(t->arena, cap);
		if (!n)
			abort();
		t->arena = n;
		t->arena_cap = cap;
	}
	t->arena_len = off + len;
	return off;
}

static size_t arena_copy(struct totem_node *t, const void *data, size_t len)
{
	size_t off = arena_reserve(t, len);
	if (len)
		memcpy(t->arena + off, data, len);
	return off;
}

uint8_t *totem_act_send_reserve(struct totem_node *t, uint32_t to, size_t cap)
{
	size_t off = arena_reserve(t, cap);
	struct act_rec *r = act_push(t, TOTEM_ACT_SEND);

	r->a.u.send.to = to;
	r->off[0] = off;
	return t->arena + off;
}

/* Shrink the last reserved send to its real length (it is the arena's tail).
 * Length 0 means the encoder refused the packet: the send is withdrawn, so
 * the caller never hands the transport an empty datagram. */
void totem_act_send_commit(struct totem_node *t, size_t len)
{
	struct act_rec *r = &t->acts[t->acts_count - 1];

	t->arena_len = r->off[0] + len;
	if (len == 0) {
		t->acts_count--;
		return;
	}
	r->a.u.send.len = len;
	t->stats.tx_packets++;
}

void totem_act_send_copy(struct totem_node *t, uint32_t to, const uint8_t *data, size_t len)
{
	uint8_t *p = totem_act_send_reserve(t, to, len);
	memcpy(p, data, len);
	totem_act_send_commit(t, len);
}

void totem_act_deliver(struct totem_node *t, uint32_t sender, struct totem_ring_id rid,
		       uint64_t seq, uint8_t guarantee, const uint8_t *data, size_t len)
{
	size_t off = arena_copy(t, data, len);
	struct act_rec *r = act_push(t, TOTEM_ACT_DELIVER);

	r->a.u.deliver.sender = sender;
	r->a.u.deliver.ring_id = rid;
	r->a.u.deliver.seq = seq;
	r->a.u.deliver.guarantee = guarantee ? TOTEM_SAFE : TOTEM_AGREED;
	r->a.u.deliver.len = len;
	r->off[0] = off;
	t->stats.delivered++;
}

void totem_act_confchg(struct totem_node *t, enum totem_confchg_type type, const uint32_t *members,
		       size_t mc, const uint32_t *left, size_t lc, const uint32_t *joined,
		       size_t jc)
{
	size_t o0 = arena_copy(t, members, mc * 4), o1 = arena_copy(t, left, lc * 4);
	size_t o2 = arena_copy(t, joined, jc * 4);
	struct act_rec *r = act_push(t, TOTEM_ACT_CONFCHG);

	r->a.u.confchg.type = type;
	r->a.u.confchg.ring_id = t->ring_id;
	r->a.u.confchg.member_count = mc;
	r->a.u.confchg.left_count = lc;
	r->a.u.confchg.joined_count = jc;
	r->off[0] = o0;
	r->off[1] = o1;
	r->off[2] = o2;
}

void totem_act_persist(struct totem_node *t, uint64_t ring_seq)
{
	act_push(t, TOTEM_ACT_PERSIST)->a.u.persist.ring_seq = ring_seq;
}

bool totem_next_action(struct totem_node *t, struct totem_action *out)
{
	if (t->acts_head >= t->acts_count)
		return false;
	struct act_rec *r = &t->acts[t->acts_head++];
	*out = r->a;
	switch (out->type) {
	case TOTEM_ACT_SEND:
		out->u.send.data = t->arena + r->off[0];
		break;
	case TOTEM_ACT_DELIVER:
		out->u.deliver.data = t->arena + r->off[0];
		break;
	case TOTEM_ACT_CONFCHG:
		out->u.confchg.members = (const uint32_t *)(void *)(t->arena + r->off[0]);
		out->u.confchg.left = (const uint32_t *)(void *)(t->arena + r->off[1]);
		out->u.confchg.joined = (const uint32_t *)(void *)(t->arena + r->off[2]);
		break;
	default:
		break;
	}
	return true;
}

/* ---- events ---- */

static void event_begin(struct totem_node *t, uint64_t now)
{
	t->stats.actions_dropped += t->acts_count - t->acts_head;
	t->acts_count = t->acts_head = 0;
	t->arena_len = 0;
	if (now > t->now)
		t->now = now;
}

static void event_end(struct totem_node *t)
{
	uint64_t d = totem_next_deadline(t);

	if (d != t->reported_deadline) {
		t->reported_deadline = d;
		act_push(t, TOTEM_ACT_TIMER)->a.u.timer.deadline_us = d;
	}
}

void totem_start(struct totem_node *t, uint64_t now_us)
{
	event_begin(t, now_us);
	if (!t->started) {
		t->started = true;
		memb_gather_enter(t, "start");
	}
	event_end(t);
}

static void dispatch_packet(struct totem_node *t, const uint8_t *buf, size_t len)
{
	const struct wire_packet *p = &t->pkt;

	switch (p->hdr.type) {
	case WIRE_MCAST:
		order_on_mcast(t, p, buf, len);
		break;
	case WIRE_TOKEN:
		order_on_token(t, &p->u.token);
		break;
	case WIRE_JOIN:
		memb_on_join(t, p);
		break;
	case WIRE_COMMIT:
		memb_on_commit(t, p);
		break;
	case WIRE_MERGE_DETECT:
		memb_on_merge_detect(t, p);
		break;
	case WIRE_LEAVE:
		memb_on_leave(t, p);
		break;
	case WIRE_HOLD_CANCEL:
		order_on_hold_cancel(t, p);
		break;
	default:
		break;
	}
}

void totem_on_packet(struct totem_node *t, uint64_t now_us, uint32_t from_nodeid,
		     const uint8_t *buf, size_t len)
{
	enum wire_err e;

	event_begin(t, now_us);
	t->stats.rx_packets++;
	if (!t->started || t->left_cluster)
		goto out;
	e = wire_decode(buf, len, t->cfg.cluster_id, &t->pkt);
	if (e != WIRE_OK) {
		t->stats.rx_rejected[e < 16 ? e : 15]++;
		goto out;
	}
	/* A retransmitted MCAST keeps its originator in the header and may come
	 * from any member, even back to its originator; every other packet type
	 * must come from the node it names. */
	if (t->pkt.hdr.type != WIRE_MCAST && ((from_nodeid && from_nodeid != t->pkt.hdr.sender) ||
					      t->pkt.hdr.sender == t->cfg.nodeid)) {
		t->stats.rx_spoofed++;
		goto out;
	}
	if (totem_member_index(t, t->pkt.hdr.sender) < 0) {
		t->stats.rx_foreign++;
		goto out;
	}
	dispatch_packet(t, buf, len);
out:
	event_end(t);
}

void totem_set_reachable(struct totem_node *t, uint64_t now_us, uint32_t nodeid, bool reachable)
{
	int i = totem_member_index(t, nodeid);

	event_begin(t, now_us);
	if (i >= 0 && nodeid != t->cfg.nodeid) {
		t->peer[i].unreachable = !reachable;
		t->peer[i].reach_known = true;
		if (t->started && !t->left_cluster && !reachable)
			memb_fail_unreachable(t);
	}
	event_end(t);
}

static void fire_timer(struct totem_node *t, enum totem_timer w)
{
	switch (w) {
	case TMR_TOKEN_LOSS:
		t->stats.token_losses++;
		memb_gather_enter(t, "token lost");
		break;
	case TMR_TOKEN_RETRANS:
		if (t->last_tok_len &&
		    t->tok_retrans_count < t->cfg.token_retransmits_before_loss) {
			t->tok_retrans_count++;
			t->stats.token_retransmits++;
			totem_act_send_copy(t, t->last_tok_to, t->last_tok_buf, t->last_tok_len);
			totem_timer_arm(t, TMR_TOKEN_RETRANS, t->cfg.token_retransmit_ms);
		}
		break;
	case TMR_HOLD:
		if (t->self_token_pending) {
			t->self_token_pending = false;
			order_on_token(t, &t->self_tok);
		} else if (t->holding &&
			   (t->state == TOTEM_OPERATIONAL || t->state == TOTEM_RECOVERY)) {
			order_token_emit(t);
		}
		break;
	case TMR_JOIN:
		/* A newcomer's grace for an unreachable hint may have run out. */
		memb_fail_unreachable(t);
		memb_send_join(t);
		totem_timer_arm(t, TMR_JOIN, t->cfg.join_ms);
		break;
	case TMR_CONSENSUS:
		memb_consensus_timeout(t);
		break;
	case TMR_MERGE:
		memb_send_merge_detect(t);
		break;
	default:
		break;
	}
}

void totem_on_timer(struct totem_node *t, uint64_t now_us)
{
	event_begin(t, now_us);
	if (t->started && !t->left_cluster) {
		/* Fire in a fixed order; a handler may re-arm or stop others. */
		for (int w = 0; w < TMR_COUNT_; w++) {
			if (t->tmr[w] <= t->now) {
				t->tmr[w] = TOTEM_NO_DEADLINE;
				fire_timer(t, (enum totem_timer)w);
			}
		}
	}
	event_end(t);
}

int totem_submit(struct totem_node *t, uint64_t now_us, enum totem_guarantee g, const void *data,
		 size_t len)
{
	int rc;

	if ((g != TOTEM_AGREED && g != TOTEM_SAFE) || (!data && len))
		return TOTEM_E_INVAL;
	if (len > t->cfg.max_msg_bytes)
		return TOTEM_E_TOOBIG;
	event_begin(t, now_us);
	rc = t->left_cluster ? TOTEM_E_INVAL : sq_push(t, (uint8_t)g, data, len);
	if (rc == TOTEM_OK && t->state == TOTEM_OPERATIONAL) {
		/* an idle held token goes at once, a batch once it is full */
		if (t->holding && (!t->batch_holding || order_batch_full(t)))
			order_token_emit(t);
		else if (t->self_token_pending)
			totem_timer_arm(t, TMR_HOLD, 0);
		else if (!t->holding)
			order_hold_cancel_send(t); /* the token may be held elsewhere */
	}
	event_end(t);
	return rc;
}

void totem_leave(struct totem_node *t, uint64_t now_us)
{
	struct wire_leave l;
	struct wire_hdr h = totem_hdr(t, WIRE_LEAVE);

	event_begin(t, now_us);
	if (t->started && !t->left_cluster) {
		l.ring_id.rep = t->ring_id.rep;
		l.ring_id.seq = t->ring_id.seq;
		/* Twice: one lost datagram should not cost the others a token timeout. */
		for (int i = 0; i < 2; i++) {
			uint8_t *b = totem_act_send_reserve(t, TOTEM_TO_ALL, 64);
			totem_act_send_commit(t, wire_encode_leave(b, 64, &h, &l));
		}
		t->left_cluster = true;
		for (int w = 0; w < TMR_COUNT_; w++)
			t->tmr[w] = TOTEM_NO_DEADLINE;
	}
	event_end(t);
}

/* ---- queries ---- */

enum totem_state totem_get_state(const struct totem_node *t)
{
	return t->state;
}

struct totem_ring_id totem_get_ring_id(const struct totem_node *t)
{
	return t->ring_id;
}

size_t totem_get_members(const struct totem_node *t, uint32_t *out, size_t max)
{
	size_t n = t->memb_count < max ? t->memb_count : max;
	memcpy(out, t->memb, n * sizeof(uint32_t));
	return t->memb_count;
}

uint64_t totem_get_highest_ring_seq(const struct totem_node *t)
{
	return t->highest_ring_seq;
}

size_t totem_submit_space(const struct totem_node *t)
{
	return t->cfg.send_queue_max_msgs - t->sq.count;
}

const struct totem_stats *totem_get_stats(const struct totem_node *t)
{
	return &t->stats;
}

const char *totem_state_name(enum totem_state s)
{
	switch (s) {
	case TOTEM_GATHER:
		return "gather";
	case TOTEM_COMMIT:
		return "commit";
	case TOTEM_RECOVERY:
		return "recovery";
	case TOTEM_OPERATIONAL:
		return "operational";
	}
	return "none";
}
