#define _GNU_SOURCE /* accept4, struct ucred */
/* The control socket: a local unix socket (abstract name) answering one text
 * command per connection ("status", "links", "stats"), used by
 * cohort-cfgtool. Only root and the daemon's own user are answered. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "services/svc.h"
#include "wire/wire.h"

/* Bumped when a key changes meaning or goes away (new keys do not bump it),
 * so a tool can tell an older daemon from a missing counter. */
#define CTL_FORMAT_VERSION 1u

void ctl_socket_name(const char *ipc_name, char *out, size_t cap)
{
	snprintf(out, cap, "cohort-%s-ctl", ipc_name);
}

static size_t reply_status(struct daemon *d, char *out, size_t cap)
{
	uint32_t m[TOTEM_MAX_NODES];
	size_t n = totem_get_members(d->totem, m, TOTEM_MAX_NODES), off;
	struct totem_ring_id r = totem_get_ring_id(d->totem);

	off = (size_t)snprintf(out, cap, "nodeid %u\nstate %s\nring_id %u.%llu\nmembers", d->nodeid,
			       daemon_state_text(d), r.rep, (unsigned long long)r.seq);
	for (size_t i = 0; i < n && off < cap - 16; i++)
		off += (size_t)snprintf(out + off, cap - off, " %u", m[i]);
	off += (size_t)snprintf(out + off, cap - off, "\nrings_formed %llu\n",
				(unsigned long long)d->rings_seen);
	return off;
}

static size_t reply_links(struct daemon *d, char *out, size_t cap)
{
	struct net_link_info li[64];
	size_t n = net_get_links(d->net, li, 64), off = 0;
	uint64_t now_us = dloop_now_us();
	char addr[128];

	/* The fields after "tx" were added later; readers match by name. */
	for (size_t i = 0; i < n && off < cap - 300; i++) {
		const struct net_link_info *l = &li[i];
		unsigned long long since_ms = l->changed_at_us && now_us > l->changed_at_us ?
						      (now_us - l->changed_at_us) / 1000 :
						      0;

		util_addr_format(&l->addr, true, addr, sizeof(addr));
		off += (size_t)snprintf(
			out + off, cap - off,
			"node %u link %u %s %s rx %llu tx %llu changes %u since_ms %llu", l->nodeid,
			l->link, addr, l->up ? "up" : "down", (unsigned long long)l->rx_packets,
			(unsigned long long)l->tx_packets, l->changes, since_ms);
		if (l->rtt_samples)
			off += (size_t)snprintf(out + off, cap - off,
						" rtt_us %u rtt_min_us %u rtt_max_us %u", l->rtt_us,
						l->rtt_min_us, l->rtt_max_us);
		off += (size_t)snprintf(out + off, cap - off, "\n");
	}
	return off;
}

struct ctl_buf {
	char *p;
	size_t cap, off;
};

static void kv(struct ctl_buf *b, const char *key, unsigned long long v)
{
	if (b->off < b->cap)
		b->off += (size_t)snprintf(b->p + b->off, b->cap - b->off, "%s %llu\n", key, v);
}

/* "crypto.rejected." + "auth-failed" -> "crypto.rejected.auth_failed" */
static void kv_named(struct ctl_buf *b, const char *prefix, const char *name, uint64_t v)
{
	char key[96];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	for (char *c = key; *c; c++)
		*c = *c == '-' ? '_' : *c;
	kv(b, key, v);
}

