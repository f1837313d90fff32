/* Totem core, membership: gather (join messages and consensus), commit (the
 * commit token's two rotations), recovery set-up and the switch to the new
 * ring with its transitional and regular configurations. */
#include <stdlib.h>
#include <string.h>

#include "totem/totem_int.h"

static bool set_equal(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (!totem_set_has(b, nb, a[i]))
			return false;
	return true;
}

static int proc_index(const struct totem_node *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->proc_count; i++)
		if (t->proc[i] == id)
			return (int)i;
	return -1;
}

/* The members a new ring would have: proc minus fail, sorted. */
static uint32_t active_set(const struct totem_node *t, uint32_t *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->proc_count; i++)
		if (!totem_set_has(t->fail, t->fail_count, t->proc[i]))
			out[n++] = t->proc[i];
	return n;
}

void memb_sets_changed(struct totem_node *t)
{
	memset(t->agreed, 0, sizeof(t->agreed));
	t->awaiting_commit = false;
}

void memb_send_join(struct totem_node *t)
{
	struct wire_hdr h = totem_hdr(t, WIRE_JOIN);
	struct wire_join *j = &t->join_out;
	size_t cap = 32 + 8u * (t->proc_count + t->fail_count);
	uint8_t *b;

	if (t->state != TOTEM_GATHER)
		return;
	j->ring_seq = t->highest_ring_seq;
	j->proc_count = (uint16_t)t->proc_count;
	j->fail_count = (uint16_t)t->fail_count;
	memcpy(j->proc, t->proc, t->proc_count * sizeof(uint32_t));
	memcpy(j->fail, t->fail, t->fail_count * sizeof(uint32_t));
	b = totem_act_send_reserve(t, TOTEM_TO_ALL, cap);
	totem_act_send_commit(t, wire_encode_join(b, cap, &h, j));
}

void memb_gather_enter(struct totem_node *t, const char *why)
{
	enum totem_state prev = t->state;

	totem_trace(t, why, 0);
	if (prev == TOTEM_OPERATIONAL || prev == 0) {
		t->fail_count = 0;
		t->proc_count = 0;
	}
	for (uint32_t i = 0; i < t->memb_count; i++)
		totem_set_add(t->proc, &t->proc_count, t->memb[i]);
	totem_set_add(t->proc, &t->proc_count, t->cfg.nodeid);
	if (prev == TOTEM_RECOVERY)
		store_reset(t, &t->rec, t->rec.ring_id);
	t->recq_count = 0;
	t->state = TOTEM_GATHER;
	order_begin_ring(t);
	totem_timer_stop(t, TMR_TOKEN_LOSS);
	totem_timer_stop(t, TMR_TOKEN_RETRANS); /* a token or commit token of a ring given up */
	totem_timer_stop(t, TMR_MERGE);
	/* A message cut into fragments restarts whole in the next ring. */
	t->sq.head_frag_off = 0;
	t->last_commit_token_seq = 0;
	t->gather_max_ring_seq = t->highest_ring_seq;
	memb_sets_changed(t);
	memset(t->heard, 0, sizeof(t->heard));
	for (uint32_t i = 0; i < t->cfg.member_count; i++)
		t->peer[i].gather_heard = false;
	t->consensus_waited = false;
	if (prev != TOTEM_GATHER)
		t->gather_start_us = t->now;
	memb_send_join(t);
	totem_timer_arm(t, TMR_JOIN, t->cfg.join_ms);
	totem_timer_arm(t, TMR_CONSENSUS, t->cfg.consensus_ms);
	memb_fail_unreachable(t);
}

/* ---- commit ---- */

static int commit_index(const struct wire_commit *c, uint32_t id)
{
	for (uint16_t i = 0; i < c->memb_count; i++)
		if (c->memb[i].nodeid == id)
			return i;
	return -1;
}

static void commit_fill(struct totem_node *t, struct wire_commit *c)
{
	struct wire_commit_memb *e = &c->memb[c->memb_index++];

	if (t->have_ops) {
		e->old_ring_id.rep = t->ops.ring_id.rep;
		e->old_ring_id.seq = t->ops.ring_id.seq;
	} else {
		/* A fresh process has no old ring; a unique id keeps it alone. */
		e->old_ring_id.rep = t->cfg.nodeid;
		e->old_ring_id.seq = 0;
	}
	e->my_aru = t->have_ops ? t->ops.aru : 0;
	e->high_seq = t->have_ops ? t->ops.high : 0;
	e->received_flg = 1;
}

