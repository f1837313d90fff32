/* CPG events to local clients: each is encoded once and queued to every
 * interested connection. A connection that cannot take it any more is
 * closed by the IPC layer (later, from the loop), so these loops never see
 * a connection vanish under them. */
#include <stdlib.h>

#include "services/cpg_int.h"

void *cpg_scratch(struct cpg_svc *s, size_t len)
{
	if (len > s->scratch_cap) {
		uint8_t *p = realloc(s->scratch, len);

		if (!p)
			return NULL;
		s->scratch = p;
		s->scratch_cap = len;
	}
	return s->scratch;
}

static struct cpg_ipc_addr *members_of(struct cpg_svc *s, const struct cpg_group *grp)
{
	if (grp->n > s->addrs_cap) {
		struct cpg_ipc_addr *a = realloc(s->addrs, grp->n * sizeof(*a));

		if (!a)
			return NULL;
		s->addrs = a;
		s->addrs_cap = grp->n;
	}
	for (size_t i = 0; i < grp->n; i++)
		s->addrs[i] = (struct cpg_ipc_addr){ .nodeid = grp->m[i].nodeid,
						     .pid = grp->m[i].pid,
						     .reason = 0 };
	return s->addrs;
}

void cpg_emit_confchg(struct cpg_svc *s, struct cpg_group *grp, const struct cpg_ipc_addr *left,
		      size_t nleft, const struct cpg_ipc_addr *joined, size_t njoined,
		      struct cpg_conn *extra)
{
	struct cpg_ipc_addr *memb = members_of(s, grp);
	size_t cap = cpg_ipc_confchg_size(grp->n + nleft + njoined);
	uint8_t *buf = cpg_scratch(s, cap);
	struct iovec iov;

	if ((!memb && grp->n) || !buf) {
		CPG_LOG(s, 0, "out of memory: confchg of a group not reported to local members");
		return;
	}
	iov.iov_base = buf;
	iov.iov_len = cpg_ipc_confchg_encode(buf, cap, &grp->name, memb, grp->n, left, nleft,
					     joined, njoined);
	for (size_t i = 0; i < grp->n; i++)
		if (grp->m[i].local)
			ipc_send_event(grp->m[i].local->ipc, &iov, 1);
	if (extra)
		ipc_send_event(extra->ipc, &iov, 1);
}

void cpg_emit_deliver(struct cpg_svc *s, struct cpg_group *grp, uint32_t nodeid,
		      const struct cpg_msg *m)
{
	uint8_t head[IPC_HDR_LEN + 4 + IPC_NAME_MAX + 24];
	struct cpg_ipc_deliver d = { .group = m->group,
				     .nodeid = nodeid,
				     .pid = m->pid,
				     .stream = m->conn,
				     .frag = m->frag,
				     .guarantee = m->guarantee,
				     .total_len = m->total_len };
	struct iovec iov[2] = { { .iov_base = head },
				{ .iov_base = (void *)m->data, .iov_len = m->len } };

	(void)s;
	iov[0].iov_len = cpg_ipc_deliver_head_encode(head, sizeof(head), &d, m->len);
	for (size_t i = 0; i < grp->n; i++)
		if (grp->m[i].local)
			ipc_send_event(grp->m[i].local->ipc, iov, 2);
}

void cpg_emit_totem(struct cpg_svc *s, struct cpg_conn *only)
{
	size_t cap = IPC_HDR_LEN + 16 + 4 * s->nmembers;
	uint8_t *buf = cpg_scratch(s, cap);
	struct iovec iov = { .iov_base = buf };

	if (!s->have_ring || !buf)
		return;
	iov.iov_len =
		cpg_ipc_totem_encode(buf, cap, s->ring.rep, s->ring.seq, s->members, s->nmembers);
	if (only) {
		ipc_send_event(only->ipc, &iov, 1);
		return;
	}
	for (struct cpg_conn *c = s->conns; c; c = c->next)
		if (c->flags & CPG_IPC_HELLO_TOTEM)
			ipc_send_event(c->ipc, &iov, 1);
}
