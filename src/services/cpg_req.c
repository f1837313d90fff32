/* CPG client requests. Join, leave and multicast only multicast a message;
 * the view changes when Totem delivers it (cpg_ring.c). While the ring has
 * no room or a sync is running, new operations get -EAGAIN (the client sees
 * CS_ERR_TRY_AGAIN) and the rest of a message already started waits
 * (IPC_RETRY), so nothing is ever dropped silently. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

struct cpg_conn *cpg_conn_find(struct cpg_svc *s, uint32_t id)
{
	for (struct cpg_conn *c = s->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

bool cpg_ring_busy(const struct cpg_svc *s)
{
	return s->syncing || s->ring_blocked || !s->have_ring;
}

/* inflight counts our messages on their way round the ring; it goes up
 * first because the host may deliver the message before mcast returns. */
int cpg_send(struct cpg_svc *s, const struct iovec *iov, unsigned n, enum totem_guarantee g)
{
	int rc;

	s->inflight++;
	rc = s->host.mcast(s->host.ctx, SVC_CPG, g, iov, n);
	if (rc) {
		s->inflight--;
		if (rc == -EAGAIN)
			s->ring_blocked = true;
	}
	return rc;
}

static int send_joinleave(struct cpg_svc *s, uint8_t type, uint8_t reason, uint32_t pid,
			  uint32_t conn, const struct cpg_ipc_name *group)
{
	uint8_t b[12 + 1 + IPC_NAME_MAX];
	struct iovec iov = { .iov_base = b };

	iov.iov_len = cpg_msg_joinleave_encode(b, sizeof(b), type, reason, pid, conn, group);
	return cpg_send(s, &iov, 1, TOTEM_AGREED);
}

void cpg_flush_pending_leaves(struct cpg_svc *s)
{
	size_t done = 0;

	while (done < s->npl && !cpg_ring_busy(s)) {
		struct cpg_pending_leave *p = &s->pl[done];

		if (send_joinleave(s, CPG_MSG_LEAVE, 5, p->pid, p->conn, &p->group))
			break;
		done++;
	}
	if (!done)
		return;
	memmove(s->pl, s->pl + done, (s->npl - done) * sizeof(*s->pl));
	s->npl -= done;
}

int cpg_queue_leave(struct cpg_svc *s, const struct cpg_ipc_name *group, uint32_t pid,
		    uint32_t conn)
{
	if (!s->npl && !cpg_ring_busy(s) && !send_joinleave(s, CPG_MSG_LEAVE, 5, pid, conn, group))
		return 0;
	if (s->npl == s->cap_pl) {
		size_t cap = s->cap_pl ? s->cap_pl * 2 : 16;
		struct cpg_pending_leave *p;

		if (cap > CPG_PENDING_LEAVES_MAX || !(p = realloc(s->pl, cap * sizeof(*p)))) {
			CPG_LOG(s, 0, "cannot queue the departure of pid %u: its groups keep it",
				pid);
			return -ENOMEM;
		}
		s->pl = p;
		s->cap_pl = cap;
	}
	s->pl[s->npl++] = (struct cpg_pending_leave){ .group = *group, .pid = pid, .conn = conn };
	return 0;
}

void cpg_kick_waiting(struct cpg_svc *s)
{
	for (struct cpg_conn *c = s->conns; c; c = c->next) {
		if (c->waiting) {
			c->waiting = false;
			ipc_conn_kick(c->ipc);
		}
	}
}

static enum ipc_req_rc respond(struct cpg_conn *c, const struct ipc_hdr *h, int rc)
{
	ipc_respond(c->ipc, h, rc, NULL, 0);
	return IPC_DONE;
}

static enum ipc_req_rc malformed(struct cpg_conn *c, const char *what)
{
	ipc_conn_close(c->ipc, 1, what);
	return IPC_DONE;
}

static bool pending_leave(const struct cpg_svc *s, uint32_t pid, const struct cpg_ipc_name *g)
{
	for (size_t i = 0; i < s->npl; i++)
		if (s->pl[i].pid == pid && cpg_name_eq(&s->pl[i].group, g))
			return true;
	return false;
}

