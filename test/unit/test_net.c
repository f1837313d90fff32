/* The UDP transport on real sockets: nodes on 127.77.0.x (link 0) and
 * 127.78.0.x (link 1), all of loopback. Every wait polls the sockets with a
 * bounded timeout; nothing sleeps in place of an event. */
#define _GNU_SOURCE /* unshare */
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/transport.h"

static int checks, failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define MAX_NODES 3
#define MAX_MSGS 64

struct tnode {
	uint32_t id;
	struct net *net;
	size_t got;
	uint32_t from[MAX_MSGS];
	char data[MAX_MSGS][32];
	int link_up[MAX_NODES + 1][2]; /* last state reported per peer and link */
	int link_events;
	bool drop_link0; /* fault injection through the filter hook */
};

struct world {
	uint16_t port;
	size_t count; /* running transports */
	struct net_node table[MAX_NODES];
	size_t table_count;
	struct tnode nodes[MAX_NODES];
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_deliver(void *arg, uint32_t from, const uint8_t *data, size_t len)
{
	struct tnode *t = arg;

	if (t->got == MAX_MSGS)
		return;
	t->from[t->got] = from;
	snprintf(t->data[t->got], sizeof(t->data[0]), "%.*s", (int)len, (const char *)data);
	t->got++;
}

static void on_link(void *arg, uint32_t nodeid, unsigned link, bool up)
{
	struct tnode *t = arg;

	if (nodeid <= MAX_NODES && link < 2)
		t->link_up[nodeid][link] = up ? 1 : -1;
	t->link_events++;
}

static bool drop_filter(void *arg, bool outgoing, unsigned link, uint32_t peer)
{
	const struct tnode *t = arg;

	(void)outgoing;
	(void)peer;
	return t->drop_link0 && link == 0;
}

static void addr(struct util_addr *a, int net, uint32_t id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "127.%d.0.%u", net, id);
	util_addr_parse(buf, UTIL_ADDR_PREF_V4, false, a);
}

static void world_init(struct world *w, size_t table_count, int links)
{
	memset(w, 0, sizeof(*w));
	w->port = (uint16_t)(20000 + (getpid() * 7 + (int)(mono_us() % 1000)) % 30000);
	w->table_count = table_count;
	for (size_t i = 0; i < table_count; i++) {
		w->table[i].nodeid = (uint32_t)i + 1;
		w->table[i].link_mask = links == 2 ? 0x3 : 0x1;
		addr(&w->table[i].addrs[0], 77, (uint32_t)i + 1);
		addr(&w->table[i].addrs[1], 78, (uint32_t)i + 1);
	}
}

static bool start_ex(struct world *w, uint32_t id, enum crypto_mode mode,
		     const struct crypto_key *k, bool multicast)
{
	struct tnode *t = &w->nodes[w->count];
	struct net_config cfg = { .my_nodeid = id,
				  .nodes = w->table,
				  .node_count = w->table_count,
				  .crypto_mode = mode,
				  .key = k,
				  .cluster_name = "test",
				  .deliver = on_deliver,
				  .link_change = on_link,
				  .arg = t,
				  .sock_buf_bytes = 1 << 20,
				  .multicast = multicast };
	char err[256];

	for (unsigned l = 0; l < 2; l++) {
		cfg.port[l] = w->port;
		cfg.heartbeat_interval_ms[l] = 10;
		cfg.link_timeout_ms[l] = 40;
		util_addr_parse("239.192.77.1", UTIL_ADDR_PREF_V4, false, &cfg.mcast[l]);
	}
	memset(t, 0, sizeof(*t));
	t->id = id;
	if (net_create(&cfg, &t->net, err, sizeof(err)) != 0) {
		fprintf(stderr, "net_create(%u): %s\n", id, err);
		return false;
	}
	net_set_filter(t->net, drop_filter, t);
	w->count++;
	return true;
}

static bool start(struct world *w, uint32_t id, enum crypto_mode mode, const struct crypto_key *k)
{
	return start_ex(w, id, mode, k, false);
}

static void world_stop(struct world *w)
{
	for (size_t i = 0; i < w->count; i++)
		net_destroy(w->nodes[i].net);
	w->count = 0;
}

typedef bool (*cond_fn)(struct world *w, const void *arg);