static void stats_totem(struct ctl_buf *b, const struct totem_stats *t)
{
	uint64_t rej = 0;

	for (int i = 0; i < 16; i++)
		rej += t->rx_rejected[i];
	kv(b, "totem.rx_packets", t->rx_packets);
	kv(b, "totem.rx_rejected", rej);
	for (int i = 1; i < WIRE_ERR_COUNT_; i++)
		kv_named(b, "totem.rx_rejected.", wire_err_name((enum wire_err)i),
			 t->rx_rejected[i]);
	kv(b, "totem.rx_dup", t->rx_dup);
	kv(b, "totem.rx_foreign", t->rx_foreign);
	kv(b, "totem.rx_spoofed", t->rx_spoofed);
	kv(b, "totem.tx_packets", t->tx_packets);
	kv(b, "totem.retransmits", t->tx_retransmits);
	kv(b, "totem.token_retransmits", t->token_retransmits);
	kv(b, "totem.delivered", t->delivered);
	kv(b, "totem.rings_formed", t->rings_formed);
	kv(b, "totem.token_losses", t->token_losses);
	kv(b, "totem.merge_backoffs", t->merge_backoffs);
	kv(b, "totem.batch_holds", t->batch_holds);
	kv(b, "totem.hold_cancels", t->hold_cancels);
	kv(b, "totem.token_rotation_us", t->token_rotation_us);
	kv(b, "totem.token_rotation_last_us", t->token_rotation_last_us);
	kv(b, "totem.rx_backoff", t->rx_backoff);
}

static void stats_net(struct ctl_buf *b, const struct net_stats *n, const struct crypto_stats *c)
{
	kv(b, "net.rx_packets", n->rx_packets);
	kv(b, "net.rx_bytes", n->rx_bytes);
	kv(b, "net.rx_heartbeats", n->rx_heartbeats);
	kv(b, "net.rx_unknown_source", n->rx_unknown_source);
	kv(b, "net.rx_spoofed", n->rx_spoofed);
	kv(b, "net.rx_rejected", n->rx_rejected);
	kv(b, "net.rx_truncated", n->rx_truncated);
	kv(b, "net.rx_bad_kind", n->rx_bad_kind);
	kv(b, "net.rx_own", n->rx_own);
	kv(b, "net.rx_filtered", n->rx_filtered);
	kv(b, "net.rx_oneway", n->rx_oneway);
	kv(b, "net.tx_packets", n->tx_packets);
	kv(b, "net.tx_bytes", n->tx_bytes);
	kv(b, "net.tx_heartbeats", n->tx_heartbeats);
	kv(b, "net.tx_errors", n->tx_errors);
	kv(b, "net.tx_filtered", n->tx_filtered);
	kv(b, "net.link_changes", n->link_changes);
	kv(b, "crypto.auth_failed", c->rejected[CRYPTO_E_AUTH]);
	kv(b, "crypto.replay", c->rejected[CRYPTO_E_REPLAY]);
	for (int i = 1; i < CRYPTO_STATUS_COUNT; i++)
		kv_named(b, "crypto.rejected.", crypto_status_name((enum crypto_status)i),
			 c->rejected[i]);
}

static size_t reply_stats(struct daemon *d, char *out, size_t cap)
{
	struct ctl_buf b = { .p = out, .cap = cap };
	struct services_stats sv;
	uint64_t now_us = dloop_now_us();

	kv(&b, "ctl.format", CTL_FORMAT_VERSION);
	kv(&b, "daemon.uptime_s", now_us > d->started_us ? (now_us - d->started_us) / 1000000 : 0);
	stats_totem(&b, totem_get_stats(d->totem));
	stats_net(&b, net_get_stats(d->net), net_get_crypto_stats(d->net));
	services_get_stats(d->svc, &sv);
	kv(&b, "ipc.connections", sv.ipc_conns);
	kv(&b, "ipc.accepted", sv.ipc_accepted);
	kv(&b, "ipc.refused", sv.ipc_refused);
	kv(&b, "ipc.bad_frames", sv.ipc_bad_frames);
	kv(&b, "ipc.backlog_drops", sv.ipc_backlog_drops);
	kv(&b, "ipc.flow_congested", sv.ipc_congested);
	kv(&b, "ipc.flow_stalled", sv.ipc_stalled);
	kv(&b, "cpg.senders_held", sv.cpg_senders_held);
	kv(&b, "cpg.held_flow", sv.cpg_held_flow);
	kv(&b, "cpg.held_queue", sv.cpg_held_queue);
	kv(&b, "daemon.pending_bytes", d->pending.len - d->pending.head);
	kv(&b, "cpg.groups", sv.cpg_groups);
	kv(&b, "quorum.provider", sv.quorum_provider);
	kv(&b, "quorum.quorate", sv.quorate);
	if (sv.quorum_provider) {
		kv(&b, "quorum.total_votes", sv.quorum_total_votes);
		kv(&b, "quorum.expected_votes", sv.quorum_expected);
		kv(&b, "quorum.quorum", sv.quorum_needed);
	}
	return b.off < cap ? b.off : cap - 1;
}

