/* Checks made as each delivery and configuration change happens. */
#include "checker_int.h"

#include <string.h>

#include "sim_payload.h"

static const char *g_name(unsigned g)
{
	return g == TOTEM_SAFE ? "safe" : "agreed";
}

static void trace_now(struct chk *c, uint32_t node)
{
	chk_trace(c, node, c->node[node].log_n - 1);
}

/* Property 1: the bytes are a submitted message, intact. Returns the message
 * index, or CHK_NONE after a report. */
static uint32_t deliver_identify(struct chk *c, uint32_t node, const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	struct sim_msg_id id;
	enum sim_payload_err err = sim_payload_decode(a->u.deliver.data, a->u.deliver.len, &id);
	int sender = chk_node_index(c, id.nodeid);
	uint32_t idx = CHK_NONE;

	if (err == SIM_PAYLOAD_OK && sender >= 0)
		idx = chk_msg_find(c, (uint32_t)sender, id.inc, id.counter);
	if (idx != CHK_NONE)
		return idx;
	if (err != SIM_PAYLOAD_OK) {
		if (chk_fail(c, CHK_P_ONCE,
			     "node %u delivered %zu bytes from node %u that no node submitted: %s",
			     n->id, a->u.deliver.len, a->u.deliver.sender,
			     sim_payload_err_name(err)))
			trace_now(c, node);
	} else if (chk_fail(c, CHK_P_ONCE,
			    "node %u delivered message %u/%u/%llu that was never submitted", n->id,
			    id.nodeid, id.inc, (unsigned long long)id.counter)) {
		trace_now(c, node);
	}
	return CHK_NONE;
}

static bool deliver_check_once(struct chk *c, uint32_t node, uint32_t idx,
			       const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	const struct chk_msg *m = &c->msg[idx];
	char nm[64];

	if (a->u.deliver.sender != c->node[m->sender].id) {
		chk_msg_name(c, idx, nm, sizeof(nm));
		if (chk_fail(c, CHK_P_ONCE, "node %u delivered %s as sent by node %u", n->id, nm,
			     a->u.deliver.sender))
			trace_now(c, node);
		return false;
	}
	if (a->u.deliver.guarantee != m->g) {
		chk_msg_name(c, idx, nm, sizeof(nm));
		if (chk_fail(c, CHK_P_ONCE, "node %u delivered %s as %s, it was submitted %s",
			     n->id, nm, g_name(a->u.deliver.guarantee), g_name(m->g)))
			trace_now(c, node);
		return false;
	}
	if (m->mask & (1ull << node)) {
		chk_msg_name(c, idx, nm, sizeof(nm));
		if (chk_fail(c, CHK_P_ONCE, "node %u (incarnation %u) delivered %s twice", n->id,
			     n->inc, nm))
			trace_now(c, node);
		return false;
	}
	return true;
}

/* Property 4: delivered in the configuration it was sent in, or in the
 * transitional one that follows; and the sender's process was in it. */
static bool deliver_check_conf(struct chk *c, uint32_t node, uint32_t idx,
			       const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	const struct chk_msg *m = &c->msg[idx];
	struct totem_ring_id r = a->u.deliver.ring_id;
	const struct chk_cfg *k;
	char nm[64];

	if (n->cur == CHK_NONE) {
		if (chk_fail(c, CHK_P_SENT_IN,
			     "node %u delivered %s before installing any configuration", n->id,
			     chk_msg_name(c, idx, nm, sizeof(nm))))
			trace_now(c, node);
		return false;
	}
	k = &c->cfg[n->cur];
	if (!chk_ring_eq(r, k->ring)) {
		if (chk_fail(c, CHK_P_SENT_IN,
			     "node %u delivered %s sent in ring %u.%llu while in %s %u.%llu", n->id,
			     chk_msg_name(c, idx, nm, sizeof(nm)), r.rep, (unsigned long long)r.seq,
			     n->in_trans ? "the transitional configuration after ring" :
					   "regular ring",
			     k->ring.rep, (unsigned long long)k->ring.seq))
			trace_now(c, node);
		return false;
	}
	if (!(k->installed & (1ull << m->sender)) || k->inc[m->sender] != m->inc) {
		if (chk_fail(c, CHK_P_SENT_IN,
			     "node %u delivered %s as sent in ring %u.%llu, but the sender's "
			     "incarnation %u never installed that ring",
			     n->id, chk_msg_name(c, idx, nm, sizeof(nm)), r.rep,
			     (unsigned long long)r.seq, m->inc))
			trace_now(c, node);
		return false;
	}
	return true;
}

