/* Totem core, what membership knows of each configured node besides the
 * sets: the merge backoff for nodes that keep failing our merges, the
 * transport's reachability hint, the incumbent rule for joins; and the
 * membership events that concern one node: merge detection and departures. */
#include "totem/totem_int.h"

/* ---- merge backoff ----
 * Under a one-way or non-transitive fault the same node is let in by a merge
 * and failed by the gather it caused, over and over. A node we tried to take
 * in and had to fail is ignored for one consensus period, doubling with each
 * failure that follows soon after, up to merge_backoff_max_ms. Members lost
 * from our own ring (a crash, a restart) never count. */

struct memb_peer *memb_peer_of(const struct totem_node *t, uint32_t nodeid)
{
	int i = totem_member_index(t, nodeid);
	return i < 0 ? NULL : &t->peer[i];
}

void memb_backoff_note_failures(struct totem_node *t)
{
	uint64_t cap_us = (uint64_t)t->cfg.merge_backoff_max_ms * 1000u;
	uint64_t first_us = (uint64_t)t->cfg.consensus_ms * 1000u;

	if (first_us > cap_us)
		first_us = cap_us;
	for (uint32_t i = 0; i < t->fail_count; i++) {
		struct memb_peer *p = memb_peer_of(t, t->fail[i]);
		/* Only a node we tried to take in counts: members we lose
		 * are failures of the ring, not of a merge. */
		if (!p || t->fail[i] == t->cfg.nodeid || cap_us == 0 ||
		    totem_set_has(t->memb, t->memb_count, t->fail[i]))
			continue;
		if (p->left) {
			p->left = false;
			continue;
		}
		if (p->streak && t->now - p->last_fail_us > 2 * cap_us + first_us)
			p->streak = 0;
		p->last_fail_us = t->now;
		uint64_t d = first_us << (p->streak < 16 ? p->streak : 16);
		p->streak++;
		p->quiet_until_us = t->now + (d < cap_us ? d : cap_us);
		totem_trace(t, "merge backoff for", t->fail[i]);
		t->stats.merge_backoffs++;
	}
}

/* The hint lags the network: a node that has just restarted reaches the
 * others' cores before their transports see it again, and a peer's join may
 * name it before its own join has reached us. So a node from outside our
 * ring is failed on the hint only two join periods into the gather, time
 * for its packets to arrive (each clears the hint). Members of our ring
 * are failed at once: their silence is what started the gather. */
static bool unreachable_now(const struct totem_node *t, uint32_t nodeid)
{
	const struct memb_peer *p = memb_peer_of(t, nodeid);

	if (!p || !p->unreachable || nodeid == t->cfg.nodeid)
		return false;
	return totem_set_has(t->memb, t->memb_count, nodeid) ||
	       t->now - t->gather_start_us >= 2ull * t->cfg.join_ms * 1000u;
}

bool memb_fail_unreachable_sets(struct totem_node *t)
{
	bool changed = false;

	for (uint32_t i = 0; i < t->proc_count; i++) {
		if (unreachable_now(t, t->proc[i]) &&
		    !totem_set_has(t->fail, t->fail_count, t->proc[i])) {
			totem_set_add(t->fail, &t->fail_count, t->proc[i]);
			totem_trace(t, "unreachable: failing", t->proc[i]);
			changed = true;
		}
	}
	return changed;
}

bool memb_backoff_quiet(const struct totem_node *t, uint32_t nodeid)
{
	const struct memb_peer *p = memb_peer_of(t, nodeid);
	return p && t->now < p->quiet_until_us;
}

/* A node from outside our ring asks us to drop a member of it that is alive
 * (we heard it in this gather, or the transport reaches it): with a
 * non-transitive link the two cannot both be in the
 * next ring, and the member we already have wins. Without this rule the
 * middle node sides with whichever join arrives first and the ring flaps
 * between the two sides. */
