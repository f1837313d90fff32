/* The packet paths: seal and batch with sendmmsg, drain with recvmmsg, map
 * each source address to a node, open and dispatch. */
#include "net/net_int.h"

#include <errno.h>
#include <string.h>

static void flush_link(struct net *n, struct net_link *l)
{
	size_t done = 0;

	while (done < l->queued) {
		int r = sendmmsg(l->fd, l->msgs + done, (unsigned)(l->queued - done), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* Skip the datagram the kernel refused (full buffer,
			 * unreachable): Totem retransmits what matters. */
			n->stats.tx_errors++;
			done++;
			continue;
		}
		for (size_t i = done; i < done + (size_t)r; i++) {
			n->stats.tx_packets++;
			n->stats.tx_bytes += l->msgs[i].msg_len;
			if (l->msg_peer[i] >= 0)
				n->peers[l->msg_peer[i]].pl[l - n->links].tx++;
		}
		done += (size_t)r;
	}
	l->queued = 0;
}

void net_flush(struct net *n)
{
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if (n->links[l].queued)
			flush_link(n, &n->links[l]);
	}
	n->txbuf_used = 0;
}

/* Seal into a free tx buffer, flushing first when none is left. */
static uint8_t *seal(struct net *n, uint8_t kind, const void *payload, size_t len, size_t *plen)
{
	uint8_t *buf;

	if (n->txbuf_used == NET_TX_BUFS)
		net_flush(n);
	buf = n->txbuf + n->txbuf_used * NET_BUF_BYTES;
	if (crypto_seal(n->crypto, kind, payload, len, buf, NET_BUF_BYTES, plen) != CRYPTO_OK)
		return NULL;
	n->txbuf_used++;
	return buf;
}

/* Queue buf (a sealed packet in the tx area) to one destination. When the
 * link's queue is full everything is flushed and buf is moved to slot 0 so it
 * stays valid for the remaining destinations of a broadcast. */
static uint8_t *enqueue(struct net *n, unsigned link, int32_t peer, uint8_t *buf, size_t len)
{
	struct net_link *l = &n->links[link];
	struct msghdr *h;

	uint32_t to = peer >= 0 ? n->peers[peer].nodeid : 0;

	if (n->filter && n->filter(n->filter_arg, true, link, to)) {
		n->stats.tx_filtered++;
		return buf;
	}
	if (l->queued == NET_TX_MSGS) {
		net_flush(n);
		memmove(n->txbuf, buf, len);
		buf = n->txbuf;
		n->txbuf_used = 1;
	}
	l->iov[l->queued] = (struct iovec){ .iov_base = buf, .iov_len = len };
	h = &l->msgs[l->queued].msg_hdr;
	memset(h, 0, sizeof(*h));
	h->msg_iov = &l->iov[l->queued];
	h->msg_iovlen = 1;
	if (peer >= 0) {
		h->msg_name = &n->peers[peer].sa[link];
		h->msg_namelen = n->peers[peer].salen[link];
	} else {
		h->msg_name = &l->mcast_sa;
		h->msg_namelen = l->mcast_salen;
	}
	l->msg_peer[l->queued++] = peer;
	return buf;
}

int net_queue(struct net *n, unsigned link, int32_t peer, uint8_t kind, const void *payload,
	      size_t len)
{
	size_t plen;
	uint8_t *buf = seal(n, kind, payload, len, &plen);

	if (!buf)
		return NET_E_INTERNAL;
	enqueue(n, link, peer, buf, plen);
	return NET_OK;
}

/* Lowest-numbered healthy link, every common link in active mode, and every
 * common link while none is known healthy (start-up, or all failing). */
static uint8_t choose_links(const struct net *n, const struct net_peer *p)
{
	uint8_t common = p->link_mask & n->peers[n->self].link_mask;

	if (n->send_all_links)
		return common;
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if ((common & (1u << l)) && p->pl[l].up)
			return (uint8_t)(1u << l);
	}
	return common;
}

static int send_all(struct net *n, const void *data, size_t len)
{
	uint8_t links[NET_MAX_NODES];
	uint8_t wanted = 0;

	for (size_t p = 0; p < n->peer_count; p++) {
		links[p] = p == n->self ? 0 : choose_links(n, &n->peers[p]);
		wanted |= links[p];
	}
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		size_t plen;
		uint8_t *buf;

		if (!(wanted & (1u << l)))
			continue;
		/* One seal per link, whatever the number of destinations. */
		buf = seal(n, NET_KIND_TOTEM, data, len, &plen);
		if (!buf)
			return NET_E_INTERNAL;
		if (n->multicast) {
			enqueue(n, l, -1, buf, plen); /* the group reaches them all */
			continue;
		}
		for (size_t p = 0; p < n->peer_count; p++) {
			if (links[p] & (1u << l))
				buf = enqueue(n, l, (int32_t)p, buf, plen);
		}
	}
	return NET_OK;
}