/* Property 2, first half: every process reports the same place in the order
 * (ring, packet seq) for a message; the relative order within a packet is
 * checked across all processes when the run ends. */
static bool deliver_check_key(struct chk *c, uint32_t node, uint32_t idx,
			      const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	struct chk_msg *m = &c->msg[idx];
	struct totem_ring_id r = a->u.deliver.ring_id;
	char nm[64];

	/* the core's order is (ring seq, packet seq, place in packet) and a
	 * message is reported at the packet that completes it */
	if (n->have_last && (r.seq < n->last_ring.seq ||
			     (chk_ring_eq(r, n->last_ring) && a->u.deliver.seq < n->last_seq))) {
		if (chk_fail(c, CHK_P_ORDER,
			     "node %u delivered %s (ring %u.%llu seq %llu) after a message of ring "
			     "%u.%llu seq %llu",
			     n->id, chk_msg_name(c, idx, nm, sizeof(nm)), r.rep,
			     (unsigned long long)r.seq, (unsigned long long)a->u.deliver.seq,
			     n->last_ring.rep, (unsigned long long)n->last_ring.seq,
			     (unsigned long long)n->last_seq))
			trace_now(c, node);
		return false;
	}
	if (!(m->flags & CHK_M_KEYED)) {
		m->flags |= CHK_M_KEYED;
		m->ring = r;
		m->seq = a->u.deliver.seq;
		m->cfg = n->cur;
		m->first_node = (uint16_t)node;
		return true;
	}
	if (!chk_ring_eq(m->ring, r) || m->seq != a->u.deliver.seq) {
		if (chk_fail(c, CHK_P_ORDER,
			     "node %u delivered %s as ring %u.%llu seq %llu, node %u as ring "
			     "%u.%llu seq %llu",
			     n->id, chk_msg_name(c, idx, nm, sizeof(nm)), r.rep,
			     (unsigned long long)r.seq, (unsigned long long)a->u.deliver.seq,
			     c->node[m->first_node].id, m->ring.rep,
			     (unsigned long long)m->ring.seq, (unsigned long long)m->seq)) {
			trace_now(c, node);
			chk_trace(c, m->first_node, chk_find_delivery(c, m->first_node, idx));
		}
		return false;
	}
	return true;
}

static void deliver_record(struct chk *c, uint32_t node, uint32_t idx, const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	struct chk_msg *m = &c->msg[idx];

	m->mask |= 1ull << node;
	if (a->u.deliver.guarantee == TOTEM_SAFE && !n->in_trans && !(m->flags & CHK_M_SAFE_REG)) {
		m->flags |= CHK_M_SAFE_REG;
		m->safe_node = (uint16_t)node;
	}
	n->dl = chk_grow(n->dl, &n->dl_cap, n->dl_n + 1, sizeof(*n->dl));
	n->dl[n->dl_n++] = idx | (n->inc_first ? CHK_DL_NEWINC : 0);
	n->inc_first = false;
	n->last_ring = a->u.deliver.ring_id;
	n->last_seq = a->u.deliver.seq;
	n->have_last = true;
}