/* Run every transport's events until cond holds or max_ms pass. */
static bool pump(struct world *w, cond_fn cond, const void *arg, int max_ms)
{
	uint64_t end = mono_us() + (uint64_t)max_ms * 1000;

	while (!cond || !cond(w, arg)) {
		struct pollfd pfd[MAX_NODES * 4];
		size_t owner[MAX_NODES * 4], n = 0;
		uint64_t now = mono_us(), next = end;
		int fds[4];

		if (now >= end)
			return cond == NULL;
		for (size_t i = 0; i < w->count; i++) {
			uint64_t d = net_next_deadline(w->nodes[i].net);
			size_t k = net_get_fds(w->nodes[i].net, fds, 4);

			next = d < next ? d : next;
			for (size_t j = 0; j < k; j++) {
				pfd[n] = (struct pollfd){ .fd = fds[j], .events = POLLIN };
				owner[n++] = i;
			}
		}
		poll(pfd, n, next > now ? (int)((next - now + 999) / 1000) : 0);
		now = mono_us();
		for (size_t j = 0; j < n; j++) {
			if (pfd[j].revents & POLLIN)
				net_on_readable(w->nodes[owner[j]].net, pfd[j].fd, now);
		}
		for (size_t i = 0; i < w->count; i++) {
			if (net_next_deadline(w->nodes[i].net) <= now)
				net_on_timer(w->nodes[i].net, now);
			net_flush(w->nodes[i].net);
		}
	}
	return true;
}

struct want {
	size_t node;
	size_t msgs;
};

static bool got_msgs(struct world *w, const void *arg)
{
	const struct want *x = arg;

	return w->nodes[x->node].got >= x->msgs;
}

static void exchange(enum crypto_mode mode)
{
	struct crypto_key k = { .len = 256 };
	struct world w;
	struct want two = { 1, 2 }, one = { 2, 1 };

	memset(k.bytes, 0x42, k.len);
	world_init(&w, 3, 1);
	CHECK(start(&w, 1, mode, &k) && start(&w, 2, mode, &k) && start(&w, 3, mode, &k));
	if (w.count != 3)
		goto out;
	CHECK(net_send(w.nodes[0].net, 2, "unicast", 7) == NET_OK);
	CHECK(net_send(w.nodes[0].net, NET_TO_ALL, "broadcast", 9) == NET_OK);
	CHECK(net_send(w.nodes[0].net, 9, "nobody", 6) == NET_E_UNKNOWN);
	CHECK(net_send(w.nodes[0].net, 2, "big", NET_MAX_DATAGRAM) == NET_E_TOOBIG);
	net_flush(w.nodes[0].net);
	CHECK(pump(&w, got_msgs, &two, 2000) && pump(&w, got_msgs, &one, 2000));
	CHECK(w.nodes[1].from[0] == 1 && strcmp(w.nodes[1].data[0], "unicast") == 0);
	CHECK(strcmp(w.nodes[1].data[1], "broadcast") == 0);
	CHECK(w.nodes[2].got == 1 && strcmp(w.nodes[2].data[0], "broadcast") == 0);
	CHECK(w.nodes[0].got == 0); /* never to self */
	CHECK(net_get_stats(w.nodes[1].net)->rx_packets >= 2);
	CHECK(net_get_crypto_stats(w.nodes[1].net)->opened >= 2);
out:
	world_stop(&w);
}

static bool auth_failures(struct world *w, const void *arg)
{
	(void)arg;
	return net_get_crypto_stats(w->nodes[0].net)->rejected[CRYPTO_E_AUTH] >= 2 &&
	       net_get_crypto_stats(w->nodes[2].net)->rejected[CRYPTO_E_AUTH] >= 2;
}

static void test_wrong_key(void)
{
	struct crypto_key k = { .len = 256 }, bad = { .len = 256 };
	struct world w;

	memset(k.bytes, 0x42, k.len);
	memset(bad.bytes, 0x43, bad.len);
	world_init(&w, 3, 1);
	CHECK(start(&w, 1, CRYPTO_MODE_AEAD, &k) && start(&w, 2, CRYPTO_MODE_AEAD, &k) &&
	      start(&w, 3, CRYPTO_MODE_AEAD, &bad));
	if (w.count != 3)
		goto out;
	net_send(w.nodes[2].net, NET_TO_ALL, "intruder", 8);
	net_send(w.nodes[0].net, NET_TO_ALL, "member", 6);
	CHECK(pump(&w, auth_failures, NULL, 2000));
	CHECK(w.nodes[0].got == 0 && w.nodes[2].got == 0);
	CHECK(w.nodes[0].link_up[3][0] != 1); /* the intruder's link never comes up */
out:
	world_stop(&w);
}

static int raw_socket(int net, uint32_t id)
{
	struct util_addr a;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	addr(&a, net, id); /* port 0: any, the transport knows peers by address */
	len = util_addr_to_sockaddr(&a, &ss);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_raw(int fd, struct world *w, uint32_t to, const void *buf, size_t len)
{
	struct util_addr a = w->table[to - 1].addrs[0];
	struct sockaddr_storage ss;
	socklen_t sl;

	a.port = w->port;
	sl = util_addr_to_sockaddr(&a, &ss);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len)
		perror("sendto");
}