static void ctl_drop(struct daemon *d, int c)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (d->ctl_clients[i] == c)
			d->ctl_clients[i] = -1;
	dloop_del_fd(d->loop, c);
	close(c);
}

static void ctl_client_readable(void *arg, int c, uint32_t events)
{
	struct daemon *d = arg;
	char cmd[64], out[16384];
	size_t len;
	ssize_t r = recv(c, cmd, sizeof(cmd) - 1, MSG_DONTWAIT);
	(void)events;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		cmd[r] = 0;
		cmd[strcspn(cmd, "\r\n")] = 0;
		if (!strcmp(cmd, "status"))
			len = reply_status(d, out, sizeof(out));
		else if (!strcmp(cmd, "links"))
			len = reply_links(d, out, sizeof(out));
		else if (!strcmp(cmd, "stats"))
			len = reply_stats(d, out, sizeof(out));
		else if (!strcmp(cmd, "reload"))
			len = (daemon_reload(d, out, sizeof(out)), strlen(out));
		else if (!strcmp(cmd, "shutdown"))
			len = (size_t)snprintf(out, sizeof(out), "leaving the cluster\n");
		else
			len = (size_t)snprintf(out, sizeof(out), "error: unknown command\n");
		if (send(c, out, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			daemon_log(d, DLOG_DEBUG, "CTL", "reply not sent: %s", strerror(errno));
		if (!strcmp(cmd, "shutdown"))
			daemon_leave_and_stop(d);
	}
	ctl_drop(d, c);
}

/* Clients are few and short-lived (one command each); a client that never
 * sends its command is dropped when the slot table is full. */
static void ctl_readable(void *arg, int fd, uint32_t events)
{
	struct daemon *d = arg;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	(void)events;

	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crl) ||
	    (cr.uid != 0 && cr.uid != getuid()) ||
	    dloop_add_fd(d->loop, c, EPOLLIN, ctl_client_readable, d)) {
		close(c);
		return;
	}
	int slot = (int)(d->ctl_next++ % CTL_MAX_CLIENTS);
	if (d->ctl_clients[slot] >= 0)
		ctl_drop(d, d->ctl_clients[slot]);
	d->ctl_clients[slot] = c;
}

int ctl_open(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[100];
	int fd;

	ctl_socket_name(d->ipc_name, name, sizeof(name));
	memcpy(sa.sun_path + 1, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) ||
	    listen(fd, 16) || dloop_add_fd(d->loop, fd, EPOLLIN, ctl_readable, d)) {
		close(fd);
		return -1;
	}
	d->ctl_fd = fd;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		d->ctl_clients[i] = -1;
	return 0;
}

void ctl_close(struct daemon *d)
{
	for (int i = 0; d->ctl_fd >= 0 && i < CTL_MAX_CLIENTS; i++)
		if (d->ctl_clients[i] >= 0)
			ctl_drop(d, d->ctl_clients[i]);
	if (d->ctl_fd >= 0) {
		dloop_del_fd(d->loop, d->ctl_fd);
		close(d->ctl_fd);
	}
	d->ctl_fd = -1;
}