static void adopt_ring_seq(struct totem_node *t, uint64_t seq)
{
	if (seq > t->highest_ring_seq) {
		t->highest_ring_seq = seq;
		totem_act_persist(t, seq);
	}
}

static void commit_receive(struct totem_node *t, const struct wire_commit *c);

static void commit_forward(struct totem_node *t)
{
	struct wire_commit *c = &t->commit;
	struct wire_hdr h = totem_hdr(t, WIRE_COMMIT);
	int me = commit_index(c, t->cfg.nodeid);
	uint32_t next = c->memb[(me + 1) % c->memb_count].nodeid;

	c->token_seq++;
	t->last_commit_token_seq = c->token_seq;
	if (next == t->cfg.nodeid) {
		commit_receive(t, c);
		return;
	}
	t->last_tok_len = wire_encode_commit(t->last_tok_buf, WIRE_MAX_PACKET, &h, c);
	t->last_tok_to = next;
	t->tok_retrans_count = 0;
	totem_act_send_copy(t, next, t->last_tok_buf, t->last_tok_len);
	totem_timer_arm(t, TMR_TOKEN_RETRANS, t->cfg.token_retransmit_ms);
}

/* In a gather, nodes the transport cannot reach are failed without waiting
 * for the consensus timeout (see unreachable_now for when). */
void memb_fail_unreachable(struct totem_node *t)
{
	if (t->state == TOTEM_GATHER && memb_fail_unreachable_sets(t)) {
		memb_sets_changed(t);
		memb_send_join(t);
		memb_check_consensus(t);
	}
}

static void commit_state_enter(struct totem_node *t)
{
	memb_backoff_note_failures(t);
	t->state = TOTEM_COMMIT;
	totem_timer_stop(t, TMR_JOIN);
	totem_timer_stop(t, TMR_CONSENSUS);
	totem_timer_arm(t, TMR_TOKEN_LOSS, t->cfg.token_ms);
}

static void create_commit_token(struct totem_node *t, const uint32_t *active, uint32_t n)
{
	struct wire_commit *c = &t->commit;
	uint64_t base = t->gather_max_ring_seq > t->highest_ring_seq ? t->gather_max_ring_seq :
								       t->highest_ring_seq;

	memset(c, 0, sizeof(*c) - sizeof(c->memb));
	c->ring_id.rep = t->cfg.nodeid;
	c->ring_id.seq = base + 4;
	c->memb_count = (uint16_t)n;
	for (uint32_t i = 0; i < n; i++) {
		memset(&c->memb[i], 0, sizeof(c->memb[i]));
		c->memb[i].nodeid = active[i];
	}
	commit_fill(t, c);
	adopt_ring_seq(t, c->ring_id.seq);
	commit_state_enter(t);
	commit_forward(t);
}

void memb_check_consensus(struct totem_node *t)
{
	uint32_t active[TOTEM_MAX_NODES];
	uint32_t n = active_set(t, active);

	for (uint32_t i = 0; i < n; i++) {
		int pi = proc_index(t, active[i]);
		if (active[i] != t->cfg.nodeid && !t->agreed[pi])
			return;
	}
	if (active[0] == t->cfg.nodeid) {
		create_commit_token(t, active, n);
	} else if (!t->awaiting_commit) {
		/* The representative gets a whole consensus period for its commit
		 * token: the timeout blames it only if it stays silent that long. */
		t->awaiting_commit = true;
		totem_timer_arm(t, TMR_CONSENSUS, t->cfg.consensus_ms);
	}
}

static void start_regular_token(struct totem_node *t)
{
	struct wire_token tok;

	memset(&tok, 0, sizeof(tok));
	tok.ring_id.rep = t->ring_id.rep;
	tok.ring_id.seq = t->ring_id.seq;
	tok.token_seq = 1;
	order_on_token(t, &tok);
}