int net_send(struct net *n, uint32_t to, const void *data, size_t len)
{
	struct net_peer *p;
	uint8_t links;

	if (len > net_max_payload(n))
		return NET_E_TOOBIG;
	if (to == NET_TO_ALL)
		return send_all(n, data, len);
	p = net_find_peer(n, to);
	if (!p)
		return NET_E_UNKNOWN;
	if (to == n->my_nodeid)
		return NET_OK;
	links = choose_links(n, p);
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if ((links & (1u << l)) &&
		    net_queue(n, l, (int32_t)(p - n->peers), NET_KIND_TOTEM, data, len) != NET_OK)
			return NET_E_INTERNAL;
	}
	return NET_OK;
}

/* ---- receiving ------------------------------------------------------------------- */

static int receive_one(struct net *n, unsigned link, struct mmsghdr *m, uint64_t now_us)
{
	struct util_addr src;
	struct crypto_rx rx;
	int32_t idx;
	struct net_peer *peer;

	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		n->stats.rx_truncated++;
		return 0;
	}
	if (!util_addr_from_sockaddr(m->msg_hdr.msg_name, m->msg_hdr.msg_namelen, &src) ||
	    (idx = net_peer_by_addr(n, link, &src)) < 0) {
		n->stats.rx_unknown_source++;
		return 0;
	}
	if ((size_t)idx == n->self) {
		n->stats.rx_own++;
		return 0;
	}
	peer = &n->peers[idx];
	if (n->filter && n->filter(n->filter_arg, false, link, peer->nodeid)) {
		n->stats.rx_filtered++;
		return 0;
	}
	if (crypto_open(n->crypto, m->msg_hdr.msg_iov->iov_base, m->msg_len, &rx) != CRYPTO_OK) {
		n->stats.rx_rejected++;
		return 0;
	}
	if (rx.sender != peer->nodeid) {
		n->stats.rx_spoofed++;
		return 0;
	}
	n->stats.rx_packets++;
	n->stats.rx_bytes += m->msg_len;
	peer->pl[link].rx++;
	net_link_heard(n, (size_t)idx, link, now_us);
	if (rx.kind == NET_KIND_TOTEM) {
		/* A one-way path is treated as no path: Totem copes with nodes
		 * that cannot reach each other, not with half-heard ones. */
		if (!net_peer_hears_us(n, (size_t)idx)) {
			n->stats.rx_oneway++;
			return 1;
		}
		n->deliver(n->arg, rx.sender, rx.payload, rx.len);
	} else if (rx.kind == NET_KIND_HEARTBEAT) {
		n->stats.rx_heartbeats++;
		net_link_heartbeat_rx(n, (size_t)idx, link, rx.payload, rx.len, now_us);
	} else {
		n->stats.rx_bad_kind++;
	}
	return 1;
}

static unsigned link_of_fd(const struct net *n, int fd)
{
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if (n->links[l].fd == fd || n->links[l].mcast_fd == fd)
			return l;
	}
	return NET_MAX_LINKS;
}

int net_on_readable(struct net *n, int fd, uint64_t now_us)
{
	unsigned link = link_of_fd(n, fd);
	int accepted = 0;

	if (fd < 0 || link == NET_MAX_LINKS)
		return 0;
	for (size_t total = 0; total < NET_RX_MAX_PER_CALL;) {
		int r;

		for (size_t i = 0; i < NET_RX_BATCH; i++) {
			struct msghdr *h = &n->rxmsgs[i].msg_hdr;

			n->rxiov[i] = (struct iovec){ .iov_base = n->rxbuf + i * NET_BUF_BYTES,
						      .iov_len = NET_BUF_BYTES };
			memset(h, 0, sizeof(*h));
			h->msg_name = &n->rxaddr[i];
			h->msg_namelen = sizeof(n->rxaddr[i]);
			h->msg_iov = &n->rxiov[i];
			h->msg_iovlen = 1;
		}
		r = recvmmsg(fd, n->rxmsgs, NET_RX_BATCH, MSG_DONTWAIT, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (int i = 0; i < r; i++)
			accepted += receive_one(n, link, &n->rxmsgs[i], now_us);
		total += (size_t)r;
		if ((size_t)r < NET_RX_BATCH)
			break; /* drained */
	}
	return accepted;
}
