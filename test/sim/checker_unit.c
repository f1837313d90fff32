/* Unit tests of the checker: a correct synthetic trace passes, and for each
 * property a trace that breaks it is flagged with that property. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "sim_payload.h"

#define T_NODES 4
#define T_MSGS 64

struct t_msg {
	uint32_t node;
	enum totem_guarantee g;
	size_t len;
	uint8_t bytes[96];
};

struct t {
	struct chk *c;
	FILE *out;
	uint32_t ids[T_NODES];
	uint32_t n;
	uint64_t now;
	uint64_t counter[T_NODES];
	uint32_t inc[T_NODES];
	uint64_t cur_members[T_NODES]; /* mask of node indexes, 0 before a ring */
	struct t_msg msg[T_MSGS];
	uint32_t msg_n;
};

static void t_begin(struct t *t, uint32_t n)
{
	struct chk_params p = { .node_count = n, .nodeids = t->ids, .out = t->out };

	t->n = n;
	t->now = 1000;
	t->msg_n = 0;
	for (uint32_t i = 0; i < n; i++) {
		t->ids[i] = 10 * (i + 1);
		t->counter[i] = t->inc[i] = 0;
		t->cur_members[i] = 0;
	}
	chk_begin(t->c, &p);
	for (uint32_t i = 0; i < n; i++)
		chk_start(t->c, t->now, i);
}

static uint32_t t_submit(struct t *t, uint32_t node, enum totem_guarantee g)
{
	struct t_msg *m = &t->msg[t->msg_n];
	struct sim_msg_id id = { .nodeid = t->ids[node],
				 .inc = t->inc[node],
				 .counter = t->counter[node]++,
				 .submit_us = ++t->now };

	m->node = node;
	m->g = g;
	m->len = SIM_PAYLOAD_HDR + 8 + t->msg_n % 40;
	sim_payload_encode(m->bytes, m->len, &id);
	chk_submit(t->c, t->now, node, g, m->bytes, m->len);
	return t->msg_n++;
}

static void t_deliver(struct t *t, uint32_t node, uint32_t msg, uint32_t rep, uint64_t rseq,
		      uint64_t seq)
{
	struct totem_action a = { .type = TOTEM_ACT_DELIVER };
	const struct t_msg *m = &t->msg[msg];

	a.u.deliver.sender = t->ids[m->node];
	a.u.deliver.ring_id.rep = rep;
	a.u.deliver.ring_id.seq = rseq;
	a.u.deliver.seq = seq;
	a.u.deliver.guarantee = m->g;
	a.u.deliver.data = m->bytes;
	a.u.deliver.len = m->len;
	chk_deliver(t->c, ++t->now, node, &a);
}

static size_t mask_ids(const struct t *t, uint64_t mask, uint32_t *out)
{
	size_t k = 0;

	for (uint32_t i = 0; i < t->n; i++)
		if (mask & (1ull << i))
			out[k++] = t->ids[i];
	return k;
}

static void t_conf(struct t *t, uint32_t node, enum totem_confchg_type type, uint32_t rep,
		   uint64_t seq, uint64_t members, uint64_t left, uint64_t joined)
{
	struct totem_action a = { .type = TOTEM_ACT_CONFCHG };
	uint32_t mb[T_NODES], lf[T_NODES], jn[T_NODES];

	a.u.confchg.type = type;
	a.u.confchg.ring_id.rep = rep;
	a.u.confchg.ring_id.seq = seq;
	a.u.confchg.members = mb;
	a.u.confchg.member_count = mask_ids(t, members, mb);
	a.u.confchg.left = lf;
	a.u.confchg.left_count = mask_ids(t, left, lf);
	a.u.confchg.joined = jn;
	a.u.confchg.joined_count = mask_ids(t, joined, jn);
	chk_confchg(t->c, ++t->now, node, &a);
}

/* The well-formed sequence: persist, transitional (unless first), regular. */
static void t_install(struct t *t, uint32_t node, uint32_t rep_idx, uint64_t seq, uint64_t members)
{
	uint64_t old = t->cur_members[node], trans = old & members;

	chk_persist(t->c, ++t->now, node, seq);
	if (old)
		t_conf(t, node, TOTEM_CONF_TRANSITIONAL, t->ids[rep_idx], seq, trans, old & ~trans,
		       0);
	t_conf(t, node, TOTEM_CONF_REGULAR, t->ids[rep_idx], seq, members, 0,
	       old ? members & ~trans : members);
	t->cur_members[node] = members;
}

static void t_install_all(struct t *t, uint64_t who, uint32_t rep_idx, uint64_t seq)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (who & (1ull << i))
			t_install(t, i, rep_idx, seq, who);
}

static void t_deliver_all(struct t *t, uint64_t who, uint32_t msg, uint32_t rep, uint64_t rseq,
			  uint64_t seq)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (who & (1ull << i))
			t_deliver(t, i, msg, rep, rseq, seq);
}