static void recovery_enter(struct totem_node *t)
{
	const struct wire_commit *c = &t->commit;
	uint64_t low = UINT64_MAX, top = 0;
	uint32_t top_node = 0;

	t->state = TOTEM_RECOVERY;
	t->ring_id.rep = c->ring_id.rep;
	t->ring_id.seq = c->ring_id.seq;
	t->memb_count = 0;
	t->trans_count = 0;
	for (uint16_t i = 0; i < c->memb_count; i++) {
		const struct wire_commit_memb *e = &c->memb[i];
		totem_set_add(t->memb, &t->memb_count, e->nodeid);
		if (t->have_ops && e->old_ring_id.rep == t->ops.ring_id.rep &&
		    e->old_ring_id.seq == t->ops.ring_id.seq) {
			totem_set_add(t->trans_memb, &t->trans_count, e->nodeid);
			if (e->my_aru < low)
				low = e->my_aru;
			if (e->my_aru > top || (e->my_aru == top && e->nodeid < top_node)) {
				top = e->my_aru;
				top_node = e->nodeid;
			}
		}
	}
	totem_set_add(t->trans_memb, &t->trans_count, t->cfg.nodeid);
	store_reset(t, &t->rec, t->ring_id);
	order_begin_ring(t);
	t->recq_head = t->recq_count = 0;
	/* Re-send every old packet some transitional member may lack. Up to the
	 * highest aru, the member owning it has them all and alone re-sends
	 * them; above it, everyone who holds a packet re-sends it. Without
	 * this every member would fill each token visit with the same copies. */
	if (top_node != t->cfg.nodeid && top > low)
		low = top;
	for (uint64_t q = low + 1; t->have_ops && q <= t->ops.high; q++) {
		if (q < t->ops.base || q - t->ops.base >= STORE_CAP)
			continue;
		const struct store_slot *sl = &t->ops.slots[q & STORE_MASK];
		if (sl->buf && !(sl->flags & WIRE_MCAST_ENCAP) && t->recq_count < t->recq_cap)
			t->recq[t->recq_count++] = q;
	}
	totem_timer_stop(t, TMR_JOIN);
	totem_timer_stop(t, TMR_CONSENSUS);
	totem_timer_arm(t, TMR_TOKEN_LOSS, t->cfg.token_ms);
}

static void commit_receive(struct totem_node *t, const struct wire_commit *c)
{
	bool full = c->memb_index == c->memb_count;

	if (c != &t->commit)
		t->commit = *c;
	totem_timer_stop(t, TMR_TOKEN_RETRANS);
	if (t->state == TOTEM_COMMIT && full) {
		recovery_enter(t);
		commit_forward(t);
	} else if (t->state == TOTEM_RECOVERY && full && t->ring_id.rep == t->cfg.nodeid) {
		start_regular_token(t);
	}
}

/* The member list is fixed when a node accepts the commit token in gather;
 * later rotations only fill in the members' entries. */
static bool commit_same_members(const struct wire_commit *a, const struct wire_commit *b)
{
	if (a->memb_count != b->memb_count)
		return false;
	for (uint16_t i = 0; i < a->memb_count; i++)
		if (a->memb[i].nodeid != b->memb[i].nodeid)
			return false;
	return true;
}

void memb_on_commit(struct totem_node *t, const struct wire_packet *p)
{
	const struct wire_commit *c = &p->u.commit;
	uint32_t active[TOTEM_MAX_NODES], n;

	if (t->state == TOTEM_GATHER) {
		if (c->memb_index >= c->memb_count ||
		    c->memb[c->memb_index].nodeid != t->cfg.nodeid)
			return;
		n = active_set(t, active);
		for (uint16_t i = 0; i < c->memb_count; i++)
			if (!totem_set_has(active, n, c->memb[i].nodeid)) {
				totem_trace(t, "commit token names a node we do not have:",
					    c->memb[i].nodeid);
				return;
			}
		if (n != c->memb_count) {
			totem_trace(t, "commit token lacks nodes we have, from", p->hdr.sender);
			return;
		}
		if (c->ring_id.seq <= t->highest_ring_seq) {
			memb_send_join(t); /* tell the representative about the newer ring */
			return;
		}
		t->commit = *c;
		commit_fill(t, &t->commit);
		adopt_ring_seq(t, c->ring_id.seq);
		commit_state_enter(t);
		commit_forward(t);
		return;
	}
	if ((t->state != TOTEM_COMMIT && t->state != TOTEM_RECOVERY) ||
	    c->ring_id.rep != t->commit.ring_id.rep || c->ring_id.seq != t->commit.ring_id.seq ||
	    c->token_seq <= t->last_commit_token_seq) {
		t->stats.rx_dup++;
		return;
	}
	/* Otherwise a corrupt token could name nodes we never agreed on, and
	 * we would forward it to them. */
	if (!commit_same_members(c, &t->commit)) {
		t->stats.rx_rejected[WIRE_ERR_FIELD]++;
		return;
	}
	t->last_commit_token_seq = c->token_seq;
	commit_receive(t, c);
}

