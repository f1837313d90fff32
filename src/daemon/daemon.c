/* cohortd's wiring: configuration -> transport -> Totem core -> services,
 * all driven by one event loop. Totem actions are drained here and turned
 * into datagrams, deliveries, configuration changes, timers and state. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "services/svc.h"

#ifndef COHORT_HAVE_SERVICES
/* Built without the services (early in the tree's life): the ring runs alone. */
#define services_on_deliver(...) ((void)0)
#define services_on_confchg(...) ((void)0)
#define services_on_flow(...) ((void)0)
#endif

void daemon_log(struct daemon *d, int level, const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dlog_vprintf(&d->log, level, sub, fmt, ap);
	va_end(ap);
}

static void log_confchg(struct daemon *d, const struct totem_action *a)
{
	char list[2048];
	size_t off = 0;

	for (size_t i = 0; i < a->u.confchg.member_count && off < sizeof(list) - 16; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u", i ? " " : "",
					a->u.confchg.members[i]);
	list[off] = 0;
	daemon_log(d, DLOG_NOTICE, "TOTEM",
		   "%s configuration, ring %u/%llu, members [%s], left %zu, joined %zu",
		   a->u.confchg.type == TOTEM_CONF_REGULAR ? "regular" : "transitional",
		   a->u.confchg.ring_id.rep, (unsigned long long)a->u.confchg.ring_id.seq, list,
		   a->u.confchg.left_count, a->u.confchg.joined_count);
	if (a->u.confchg.type == TOTEM_CONF_REGULAR && !d->first_ring_us) {
		d->first_ring_us = dloop_now_us();
		daemon_log(d, DLOG_NOTICE, "MAIN", "first ring formed %.1f ms after start",
			   (double)(d->first_ring_us - d->started_us) / 1000.0);
	}
}

static void totem_timer_cb(void *arg, uint64_t now);

static void handle_action(struct daemon *d, const struct totem_action *a)
{
	switch (a->type) {
	case TOTEM_ACT_SEND:
		net_send(d->net, a->u.send.to == TOTEM_TO_ALL ? NET_TO_ALL : a->u.send.to,
			 a->u.send.data, a->u.send.len);
		break;
	case TOTEM_ACT_DELIVER:
		if (d->svc && a->u.deliver.len >= 1)
			services_on_deliver(d->svc, a->u.deliver.data[0], a->u.deliver.sender,
					    a->u.deliver.guarantee, a->u.deliver.data + 1,
					    a->u.deliver.len - 1);
		break;
	case TOTEM_ACT_CONFCHG:
		log_confchg(d, a);
		d->rings_seen += a->u.confchg.type == TOTEM_CONF_REGULAR;
		if (d->svc)
			services_on_confchg(d->svc, a->u.confchg.type, a->u.confchg.ring_id,
					    a->u.confchg.members, a->u.confchg.member_count,
					    a->u.confchg.left, a->u.confchg.left_count,
					    a->u.confchg.joined, a->u.confchg.joined_count);
		break;
	case TOTEM_ACT_TIMER:
		dloop_timer_set(d->loop, &d->totem_timer, a->u.timer.deadline_us, totem_timer_cb,
				d);
		break;
	case TOTEM_ACT_PERSIST:
		if (state_store_ring_seq(d->state_path, a->u.persist.ring_seq))
			daemon_log(d, DLOG_ERR, "MAIN", "cannot store ring sequence in %s: %s",
				   d->state_path, strerror(errno));
		break;
	}
}

/* Run every action the core produced; messages services multicast meanwhile
 * were queued (the core is never re-entered while its actions are handled)
 * and are submitted afterwards. */
void daemon_drain(struct daemon *d)
{
	struct totem_action a;
	struct daemon_pending *p = &d->pending;

	p->draining = true;
	if (d->svc)
		services_cork(d->svc, true);
	for (;;) {
		while (totem_next_action(d->totem, &a))
			handle_action(d, &a);
		if (p->head == p->len)
			break;
		/* one queued message: [u8 guarantee][u32 len][bytes] */
		const uint8_t *m = p->buf + p->head;
		uint32_t len;
		memcpy(&len, m + 1, 4);
		int rc = totem_submit(d->totem, dloop_now_us(), m[0], m + 5, len);
		if (rc == TOTEM_E_AGAIN)
			break; /* retried on the next event */
		p->head += 5 + len;
		if (p->head == p->len)
			p->head = p->len = 0;
	}
	p->draining = false;
	if (d->svc)
		services_cork(d->svc, false);
	net_flush(d->net);
	if (d->svc_blocked && p->head == p->len && totem_submit_space(d->totem) > 0) {
		d->svc_blocked = false;
		if (d->svc)
			services_on_flow(d->svc);
	}
}

static void totem_timer_cb(void *arg, uint64_t now)
{
	struct daemon *d = arg;
	totem_on_timer(d->totem, now);
	daemon_drain(d);
	/* The loop's timer is one-shot, but the core only reports a deadline
	 * when it changes: one re-armed to the instant that just fired would
	 * never be called back. */
	dloop_timer_set(d->loop, &d->totem_timer, totem_next_deadline(d->totem), totem_timer_cb, d);
}