static int t_finish(struct t *t, bool live)
{
	struct chk_live l = { .enabled = live, .quiet_start_us = 0, .bound_us = 1u << 30 };

	return chk_finish(t->c, ++t->now, &l);
}

/* ---- the good trace, in stages that the bad ones reuse ---- */

/* 3 nodes form ring 10.4, each sends one message; all deliver in order. */
static void stage_ring(struct t *t, uint32_t *m)
{
	t_begin(t, 3);
	t_install_all(t, 7, 0, 4);
	for (uint32_t i = 0; i < 3; i++)
		m[i] = t_submit(t, i, i == 1 ? TOTEM_SAFE : TOTEM_AGREED);
	for (uint32_t i = 0; i < 3; i++)
		t_deliver_all(t, 7, m[i], 10, 4, i + 1);
}

/* Node 30 is cut off: {10,20} form 10.8 and {30} forms 30.8; then all merge
 * into 10.12 and exchange one more message. */
static int good_trace(struct t *t, bool live)
{
	uint32_t m[3], x, y;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_SAFE);
	t_deliver_all(t, 7, x, 10, 4, 4);
	t_install_all(t, 3, 0, 8);
	t_install_all(t, 4, 2, 8);
	t_install_all(t, 7, 0, 12);
	y = t_submit(t, 2, TOTEM_AGREED);
	t_deliver_all(t, 7, y, 10, 12, 1);
	return t_finish(t, live);
}

static int bad_once_twice(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	t_deliver(t, 1, m[0], 10, 4, 1);
	return t_finish(t, false);
}

static int bad_once_unsent(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	t->msg[m[2]].bytes[SIM_PAYLOAD_HDR + 2] ^= 1;
	t_deliver(t, 1, m[2], 10, 4, 3);
	return t_finish(t, false);
}

static int bad_order_pair(struct t *t)
{
	uint32_t a, b;

	t_begin(t, 2);
	t_install_all(t, 3, 0, 4);
	a = t_submit(t, 0, TOTEM_AGREED);
	b = t_submit(t, 0, TOTEM_AGREED);
	t_deliver(t, 0, a, 10, 4, 1);
	t_deliver(t, 0, b, 10, 4, 1);
	t_deliver(t, 1, b, 10, 4, 1);
	t_deliver(t, 1, a, 10, 4, 1);
	return t_finish(t, false);
}

/* No two nodes disagree on a pair, yet there is no total order. */
static int bad_order_cycle3(struct t *t)
{
	uint32_t a, b, d;

	t_begin(t, 3);
	t_install_all(t, 7, 0, 4);
	a = t_submit(t, 0, TOTEM_AGREED);
	b = t_submit(t, 1, TOTEM_AGREED);
	d = t_submit(t, 2, TOTEM_AGREED);
	t_deliver(t, 0, a, 10, 4, 1);
	t_deliver(t, 0, b, 10, 4, 1);
	t_deliver(t, 1, b, 10, 4, 1);
	t_deliver(t, 1, d, 10, 4, 1);
	t_deliver(t, 2, d, 10, 4, 1);
	t_deliver(t, 2, a, 10, 4, 1);
	return t_finish(t, false);
}

static int bad_order_key(struct t *t)
{
	uint32_t m[3], x = 0;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_AGREED);
	t_deliver(t, 0, x, 10, 4, 4);
	t_deliver(t, 1, x, 10, 4, 5);
	return t_finish(t, false);
}

static int bad_vs(struct t *t)
{
	uint32_t m[3], x;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_AGREED);
	t_deliver(t, 0, x, 10, 4, 4);
	t_deliver(t, 2, x, 10, 4, 4);
	t_install_all(t, 3, 0, 8); /* node 20 moves with node 10 without x */
	t_install_all(t, 4, 2, 8);
	return t_finish(t, false);
}

static int bad_sent_in(struct t *t)
{
	uint32_t m[3], x;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_AGREED);
	t_install_all(t, 7, 0, 8);
	t_deliver_all(t, 7, x, 10, 4, 4); /* ring 10.4 is over */
	return t_finish(t, false);
}

static int bad_sent_before_conf(struct t *t)
{
	uint32_t x;

	t_begin(t, 2);
	x = t_submit(t, 0, TOTEM_AGREED);
	t_deliver(t, 1, x, 10, 4, 1);
	return t_finish(t, false);
}

static int bad_safe(struct t *t)
{
	uint32_t m[3], x;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_SAFE);
	t_deliver(t, 0, x, 10, 4, 4);
	t_deliver(t, 1, x, 10, 4, 4);
	t_install_all(t, 3, 0, 8);
	t_install_all(t, 4, 2, 8); /* node 30 left without it: it was not received */
	return t_finish(t, false);
}