static bool all_counted(struct world *w, const void *arg)
{
	const struct net_stats *s = net_get_stats(w->nodes[0].net);
	const struct crypto_stats *c = net_get_crypto_stats(w->nodes[0].net);

	(void)arg;
	return c->rejected[CRYPTO_E_REPLAY] >= 1 && c->rejected[CRYPTO_E_BAD_HEADER] >= 1 &&
	       s->rx_unknown_source >= 1 && s->rx_spoofed >= 1 && w->nodes[0].got >= 1;
}

/* Node 1 runs; nodes 2 and 3 are in the table but played by raw sockets. */
static void test_replay_garbage_spoof(void)
{
	struct crypto_key k = { .len = 256 };
	uint32_t ids[] = { 1, 2, 3 };
	struct crypto_params p2 = { .mode = CRYPTO_MODE_AEAD,
				    .key = &k,
				    .cluster_name = "test",
				    .my_nodeid = 2,
				    .peers = ids,
				    .peer_count = 3 };
	struct crypto_params p3 = p2;
	struct crypto_ctx *as2 = NULL, *as3 = NULL;
	uint8_t pkt[256], again[256], spoof[256];
	size_t len = 0, slen = 0;
	char err[128];
	struct world w;
	int fd2 = raw_socket(77, 2), fd9 = raw_socket(77, 99);

	memset(k.bytes, 0x42, k.len);
	p3.my_nodeid = 3;
	world_init(&w, 3, 1);
	CHECK(fd2 >= 0 && fd9 >= 0 && start(&w, 1, CRYPTO_MODE_AEAD, &k));
	CHECK(crypto_create(&p2, &as2, err, sizeof(err)) == 0);
	CHECK(crypto_create(&p3, &as3, err, sizeof(err)) == 0);
	if (w.count != 1 || !as2 || !as3 || fd2 < 0 || fd9 < 0)
		goto out;
	crypto_seal(as2, NET_KIND_TOTEM, "captured", 8, pkt, sizeof(pkt), &len);
	memcpy(again, pkt, len);
	crypto_seal(as3, NET_KIND_TOTEM, "as three", 8, spoof, sizeof(spoof), &slen);
	send_raw(fd2, &w, 1, pkt, len);
	send_raw(fd2, &w, 1, again, len); /* the replay */
	send_raw(fd2, &w, 1, "garbage garbage garbage", 23);
	send_raw(fd9, &w, 1, pkt, len);	   /* from an unlisted address */
	send_raw(fd2, &w, 1, spoof, slen); /* node 3's packet from node 2 */
	CHECK(pump(&w, all_counted, NULL, 2000));
	CHECK(w.nodes[0].got == 1 && w.nodes[0].from[0] == 2);
	CHECK(strcmp(w.nodes[0].data[0], "captured") == 0);
out:
	crypto_destroy(as2);
	crypto_destroy(as3);
	if (fd2 >= 0)
		close(fd2);
	if (fd9 >= 0)
		close(fd9);
	world_stop(&w);
}

struct link_want {
	size_t node;
	uint32_t peer;
	unsigned link;
	int state;
};

static bool link_is(struct world *w, const void *arg)
{
	const struct link_want *x = arg;

	return w->nodes[x->node].link_up[x->peer][x->link] == x->state;
}

static uint64_t link_tx(struct world *w, size_t node, unsigned link)
{
	struct net_link_info info[8];
	size_t n = net_get_links(w->nodes[node].net, info, 8);

	for (size_t i = 0; i < n; i++) {
		if (info[i].link == link)
			return info[i].tx_packets;
	}
	return 0;
}

