/* Cohort's UDP transport: one non-blocking socket per link, unicast to every
 * node (udpu) or multicast, every packet framed and protected by net/crypto,
 * and per-link, per-peer health from heartbeats so traffic leaves a dead
 * link before the Totem token notices anything.
 *
 * It owns no thread and no loop: the daemon polls the fds from net_get_fds(),
 * calls net_on_readable() when one is readable and net_on_timer() at
 * net_next_deadline(); all times are the caller's monotonic clock in us. */
#ifndef COHORT_NET_TRANSPORT_H
#define COHORT_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/crypto.h"
#include "util/addr.h"

#define NET_MAX_LINKS 8u
#define NET_MAX_NODES 384u
#define NET_DEFAULT_PORT 5405u
#define NET_MAX_DATAGRAM 65507u /* largest UDP payload over IPv4 */
#define NET_DEFAULT_SOCK_BUF (8u << 20)
#define NET_TO_ALL 0u

/* Packet kinds in the crypto header's kind byte. */
enum net_kind { NET_KIND_TOTEM = 1, NET_KIND_HEARTBEAT = 2 };

enum net_err {
	NET_OK = 0,
	NET_E_TOOBIG = -1,  /* payload above net_max_payload() */
	NET_E_UNKNOWN = -2, /* destination not in the node table */
	NET_E_INTERNAL = -3,
};

struct net_node {
	uint32_t nodeid;
	uint8_t link_mask;		       /* bit N: addrs[N] is set */
	struct util_addr addrs[NET_MAX_LINKS]; /* port 0: the link's port */
};

/* Delivery of one Totem packet; data is valid during the call only. */
typedef void (*net_deliver_fn)(void *arg, uint32_t from_nodeid, const uint8_t *data, size_t len);
/* A link to a peer changed state. */
typedef void (*net_link_fn)(void *arg, uint32_t nodeid, unsigned link, bool up);
/* Fault injection for tests and tools: return true to drop the packet. */
typedef bool (*net_filter_fn)(void *arg, bool outgoing, unsigned link, uint32_t peer);

struct net_config {
	uint32_t my_nodeid;
	const struct net_node *nodes; /* the nodelist, self included */
	size_t node_count;
	uint16_t port[NET_MAX_LINKS];	       /* 0: NET_DEFAULT_PORT */
	bool multicast;			       /* udp transport: broadcast to a group */
	struct util_addr mcast[NET_MAX_LINKS]; /* groups (port 0: link port) */
	uint8_t mcast_ttl;
	bool send_all_links; /* link_mode active: every packet on every link */
	uint32_t heartbeat_interval_ms[NET_MAX_LINKS]; /* 0: 40 ms */
	uint32_t link_timeout_ms[NET_MAX_LINKS];       /* 0: 4 x interval */
	size_t sock_buf_bytes;			       /* 0: NET_DEFAULT_SOCK_BUF */
	enum crypto_mode crypto_mode;
	const struct crypto_key *key;
	const char *cluster_name;
	net_deliver_fn deliver;
	net_link_fn link_change; /* may be NULL */
	void *arg;
};

struct net_link_info {
	uint32_t nodeid;
	unsigned link;
	bool up;	     /* both directions heard within the timeout */
	bool hear_peer;	     /* we heard the peer within the timeout */
	bool peer_hears_us;  /* the peer's last heartbeat said it hears us */
	uint64_t last_rx_us; /* 0: never */
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint32_t changes;	/* up/down transitions */
	uint64_t changed_at_us; /* 0: never changed */
	uint64_t rtt_samples;	/* 0: no round-trip time measured yet */
	uint32_t rtt_us;	/* smoothed */
	uint32_t rtt_min_us;
	uint32_t rtt_max_us;
	struct util_addr addr;
};

struct net_stats {
	uint64_t rx_packets; /* accepted, all kinds */
	uint64_t rx_bytes;
	uint64_t rx_heartbeats;
	uint64_t rx_unknown_source; /* from an address not in the nodelist */
	uint64_t rx_spoofed;	    /* header sender differs from the source address */
	uint64_t rx_rejected;	    /* refused by crypto (reasons in crypto stats) */
	uint64_t rx_truncated;	    /* datagram larger than our buffer */
	uint64_t rx_bad_kind;
	uint64_t rx_own; /* our own multicast looped back */
	uint64_t rx_filtered;
	uint64_t rx_oneway; /* Totem packets of a peer that says it does not hear us */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_heartbeats;
	uint64_t tx_errors; /* sendmmsg refused (buffer full, unreachable) */
	uint64_t tx_filtered;
	uint64_t link_changes;
};

struct net;

int net_create(const struct net_config *cfg, struct net **out, char *err, size_t errlen);
void net_destroy(struct net *n);

/* Sockets to poll for reading (at most 2 per link). */
size_t net_get_fds(const struct net *n, int *fds, size_t max);
/* Drain fd (bounded per call for fairness); returns packets accepted. */
int net_on_readable(struct net *n, int fd, uint64_t now_us);
/* Heartbeats and link expiry. */
void net_on_timer(struct net *n, uint64_t now_us);
uint64_t net_next_deadline(const struct net *n);

/* Queue a Totem packet for one node or NET_TO_ALL (every node but self);
 * queued packets leave on net_flush() or when the batch is full. */
int net_send(struct net *n, uint32_t to, const void *data, size_t len);
void net_flush(struct net *n);
size_t net_max_payload(const struct net *n);

/* Every (peer, link) pair configured; returns how many were written. */
size_t net_get_links(const struct net *n, struct net_link_info *out, size_t max);
const struct net_stats *net_get_stats(const struct net *n);
const struct crypto_stats *net_get_crypto_stats(const struct net *n);
/* Some link to the node is up. */
bool net_node_reachable(const struct net *n, uint32_t nodeid);
void net_set_filter(struct net *n, net_filter_fn fn, void *arg);

#endif
