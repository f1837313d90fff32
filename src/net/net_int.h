/* Internals shared by the transport's files; not for use outside src/net. */
#ifndef COHORT_NET_INT_H
#define COHORT_NET_INT_H

#include <sys/socket.h>

#include "net/transport.h"

#define NET_RX_BATCH 32u
#define NET_RX_MAX_PER_CALL 1024u /* then yield to the other fds */
#define NET_TX_MSGS 64u		  /* queued datagrams per link */
#define NET_TX_BUFS 16u		  /* distinct sealed packets in flight */
#define NET_BUF_BYTES (NET_MAX_DATAGRAM + 64u)
#define NET_HB_TRACK 4u /* heartbeats remembered per peer link for RTT */

/* Health of one link towards one peer. */
struct net_plink {
	uint64_t last_rx_us;	   /* any authentic packet; 0 = never */
	uint64_t peer_hears_at_us; /* when the peer last said it hears us */
	bool peer_hears_us;
	bool sent_hear_you; /* our last heartbeat to the peer said we hear it */
	bool up;
	uint64_t rx;
	uint64_t tx;
	uint32_t changes;	/* up/down transitions */
	uint64_t changed_at_us; /* last transition; 0 = never */
	/* Round-trip time from heartbeat echoes (wire/wire_hb.h). */
	uint32_t hb_seq; /* last heartbeat number sent */
	uint32_t hb_sent_seq[NET_HB_TRACK];
	uint64_t hb_sent_us[NET_HB_TRACK];
	uint32_t peer_seq; /* newest heartbeat number heard from the peer */
	uint64_t peer_seq_at_us;
	uint64_t rtt_samples;
	uint32_t rtt_us; /* smoothed (1/8 of each new sample) */
	uint32_t rtt_min_us;
	uint32_t rtt_max_us;
};

struct net_peer {
	uint32_t nodeid;
	uint8_t link_mask;
	struct util_addr addr[NET_MAX_LINKS];
	struct sockaddr_storage sa[NET_MAX_LINKS];
	socklen_t salen[NET_MAX_LINKS];
	struct net_plink pl[NET_MAX_LINKS];
};

/* Source address -> peer index, open addressing. */
struct net_addrmap {
	size_t mask;
	int32_t *slots; /* peer index, -1 empty */
};

struct net_link {
	bool active; /* we have an address on this link */
	int fd;
	int mcast_fd; /* multicast receive socket, -1 in unicast mode */
	struct util_addr local;
	struct sockaddr_storage mcast_sa;
	socklen_t mcast_salen;
	struct net_addrmap map;
	uint64_t interval_us;
	uint64_t timeout_us;
	uint64_t next_hb_us;
	struct mmsghdr msgs[NET_TX_MSGS];
	struct iovec iov[NET_TX_MSGS];
	int32_t msg_peer[NET_TX_MSGS]; /* peer index, -1 for a group send */
	size_t queued;
};

struct net {
	uint32_t my_nodeid;
	size_t self;
	struct net_peer *peers; /* sorted by node id */
	size_t peer_count;
	struct net_link links[NET_MAX_LINKS];
	bool multicast;
	bool send_all_links;
	struct crypto_ctx *crypto;
	net_deliver_fn deliver;
	net_link_fn link_change;
	void *arg;
	net_filter_fn filter;
	void *filter_arg;
	uint8_t *txbuf; /* NET_TX_BUFS x NET_BUF_BYTES */
	size_t txbuf_used;
	uint8_t *rxbuf; /* NET_RX_BATCH x NET_BUF_BYTES */
	struct mmsghdr rxmsgs[NET_RX_BATCH];
	struct iovec rxiov[NET_RX_BATCH];
	struct sockaddr_storage rxaddr[NET_RX_BATCH];
	struct net_stats stats;
};

/* net_socket.c */
int net_socket_open(struct net *n, unsigned link, const struct net_config *cfg, char *err,
		    size_t errlen);

/* net_link.c */
void net_link_heard(struct net *n, size_t peer, unsigned link, uint64_t now_us);
/* The peer's latest heartbeat on some link said it hears us, or it has
 * never said so on any link (no exchange yet). */
bool net_peer_hears_us(const struct net *n, size_t peer);
void net_link_heartbeat_rx(struct net *n, size_t peer, unsigned link, const uint8_t *p, size_t len,
			   uint64_t now_us);
bool net_link_fresh(const struct net_link *l, uint64_t then_us, uint64_t now_us);

/* transport.c */
struct net_peer *net_find_peer(const struct net *n, uint32_t nodeid);
int32_t net_peer_by_addr(const struct net *n, unsigned link, const struct util_addr *a);

/* net_io.c */
/* Queue one sealed copy of payload to `peer` (or the group when peer < 0)
 * on link. Returns NET_OK or an error. */
int net_queue(struct net *n, unsigned link, int32_t peer, uint8_t kind, const void *payload,
	      size_t len);

#endif
