/* Transport set-up and queries; the send and receive paths are in net_io.c,
 * link health in net_link.c, sockets in net_socket.c. */
#include "net/net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_node(const void *a, const void *b)
{
	uint32_t x = ((const struct net_peer *)a)->nodeid;
	uint32_t y = ((const struct net_peer *)b)->nodeid;

	return x < y ? -1 : x > y;
}

static int map_init(struct net_addrmap *m, size_t entries)
{
	size_t size = 16;

	while (size < entries * 2)
		size *= 2;
	m->slots = malloc(size * sizeof(*m->slots));
	if (!m->slots)
		return -1;
	m->mask = size - 1;
	for (size_t i = 0; i < size; i++)
		m->slots[i] = -1;
	return 0;
}

static int32_t map_find(const struct net *n, unsigned link, const struct util_addr *a)
{
	const struct net_addrmap *m = &n->links[link].map;

	for (size_t i = util_addr_hash(a) & m->mask;; i = (i + 1) & m->mask) {
		int32_t p = m->slots[i];

		if (p < 0 || util_addr_same_host(&n->peers[p].addr[link], a))
			return p;
	}
}

int32_t net_peer_by_addr(const struct net *n, unsigned link, const struct util_addr *a)
{
	return n->links[link].map.slots ? map_find(n, link, a) : -1;
}

static int map_build(struct net *n, unsigned link)
{
	struct net_addrmap *m = &n->links[link].map;

	if (map_init(m, n->peer_count) != 0)
		return -1;
	for (size_t p = 0; p < n->peer_count; p++) {
		const struct util_addr *a = &n->peers[p].addr[link];
		size_t i;

		if (!(n->peers[p].link_mask & (1u << link)))
			continue;
		for (i = util_addr_hash(a) & m->mask; m->slots[i] >= 0; i = (i + 1) & m->mask)
			;
		m->slots[i] = (int32_t)p;
	}
	return 0;
}

static int load_peers(struct net *n, const struct net_config *cfg, char *err, size_t errlen)
{
	n->peers = calloc(cfg->node_count ? cfg->node_count : 1, sizeof(*n->peers));
	if (!n->peers) {
		snprintf(err, errlen, "net: out of memory");
		return -1;
	}
	n->peer_count = cfg->node_count;
	for (size_t i = 0; i < cfg->node_count; i++) {
		struct net_peer *p = &n->peers[i];

		p->nodeid = cfg->nodes[i].nodeid;
		p->link_mask = cfg->nodes[i].link_mask;
		for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
			if (!(p->link_mask & (1u << l)))
				continue;
			p->addr[l] = cfg->nodes[i].addrs[l];
			if (!p->addr[l].port)
				p->addr[l].port = cfg->port[l] ? cfg->port[l] : NET_DEFAULT_PORT;
			p->salen[l] = util_addr_to_sockaddr(&p->addr[l], &p->sa[l]);
		}
	}
	qsort(n->peers, n->peer_count, sizeof(*n->peers), cmp_node);
	for (size_t i = 0; i < n->peer_count; i++) {
		uint32_t id = n->peers[i].nodeid;

		if (id == 0 || (i && id == n->peers[i - 1].nodeid)) {
			snprintf(err, errlen, "net: node id %u is zero or listed twice",
				 n->peers[i].nodeid);
			return -1;
		}
		if (n->peers[i].nodeid == n->my_nodeid)
			n->self = i;
	}
	if (!net_find_peer(n, n->my_nodeid) || !n->peers[n->self].link_mask) {
		snprintf(err, errlen, "net: node %u is not in the node list or has no address",
			 n->my_nodeid);
		return -1;
	}
	return 0;
}

static int open_crypto(struct net *n, const struct net_config *cfg, char *err, size_t errlen)
{
	uint32_t ids[NET_MAX_NODES];
	struct crypto_params cp = { .mode = cfg->crypto_mode,
				    .key = cfg->key,
				    .cluster_name = cfg->cluster_name,
				    .my_nodeid = cfg->my_nodeid,
				    .peers = ids,
				    .peer_count = n->peer_count };

	for (size_t i = 0; i < n->peer_count; i++)
		ids[i] = n->peers[i].nodeid;
	return crypto_create(&cp, &n->crypto, err, errlen);
}