static enum ipc_req_rc req_join(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
				const uint8_t *body, size_t len)
{
	struct cpg_ipc_name name;
	int rc = cpg_ipc_name_decode(body, len, &name);

	if (rc == -EPROTO)
		return malformed(c, "malformed join request");
	if (rc)
		return respond(c, h, rc);
	if (c->intent_joined)
		return respond(c, h, -EEXIST);
	/* Members are (nodeid, pid): one process joins a group once. */
	for (struct cpg_conn *o = s->conns; o; o = o->next)
		if (o->pid == c->pid && o->intent_joined && cpg_name_eq(&o->intent_group, &name))
			return respond(c, h, -EEXIST);
	if (pending_leave(s, c->pid, &name) || cpg_ring_busy(s))
		return respond(c, h, -EAGAIN);
	c->intent_joined = true;
	c->intent_group = name;
	rc = send_joinleave(s, CPG_MSG_JOIN, 0, c->pid, c->id, &name);
	if (rc)
		c->intent_joined = false;
	return respond(c, h, rc);
}

static enum ipc_req_rc req_leave(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
				 const uint8_t *body, size_t len)
{
	struct cpg_ipc_name name;
	int rc = cpg_ipc_name_decode(body, len, &name);

	if (rc == -EPROTO)
		return malformed(c, "malformed leave request");
	if (rc)
		return respond(c, h, rc);
	if (!c->intent_joined || !cpg_name_eq(&name, &c->intent_group))
		return respond(c, h, -ENOENT);
	if (cpg_ring_busy(s))
		return respond(c, h, -EAGAIN);
	rc = send_joinleave(s, CPG_MSG_LEAVE, 2, c->pid, c->id, &name);
	if (!rc) {
		c->intent_joined = false;
		c->frag_active = false;
	}
	return respond(c, h, rc);
}

/* Rest of a message refused for now: wait for room instead of failing. */
static enum ipc_req_rc mcast_later(struct cpg_conn *c)
{
	c->waiting = true;
	return IPC_RETRY;
}

static void mcast_head(struct cpg_conn *c, const struct cpg_ipc_mcast *m, uint8_t *head,
		       struct iovec *iov)
{
	iov[0].iov_base = head;
	iov[0].iov_len =
		cpg_msg_mcast_head_encode(head, CPG_MSG_MCAST_HEAD_MAX, m->guarantee, m->frag,
					  c->pid, c->id, m->total_len, &c->intent_group);
	iov[1] = (struct iovec){ .iov_base = (void *)m->data, .iov_len = m->len };
}

/* A whole message the client did not wait for: it can't be refused any
 * more, so it waits for the ring (the connection stops being read) and
 * nothing is answered. */
static enum ipc_req_rc mcast_async(struct cpg_svc *s, struct cpg_conn *c,
				   const struct cpg_ipc_mcast *m)
{
	uint8_t head[CPG_MSG_MCAST_HEAD_MAX];
	struct iovec iov[2];
	int rc;

	if (!c->intent_joined)
		return malformed(c, "multicast without a group");
	if (cpg_ring_busy(s) || cpg_flow_blocked(s)) {
		s->flow_blocked_count += !cpg_ring_busy(s);
		return mcast_later(c);
	}
	mcast_head(c, m, head, iov);
	rc = cpg_send(s, iov, 2, m->guarantee == 3 ? TOTEM_SAFE : TOTEM_AGREED);
	if (rc == -EAGAIN) {
		s->queue_full_count++;
		return mcast_later(c);
	}
	if (rc)
		return malformed(c, "multicast refused by the ring");
	return IPC_DONE;
}

