/* CPG ring events: messages in total order and configuration changes. This
 * is the only place the group view changes (with cpg_sync.c), always as a
 * function of the view and the event, so nodes with the same history stay
 * identical. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

enum { REASON_JOIN = 1, REASON_LEAVE = 2, REASON_NODEDOWN = 3 };

static void on_join(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m)
{
	struct cpg_group *grp = cpg_group_get(&s->groups, &m->group);
	struct cpg_member mb = { .nodeid = sender, .pid = m->pid, .conn = m->conn };
	struct cpg_ipc_addr j = { .nodeid = sender, .pid = m->pid, .reason = REASON_JOIN };
	struct cpg_conn *c = NULL;

	if (!grp) {
		CPG_LOG(s, 0, "out of memory: join of pid %u on node %u lost", m->pid, sender);
		return;
	}
	if (sender == s->host.my_nodeid) {
		c = cpg_conn_find(s, m->conn);
		if (c && !c->memb)
			mb.local = c;
	}
	if (cpg_group_insert(grp, &mb)) {
		cpg_group_drop_if_empty(&s->groups, grp);
		return; /* already a member: a duplicate */
	}
	if (mb.local)
		mb.local->memb = grp;
	grp->changes++;
	cpg_emit_confchg(s, grp, NULL, 0, &j, 1, NULL);
}

static void on_leave(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m)
{
	struct cpg_group *grp = cpg_group_find(&s->groups, &m->group);
	struct cpg_ipc_addr l = { .nodeid = sender, .pid = m->pid, .reason = m->reason };
	struct cpg_conn *lc;
	long i;

	if (!grp || (i = cpg_group_index(grp, sender, m->pid)) < 0)
		return;
	lc = grp->m[i].local;
	cpg_group_remove_at(grp, (size_t)i);
	if (lc)
		lc->memb = NULL;
	grp->changes++;
	/* The leaver hears of its own departure too, then nothing more. */
	cpg_emit_confchg(s, grp, &l, 1, NULL, 0, lc);
	cpg_group_drop_if_empty(&s->groups, grp);
}

/* The answer to a fragmented message comes when its last fragment is back:
 * CS_OK if no membership change of the group came between its first and
 * last fragment (receivers drop it otherwise), -EINTR (CS_ERR_INTERRUPT)
 * if one did. */
static void own_fragment(struct cpg_svc *s, const struct cpg_group *grp, bool ok,
			 const struct cpg_msg *m)
{
	struct cpg_conn *c = cpg_conn_find(s, m->conn);
	int rc;

	if (!c)
		return;
	if (m->frag == CPG_FRAG_FIRST) {
		c->first_seen = ok;
		c->first_changes = grp ? grp->changes : 0;
		return;
	}
	if (m->frag != CPG_FRAG_LAST || !c->await_last)
		return;
	rc = ok && c->first_seen && grp->changes == c->first_changes ? 0 : -EINTR;
	c->await_last = false;
	c->first_seen = false;
	ipc_respond(c->ipc, &c->last_hdr, rc, NULL, 0);
	if (c->held) {
		c->held = false;
		ipc_conn_kick(c->ipc);
	}
}

/* Only a member's messages are delivered (Corosync drops messages from
 * unknown senders too), to the local members of the group. */
static void on_mcast(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m)
{
	struct cpg_group *grp = cpg_group_find(&s->groups, &m->group);
	bool ok = grp && cpg_group_index(grp, sender, m->pid) >= 0;

	if (ok)
		cpg_emit_deliver(s, grp, sender, m);
	if (sender == s->host.my_nodeid && m->frag != CPG_FRAG_WHOLE)
		own_fragment(s, grp, ok, m);
}