void chk_deliver(struct chk *c, uint64_t now, uint32_t node, const struct totem_action *a)
{
	struct chk_node *n = &c->node[node];
	struct chk_ev ev;
	uint32_t idx;

	c->delivered++;
	if (!n->alive) {
		chk_api_error(c, now, node, "delivered a message while down");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.t = now;
	ev.kind = CHK_EV_DELIVER;
	ev.ring = a->u.deliver.ring_id;
	ev.seq = a->u.deliver.seq;
	ev.g = (uint8_t)a->u.deliver.guarantee;
	ev.in_trans = n->in_trans;
	ev.ref = CHK_NONE;
	/* logged before the checks so that a report's trace ends with it */
	chk_log(c, node, &ev);
	idx = deliver_identify(c, node, a);
	if (idx == CHK_NONE)
		return;
	n->log[(n->log_n - 1) % n->log_cap].ref = idx;
	if (c->violation)
		return;
	if (!deliver_check_once(c, node, idx, a) || !deliver_check_conf(c, node, idx, a) ||
	    !deliver_check_key(c, node, idx, a))
		return;
	deliver_record(c, node, idx, a);
}

/* ---- configuration changes (property 6) ---- */

static bool conf_fail(struct chk *c, uint32_t node, const char *what, uint64_t got, uint64_t want)
{
	char b1[512], b2[512];

	if (chk_fail(c, CHK_P_CONF, "node %u: %s: got [%s], expected [%s]", c->node[node].id, what,
		     chk_mask_str(c, got, b1, sizeof(b1)), chk_mask_str(c, want, b2, sizeof(b2))))
		trace_now(c, node);
	return false;
}

static bool conf_mask(struct chk *c, uint32_t node, const uint32_t *ids, size_t count,
		      uint64_t *out)
{
	*out = 0;
	for (size_t i = 0; i < count; i++) {
		int x = chk_node_index(c, ids[i]);

		if (x < 0 || (*out & (1ull << x))) {
			if (chk_fail(c, CHK_P_CONF, "node %u: configuration lists node %u %s",
				     c->node[node].id, ids[i],
				     x < 0 ? "which is not configured" : "twice"))
				trace_now(c, node);
			return false;
		}
		*out |= 1ull << x;
	}
	return true;
}

static bool conf_log(struct chk *c, uint64_t now, uint32_t node, const struct totem_action *a,
		     struct chk_conf_ev *ce)
{
	struct chk_ev ev;
	bool ok;

	ok = conf_mask(c, node, a->u.confchg.members, a->u.confchg.member_count, &ce->members) &&
	     conf_mask(c, node, a->u.confchg.left, a->u.confchg.left_count, &ce->left) &&
	     conf_mask(c, node, a->u.confchg.joined, a->u.confchg.joined_count, &ce->joined);
	c->cev = chk_grow(c->cev, &c->cev_cap, c->cev_n + 1, sizeof(*c->cev));
	c->cev[c->cev_n] = *ce;
	memset(&ev, 0, sizeof(ev));
	ev.t = now;
	ev.kind = a->u.confchg.type == TOTEM_CONF_TRANSITIONAL ? CHK_EV_TRANS : CHK_EV_REGULAR;
	ev.ring = a->u.confchg.ring_id;
	ev.ref = c->cev_n++;
	chk_log(c, node, &ev);
	if (!ok)
		return false;
	if (!(ce->members & (1ull << node)))
		return conf_fail(c, node, "a configuration without the node itself", ce->members,
				 ce->members | (1ull << node));
	return true;
}

static uint32_t trans_find(const struct chk *c, uint32_t old_cfg, struct totem_ring_id ring)
{
	for (uint32_t i = c->trans_n; i-- > 0;)
		if (c->trans[i].old_cfg == old_cfg && chk_ring_eq(c->trans[i].ring, ring))
			return i;
	return CHK_NONE;
}

static void conf_trans(struct chk *c, uint32_t node, struct totem_ring_id ring,
		       const struct chk_conf_ev *ce)
{
	struct chk_node *n = &c->node[node];
	uint64_t old = n->cur == CHK_NONE ? ce->members : c->cfg[n->cur].members;
	uint32_t t;

	if (n->in_trans) {
		if (chk_fail(c, CHK_P_CONF, "node %u: two transitional configurations in a row",
			     n->id))
			trace_now(c, node);
		return;
	}
	if (n->cur != CHK_NONE && ring.seq <= c->cfg[n->cur].ring.seq) {
		if (chk_fail(
			    c, CHK_P_CONF,
			    "node %u: transitional configuration to ring %u.%llu from ring %u.%llu",
			    n->id, ring.rep, (unsigned long long)ring.seq, c->cfg[n->cur].ring.rep,
			    (unsigned long long)c->cfg[n->cur].ring.seq))
			trace_now(c, node);
		return;
	}
	if ((ce->members & ~old) != 0)
		conf_fail(c, node, "transitional members outside the previous configuration",
			  ce->members, ce->members & old);
	else if (ce->left != (old & ~ce->members))
		conf_fail(c, node, "transitional left list", ce->left, old & ~ce->members);
	else if (ce->joined)
		conf_fail(c, node, "transitional joined list", ce->joined, 0);
	if (c->violation)
		return;
	if (n->cur == CHK_NONE) {
		/* a fresh process shares no old configuration with anyone */
		n->in_trans = true;
		n->trans = CHK_NONE;
		n->trans_ring = ring;
		n->trans_members = ce->members;
		return;
	}
	t = trans_find(c, n->cur, ring);
	if (t != CHK_NONE && c->trans[t].members != ce->members) {
		conf_fail(c, node, "transitional configuration differs from another node's",
			  ce->members, c->trans[t].members);
		chk_trace(c, c->trans[t].first_node, c->node[c->trans[t].first_node].log_n - 1);
		return;
	}
	if (t == CHK_NONE) {
		c->trans = chk_grow(c->trans, &c->trans_cap, c->trans_n + 1, sizeof(*c->trans));
		t = c->trans_n++;
		c->trans[t].old_cfg = n->cur;
		c->trans[t].ring = ring;
		c->trans[t].members = ce->members;
		c->trans[t].first_node = node;
	}
	n->in_trans = true;
	n->trans = t;
	n->trans_ring = ring;
	n->trans_members = ce->members;
}

static bool conf_regular_follows(struct chk *c, uint32_t node, struct totem_ring_id ring,
				 const struct chk_conf_ev *ce)
{
	struct chk_node *n = &c->node[node];
	uint64_t tm = n->trans_members;

	if (!n->in_trans) {
		if (n->cur == CHK_NONE)
			return true;
		if (chk_fail(c, CHK_P_CONF,
			     "node %u: regular configuration without a transitional one", n->id))
			trace_now(c, node);
		return false;
	}
	if (!chk_ring_eq(n->trans_ring, ring)) {
		if (chk_fail(c, CHK_P_CONF,
			     "node %u: regular ring %u.%llu after a transitional configuration "
			     "for ring %u.%llu",
			     n->id, ring.rep, (unsigned long long)ring.seq, n->trans_ring.rep,
			     (unsigned long long)n->trans_ring.seq))
			trace_now(c, node);
		return false;
	}
	if (tm & ~ce->members)
		return conf_fail(c, node, "regular members lack transitional ones", ce->members,
				 ce->members | tm);
	/* members = transitional + joined, so that an application following
	 * the left and joined lists alone stays right; a fresh process may
	 * instead count everyone as joined */
	if (ce->joined != (ce->members & ~tm) && (n->cur != CHK_NONE || ce->joined != ce->members))
		return conf_fail(c, node, "regular joined list (members minus transitional)",
				 ce->joined, ce->members & ~tm);
	return true;
}

static bool conf_regular_seq(struct chk *c, uint32_t node, struct totem_ring_id ring)
{
	struct chk_node *n = &c->node[node];

	if (n->max_seq && ring.seq <= n->max_seq) {
		if (chk_fail(
			    c, CHK_P_CONF,
			    "node %u (incarnation %u) installed ring %u.%llu after it had installed "
			    "ring seq %llu: ring seqs must grow, across restarts too",
			    n->id, n->inc, ring.rep, (unsigned long long)ring.seq,
			    (unsigned long long)n->max_seq))
			trace_now(c, node);
		return false;
	}
	if (n->persisted < ring.seq) {
		if (chk_fail(c, CHK_P_CONF,
			     "node %u installed ring %u.%llu before persisting its seq (persisted "
			     "%llu): a crash now could reuse the ring id",
			     n->id, ring.rep, (unsigned long long)ring.seq,
			     (unsigned long long)n->persisted))
			trace_now(c, node);
		return false;
	}
	return true;
}

static void conf_regular(struct chk *c, uint64_t now, uint32_t node, struct totem_ring_id ring,
			 const struct chk_conf_ev *ce)
{
	struct chk_node *n = &c->node[node];
	uint32_t k;

	if (!conf_regular_follows(c, node, ring, ce) || !conf_regular_seq(c, node, ring))
		return;
	k = chk_cfg_find(c, ring);
	if (k != CHK_NONE && c->cfg[k].members != ce->members) {
		conf_fail(c, node, "members of a ring differ from another node's", ce->members,
			  c->cfg[k].members);
		chk_trace(c, c->cfg[k].first_node, c->node[c->cfg[k].first_node].log_n - 1);
		return;
	}
	if (k == CHK_NONE)
		k = chk_cfg_add(c, ring, ce->members, node);
	c->cfg[k].installed |= 1ull << node;
	c->cfg[k].inc[node] = n->inc;
	c->cfg[k].last_install_t = now;
	chk_close_epoch(c, node, CHK_END_NEXT, k);
	n->cur = k;
	n->in_trans = false;
	n->max_seq = ring.seq;
	n->install_t = now;
	n->epoch_start = n->dl_n;
}

void chk_confchg(struct chk *c, uint64_t now, uint32_t node, const struct totem_action *a)
{
	struct chk_conf_ev ce;

	if (!c->node[node].alive) {
		chk_api_error(c, now, node, "configuration change while down");
		return;
	}
	if (!conf_log(c, now, node, a, &ce) || c->violation)
		return;
	if (a->u.confchg.type == TOTEM_CONF_TRANSITIONAL)
		conf_trans(c, node, a->u.confchg.ring_id, &ce);
	else if (a->u.confchg.type == TOTEM_CONF_REGULAR)
		conf_regular(c, now, node, a->u.confchg.ring_id, &ce);
	else
		chk_api_error(c, now, node, "configuration change of unknown type");
}