static void test_link_failover(void)
{
	struct world w;
	struct link_want up0 = { 0, 2, 0, 1 }, up1 = { 0, 2, 1, 1 }, down0 = { 0, 2, 0, -1 };
	struct link_want peer_up0 = { 1, 1, 0, 1 };
	struct want first = { 1, 1 }, second = { 1, 2 }, third = { 1, 3 };
	struct net_link_info info[8];
	uint64_t tx1;

	world_init(&w, 2, 2);
	CHECK(start(&w, 1, CRYPTO_MODE_NONE, NULL) && start(&w, 2, CRYPTO_MODE_NONE, NULL));
	if (w.count != 2)
		goto out;
	CHECK(pump(&w, link_is, &up0, 2000) && pump(&w, link_is, &up1, 2000));
	CHECK(pump(&w, link_is, &peer_up0, 2000));
	CHECK(net_get_links(w.nodes[0].net, info, 8) == 2 && info[0].up && info[1].up);
	/* Node 2 loses link 0 both ways; node 1 must notice from heartbeats. */
	w.nodes[1].drop_link0 = true;
	CHECK(pump(&w, link_is, &down0, 2000));
	CHECK(w.nodes[0].link_up[2][1] == 1); /* link 1 stayed up throughout */
	tx1 = link_tx(&w, 0, 1);
	net_send(w.nodes[0].net, 2, "via link 1", 10);
	net_flush(w.nodes[0].net);
	CHECK(pump(&w, got_msgs, &first, 2000));
	CHECK(link_tx(&w, 0, 1) > tx1);
	net_send(w.nodes[0].net, NET_TO_ALL, "all via 1", 9);
	net_flush(w.nodes[0].net);
	CHECK(pump(&w, got_msgs, &second, 2000));
	CHECK(net_get_stats(w.nodes[1].net)->rx_filtered > 0);
	/* Healing brings link 0 back and traffic returns to it. */
	w.nodes[1].drop_link0 = false;
	CHECK(pump(&w, link_is, &up0, 2000));
	net_send(w.nodes[0].net, 2, "back on 0", 9);
	net_flush(w.nodes[0].net);
	CHECK(pump(&w, got_msgs, &third, 2000));
	CHECK(strcmp(w.nodes[1].data[2], "back on 0") == 0);
	/* Link 0 went up, down and up; link 1 was timed by heartbeat echoes
	 * all along (loopback: well under a second). */
	CHECK(net_get_links(w.nodes[0].net, info, 8) == 2);
	CHECK(info[0].changes == 3 && info[0].changed_at_us != 0 && info[1].changes == 1);
	CHECK(info[1].rtt_samples > 0 && info[1].rtt_min_us <= info[1].rtt_us &&
	      info[1].rtt_us <= info[1].rtt_max_us && info[1].rtt_max_us < 1000000);
out:
	world_stop(&w);
}

static void test_bind_conflict(void)
{
	struct world w;
	struct net_node table[1];
	struct net_config cfg = { .my_nodeid = 1, .node_count = 1, .deliver = on_deliver };
	struct net *n = NULL;
	char err[256] = "";

	world_init(&w, 1, 1);
	CHECK(start(&w, 1, CRYPTO_MODE_NONE, NULL));
	table[0] = w.table[0];
	cfg.nodes = table;
	cfg.port[0] = w.port;
	CHECK(net_create(&cfg, &n, err, sizeof(err)) == -1 && n == NULL);
	CHECK(strstr(err, "cannot bind 127.77.0.1:") && strstr(err, "Address already in use"));
	cfg.my_nodeid = 5;
	CHECK(net_create(&cfg, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "node 5 is not in the node list") != NULL);
	world_stop(&w);
}

/* In a private network namespace, where loopback may carry multicast. */
static int multicast_child(void)
{
	struct crypto_key k = { .len = 256 };
	struct world w;
	struct want two = { 1, 1 }, three = { 2, 1 };
	struct ifreq ifr = { 0 };
	int fd, before = failures;

	memset(k.bytes, 0x42, k.len);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		return 77;
	ifr.ifr_flags |= IFF_UP | IFF_MULTICAST;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		return 77;
	close(fd);
	world_init(&w, 3, 1);
	CHECK(start_ex(&w, 1, CRYPTO_MODE_AEAD, &k, true) &&
	      start_ex(&w, 2, CRYPTO_MODE_AEAD, &k, true) &&
	      start_ex(&w, 3, CRYPTO_MODE_AEAD, &k, true));
	if (w.count == 3) {
		CHECK(net_send(w.nodes[0].net, NET_TO_ALL, "to the group", 12) == NET_OK);
		net_flush(w.nodes[0].net);
		CHECK(pump(&w, got_msgs, &two, 2000) && pump(&w, got_msgs, &three, 2000));
		CHECK(strcmp(w.nodes[2].data[0], "to the group") == 0);
		CHECK(w.nodes[0].got == 0); /* our own looped-back copy is dropped */
		CHECK(net_get_stats(w.nodes[0].net)->tx_packets >= 1);
	}
	world_stop(&w);
	return failures - before;
}

static void test_multicast(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0)
			_exit(77);
		_exit(multicast_child());
	}
	checks++;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		failures++;
		fprintf(stderr, "multicast test did not finish\n");
	} else if (WEXITSTATUS(status) == 77) {
		printf("test_net: multicast skipped (no network namespace: needs root)\n");
	} else if (WEXITSTATUS(status) != 0) {
		failures++;
		fprintf(stderr, "multicast test: %d checks failed\n", WEXITSTATUS(status));
	}
}

int main(void)
{
	exchange(CRYPTO_MODE_NONE);
	exchange(CRYPTO_MODE_AEAD);
	test_wrong_key();
	test_replay_garbage_spoof();
	test_link_failover();
	test_bind_conflict();
	test_multicast();
	printf("test_net: %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
