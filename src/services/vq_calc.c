/* votequorum arithmetic: totals, quorum, wait_for_all, the tie-breaker, and
 * the checks and effects of runtime changes (setexpected, setvotes, LMS). */
#include "services/vq_int.h"

bool vq_ring_eq(struct vq_ring a, struct vq_ring b)
{
	return a.seq == b.seq && a.rep == b.rep;
}

/* Partitions can form rings with the same seq; the rep breaks the tie so
 * that every member orders references the same way. */
bool vq_ring_newer(struct vq_ring a, struct vq_ring b)
{
	return a.seq > b.seq || (a.seq == b.seq && a.rep > b.rep);
}

uint32_t vq_quorum_for(const struct vq *q, uint32_t expected, size_t member_count)
{
	/* two_node only means something while the cluster has two nodes;
	 * votequorum(5) turns it off as soon as a third one is present. */
	if (q->opt.two_node && member_count <= 2)
		return 1;
	return expected / 2 + 1;
}

uint32_t vq_member_votes(const struct vq *q)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < q->member_count; i++) {
		const struct vq_entry *e = vq_find_const(q, q->members[i]);

		if (e && e->state == VQ_NODE_MEMBER)
			sum += e->votes;
	}
	return sum;
}

static bool in_set(const uint32_t *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == id)
			return true;
	}
	return false;
}

/* The node that decides a tie: one of the reference ring's members, which
 * both halves of a split know alike, so that at most one half holds it.
 * In list mode, listed nodes that were not in that ring ("in neither half")
 * are skipped, as votequorum(5) describes. 0 when there is none. */
static uint32_t atb_decider(const struct vq *q)
{
	const struct vq_ref *r = &q->tb;
	uint32_t best = 0;

	switch (q->opt.atb_mode) {
	case VQ_ATB_LOWEST:
	case VQ_ATB_HIGHEST:
		for (uint32_t i = 0; i < r->count; i++) {
			uint32_t id = r->members[i];

			if (best == 0 || (q->opt.atb_mode == VQ_ATB_LOWEST ? id < best : id > best))
				best = id;
		}
		return best;
	case VQ_ATB_LIST:
		for (size_t i = 0; i < q->opt.atb_node_count; i++) {
			if (in_set(r->members, r->count, q->opt.atb_nodes[i]))
				return q->opt.atb_nodes[i];
		}
		return 0;
	}
	return 0;
}

/* Only an exact half: with an odd expected count the other side could hold
 * a majority by votes, so breaking the "tie" could make two quorate halves. */
bool vq_atb_wins(const struct vq *q, uint32_t total, uint32_t expected)
{
	uint32_t decider;

	if (!q->opt.auto_tie_breaker || q->tb.count == 0)
		return false;
	if ((uint64_t)total * 2 != expected)
		return false;
	decider = atb_decider(q);
	return decider != 0 && vq_is_member(q, decider);
}

static void set_tb_to_current(struct vq *q)
{
	q->tb.ring = q->ring;
	q->tb.count = (uint32_t)q->member_count;
	for (size_t i = 0; i < q->member_count; i++)
		q->tb.members[i] = q->members[i];
}

unsigned vq_recompute(struct vq *q)
{
	uint32_t old_expected = q->my_expected;
	bool old_quorate = q->quorate;
	uint32_t total = vq_member_votes(q);
	unsigned ev = 0;

	/* Expected votes never stay below the votes actually present. */
	if (total > q->my_expected)
		q->my_expected = total;
	q->total_votes = total;
	q->quorum = vq_quorum_for(q, q->my_expected, q->member_count);
	if (q->opt.wait_for_all && q->waiting && total >= q->my_expected)
		q->waiting = false;
	q->by_votes = !q->waiting && total >= q->quorum;
	q->quorate = q->by_votes || (!q->waiting && vq_atb_wins(q, total, q->my_expected));
	if (q->by_votes && q->settled && q->ring.seq != 0)
		set_tb_to_current(q);
	/* Losing quorum re-arms wait_for_all, as votequorum does: a cluster
	 * that fell apart must see all its votes again before it resumes. */
	if (q->opt.wait_for_all)
		q->waiting = !q->quorate;
	for (size_t i = 0; i < q->member_count; i++) {
		struct vq_entry *e = vq_find(q, q->members[i]);

		if (e)
			e->expected = q->my_expected;
	}
	if (!q->quorate && q->lms_deadline != VQ_NO_DEADLINE) {
		q->lms_deadline = VQ_NO_DEADLINE;
		ev |= VQ_EV_LMS;
	}
	if (old_quorate != q->quorate)
		ev |= VQ_EV_QUORATE;
	if (old_expected != q->my_expected)
		ev |= VQ_EV_EXPECTED;
	return ev;
}