/* A crashed member owes nothing: the same trace with node 30 crashing passes. */
static int good_safe_crash(struct t *t)
{
	uint32_t m[3], x;

	stage_ring(t, m);
	x = t_submit(t, 0, TOTEM_SAFE);
	t_deliver(t, 0, x, 10, 4, 4);
	t_deliver(t, 1, x, 10, 4, 4);
	chk_crash(t->c, ++t->now, 2);
	t_install_all(t, 3, 0, 8);
	return t_finish(t, false);
}

static int bad_conf_seq(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	chk_crash(t->c, ++t->now, 2);
	chk_start(t->c, ++t->now, 2);
	t->cur_members[2] = 0;
	t_install(t, 2, 2, 4, 4); /* a restarted node reuses ring seq 4 */
	return t_finish(t, false);
}

static int bad_conf_members(struct t *t)
{
	t_begin(t, 3);
	t_install(t, 0, 0, 4, 7);
	t_install(t, 1, 0, 4, 7);
	t_install(t, 2, 0, 4, 1 | 4); /* same ring id, other member list */
	return t_finish(t, false);
}

static int bad_conf_self(struct t *t)
{
	t_begin(t, 3);
	t_install(t, 0, 1, 4, 6);
	return t_finish(t, false);
}

static int bad_conf_persist(struct t *t)
{
	t_begin(t, 2);
	t_conf(t, 0, TOTEM_CONF_REGULAR, 10, 4, 3, 0, 3);
	return t_finish(t, false);
}

static int bad_conf_no_trans(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	chk_persist(t->c, ++t->now, 0, 8);
	t_conf(t, 0, TOTEM_CONF_REGULAR, 10, 8, 7, 0, 0);
	return t_finish(t, false);
}

static int bad_live_split(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	t_install_all(t, 3, 0, 8);
	t_install_all(t, 4, 2, 8);
	return t_finish(t, true);
}

static int bad_live_lost(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	t_submit(t, 1, TOTEM_AGREED); /* never delivered, sender alive */
	return t_finish(t, true);
}

static int bad_live_late(struct t *t)
{
	struct chk_live l = { .enabled = true, .quiet_start_us = 0, .bound_us = 10 };
	uint32_t m[3];

	stage_ring(t, m);
	return chk_finish(t->c, ++t->now, &l);
}

static int bad_api_down(struct t *t)
{
	uint32_t m[3];

	stage_ring(t, m);
	chk_crash(t->c, ++t->now, 1);
	t_deliver(t, 1, m[0], 10, 4, 1);
	return t_finish(t, false);
}

static int good_live(struct t *t)
{
	return good_trace(t, true);
}

static int good_nolive(struct t *t)
{
	return good_trace(t, false);
}

struct t_case {
	const char *name;
	int (*fn)(struct t *t);
	int want;
};

static const struct t_case cases[] = {
	{ "good trace", good_nolive, CHK_OK },
	{ "good trace with liveness", good_live, CHK_OK },
	{ "safe owed only by live members", good_safe_crash, CHK_OK },
	{ "delivered twice", bad_once_twice, CHK_P_ONCE },
	{ "corrupted / never sent", bad_once_unsent, CHK_P_ONCE },
	{ "two nodes disagree on order", bad_order_pair, CHK_P_ORDER },
	{ "three-node order cycle", bad_order_cycle3, CHK_P_ORDER },
	{ "inconsistent seq", bad_order_key, CHK_P_ORDER },
	{ "virtual synchrony", bad_vs, CHK_P_VS },
	{ "delivered in a later ring", bad_sent_in, CHK_P_SENT_IN },
	{ "delivered before any ring", bad_sent_before_conf, CHK_P_SENT_IN },
	{ "safe not received by a member", bad_safe, CHK_P_SAFE },
	{ "ring seq reused after restart", bad_conf_seq, CHK_P_CONF },
	{ "ring member lists differ", bad_conf_members, CHK_P_CONF },
	{ "node outside its own ring", bad_conf_self, CHK_P_CONF },
	{ "ring installed before persisted", bad_conf_persist, CHK_P_CONF },
	{ "regular without transitional", bad_conf_no_trans, CHK_P_CONF },
	{ "no single ring at the end", bad_live_split, CHK_P_LIVE },
	{ "sent message never delivered", bad_live_lost, CHK_P_LIVE },
	{ "ring formed too late", bad_live_late, CHK_P_LIVE },
	{ "delivery while down", bad_api_down, CHK_P_API },
};

int main(int argc, char **argv)
{
	struct t t;
	unsigned pass = 0, fail = 0;
	bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;

	memset(&t, 0, sizeof(t));
	t.c = chk_create();
	t.out = verbose ? stdout : NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		if (verbose)
			printf("--- %s\n", cases[i].name);
		got = cases[i].fn(&t);
		if (got == cases[i].want) {
			pass++;
			continue;
		}
		fail++;
		printf("FAIL %s: expected property %s, checker said %s\n", cases[i].name,
		       chk_prop_name(cases[i].want), chk_prop_name(got));
	}
	chk_destroy(t.c);
	printf("checker_unit: %u passed, %u failed\n", pass, fail);
	return fail ? 1 : 0;
}