static enum ipc_req_rc req_mcast(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
				 const uint8_t *body, size_t len)
{
	struct cpg_ipc_mcast m;
	uint8_t head[CPG_MSG_MCAST_HEAD_MAX];
	struct iovec iov[2];
	bool first, last;
	int rc;

	if (cpg_ipc_mcast_decode(body, len, &m))
		return malformed(c, "malformed mcast request");
	if (m.flags & CPG_MCAST_ASYNC)
		return mcast_async(s, c, &m);
	first = m.frag & CPG_FRAG_FIRST;
	last = m.frag & CPG_FRAG_LAST;
	if (!c->intent_joined) {
		c->frag_active = false;
		return respond(c, h, -ENOENT);
	}
	if (!first && !c->frag_active)
		return respond(c, h, -EINVAL);
	/* A message already started waits for slow receivers too: its
	 * remaining fragments would only deepen their backlog. */
	if (cpg_ring_busy(s) || cpg_flow_blocked(s))
		return first ? respond(c, h, -EAGAIN) : mcast_later(c);
	mcast_head(c, &m, head, iov);
	if (first)
		c->first_seen = false;
	if (last && !first) {
		c->await_last = true;
		c->last_hdr = *h;
	}
	rc = cpg_send(s, iov, 2, m.guarantee == 3 ? TOTEM_SAFE : TOTEM_AGREED);
	if (rc) {
		c->await_last = false;
		if (rc == -EAGAIN)
			return first ? respond(c, h, -EAGAIN) : mcast_later(c);
		c->frag_active = false;
		return respond(c, h, rc);
	}
	if (first || last)
		c->frag_active = !last;
	if (last && !first) {
		if (!c->await_last)
			return IPC_DONE; /* already answered: delivered within mcast */
		c->held = true;
		return IPC_HOLD;
	}
	return respond(c, h, 0);
}

static enum ipc_req_rc req_membership(struct cpg_svc *s, struct cpg_conn *c,
				      const struct ipc_hdr *h, const uint8_t *body, size_t len)
{
	struct cpg_ipc_name name;
	struct cpg_group *grp;
	struct cpg_ipc_addr *a = NULL;
	struct ipc_wr w;
	struct iovec iov;
	size_t n = 0;
	int rc = cpg_ipc_name_decode(body, len, &name);

	if (rc == -EPROTO)
		return malformed(c, "malformed membership request");
	if (rc)
		return respond(c, h, rc);
	grp = cpg_group_find(&s->groups, &name);
	if (grp && grp->n) {
		n = grp->n;
		a = calloc(n, sizeof(*a));
		if (!a)
			return respond(c, h, -ENOMEM);
		for (size_t i = 0; i < n; i++)
			a[i] = (struct cpg_ipc_addr){ .nodeid = grp->m[i].nodeid,
						      .pid = grp->m[i].pid };
	}
	iov.iov_base = cpg_scratch(s, 4 + 12 * n);
	if (!iov.iov_base) {
		free(a);
		return respond(c, h, -ENOMEM);
	}
	ipc_wr_init(&w, iov.iov_base, 4 + 12 * n);
	cpg_ipc_members_put(&w, a, n);
	iov.iov_len = w.off;
	free(a);
	ipc_respond(c->ipc, h, 0, &iov, 1);
	return IPC_DONE;
}

static enum ipc_req_rc req_u32(struct cpg_conn *c, const struct ipc_hdr *h, size_t len, uint32_t v)
{
	uint8_t b[4];
	struct iovec iov = { .iov_base = b, .iov_len = 4 };

	if (len)
		return malformed(c, "unexpected request body");
	ipc_put_u32(b, v);
	ipc_respond(c->ipc, h, 0, &iov, 1);
	return IPC_DONE;
}

enum ipc_req_rc cpg_req_handle(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
			       const uint8_t *body, size_t len)
{
	switch (h->type) {
	case CPG_IPC_JOIN:
		return req_join(s, c, h, body, len);
	case CPG_IPC_LEAVE:
		return req_leave(s, c, h, body, len);
	case CPG_IPC_MCAST:
		return req_mcast(s, c, h, body, len);
	case CPG_IPC_MEMBERSHIP:
		return req_membership(s, c, h, body, len);
	case CPG_IPC_LOCAL_GET:
		return req_u32(c, h, len, s->host.my_nodeid);
	case CPG_IPC_FLOW:
		return req_u32(c, h, len,
			       s->ring_blocked || cpg_flow_blocked(s) ||
				       ipc_conn_backlog(c->ipc) > s->backlog_max / 2);
	case CPG_IPC_ITER:
		return cpg_req_iter(s, c, h, body, len);
	default:
		return malformed(c, "unknown request type");
	}
}