int vq_check_setexpected(const struct vq *q, uint32_t expected)
{
	uint32_t effective;

	if (expected == 0 || expected > VQ_MAX_EXPECTED)
		return VQ_E_INVAL;
	if (!q->settled)
		return VQ_E_AGAIN;
	/* Asking for fewer than the votes present cannot lower the quorum below
	 * a majority of them: expected is raised back to the votes present. */
	effective = expected > q->total_votes ? expected : q->total_votes;
	if (vq_quorum_for(q, effective, q->member_count) > q->total_votes)
		return VQ_E_LOSES_QUORUM;
	return 0;
}

int vq_check_setvotes(const struct vq *q, uint32_t nodeid, uint32_t votes)
{
	const struct vq_entry *e;
	uint32_t total, effective;

	if (votes > VQ_MAX_VOTES)
		return VQ_E_INVAL;
	if (!q->settled)
		return VQ_E_AGAIN;
	e = vq_find_const(q, nodeid);
	if (!e)
		return VQ_E_NOENT;
	total = q->total_votes;
	if (e->state == VQ_NODE_MEMBER && vq_is_member(q, nodeid))
		total = total - e->votes + votes;
	effective = q->my_expected > total ? q->my_expected : total;
	if (vq_quorum_for(q, effective, q->member_count) > total)
		return VQ_E_LOSES_QUORUM;
	return 0;
}

static unsigned apply_reconfig(struct vq *q, const struct vq_reconfig *rc)
{
	uint32_t old_expected = q->my_expected;
	struct vq_entry *e;
	unsigned ev;

	if (rc->param == VQ_RECONFIG_EXPECTED) {
		/* An explicit value may lower expected votes, and becomes the
		 * floor allow_downscale keeps to. */
		q->my_expected = rc->value;
		q->ev_floor = rc->value;
	} else {
		e = vq_find(q, rc->nodeid);
		e->votes = rc->value;
		if (rc->nodeid == q->opt.my_nodeid)
			q->my_votes = rc->value;
	}
	ev = vq_recompute(q) & ~VQ_EV_EXPECTED;
	if (q->my_expected != old_expected)
		ev |= VQ_EV_EXPECTED;
	return ev;
}

int vq_on_reconfig(struct vq *q, uint32_t sender, const struct vq_reconfig *rc, int *result)
{
	int err;

	*result = VQ_E_AGAIN;
	if (rc->origin != sender || !vq_is_member(q, sender))
		return VQ_E_STALE;
	/* Every member holds the same state at this point of the order, so the
	 * check gives the same answer everywhere; two racing changes are
	 * therefore judged one after the other, never both against old state. */
	if (!vq_ring_eq(rc->ring, q->ring) || !q->settled)
		return 0;
	if (rc->param == VQ_RECONFIG_EXPECTED)
		err = vq_check_setexpected(q, rc->value);
	else if (rc->param == VQ_RECONFIG_VOTES)
		err = vq_check_setvotes(q, rc->nodeid, rc->value);
	else
		err = VQ_E_INVAL;
	*result = err;
	if (err)
		return 0;
	return (int)apply_reconfig(q, rc);
}

uint64_t vq_lms_deadline(const struct vq *q)
{
	return q->lms_deadline;
}

bool vq_lms_fire(struct vq *q, uint64_t now_ms)
{
	if (q->lms_deadline == VQ_NO_DEADLINE || now_ms < q->lms_deadline)
		return false;
	q->lms_deadline = VQ_NO_DEADLINE;
	return q->settled && q->quorate;
}

/* Every member applies the first LMS message of a ring; later ones find
 * nothing left to lower. */
int vq_on_lms(struct vq *q, uint32_t sender, struct vq_ring ring)
{
	uint32_t total;
	unsigned ev;

	if (!vq_is_member(q, sender) || !vq_ring_eq(ring, q->ring))
		return VQ_E_STALE;
	if (!q->opt.last_man_standing || !q->settled || !q->quorate)
		return 0;
	/* votequorum(5): LMS works only when every node has one vote. */
	for (size_t i = 0; i < q->member_count; i++) {
		const struct vq_entry *e = vq_find_const(q, q->members[i]);

		if (e && e->votes > 1)
			return 0;
	}
	total = q->total_votes ? q->total_votes : 1;
	if (total >= q->my_expected)
		return 0;
	q->my_expected = total;
	ev = vq_recompute(q) | VQ_EV_EXPECTED;
	if (q->lms_deadline != VQ_NO_DEADLINE) {
		q->lms_deadline = VQ_NO_DEADLINE;
		ev |= VQ_EV_LMS;
	}
	return (int)ev;
}