/* ---- gather: joins and consensus ---- */

/* During commit, a member's join that names a live node the commit token
 * lacks: the member learned of it after our consensus and will refuse the
 * token, so waiting for the token timeout would only delay the ring. */
static bool join_names_newcomer(const struct totem_node *t, const struct wire_join *j)
{
	for (uint16_t i = 0; i < j->proc_count; i++) {
		uint32_t id = j->proc[i];
		if (commit_index(&t->commit, id) < 0 &&
		    !totem_set_has(j->fail, j->fail_count, id) &&
		    !totem_set_has(t->fail, t->fail_count, id))
			return true;
	}
	return false;
}

static bool join_is_stale(const struct totem_node *t, uint32_t from, const struct wire_join *j)
{
	uint64_t cur = t->state == TOTEM_COMMIT ? t->commit.ring_id.seq : t->ring_id.seq;
	const uint32_t *set = t->state == TOTEM_COMMIT ? NULL : t->memb;

	if (t->state == TOTEM_COMMIT)
		return commit_index(&t->commit, from) < 0 ||
		       (j->ring_seq < cur && !join_names_newcomer(t, j));
	if (t->state == TOTEM_RECOVERY && !totem_set_has(set, t->memb_count, from))
		return true; /* newcomers wait until this ring is up */
	/* A node that has failed us cannot be in our next ring: re-forming for it
	 * would only repeat until it forms its own ring and merges back. */
	if (totem_set_has(j->fail, j->fail_count, t->cfg.nodeid))
		return true;
	return totem_set_has(set, t->memb_count, from) && j->ring_seq < cur;
}

static void join_merge(struct totem_node *t, uint32_t from, const struct wire_join *j)
{
	bool changed = false;
	uint32_t me = t->cfg.nodeid;

	if (totem_set_has(j->fail, j->fail_count, me) || memb_join_evicts_incumbent(t, from, j)) {
		if (!totem_set_has(t->fail, t->fail_count, from)) {
			totem_trace(t,
				    totem_set_has(j->fail, j->fail_count, me) ?
					    "join fails us: failing" :
					    "join evicts a member: failing",
				    from);
			totem_set_add(t->fail, &t->fail_count, from);
			changed = true;
		}
	} else {
		for (uint16_t i = 0; i < j->proc_count; i++) {
			if (!totem_set_has(t->proc, t->proc_count, j->proc[i])) {
				totem_set_add(t->proc, &t->proc_count, j->proc[i]);
				changed = true;
			}
		}
		for (uint16_t i = 0; i < j->fail_count; i++) {
			if (j->fail[i] != me &&
			    !totem_set_has(t->fail, t->fail_count, j->fail[i])) {
				totem_set_add(t->fail, &t->fail_count, j->fail[i]);
				changed = true;
			}
		}
	}
	if (!totem_set_has(t->proc, t->proc_count, from)) {
		totem_set_add(t->proc, &t->proc_count, from);
		changed = true;
	}
	changed |= memb_fail_unreachable_sets(t);
	if (changed) {
		bool heard[TOTEM_MAX_NODES] = { false };
		/* heard[] is indexed like proc[], which just changed shape */
		for (uint32_t i = 0; i < t->proc_count; i++)
			heard[i] = true;
		memcpy(t->heard, heard, sizeof(heard));
		memb_sets_changed(t);
		memb_send_join(t);
	}
}

void memb_on_join(struct totem_node *t, const struct wire_packet *p)
{
	const struct wire_join *j = &p->u.join;
	uint32_t from = p->hdr.sender;
	int pi;

	memb_heard_from(t, from);
	if (t->state != TOTEM_GATHER) {
		if (join_is_stale(t, from, j)) {
			t->stats.rx_dup++;
			return;
		}
		if (t->state == TOTEM_OPERATIONAL && !totem_set_has(t->memb, t->memb_count, from) &&
		    memb_backoff_quiet(t, from)) {
			t->stats.rx_backoff++;
			return;
		}
		memb_gather_enter(t, "join received");
	}
	if (totem_set_has(t->fail, t->fail_count, from))
		return;
	if (j->ring_seq > t->gather_max_ring_seq)
		t->gather_max_ring_seq = j->ring_seq;
	join_merge(t, from, j);
	pi = proc_index(t, from);
	if (pi < 0 || totem_set_has(t->fail, t->fail_count, from)) {
		/* Failing the sender (it failed us) may leave everyone else agreed. */
		memb_check_consensus(t);
		return;
	}
	t->heard[pi] = true;
	if (memb_peer_of(t, from)) {
		memb_peer_of(t, from)->gather_heard = true;
		memb_peer_of(t, from)->last_join_us = t->now;
	}
	if (set_equal(j->proc, j->proc_count, t->proc, t->proc_count) &&
	    set_equal(j->fail, j->fail_count, t->fail, t->fail_count))
		t->agreed[pi] = true;
	memb_check_consensus(t);
}

