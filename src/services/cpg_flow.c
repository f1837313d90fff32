/* Back-pressure from slow receivers.
 *
 * The IPC layer tells us when a local client's unsent events pass the high
 * mark and when they are back under the low mark (ipc_flow.c). While any
 * local client is over it, or any member node of the ring says one of its
 * clients is, new multicasts are held: synchronous ones get -EAGAIN
 * (CS_ERR_TRY_AGAIN), queued ones stay in the client's socket, which then
 * fills and makes cpg_mcast_joined return CS_ERR_TRY_AGAIN. Joins, leaves
 * and the sync are never held: they are small and the view must move on.
 *
 * Each node multicasts a FLOW message when its own state changes; since it
 * travels in the total order, every node holds the same set of congested
 * members at the same point of the stream. The set is emptied at every
 * regular configuration and each congested node says so again after the
 * sync, so a node that joins learns it too. What a node still sends after
 * the flag is raised (its submit queue, the ring's window) is what the
 * backlog limit above the high mark must absorb (docs/testing-limits.md). */
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

bool cpg_flow_blocked(const struct cpg_svc *s)
{
	if (s->flow_local)
		return true;
	for (size_t i = 0; i < s->flow_nodes; i++)
		if (s->flow_node[i])
			return true;
	return false;
}

static void flow_timer_cb(void *arg, uint64_t now)
{
	(void)now;
	cpg_flow_update(arg);
}

/* Called from inside ipc_send_event too: only count, act from the loop. */
void cpg_flow_congestion(void *arg, struct ipc_conn *ic, bool on)
{
	struct cpg_svc *s = arg;

	(void)ic;
	if (on)
		s->flow_local++;
	else if (s->flow_local)
		s->flow_local--;
	dloop_timer_set(s->host.loop, &s->flow_timer, 0, flow_timer_cb, s);
}

/* Announce our state if it changed, and let held senders go once nobody is
 * congested. A failed announcement is retried on the next flow event. */
void cpg_flow_update(struct cpg_svc *s)
{
	bool want = s->flow_local > 0;

	if (want != s->flow_announced && !cpg_ring_busy(s)) {
		uint8_t b[CPG_MSG_FLOW_LEN];
		struct iovec iov = { .iov_base = b };

		iov.iov_len = cpg_msg_flow_encode(b, sizeof(b), want ? CPG_FLOW_CONGESTED : 0);
		if (cpg_send(s, &iov, 1, TOTEM_AGREED) == 0) {
			s->flow_announced = want;
			CPG_LOG(s, 3, "%s congestion", want ? "reporting" : "clearing");
		}
	}
	if (!cpg_flow_blocked(s) && !cpg_ring_busy(s))
		cpg_kick_waiting(s);
}

void cpg_flow_deliver(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m)
{
	/* Messages of an old ring may still come after a transitional
	 * configuration: only members of the current ring count. */
	for (size_t i = 0; i < s->flow_nodes && i < s->nmembers; i++) {
		if (s->members[i] != sender)
			continue;
		s->flow_node[i] = (m->flow_flags & CPG_FLOW_CONGESTED) != 0;
		break;
	}
	if (!cpg_flow_blocked(s) && !cpg_ring_busy(s))
		cpg_kick_waiting(s);
}

/* A regular configuration: nobody is known congested any more, and our
 * own state has to be said again (after the sync) for the new members. */
int cpg_flow_new_ring(struct cpg_svc *s, size_t nmembers)
{
	uint8_t *f = calloc(nmembers ? nmembers : 1, 1);

	free(s->flow_node);
	s->flow_node = f;
	s->flow_nodes = f ? nmembers : 0;
	s->flow_announced = false;
	return f ? 0 : -1;
}