void cpg_svc_deliver(struct cpg_svc *s, uint32_t sender, enum totem_guarantee g,
		     const uint8_t *data, size_t len)
{
	struct cpg_msg m;
	enum cpg_msg_err e = cpg_msg_decode(data, len, &m);

	(void)g;
	if (sender == s->host.my_nodeid && s->inflight)
		s->inflight--;
	if (e != CPG_MSG_OK) {
		/* Count, and log only at powers of two: a bad peer cannot flood. */
		uint64_t n = ++s->bad_msgs[e];

		if ((n & (n - 1)) == 0)
			CPG_LOG(s, 1, "dropped %llu malformed message(s) (%s), last from node %u",
				(unsigned long long)n, cpg_msg_err_name(e), sender);
	} else {
		switch (m.type) {
		case CPG_MSG_JOIN:
			on_join(s, sender, &m);
			break;
		case CPG_MSG_LEAVE:
			on_leave(s, sender, &m);
			break;
		case CPG_MSG_MCAST:
			on_mcast(s, sender, &m);
			break;
		case CPG_MSG_JOINLIST:
			cpg_sync_joinlist(s, sender, &m);
			break;
		case CPG_MSG_FLOW:
			cpg_flow_deliver(s, sender, &m);
			break;
		}
	}
	if (sender == s->host.my_nodeid)
		cpg_sync_try_send(s);
}

static bool in_list(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Members on nodes that left: one confchg per group, with every such
 * member in its left list (reason NODEDOWN). */
static void drop_lost_nodes(struct cpg_svc *s, const uint32_t *members, size_t n)
{
	struct cpg_group **gs = s->groups.count ? calloc(s->groups.count, sizeof(*gs)) : NULL;
	size_t ng = gs ? cpg_groups_list(&s->groups, gs) : 0;

	if (s->groups.count && !gs) {
		CPG_LOG(s, 0, "out of memory: members of lost nodes not removed");
		return;
	}
	for (size_t gi = 0; gi < ng; gi++) {
		struct cpg_group *grp = gs[gi];
		struct cpg_ipc_addr *left = calloc(grp->n, sizeof(*left));
		size_t nl = 0;

		if (!left)
			continue;
		for (size_t i = 0; i < grp->n;) {
			struct cpg_member *mb = &grp->m[i];

			if (mb->nodeid == s->host.my_nodeid || in_list(members, n, mb->nodeid)) {
				i++;
				continue;
			}
			left[nl++] = (struct cpg_ipc_addr){ .nodeid = mb->nodeid,
							    .pid = mb->pid,
							    .reason = REASON_NODEDOWN };
			cpg_group_remove_at(grp, i);
		}
		if (nl) {
			grp->changes++;
			cpg_emit_confchg(s, grp, left, nl, NULL, 0, NULL);
		}
		free(left);
		cpg_group_drop_if_empty(&s->groups, grp);
	}
	free(gs);
}

void cpg_svc_confchg(struct cpg_svc *s, enum totem_confchg_type type, struct totem_ring_id ring,
		     const uint32_t *members, size_t nmembers)
{
	uint32_t *copy = malloc((nmembers ? nmembers : 1) * sizeof(*copy));

	if (copy)
		memcpy(copy, members, nmembers * sizeof(*copy));
	if (type == TOTEM_CONF_TRANSITIONAL) {
		cpg_sync_abort(s);
		s->syncing = true;
		/* The members of lost nodes leave at the regular configuration,
		 * not here: after the transitional configuration Totem delivers
		 * the old-ring messages a node has not delivered yet, and which
		 * ones those are differs between nodes (only the set delivered in
		 * the old ring and its transitional configuration together is the
		 * same everywhere). At the regular configuration every survivor
		 * has delivered the same messages, so the departure sits at the
		 * same point of every stream. */
		free(s->trans);
		s->trans = copy;
		s->ntrans = nmembers;
		if (!copy) {
			CPG_LOG(s, 0, "out of memory: lost nodes removed early");
			drop_lost_nodes(s, members, nmembers);
		}
		return;
	}
	if (s->trans) {
		drop_lost_nodes(s, s->trans, s->ntrans);
		free(s->trans);
		s->trans = NULL;
	}
	if (!copy) {
		CPG_LOG(s, 0, "out of memory: ring change not processed");
		return;
	}
	free(s->members);
	s->members = copy;
	s->nmembers = nmembers;
	s->ring = ring;
	s->have_ring = true;
	if (cpg_flow_new_ring(s, nmembers))
		CPG_LOG(s, 0, "out of memory: congestion of other nodes ignored");
	/* A regular configuration may come without a transitional one first
	 * (the first ring): members of nodes not in it are gone as well. */
	drop_lost_nodes(s, members, nmembers);
	cpg_sync_start(s);
}

void cpg_svc_flow(struct cpg_svc *s)
{
	s->ring_blocked = false;
	cpg_sync_try_send(s);
	cpg_flush_pending_leaves(s);
	if (!s->ring_blocked)
		cpg_flow_update(s);
}