void memb_consensus_timeout(struct totem_node *t)
{
	uint32_t active[TOTEM_MAX_NODES];
	uint32_t n = active_set(t, active), failed = 0;
	bool all = true;

	if (t->state != TOTEM_GATHER)
		return;
	/* Fail the silent first: a node still sending joins is alive and its
	 * sets will converge with ours once the silent ones are out. Failing it
	 * too would split a node that merely waited on the same silent node,
	 * so live nodes are failed only after a second period without consensus. */
	int passes = t->consensus_waited ? 2 : 1;

	for (int pass = 0; pass < passes && !failed; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			int pi = proc_index(t, active[i]);
			if (active[i] == t->cfg.nodeid || t->agreed[pi])
				continue;
			all = false;
			if (pass == 0 && memb_joined_lately(t, active[i]))
				continue;
			totem_set_add(t->fail, &t->fail_count, active[i]);
			totem_trace(t,
				    pass ? "consensus timeout: failing live" :
					   "consensus timeout: failing silent",
				    active[i]);
			failed++;
		}
	}
	if (all && n > 1 && active[0] != t->cfg.nodeid) {
		totem_set_add(t->fail, &t->fail_count, active[0]);
		failed++;
	}
	t->consensus_waited = !all && !failed;
	if (failed) {
		memb_sets_changed(t);
		memb_send_join(t);
	}
	memset(t->heard, 0, sizeof(t->heard));
	totem_timer_arm(t, TMR_CONSENSUS, t->cfg.consensus_ms);
	memb_check_consensus(t);
}

/* ---- recovery done: install the new ring ---- */

static uint32_t set_minus(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
			  uint32_t *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < na; i++)
		if (!totem_set_has(b, nb, a[i]))
			out[n++] = a[i];
	return n;
}

void memb_recovery_done(struct totem_node *t)
{
	uint32_t left[TOTEM_MAX_NODES], joined[TOTEM_MAX_NODES];
	uint32_t nl, nj;
	struct totem_store tmp;

	nl = set_minus(t->ops_memb, t->ops_memb_count, t->trans_memb, t->trans_count, left);
	totem_act_confchg(t, TOTEM_CONF_TRANSITIONAL, t->trans_memb, t->trans_count, left, nl, NULL,
			  0);
	if (t->have_ops)
		order_deliver_old_ring(t);
	/* As in Corosync: departures were told by the transitional configuration;
	 * the regular one lists as joined everyone not carried over with us. */
	nj = set_minus(t->memb, t->memb_count, t->trans_memb, t->trans_count, joined);
	totem_act_confchg(t, TOTEM_CONF_REGULAR, t->memb, t->memb_count, NULL, 0, joined, nj);

	tmp = t->ops;
	t->ops = t->rec;
	t->rec = tmp;
	store_reset(t, &t->rec, t->rec.ring_id);
	/* Recovery packets carry no new messages; those already released while
	 * recovering count as delivered. */
	if (t->ops.delivered + 1 < t->ops.base)
		t->ops.delivered = t->ops.base - 1;
	order_reasm_reset(t);
	memcpy(t->ops_memb, t->memb, t->memb_count * sizeof(uint32_t));
	t->ops_memb_count = t->memb_count;
	t->have_ops = true;
	t->fail_count = 0;
	t->proc_count = 0;
	for (uint32_t i = 0; i < t->memb_count; i++)
		totem_set_add(t->proc, &t->proc_count, t->memb[i]);
	t->state = TOTEM_OPERATIONAL;
	t->stats.rings_formed++;
	if (t->memb[0] == t->cfg.nodeid)
		totem_timer_arm(t, TMR_MERGE, t->cfg.merge_ms);
}
