/* Flow control of a connection's event queue. A client whose unsent events
 * pass the high mark is "congested" until they fall back to the low mark;
 * the service is told both edges and slows the senders down (docs/ipc.md,
 * "Flow control"). A client that accepts no byte for flow_stall_ms while
 * congested has stopped dispatching, not merely slowed down: it stops
 * counting, so one dead reader cannot stall the cluster, and the backlog
 * limit then cuts it off as before. */
#include "ipc/ipc_server_int.h"

static void flow_count(struct ipc_conn *c, bool on)
{
	struct ipc_server *s = c->srv;

	if (c->flow_counted == on)
		return;
	c->flow_counted = on;
	if (s->ops->congestion)
		s->ops->congestion(s->arg, c, on);
}

/* While congested, queued events are pushed into the socket this often: the
 * kernel reports a unix socket writable only once it is three quarters
 * empty, so through EPOLLOUT alone the queue would not shrink (and the
 * senders held for it would not go) until the reader had drained megabytes
 * more than it needed to: 30-70 ms stalls with 1 MiB messages. */
#define IPC_FLOW_PUSH_US 1000u

static void flow_arm(struct ipc_conn *c);

static void flow_timer_cb(void *arg, uint64_t now)
{
	struct ipc_conn *c = arg;
	struct ipc_server *s = c->srv;

	if (c->closing || !c->congested)
		return;
	ipc_conn_writable(c, c->evfd, &c->eq);
	if (c->closing || !c->congested)
		return;
	if (now < c->stall_check_us) {
		flow_arm(c);
		return;
	}
	c->stall_check_us = now + (uint64_t)s->cfg.flow_stall_ms * 1000u;
	if (c->ev_sent_bytes == c->ev_seen_bytes && !c->stalled) {
		c->stalled = true;
		s->stats.stalled++;
		IPC_LOG(s, 1,
			"client %u (pid %ld) read nothing for %u ms with %zu bytes queued: "
			"no longer slowing senders for it",
			c->id, (long)c->cred.pid, s->cfg.flow_stall_ms, c->eq.bytes);
		flow_count(c, false);
	}
	c->ev_seen_bytes = c->ev_sent_bytes;
	flow_arm(c);
}

static void flow_arm(struct ipc_conn *c)
{
	/* a reader taken for stopped is only checked, not pushed */
	uint64_t after_us =
		c->stalled ? (uint64_t)c->srv->cfg.flow_stall_ms * 1000u : IPC_FLOW_PUSH_US;

	dloop_timer_set(c->srv->loop, &c->flow_timer, dloop_now_us() + after_us, flow_timer_cb, c);
}

void ipc_flow_queued(struct ipc_conn *c)
{
	struct ipc_server *s = c->srv;

	if (!s->cfg.flow_high_bytes || c->congested || c->eq.bytes <= s->cfg.flow_high_bytes)
		return;
	c->congested = true;
	c->stalled = false;
	c->ev_seen_bytes = c->ev_sent_bytes;
	c->stall_check_us = dloop_now_us() + (uint64_t)s->cfg.flow_stall_ms * 1000u;
	s->stats.congested++;
	flow_arm(c);
	flow_count(c, true);
}

void ipc_flow_written(struct ipc_conn *c, size_t bytes)
{
	c->ev_sent_bytes += bytes;
	if (!c->congested || c->closing)
		return;
	if (c->eq.bytes <= c->srv->cfg.flow_low_bytes) {
		ipc_flow_stop(c);
		return;
	}
	if (c->stalled && bytes) {
		/* Reading again: it counts again. */
		c->stalled = false;
		c->ev_seen_bytes = c->ev_sent_bytes;
		flow_count(c, true);
	}
}

void ipc_flow_stop(struct ipc_conn *c)
{
	c->congested = false;
	c->stalled = false;
	if (c->flow_timer.registered)
		dloop_timer_del(c->srv->loop, &c->flow_timer);
	flow_count(c, false);
}
