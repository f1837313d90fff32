/* Three CPG service instances fed one ordered stream (the fake ring), with
 * real libcpg clients on each: total order of messages, identical member
 * lists on every node for the same event, partition (NODEDOWN), merge
 * (NODEUP), joins queued across a ring change, a fragmented message cut by
 * a membership change (CS_ERR_INTERRUPT, dropped by every receiver),
 * PROCDOWN from another node. All clients live in this process, so they
 * share one pid and differ by node id. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc_client.h"
#include "ipc/ipc_cpg.h"
#include "test_cpg_ring.h"
#include "test_cpg_util.h"

static struct tring *ring;
static int P;

static void form(const uint32_t *ids, size_t n)
{
	tring_form(ring, ids, n);
	tring_settle(ring);
}

/* Dispatch everything every client has, once the ring is quiet. A
 * request answered means the daemon read everything queued before it;
 * settling means every node processed what the ring carried. */
static void drain(struct tcli **cs, size_t n)
{
	unsigned nodeid;

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++)
			if (!cs[i]->finalized)
				CHECK_CS(cpg_local_get(cs[i]->h, &nodeid), CS_OK);
		tring_settle(ring);
		for (size_t i = 0; i < n; i++)
			while (!cs[i]->finalized && fd_readable(cs[i]->fd, 0))
				CHECK_CS(cpg_dispatch(cs[i]->h, CS_DISPATCH_ALL), CS_OK);
	}
}

static void expect(struct tcli *c, const char *fmt_line)
{
	char line[512];

	snprintf(line, sizeof(line), fmt_line, P, P, P, P);
	tcli_wait_line(c, line);
}

/* Lines of a from index ia on equal lines of b from ib on, n of them. */
static void same_lines(struct tcli *a, long ia, struct tcli *b, long ib, size_t n)
{
	if (ia < 0 || ib < 0 || (size_t)ia + n > a->n || (size_t)ib + n > b->n) {
		tcli_dump(a, "first");
		tcli_dump(b, "second");
		fprintf(stderr, "expected %zu lines from %ld and %ld\n", n, ia, ib);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a->lines[ia + i], b->lines[ib + i])) {
			tcli_dump(a, "first");
			tcli_dump(b, "second");
			fprintf(stderr, "logs differ at %zu\n", i);
			exit(1);
		}
	}
}

