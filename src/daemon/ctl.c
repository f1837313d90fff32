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
	char addr[128];

	for (size_t i = 0; i < n && off < cap - 200; i++) {
		util_addr_format(&li[i].addr, true, addr, sizeof(addr));
		off += (size_t)snprintf(
			out + off, cap - off, "node %u link %u %s %s rx %llu tx %llu\n",
			li[i].nodeid, li[i].link, addr, li[i].up ? "up" : "down",
			(unsigned long long)li[i].rx_packets, (unsigned long long)li[i].tx_packets);
	}
	return off;
}

static size_t reply_stats(struct daemon *d, char *out, size_t cap)
{
	const struct totem_stats *t = totem_get_stats(d->totem);
	const struct net_stats *n = net_get_stats(d->net);
	const struct crypto_stats *c = net_get_crypto_stats(d->net);
	uint64_t rej = 0;

	for (int i = 0; i < 16; i++)
		rej += t->rx_rejected[i];
	return (size_t)snprintf(
		out, cap,
		"totem.rx_packets %llu\ntotem.rx_rejected %llu\ntotem.rx_dup %llu\ntotem.tx_packets %llu\n"
		"totem.retransmits %llu\ntotem.token_retransmits %llu\ntotem.delivered %llu\n"
		"totem.rings_formed %llu\ntotem.token_losses %llu\ntotem.merge_backoffs %llu\n"
		"totem.rx_backoff %llu\nnet.rx_packets %llu\n"
		"net.rx_unknown_source %llu\nnet.rx_rejected %llu\nnet.tx_packets %llu\n"
		"net.tx_errors %llu\nnet.rx_oneway %llu\ncrypto.auth_failed %llu\ncrypto.replay %llu\n",
		(unsigned long long)t->rx_packets, (unsigned long long)rej,
		(unsigned long long)t->rx_dup, (unsigned long long)t->tx_packets,
		(unsigned long long)t->tx_retransmits, (unsigned long long)t->token_retransmits,
		(unsigned long long)t->delivered, (unsigned long long)t->rings_formed,
		(unsigned long long)t->token_losses, (unsigned long long)t->merge_backoffs,
		(unsigned long long)t->rx_backoff, (unsigned long long)n->rx_packets,
		(unsigned long long)n->rx_unknown_source, (unsigned long long)n->rx_rejected,
		(unsigned long long)n->tx_packets, (unsigned long long)n->tx_errors,
		(unsigned long long)n->rx_oneway, (unsigned long long)c->rejected[CRYPTO_E_AUTH],
		(unsigned long long)c->rejected[CRYPTO_E_REPLAY]);
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
