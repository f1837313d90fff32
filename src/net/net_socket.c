/* Socket set-up for one link: bind, buffer sizes, multicast membership. */
#include "net/net_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void set_buffers(int fd, size_t bytes)
{
	int v = bytes > INT32_MAX / 2 ? INT32_MAX / 2 : (int)bytes;

	/* The FORCE variants pass the rmem_max/wmem_max caps when we are root;
	 * otherwise take what the kernel allows: bursts then cost retransmits,
	 * not correctness. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static int open_bound(const struct util_addr *a, bool reuse, size_t bufsize, char *err,
		      size_t errlen, unsigned link)
{
	struct sockaddr_storage ss;
	socklen_t len = util_addr_to_sockaddr(a, &ss);
	char buf[UTIL_ADDR_STRLEN];
	int one = 1;
	int fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "link %u: socket: %s", link, strerror(errno));
		return -1;
	}
	if (a->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (reuse)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_buffers(fd, bufsize);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		snprintf(err, errlen, "link %u: cannot bind %s: %s", link,
			 util_addr_format(a, true, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Let the kernel fragment datagrams above the path MTU: netmtu is the
 * operator's promise, and Totem retransmits whatever is lost. */
static void allow_fragments(int fd, int family)
{
	int v4 = IP_PMTUDISC_DONT, v6 = IPV6_PMTUDISC_DONT;

	if (family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
}

static int join_group(struct net_link *l, const struct util_addr *group, uint8_t ttl)
{
	int loop = 1, hops = ttl;

	/* Loopback on: several daemons of one machine must hear each other;
	 * our own copies are recognised by source address and dropped. */
	if (group->family == AF_INET) {
		struct ip_mreq mr;

		memcpy(&mr.imr_multiaddr, group->bytes, 4);
		memcpy(&mr.imr_interface, l->local.bytes, 4);
		if (setsockopt(l->mcast_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0 ||
		    setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr.imr_interface,
			       sizeof(mr.imr_interface)) != 0)
			return -1;
		(void)setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop));
		(void)setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops));
	} else {
		struct ipv6_mreq mr;
		unsigned idx = l->local.scope_id;

		memcpy(&mr.ipv6mr_multiaddr, group->bytes, 16);
		mr.ipv6mr_interface = idx;
		if (setsockopt(l->mcast_fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) != 0)
			return -1;
		if (idx)
			(void)setsockopt(l->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx));
		(void)setsockopt(l->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof(loop));
		(void)setsockopt(l->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	}
	return 0;
}

int net_socket_open(struct net *n, unsigned link, const struct net_config *cfg, char *err,
		    size_t errlen)
{
	struct net_link *l = &n->links[link];
	size_t bufsize = cfg->sock_buf_bytes ? cfg->sock_buf_bytes : NET_DEFAULT_SOCK_BUF;
	struct util_addr group;

	l->fd = open_bound(&l->local, false, bufsize, err, errlen, link);
	if (l->fd < 0)
		return -1;
	allow_fragments(l->fd, l->local.family);
	if (!cfg->multicast)
		return 0;
	group = cfg->mcast[link];
	if (!group.port)
		group.port = l->local.port;
	if (group.family != l->local.family || !util_addr_is_multicast(&group)) {
		snprintf(err, errlen,
			 "link %u: multicast group missing or not of the link's family", link);
		return -1;
	}
	l->mcast_salen = util_addr_to_sockaddr(&group, &l->mcast_sa);
	l->mcast_fd = open_bound(&group, true, bufsize, err, errlen, link);
	if (l->mcast_fd < 0)
		return -1;
	if (join_group(l, &group, cfg->mcast_ttl ? cfg->mcast_ttl : 1) != 0) {
		char buf[UTIL_ADDR_STRLEN];

		snprintf(err, errlen, "link %u: cannot join multicast group %s: %s", link,
			 util_addr_format(&group, false, buf, sizeof(buf)), strerror(errno));
		return -1;
	}
	return 0;
}