int daemon_host_mcast(void *ctx, uint8_t svc, enum totem_guarantee g, const struct iovec *iov,
		      unsigned iovcnt)
{
	struct daemon *d = ctx;
	struct daemon_pending *p = &d->pending;
	size_t total = 1;

	for (unsigned i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total - 1 > d->max_msg_bytes)
		return -EMSGSIZE;
	if (p->len + total + 5 > p->cap && p->head > 0) {
		/* compact once here rather than after every submitted message */
		memmove(p->buf, p->buf + p->head, p->len - p->head);
		p->len -= p->head;
		p->head = 0;
	}
	if (p->len + total + 5 > p->cap || (!p->draining && totem_submit_space(d->totem) == 0)) {
		d->svc_blocked = true;
		return -EAGAIN;
	}
	uint8_t *w = p->buf + p->len;
	uint32_t len32 = (uint32_t)total;
	w[0] = (uint8_t)g;
	memcpy(w + 1, &len32, 4);
	w[5] = svc;
	size_t off = 6;
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(w + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	p->len += total + 5;
	if (!p->draining)
		daemon_drain(d);
	return 0;
}

void daemon_host_log(void *ctx, int level, const char *subsys, const char *fmt, ...)
{
	struct daemon *d = ctx;
	va_list ap;
	va_start(ap, fmt);
	dlog_vprintf(&d->log, level, subsys, fmt, ap);
	va_end(ap);
}

void daemon_net_deliver(void *arg, uint32_t from, const uint8_t *data, size_t len)
{
	struct daemon *d = arg;
	totem_on_packet(d->totem, dloop_now_us(), from, data, len);
	daemon_drain(d);
}

void daemon_net_link_change(void *arg, uint32_t nodeid, unsigned link, bool up)
{
	struct daemon *d = arg;
	daemon_log(d, up ? DLOG_NOTICE : DLOG_WARN, "KNET", "link %u to node %u is %s", link,
		   nodeid, up ? "up" : "down");
	if (!d->totem)
		return;
	for (size_t i = 0; i < d->cfg->node_count; i++) {
		if (d->cfg->nodes[i].nodeid != nodeid)
			continue;
		if (net_node_reachable(d->net, nodeid)) {
			/* told every time: Totem also learns which nodes are known alive */
			if (d->down_since_us[i] && !d->down_told[i])
				d->down_waiting--;
			d->down_since_us[i] = 0;
			d->down_told[i] = false;
			totem_set_reachable(d->totem, dloop_now_us(), nodeid, true);
			daemon_drain(d);
		} else if (!d->down_since_us[i]) {
			d->down_since_us[i] = dloop_now_us();
			d->down_waiting++;
		}
	}
}

/* Links go down after token / 2 of silence so traffic can move to another
 * link in time; Totem is told a node is unreachable only after a further
 * token / 2, as a starved but live node may be that late. */
static uint64_t unreachable_delay_us(const struct daemon *d)
{
	return (uint64_t)cfg_token_timeout_ms(d->cfg) * 500u;
}

static uint64_t tell_unreachable(struct daemon *d, uint64_t now)
{
	uint64_t next = UINT64_MAX, delay;

	if (!d->down_waiting)
		return next; /* the common case, checked on every network event */
	delay = unreachable_delay_us(d);
	for (size_t i = 0; i < d->cfg->node_count; i++) {
		if (!d->down_since_us[i] || d->down_told[i])
			continue;
		if (now >= d->down_since_us[i] + delay) {
			d->down_told[i] = true;
			d->down_waiting--;
			totem_set_reachable(d->totem, now, d->cfg->nodes[i].nodeid, false);
			daemon_drain(d);
		} else if (d->down_since_us[i] + delay < next) {
			next = d->down_since_us[i] + delay;
		}
	}
	return next;
}

static void net_timer_cb(void *arg, uint64_t now);

void daemon_rearm_net_timer(struct daemon *d)
{
	uint64_t t = net_next_deadline(d->net),
		 u = d->totem ? tell_unreachable(d, dloop_now_us()) : t;

	dloop_timer_set(d->loop, &d->net_timer, u < t ? u : t, net_timer_cb, d);
}

static void net_timer_cb(void *arg, uint64_t now)
{
	struct daemon *d = arg;
	net_on_timer(d->net, now);
	net_flush(d->net);
	daemon_rearm_net_timer(d);
}

/* Dropped packets are counted always and reported at most every 10 s. */
static void warn_drops(struct daemon *d, uint64_t now)
{
	const struct net_stats *n = net_get_stats(d->net);
	uint64_t drops = n->rx_rejected + n->rx_unknown_source + n->rx_spoofed + n->rx_truncated +
			 n->rx_bad_kind;

	if (drops == d->drops_reported || !dlog_limit_ok(&d->drop_limit, now, 10000000u))
		return;
	daemon_log(
		d, DLOG_WARN, "KNET",
		"%llu packets dropped so far (rejected by crypto %llu, unknown source %llu, spoofed %llu)",
		(unsigned long long)drops, (unsigned long long)n->rx_rejected,
		(unsigned long long)n->rx_unknown_source, (unsigned long long)n->rx_spoofed);
	d->drops_reported = drops;
}

void daemon_net_readable(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	uint64_t now = dloop_now_us();
	(void)events;
	net_on_readable(d->net, fd, now);
	warn_drops(d, now);
	net_flush(d->net);
	daemon_rearm_net_timer(d);
}

void daemon_leave_and_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	daemon_log(d, DLOG_NOTICE, "MAIN", "leaving the cluster");
	totem_leave(d->totem, dloop_now_us());
	daemon_drain(d);
	dloop_stop(d->loop);
}

void daemon_signal_readable(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	(void)events;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		char msg[200];

		if (si.ssi_signo == SIGHUP)
			daemon_reload(d, msg, sizeof(msg));
		else
			daemon_leave_and_stop(d);
	}
}

const char *daemon_state_text(const struct daemon *d)
{
	return totem_state_name(totem_get_state(d->totem));
}