static long first_of(const struct tcli *c, const char *x, const char *y)
{
	long a = tcli_find(c, x, 0), b = tcli_find(c, y, 0);

	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void send_text(struct tcli *c, const char *s)
{
	struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };
	cs_error_t e;

	while ((e = cpg_mcast_joined(c->h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN)
		tring_settle(ring);
	CHECK_CS(e, CS_OK);
}

static struct tcli a1, a2, a3;

static void join_and_order(void)
{
	struct tcli *all[] = { &a1, &a2, &a3 };
	struct cpg_name g = tname("g");
	char msg[32];
	long i1, i2, i3;

	CHECK_CS(cpg_join(a1.h, &g), CS_OK);
	tring_settle(ring);
	CHECK_CS(cpg_join(a2.h, &g), CS_OK);
	tring_settle(ring);
	CHECK_CS(cpg_join(a3.h, &g), CS_OK);
	expect(&a1, "confchg g members [1:%d/0 2:%d/0 3:%d/0] left [] joined [3:%d/1]");
	for (int i = 0; i < 50; i++) {
		for (int k = 0; k < 3; k++) {
			snprintf(msg, sizeof(msg), "%d-%d", k + 1, i);
			send_text(all[k], msg);
		}
	}
	drain(all, 3);
	i1 = tcli_find(&a1, "joined [3:", 0);
	i2 = tcli_find(&a2, "joined [3:", 0);
	i3 = tcli_find(&a3, "joined [3:", 0);
	CHECK(a1.delivered == 150 && a2.delivered == 150 && a3.delivered == 150);
	same_lines(&a1, i1, &a2, i2, 151);
	same_lines(&a1, i1, &a3, i3, 151);
}

static void partition_and_merge(void)
{
	struct tcli *all[] = { &a1, &a2, &a3 };
	const uint32_t n12[] = { 1, 2 }, n3[] = { 3 }, n123[] = { 1, 2, 3 };
	struct cpg_name g = tname("g"), h = tname("h");
	struct tcli b3;
	long i1, i3;

	form(n12, 2);
	form(n3, 1);
	expect(&a1, "confchg g members [1:%d/0 2:%d/0] left [3:%d/3] joined []");
	expect(&a2, "confchg g members [1:%d/0 2:%d/0] left [3:%d/3] joined []");
	expect(&a3, "confchg g members [3:%d/0] left [1:%d/3 2:%d/3] joined []");
	tcli_wait_line(&a1, "totem 1.8 [1 2]");
	tcli_wait_line(&a3, "totem 3.12 [3]");
	/* Life goes on in both halves. */
	CHECK_CS(cpg_leave(a2.h, &g), CS_OK);
	expect(&a1, "confchg g members [1:%d/0] left [2:%d/2] joined []");
	CHECK_CS(tcli_open(&b3, tring_ipc(ring, 3), false, false), CS_OK);
	CHECK_CS(cpg_join(b3.h, &h), CS_OK);
	send_text(&a1, "p1");
	send_text(&a3, "p3");
	drain(all, 3);
	CHECK(tcli_find(&a3, "p1", 0) < 0 && tcli_find(&a1, "p3", 0) < 0);

	form(n123, 3);
	/* Each side learns the other's members, with the same member list. */
	expect(&a1, "confchg g members [1:%d/0 3:%d/0] left [] joined [3:%d/4]");
	expect(&a3, "confchg g members [1:%d/0 3:%d/0] left [] joined [1:%d/4]");
	tcli_wait_line(&a2, "totem 1.16 [1 2 3]");
	tcli_wait_line(&a3, "totem 1.16 [1 2 3]");
	for (int i = 0; i < 20; i++) {
		char m[16];

		snprintf(m, sizeof(m), "m1-%d", i);
		send_text(&a1, m);
		snprintf(m, sizeof(m), "m3-%d", i);
		send_text(&a3, m);
	}
	drain(all, 3);
	/* Both senders queue without waiting: any interleaving, the same on both. */
	i1 = first_of(&a1, "m1-0", "m3-0");
	i3 = first_of(&a3, "m1-0", "m3-0");
	same_lines(&a1, i1, &a3, i3, 40);
	CHECK(tcli_find(&a2, "m1-0", 0) < 0);
	tcli_close(&b3);
}

/* A join still in its sender's queue when the ring changes goes out in the
 * new ring; the sender's join list waits for it, so every node ends with
 * the same view and the same events. */
static void queued_join_across_ring_change(void)
{
	struct tcli *all[] = { &a1, &a2, &a3 };
	const uint32_t n123[] = { 1, 2, 3 };
	struct cpg_name g = tname("g");
	struct cpg_address m1[CPG_MEMBERS_MAX], m3[CPG_MEMBERS_MAX];
	int n1 = 0, n3 = 0;
	long i1, i2, i3;

	tring_hold(ring, true);
	CHECK_CS(cpg_join(a2.h, &g), CS_OK);
	form(n123, 3);
	tring_hold(ring, false);
	drain(all, 3);
	expect(&a2, "confchg g members [1:%d/0 2:%d/0 3:%d/0] left [] joined [2:%d/1]");
	i1 = tcli_find(&a1, "joined [2:", (size_t)tcli_find(&a1, "totem 1.16", 0));
	i2 = tcli_find(&a2, "joined [2:", (size_t)tcli_find(&a2, "totem 1.16", 0));
	i3 = tcli_find(&a3, "joined [2:", (size_t)tcli_find(&a3, "totem 1.16", 0));
	if (a1.n - (size_t)i1 != a2.n - (size_t)i2 || a2.n - (size_t)i2 != a3.n - (size_t)i3) {
		tcli_dump(&a1, "node 1");
		tcli_dump(&a2, "node 2");
		tcli_dump(&a3, "node 3");
	}
	CHECK(a1.n - (size_t)i1 == a2.n - (size_t)i2 && a2.n - (size_t)i2 == a3.n - (size_t)i3);
	same_lines(&a1, i1, &a2, i2, a1.n - (size_t)i1);
	same_lines(&a1, i1, &a3, i3, a1.n - (size_t)i1);
	CHECK_CS(cpg_membership_get(a1.h, &g, m1, &n1), CS_OK);
	CHECK_CS(cpg_membership_get(a3.h, &g, m3, &n3), CS_OK);
	CHECK(n1 == 3 && n3 == 3 && !memcmp(m1, m3, sizeof(m1[0]) * 3));
}

static int raw_call(struct ipcc *c, uint8_t frag, uint32_t total, const void *data, size_t len)
{
	uint8_t head[CPG_IPC_MCAST_HEAD];
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct ipcc_resp r;

	cpg_ipc_mcast_head_encode(head, sizeof(head), 0, CPG_TYPE_AGREED, frag, total, len);
	CHECK(ipcc_call(c, head, sizeof(head), &iov, 1, &r) == 0);
	free(r.body);
	return r.result;
}

/* The protocol spoken by hand: FIRST, then a join, then LAST. */
static void fragment_interrupted(void)
{
	struct ipc_hello hello = { .version = IPC_PROTO_VERSION, .service = CPG_IPC_SERVICE_ID };
	struct ipc_hello_reply rep;
	struct cpg_ipc_name fn = { .len = 4, .value = "frag" };
	struct cpg_name f = tname("frag");
	uint8_t head[IPC_HDR_LEN + 4 + IPC_NAME_MAX];
	static uint8_t part[IPC_MAX_ATOMIC];
	struct tcli m3, x2;
	struct ipcc *raw;
	struct ipcc_resp r;
	size_t one = 1;

	CHECK(ipcc_connect(tring_ipc(ring, 1), "cpg", &hello, &rep, &raw) == 0);
	CHECK(ipcc_call(raw, head,
			cpg_ipc_name_req_encode(head, sizeof(head), CPG_IPC_JOIN, 0, &fn), NULL, 0,
			&r) == 0 &&
	      r.result == 0);
	CHECK_CS(tcli_open(&m3, tring_ipc(ring, 3), false, false), CS_OK);
	CHECK_CS(cpg_join(m3.h, &f), CS_OK);
	tcli_wait_line(&m3, "confchg frag members [1:");
	CHECK(raw_call(raw, CPG_FRAG_FIRST, 2 * IPC_MAX_ATOMIC, part, sizeof(part)) == 0);
	tring_settle(ring);
	CHECK_CS(tcli_open(&x2, tring_ipc(ring, 2), false, false), CS_OK);
	CHECK_CS(cpg_join(x2.h, &f), CS_OK);
	tcli_wait_line(&m3, "joined [2:");
	CHECK(raw_call(raw, CPG_FRAG_LAST, 2 * IPC_MAX_ATOMIC, part, sizeof(part)) == -EINTR);
	CHECK(raw_call(raw, CPG_FRAG_WHOLE, 2, "ok", 2) == 0);
	tcli_wait(&m3, tcli_count_at_least, &one, 10000, "message after the interrupted one");
	tcli_wait(&x2, tcli_count_at_least, &one, 10000, "message after the interrupted one");
	CHECK(m3.delivered == 1 && m3.last_len == 2 && x2.delivered == 1 && x2.last_len == 2);
	ipcc_shutdown(raw);
	ipcc_free(raw);
	tcli_close(&m3);
	tcli_close(&x2);
}

static void procdown_and_nodedown(void)
{
	const uint32_t n12[] = { 1, 2 };

	CHECK_CS(cpg_finalize(a2.h), CS_OK);
	a2.finalized = true;
	expect(&a1, "confchg g members [1:%d/0 3:%d/0] left [2:%d/5] joined []");
	expect(&a3, "confchg g members [1:%d/0 3:%d/0] left [2:%d/5] joined []");
	tring_kill(ring, 3);
	CHECK(fd_readable(a3.fd, 10000));
	while (cpg_dispatch(a3.h, CS_DISPATCH_ONE_NONBLOCKING) == CS_OK)
		;
	CHECK_CS(cpg_dispatch(a3.h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
	form(n12, 2);
	expect(&a1, "confchg g members [1:%d/0] left [3:%d/3] joined []");
}

int main(void)
{
	struct tring_opts o = { .nodes = 3, .reentrant = true };
	const uint32_t n123[] = { 1, 2, 3 };
	char prefix[64];

	P = getpid();
	snprintf(prefix, sizeof(prefix), "test-cpgmulti-%d", P);
	o.prefix = prefix;
	ring = tring_new(&o);
	form(n123, 3);
	CHECK_CS(tcli_open(&a1, tring_ipc(ring, 1), true, true), CS_OK);
	CHECK_CS(tcli_open(&a2, tring_ipc(ring, 2), true, true), CS_OK);
	CHECK_CS(tcli_open(&a3, tring_ipc(ring, 3), true, true), CS_OK);
	tcli_wait_line(&a1, "totem 1.4 [1 2 3]");
	tcli_wait_line(&a3, "totem 1.4 [1 2 3]");
	join_and_order();
	partition_and_merge();
	queued_join_across_ring_change();
	fragment_interrupted();
	procdown_and_nodedown();
	tcli_close(&a1);
	tcli_close(&a2);
	tcli_close(&a3);
	tring_free(ring);
	printf("cpg_multi: all tests passed\n");
	return 0;
}