bool memb_join_evicts_incumbent(const struct totem_node *t, uint32_t from,
				const struct wire_join *j)
{
	if (totem_set_has(t->memb, t->memb_count, from))
		return false;
	for (uint16_t i = 0; i < j->fail_count; i++) {
		const struct memb_peer *p = memb_peer_of(t, j->fail[i]);
		if (j->fail[i] != t->cfg.nodeid && p &&
		    (p->gather_heard || (p->reach_known && !p->unreachable)) &&
		    totem_set_has(t->memb, t->memb_count, j->fail[i]) &&
		    !totem_set_has(t->fail, t->fail_count, j->fail[i]))
			return true;
	}
	return false;
}

/* A packet from a node the transport called unreachable proves otherwise
 * (its link-up may simply not have been reported yet, as after a restart
 * or a healed partition): without this the node would be failed at once. */
void memb_heard_from(struct totem_node *t, uint32_t from)
{
	struct memb_peer *p = memb_peer_of(t, from);
	if (p)
		p->unreachable = false;
}

/* Whoever has not agreed by now is taken as failed; with all agreed but no
 * commit token, the representative is the one that failed. */
bool memb_joined_lately(const struct totem_node *t, uint32_t nodeid)
{
	const struct memb_peer *p = memb_peer_of(t, nodeid);
	return p && p->gather_heard && t->now - p->last_join_us < t->cfg.consensus_ms * 1000ull;
}

bool memb_outside_node_wanted(const struct totem_node *t)
{
	for (uint32_t i = 0; i < t->cfg.member_count; i++) {
		uint32_t id = t->members_sorted[i];
		if (t->now >= t->peer[i].quiet_until_us &&
		    !totem_set_has(t->memb, t->memb_count, id))
			return true;
	}
	return false;
}

/* ---- merge detection and departures ---- */

void memb_send_merge_detect(struct totem_node *t)
{
	struct wire_hdr h = totem_hdr(t, WIRE_MERGE_DETECT);
	struct wire_merge_detect m;
	uint8_t *b;

	if (t->state != TOTEM_OPERATIONAL || t->memb[0] != t->cfg.nodeid)
		return;
	/* Only worth sending while some configured node is outside the ring
	 * and not in a merge backoff: announcing ourselves to nodes we would
	 * ignore makes them re-form alone when their own backoff ends first. */
	if (t->memb_count < t->cfg.member_count && memb_outside_node_wanted(t)) {
		m.ring_id.rep = t->ring_id.rep;
		m.ring_id.seq = t->ring_id.seq;
		b = totem_act_send_reserve(t, TOTEM_TO_ALL, 64);
		totem_act_send_commit(t, wire_encode_merge_detect(b, 64, &h, &m));
	}
	totem_timer_arm(t, TMR_MERGE, t->cfg.merge_ms);
}

void memb_on_merge_detect(struct totem_node *t, const struct wire_packet *p)
{
	uint32_t from = p->hdr.sender;

	memb_heard_from(t, from);
	if (t->state == TOTEM_OPERATIONAL && !totem_set_has(t->memb, t->memb_count, from)) {
		if (memb_backoff_quiet(t, from)) {
			t->stats.rx_backoff++;
			return;
		}
		memb_gather_enter(t, "foreign ring detected");
		totem_set_add(t->proc, &t->proc_count, from);
		memb_sets_changed(t);
		memb_send_join(t);
	} else if (t->state == TOTEM_GATHER && !totem_set_has(t->proc, t->proc_count, from) &&
		   !totem_set_has(t->fail, t->fail_count, from)) {
		totem_set_add(t->proc, &t->proc_count, from);
		memb_sets_changed(t);
		memb_send_join(t);
	}
}

void memb_on_leave(struct totem_node *t, const struct wire_packet *p)
{
	uint32_t from = p->hdr.sender;
	uint64_t floor = t->have_ops ? t->ops.ring_id.seq : 0;

	if (p->u.leave.ring_id.seq < floor ||
	    (!totem_set_has(t->memb, t->memb_count, from) &&
	     !totem_set_has(t->proc, t->proc_count, from)) ||
	    totem_set_has(t->fail, t->fail_count, from))
		return;
	if (t->state != TOTEM_GATHER)
		memb_gather_enter(t, "member left");
	if (memb_peer_of(t, from))
		memb_peer_of(t, from)->left = true;
	totem_set_add(t->fail, &t->fail_count, from);
	memb_sets_changed(t);
	memb_send_join(t);
	memb_check_consensus(t);
}