static int open_links(struct net *n, const struct net_config *cfg, char *err, size_t errlen)
{
	const struct net_peer *self = &n->peers[n->self];

	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		struct net_link *lk = &n->links[l];
		uint64_t iv = cfg->heartbeat_interval_ms[l] ? cfg->heartbeat_interval_ms[l] : 40;
		uint64_t to = cfg->link_timeout_ms[l] ? cfg->link_timeout_ms[l] : 4 * iv;

		lk->fd = lk->mcast_fd = -1;
		if (!(self->link_mask & (1u << l)))
			continue;
		lk->active = true;
		lk->local = self->addr[l];
		lk->interval_us = iv * 1000;
		lk->timeout_us = to * 1000;
		if (map_build(n, l) != 0 || net_socket_open(n, l, cfg, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int net_create(const struct net_config *cfg, struct net **out, char *err, size_t errlen)
{
	struct net *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n) {
		snprintf(err, errlen, "net: out of memory");
		return -1;
	}
	for (unsigned l = 0; l < NET_MAX_LINKS; l++)
		n->links[l].fd = n->links[l].mcast_fd = -1;
	n->my_nodeid = cfg->my_nodeid;
	n->multicast = cfg->multicast;
	n->send_all_links = cfg->send_all_links;
	n->deliver = cfg->deliver;
	n->link_change = cfg->link_change;
	n->arg = cfg->arg;
	if (cfg->node_count > NET_MAX_NODES) {
		snprintf(err, errlen, "net: more than %u nodes", NET_MAX_NODES);
		goto fail;
	}
	n->txbuf = malloc(NET_TX_BUFS * NET_BUF_BYTES);
	n->rxbuf = malloc(NET_RX_BATCH * NET_BUF_BYTES);
	if (!n->txbuf || !n->rxbuf) {
		snprintf(err, errlen, "net: out of memory");
		goto fail;
	}
	if (load_peers(n, cfg, err, errlen) != 0 || open_crypto(n, cfg, err, errlen) != 0 ||
	    open_links(n, cfg, err, errlen) != 0)
		goto fail;
	*out = n;
	return 0;
fail:
	net_destroy(n);
	return -1;
}

void net_destroy(struct net *n)
{
	if (!n)
		return;
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if (n->links[l].fd >= 0)
			close(n->links[l].fd);
		if (n->links[l].mcast_fd >= 0)
			close(n->links[l].mcast_fd);
		free(n->links[l].map.slots);
	}
	crypto_destroy(n->crypto);
	free(n->peers);
	free(n->txbuf);
	free(n->rxbuf);
	free(n);
}

size_t net_get_fds(const struct net *n, int *fds, size_t max)
{
	size_t k = 0;

	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		if (n->links[l].fd >= 0 && k < max)
			fds[k++] = n->links[l].fd;
		if (n->links[l].mcast_fd >= 0 && k < max)
			fds[k++] = n->links[l].mcast_fd;
	}
	return k;
}

struct net_peer *net_find_peer(const struct net *n, uint32_t nodeid)
{
	struct net_peer key = { .nodeid = nodeid };

	return bsearch(&key, n->peers, n->peer_count, sizeof(*n->peers), cmp_node);
}

size_t net_max_payload(const struct net *n)
{
	return NET_MAX_DATAGRAM - crypto_overhead(n->crypto);
}

const struct net_stats *net_get_stats(const struct net *n)
{
	return &n->stats;
}

const struct crypto_stats *net_get_crypto_stats(const struct net *n)
{
	return crypto_get_stats(n->crypto);
}

void net_set_filter(struct net *n, net_filter_fn fn, void *arg)
{
	n->filter = fn;
	n->filter_arg = arg;
}
