/* votequorum core: the node table, configuration changes and the settle
 * barrier on which every member of a ring takes the same decision. */
#include "services/vq_int.h"

#include <stdlib.h>
#include <string.h>

const char *vq_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case VQ_E_INVAL:
		return "value out of range";
	case VQ_E_NOENT:
		return "node id not known";
	case VQ_E_AGAIN:
		return "membership is changing, try again";
	case VQ_E_LOSES_QUORUM:
		return "the quorum needed would be more than the votes present";
	case VQ_E_MINORITY:
		return "the quorum would not be a majority of the votes present";
	case VQ_E_STALE:
		return "message for another ring or from a non-member";
	case VQ_E_NOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

static size_t lower_bound(const struct vq *q, uint32_t nodeid)
{
	size_t lo = 0, hi = q->node_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->nodes[mid].nodeid < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct vq_entry *vq_find_const(const struct vq *q, uint32_t nodeid)
{
	size_t i = lower_bound(q, nodeid);

	if (i < q->node_count && q->nodes[i].nodeid == nodeid)
		return &q->nodes[i];
	return NULL;
}

struct vq_entry *vq_find(struct vq *q, uint32_t nodeid)
{
	return (struct vq_entry *)vq_find_const(q, nodeid);
}

bool vq_is_member(const struct vq *q, uint32_t nodeid)
{
	for (size_t i = 0; i < q->member_count; i++) {
		if (q->members[i] == nodeid)
			return true;
	}
	return false;
}

static void table_remove(struct vq *q, size_t i)
{
	memmove(&q->nodes[i], &q->nodes[i + 1], (q->node_count - i - 1) * sizeof(q->nodes[0]));
	q->node_count--;
}

/* The table keeps every node ever seen; when it is full the dead make room.
 * Live entries are at most one ring's members, half the table. */
static struct vq_entry *table_add(struct vq *q, uint32_t nodeid)
{
	size_t i;

	if (q->node_count == VQ_TABLE_MAX) {
		for (i = 0; i < q->node_count; i++) {
			if (q->nodes[i].state == VQ_NODE_DEAD)
				break;
		}
		if (i == q->node_count)
			return NULL;
		table_remove(q, i);
	}
	i = lower_bound(q, nodeid);
	memmove(&q->nodes[i + 1], &q->nodes[i], (q->node_count - i) * sizeof(q->nodes[0]));
	q->node_count++;
	memset(&q->nodes[i], 0, sizeof(q->nodes[i]));
	q->nodes[i].nodeid = nodeid;
	q->nodes[i].state = VQ_NODE_MEMBER;
	return &q->nodes[i];
}

static int check_options(const struct vq_options *o)
{
	if (o->my_nodeid == 0 || o->my_votes > VQ_MAX_VOTES || o->expected_votes == 0 ||
	    o->expected_votes > VQ_MAX_EXPECTED || o->atb_node_count > VQ_MAX_ATB_NODES)
		return VQ_E_INVAL;
	if (o->atb_mode != VQ_ATB_LOWEST && o->atb_mode != VQ_ATB_HIGHEST &&
	    o->atb_mode != VQ_ATB_LIST)
		return VQ_E_INVAL;
	if (o->atb_mode == VQ_ATB_LIST && o->auto_tie_breaker && o->atb_node_count == 0)
		return VQ_E_INVAL;
	for (size_t i = 0; i < o->atb_node_count; i++) {
		if (o->atb_nodes[i] == 0)
			return VQ_E_INVAL;
	}
	return 0;
}

int vq_create(const struct vq_options *opt, struct vq **out)
{
	struct vq *q;
	struct vq_entry *me;
	int err = check_options(opt);

	*out = NULL;
	if (err)
		return err;
	q = calloc(1, sizeof(*q));
	if (!q)
		return VQ_E_NOMEM;
	q->opt = *opt;
	q->my_votes = opt->my_votes;
	q->my_expected = opt->expected_votes;
	q->ev_floor = opt->expected_votes;
	q->waiting = opt->wait_for_all;
	q->lms_deadline = VQ_NO_DEADLINE;
	q->ring.rep = opt->my_nodeid;
	q->members[0] = opt->my_nodeid;
	q->member_count = 1;
	me = table_add(q, opt->my_nodeid);
	me->votes = opt->my_votes;
	me->expected = opt->expected_votes;
	/* Alone until Totem says otherwise, like a ring of one that settled. */
	q->settled = true;
	vq_recompute(q);
	*out = q;
	return 0;
}

void vq_destroy(struct vq *q)
{
	free(q);
}

unsigned vq_confchg(struct vq *q, struct vq_ring ring, const uint32_t *members, size_t count)
{
	if (count > VQ_MAX_NODES)
		count = VQ_MAX_NODES;
	/* Nodes gone from the ring are dead until they come back. */
	for (size_t i = 0; i < q->node_count; i++) {
		struct vq_entry *e = &q->nodes[i];
		bool stays = false;

		for (size_t j = 0; j < count && !stays; j++)
			stays = members[j] == e->nodeid;
		if (!stays && e->state != VQ_NODE_DEAD)
			e->state = VQ_NODE_DEAD;
		e->reported = false;
	}
	q->member_count = 0;
	for (size_t j = 0; j < count; j++) {
		struct vq_entry *e;

		if (members[j] == 0 || vq_is_member(q, members[j]))
			continue;
		e = vq_find(q, members[j]);
		if (!e)
			e = table_add(q, members[j]);
		if (!e)
			continue; /* cannot happen: see table_add */
		e->state = VQ_NODE_MEMBER;
		q->members[q->member_count++] = members[j];
	}
	q->ring = ring;
	q->reported = 0;
	q->settled = false;
	q->peer_quorate = false;
	q->exp_quorate = 0;
	q->exp_all = 0;
	q->cand.ring = (struct vq_ring){ 0, 0 };
	q->cand.count = 0;
	return 0;
}

void vq_my_nodeinfo(const struct vq *q, struct vq_nodeinfo *out)
{
	out->ring = q->ring;
	out->nodeid = q->opt.my_nodeid;
	out->votes = q->my_votes;
	out->expected = q->my_expected;
	out->flags = (q->quorate ? VQ_NF_QUORATE : 0) | (q->waiting ? VQ_NF_WAITING : 0) |
		     (q->leaving ? VQ_NF_LEAVING : 0);
	out->tb.rep = q->tb.ring.rep;
	out->tb.seq = q->tb.ring.seq;
	out->tb_count = q->tb.count;
	memcpy(out->tb_members, q->tb.members, q->tb.count * sizeof(uint32_t));
}

/* Every member's NODEINFO is in: decide from what they advertised. */
static unsigned settle(struct vq *q, uint64_t now_ms)
{
	uint32_t old_expected = q->my_expected;
	uint64_t old_deadline = q->lms_deadline;
	unsigned ev;

	/* A quorate cluster's expected votes win over those of nodes joining
	 * it, so that a value lowered by LMS or setexpected survives a rejoin. */
	if (q->exp_quorate || q->exp_all)
		q->my_expected = q->exp_quorate ? q->exp_quorate : q->exp_all;
	if (vq_ring_newer(q->cand.ring, q->tb.ring))
		q->tb = q->cand;
	/* Joining a cluster that is already running ends the wait. */
	if (q->opt.wait_for_all && q->peer_quorate)
		q->waiting = false;
	q->settled = true;
	ev = vq_recompute(q) | VQ_EV_SETTLED;
	ev &= ~VQ_EV_EXPECTED;
	if (q->my_expected != old_expected)
		ev |= VQ_EV_EXPECTED;
	/* A new membership with fewer votes than expected starts (or
	 * restarts) the window: only a membership stable for the whole
	 * window lowers expected votes. Comparing with the previous ring
	 * instead would miss a loss seen through a short-lived ring. */
	if (q->opt.last_man_standing && q->quorate && q->total_votes < q->my_expected)
		q->lms_deadline = now_ms + q->opt.lms_window_ms;
	if (q->lms_deadline != old_deadline)
		ev |= VQ_EV_LMS;
	return ev;
}

/* allow_downscale: a node shutting down cleanly takes its votes out of the
 * expected count, down to the configured or last set value. */
static unsigned node_leaving(struct vq *q, struct vq_entry *e)
{
	uint32_t old_expected = q->my_expected, total;
	unsigned ev;

	if (e->state != VQ_NODE_MEMBER)
		return 0;
	e->state = VQ_NODE_LEAVING;
	if (q->opt.allow_downscale) {
		total = vq_member_votes(q);
		q->my_expected = total > q->ev_floor ? total : q->ev_floor;
	}
	ev = vq_recompute(q) & ~VQ_EV_EXPECTED;
	if (q->my_expected != old_expected)
		ev |= VQ_EV_EXPECTED;
	return ev;
}

static void take_candidate(struct vq *q, const struct vq_nodeinfo *ni)
{
	if (ni->tb_count == 0 || !vq_ring_newer(ni->tb, q->cand.ring))
		return;
	q->cand.ring = ni->tb;
	q->cand.count = ni->tb_count > VQ_MAX_NODES ? VQ_MAX_NODES : ni->tb_count;
	memcpy(q->cand.members, ni->tb_members, q->cand.count * sizeof(uint32_t));
}

int vq_on_nodeinfo(struct vq *q, uint32_t sender, const struct vq_nodeinfo *ni, uint64_t now_ms)
{
	struct vq_entry *e;

	/* A node speaks for itself only, and only about the ring it is in. */
	if (ni->nodeid != sender || !vq_ring_eq(ni->ring, q->ring) || !vq_is_member(q, sender))
		return VQ_E_STALE;
	e = vq_find(q, sender);
	if (!e)
		return VQ_E_STALE;
	if (q->settled || e->reported) {
		/* Votes only change through RECONFIG, in order; after the
		 * settle a NODEINFO can only announce a clean departure. */
		if (ni->flags & VQ_NF_LEAVING)
			return (int)node_leaving(q, e);
		return 0;
	}
	e->reported = true;
	e->votes = ni->votes > VQ_MAX_VOTES ? VQ_MAX_VOTES : ni->votes;
	e->expected = ni->expected;
	e->flags = ni->flags;
	e->state = (ni->flags & VQ_NF_LEAVING) ? VQ_NODE_LEAVING : VQ_NODE_MEMBER;
	if ((ni->flags & VQ_NF_QUORATE) && ni->expected > q->exp_quorate)
		q->exp_quorate = ni->expected;
	if ((ni->flags & VQ_NF_QUORATE) && !(ni->flags & VQ_NF_WAITING))
		q->peer_quorate = true;
	if (ni->expected > q->exp_all)
		q->exp_all = ni->expected;
	take_candidate(q, ni);
	if (++q->reported < q->member_count)
		return 0;
	return (int)settle(q, now_ms);
}

void vq_set_leaving(struct vq *q)
{
	q->leaving = true;
}

void vq_get_status(const struct vq *q, struct vq_status *out)
{
	uint32_t highest = 0;

	for (size_t i = 0; i < q->member_count; i++) {
		const struct vq_entry *e = vq_find_const(q, q->members[i]);

		if (e && e->state == VQ_NODE_MEMBER && e->expected > highest)
			highest = e->expected;
	}
	memset(out, 0, sizeof(*out));
	out->quorate = q->quorate;
	out->settled = q->settled;
	out->ring = q->ring;
	out->expected = q->my_expected;
	out->highest_expected = highest > q->my_expected ? highest : q->my_expected;
	out->total_votes = q->total_votes;
	out->quorum = q->quorum;
	out->flags = (q->opt.two_node ? VQ_INFO_TWONODE : 0) | (q->quorate ? VQ_INFO_QUORATE : 0) |
		     (q->opt.wait_for_all ? VQ_INFO_WAIT_FOR_ALL : 0) |
		     (q->opt.last_man_standing ? VQ_INFO_LAST_MAN_STANDING : 0) |
		     (q->opt.auto_tie_breaker ? VQ_INFO_AUTO_TIE_BREAKER : 0) |
		     (q->opt.allow_downscale ? VQ_INFO_ALLOW_DOWNSCALE : 0);
	out->member_count = q->member_count;
	out->waiting = q->waiting;
}

size_t vq_get_members(const struct vq *q, uint32_t *out, size_t max)
{
	size_t n = q->member_count < max ? q->member_count : max;

	memcpy(out, q->members, n * sizeof(uint32_t));
	return q->member_count;
}

static void fill_node(const struct vq_entry *e, struct vq_node *out)
{
	out->nodeid = e->nodeid;
	out->state = e->state;
	out->votes = e->votes;
	out->expected = e->expected;
}

size_t vq_get_nodes(const struct vq *q, struct vq_node *out, size_t max)
{
	for (size_t i = 0; i < q->node_count && i < max; i++)
		fill_node(&q->nodes[i], &out[i]);
	return q->node_count;
}

int vq_get_node(const struct vq *q, uint32_t nodeid, struct vq_node *out)
{
	const struct vq_entry *e = vq_find_const(q, nodeid);

	if (!e)
		return VQ_E_NOENT;
	fill_node(e, out);
	return 0;
}

uint32_t vq_my_nodeid(const struct vq *q)
{
	return q->opt.my_nodeid;
}
