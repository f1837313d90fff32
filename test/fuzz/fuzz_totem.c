/* Fuzz target of the Totem core. Three real cores (nodes 1-3) run in one
 * virtual network that the input drives, one byte code at a time: deliver,
 * drop, duplicate or corrupt a queued packet, advance the clock, submit a
 * message, flip reachability, leave, crash, restart, or inject a packet
 * built from input bytes. Corrupting real packets rather than sending random
 * ones reaches the deep paths: the ring ids and seqs in them are live.
 *
 * Checked after every action: no crash, no sanitizer report, and the core's
 * contracts (totem.h) hold: sends fit netmtu and go to configured nodes,
 * membership is a duplicate-free subset of the configured nodes that holds
 * self, the persisted ring seq never decreases. While the input has only
 * forwarded, dropped, duplicated or delayed real packets ("honest"), every
 * delivery must also be a message some node submitted, intact, delivered at
 * most once and in its sender's order, with (ring seq, packet seq) never
 * going back. Corrupted or forged packets relax only these content checks:
 * a peer with the cluster key can send anything, but must not crash us. */
#include <stdbool.h>
#include <string.h>

#include "fuzz_driver.h"
#include "totem/totem.h"

#define FT_NODES 3u
#define FT_CLUSTER 0x1234u
#define FT_MTU 1400u
#define FT_PKT_MAX 2200u /* a token with WIRE_RTR_MAX requests */
#define FT_QMAX 96u
#define FT_MAX_EVENTS 5000u /* per input: keeps one input well under a second */
#define FT_MSG_HDR 16u

struct ft_pkt {
	uint8_t from, to; /* node index 0..FT_NODES-1 */
	uint16_t len;
	uint8_t data[FT_PKT_MAX];
};

struct ft_node {
	struct totem_node *t;
	bool up;
	uint64_t persisted;
	uint64_t last_ring_seq, last_seq; /* of the last delivery (honest mode) */
	uint32_t last_ctr[FT_NODES];	  /* per sender, of the last delivery */
};

static struct {
	const uint8_t *in;
	size_t left;
	uint64_t now;
	unsigned events;
	bool honest;
	unsigned qn;
	struct ft_pkt q[FT_QMAX];
	struct ft_node node[FT_NODES];
	uint32_t submit_ctr[FT_NODES]; /* survives restarts: counters keep growing */
	uint8_t msg[4096];
} ft;

static uint8_t ft_byte(void)
{
	if (ft.left == 0)
		return 0;
	ft.left--;
	return *ft.in++;
}

static uint32_t ft_check_word(uint32_t origin, uint32_t ctr, uint32_t len)
{
	return (origin * 0x9E3779B1u) ^ (ctr * 0x85EBCA77u) ^ (len * 0xC2B2AE3Du);
}

static uint8_t ft_fill(uint32_t origin, uint32_t ctr, size_t i)
{
	return (uint8_t)(origin * 31u + ctr * 7u + i);
}

static void ft_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t ft_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void ft_config(struct totem_config *c, unsigned idx)
{
	totem_config_defaults(c);
	c->nodeid = idx + 1;
	c->cluster_id = FT_CLUSTER;
	c->member_count = FT_NODES;
	for (unsigned i = 0; i < FT_NODES; i++)
		c->members[i] = i + 1;
	c->token_ms = 200;
	totem_config_derive(c);
	c->join_ms = 20;
	c->merge_ms = 50;
	c->netmtu = FT_MTU;
	c->send_queue_max_msgs = 64;
	c->max_msg_bytes = sizeof(ft.msg);
	c->merge_backoff_max_ms = 400;
	c->ring_seq_start = ft.node[idx].persisted;
}

static void ft_enqueue(unsigned from, uint32_t to, const uint8_t *d, size_t len)
{
	/* Data packets fit netmtu; a token's retransmit list may take it over
	 * (up to WIRE_RTR_MAX entries), which the transport allows. */
	FZ_CHECK(len > 0 && len <= (d[3] == 1 ? FT_MTU : FT_PKT_MAX));
	FZ_CHECK(to == TOTEM_TO_ALL || (to >= 1 && to <= FT_NODES && to != from + 1));
	for (unsigned j = 0; j < FT_NODES; j++) {
		if (j == from || (to != TOTEM_TO_ALL && to != j + 1) || ft.qn == FT_QMAX)
			continue;
		struct ft_pkt *p = &ft.q[ft.qn++];

		p->from = (uint8_t)from;
		p->to = (uint8_t)j;
		p->len = (uint16_t)len;
		memcpy(p->data, d, len);
	}
}

static void ft_check_ids(const uint32_t *ids, size_t n)
{
	FZ_CHECK(n <= FT_NODES);
	for (size_t i = 0; i < n; i++) {
		FZ_CHECK(ids[i] >= 1 && ids[i] <= FT_NODES);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(ids[i] != ids[j]);
	}
}

static bool ft_has(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void ft_confchg(unsigned idx, const struct totem_action *a)
{
	const uint32_t *m = a->u.confchg.members;
	size_t n = a->u.confchg.member_count;

	ft_check_ids(m, n);
	ft_check_ids(a->u.confchg.left, a->u.confchg.left_count);
	ft_check_ids(a->u.confchg.joined, a->u.confchg.joined_count);
	FZ_CHECK(ft_has(m, n, idx + 1));
	for (size_t i = 0; i < a->u.confchg.left_count; i++)
		FZ_CHECK(!ft_has(m, n, a->u.confchg.left[i]));
	for (size_t i = 0; i < a->u.confchg.joined_count; i++)
		FZ_CHECK(ft_has(m, n, a->u.confchg.joined[i]));
	if (a->u.confchg.type == TOTEM_CONF_TRANSITIONAL)
		FZ_CHECK(a->u.confchg.joined_count == 0);
}

/* An honest delivery is a submitted message, intact, once, in order. */
static void ft_deliver(unsigned idx, const struct totem_action *a)
{
	struct ft_node *nd = &ft.node[idx];
	const uint8_t *d = a->u.deliver.data;
	size_t len = a->u.deliver.len;
	uint32_t origin, ctr;

	FZ_CHECK(a->u.deliver.sender >= 1 && a->u.deliver.sender <= FT_NODES);
	FZ_CHECK(len <= sizeof(ft.msg));
	if (!ft.honest)
		return;
	FZ_CHECK(a->u.deliver.ring_id.seq > nd->last_ring_seq ||
		 (a->u.deliver.ring_id.seq == nd->last_ring_seq &&
		  a->u.deliver.seq >= nd->last_seq));
	nd->last_ring_seq = a->u.deliver.ring_id.seq;
	nd->last_seq = a->u.deliver.seq;
	FZ_CHECK(len >= FT_MSG_HDR);
	origin = ft_get32(d);
	ctr = ft_get32(d + 4);
	FZ_CHECK(origin == a->u.deliver.sender && ft_get32(d + 8) == len);
	FZ_CHECK(ft_get32(d + 12) == ft_check_word(origin, ctr, (uint32_t)len));
	for (size_t i = FT_MSG_HDR; i < len; i++)
		FZ_CHECK(d[i] == ft_fill(origin, ctr, i));
	FZ_CHECK(ctr > nd->last_ctr[origin - 1]);
	nd->last_ctr[origin - 1] = ctr;
}

static void ft_drain(unsigned idx)
{
	struct ft_node *nd = &ft.node[idx];
	struct totem_action a;
	uint32_t members[TOTEM_MAX_NODES];
	size_t n;

	while (totem_next_action(nd->t, &a)) {
		switch (a.type) {
		case TOTEM_ACT_SEND:
			ft_enqueue(idx, a.u.send.to, a.u.send.data, a.u.send.len);
			break;
		case TOTEM_ACT_DELIVER:
			ft_deliver(idx, &a);
			break;
		case TOTEM_ACT_CONFCHG:
			ft_confchg(idx, &a);
			break;
		case TOTEM_ACT_PERSIST:
			FZ_CHECK(a.u.persist.ring_seq >= nd->persisted);
			nd->persisted = a.u.persist.ring_seq;
			break;
		case TOTEM_ACT_TIMER:
			break;
		default:
			FZ_CHECK(!"unknown action");
		}
	}
	enum totem_state s = totem_get_state(nd->t);

	FZ_CHECK(s >= TOTEM_GATHER && s <= TOTEM_OPERATIONAL && totem_state_name(s));
	n = totem_get_members(nd->t, members, TOTEM_MAX_NODES);
	ft_check_ids(members, n);
	FZ_CHECK(s != TOTEM_OPERATIONAL || ft_has(members, n, idx + 1));
	FZ_CHECK(totem_get_highest_ring_seq(nd->t) >= totem_get_ring_id(nd->t).seq);
}

static void ft_start(unsigned idx)
{
	struct ft_node *nd = &ft.node[idx];
	struct totem_config cfg;

	ft_config(&cfg, idx);
	FZ_CHECK(totem_create(&cfg, &nd->t) == TOTEM_OK);
	nd->up = true;
	nd->last_ring_seq = nd->last_seq = 0;
	memset(nd->last_ctr, 0, sizeof(nd->last_ctr));
	totem_start(nd->t, ft.now);
	ft_drain(idx);
}

static void ft_stop(unsigned idx)
{
	if (!ft.node[idx].up)
		return;
	totem_destroy(ft.node[idx].t);
	ft.node[idx].t = NULL;
	ft.node[idx].up = false;
}

static void ft_packet(unsigned to, unsigned from, const uint8_t *d, size_t len)
{
	if (!ft.node[to].up)
		return;
	ft.events++;
	totem_on_packet(ft.node[to].t, ft.now, from + 1, d, len);
	ft_drain(to);
}

static struct ft_pkt ft_take(unsigned i)
{
	struct ft_pkt p = ft.q[i];

	memmove(&ft.q[i], &ft.q[i + 1], (ft.qn - i - 1) * sizeof(ft.q[0]));
	ft.qn--;
	return p;
}

/* Moves the clock to the earliest deadline (or by `ms` when ms != 0) and
 * fires every timer that is due. */
static void ft_advance(unsigned ms)
{
	uint64_t next = TOTEM_NO_DEADLINE;

	for (unsigned i = 0; i < FT_NODES; i++)
		if (ft.node[i].up && totem_next_deadline(ft.node[i].t) < next)
			next = totem_next_deadline(ft.node[i].t);
	if (ms)
		ft.now += (uint64_t)ms * 1000u;
	else if (next != TOTEM_NO_DEADLINE && next > ft.now)
		ft.now = next;
	else if (next == TOTEM_NO_DEADLINE)
		ft.now += 1000000u;
	for (unsigned i = 0; i < FT_NODES; i++) {
		if (!ft.node[i].up || totem_next_deadline(ft.node[i].t) > ft.now)
			continue;
		ft.events++;
		totem_on_timer(ft.node[i].t, ft.now);
		ft_drain(i);
	}
}

static void ft_submit(unsigned idx, size_t len, bool safe)
{
	uint32_t origin = idx + 1, ctr = ft.submit_ctr[idx] + 1;

	if (!ft.node[idx].up)
		return;
	len = FT_MSG_HDR + len % (sizeof(ft.msg) - FT_MSG_HDR + 1);
	ft_put32(ft.msg, origin);
	ft_put32(ft.msg + 4, ctr);
	ft_put32(ft.msg + 8, (uint32_t)len);
	ft_put32(ft.msg + 12, ft_check_word(origin, ctr, (uint32_t)len));
	for (size_t i = FT_MSG_HDR; i < len; i++)
		ft.msg[i] = ft_fill(origin, ctr, i);
	ft.events++;
	if (totem_submit(ft.node[idx].t, ft.now, safe ? TOTEM_SAFE : TOTEM_AGREED, ft.msg, len) ==
	    TOTEM_OK)
		ft.submit_ctr[idx] = ctr;
	ft_drain(idx);
}

/* A packet from input bytes behind a valid header, so that it reaches the
 * body decoders and the core rather than dying at the magic check. */
static void ft_forge(void)
{
	static uint8_t b[12 + 256];
	unsigned to = ft_byte() % FT_NODES, from = ft_byte() % FT_NODES;
	size_t n = ft_byte();
	uint32_t sender = from + 1;

	b[0] = 0xC0;
	b[1] = 0xA7;
	b[2] = 1;
	b[3] = (uint8_t)(1 + ft_byte() % 6);
	b[4] = FT_CLUSTER >> 24;
	b[5] = (FT_CLUSTER >> 16) & 0xff;
	b[6] = (FT_CLUSTER >> 8) & 0xff;
	b[7] = FT_CLUSTER & 0xff;
	for (unsigned i = 0; i < 4; i++)
		b[8 + i] = (uint8_t)(sender >> (24 - 8 * i));
	for (size_t i = 0; i < n; i++)
		b[12 + i] = ft_byte();
	ft.honest = false;
	ft_packet(to, from, b, 12 + n);
}

static void ft_queue_op(unsigned op)
{
	unsigned i = ft_byte() % ft.qn;
	struct ft_pkt p;

	switch (op) {
	case 1: /* deliver out of order */
		p = ft_take(i);
		ft_packet(p.to, p.from, p.data, p.len);
		break;
	case 2:
		ft_take(i);
		break;
	case 3: /* duplicate: deliver a copy, keep the original queued */
		p = ft.q[i];
		ft_packet(p.to, p.from, p.data, p.len);
		break;
	default: { /* corrupt one byte (or truncate) and deliver */
		unsigned pos = (unsigned)(ft_byte() << 8 | ft_byte());
		uint8_t x = ft_byte();

		p = ft_take(i);
		if (x == 0)
			p.len = (uint16_t)(pos % p.len);
		else
			p.data[pos % p.len] ^= x;
		ft.honest = false;
		ft_packet(p.to, p.from, p.data, p.len);
		break;
	}
	}
}

static void ft_lifecycle(void)
{
	uint8_t b = ft_byte();
	unsigned idx = b % FT_NODES;

	switch (b / FT_NODES % 4) {
	case 0:
		if (ft.node[idx].up) {
			ft.events++;
			totem_leave(ft.node[idx].t, ft.now);
			ft_drain(idx);
		}
		break;
	case 1:
		ft_stop(idx);
		break;
	case 2:
		if (!ft.node[idx].up)
			ft_start(idx);
		break;
	default: {
		unsigned peer = ft_byte() % FT_NODES;

		if (ft.node[idx].up) {
			ft.events++;
			totem_set_reachable(ft.node[idx].t, ft.now, peer + 1, b & 0x80);
			ft_drain(idx);
		}
		break;
	}
	}
}

static void ft_step(unsigned k)
{
	while (k-- > 0 && ft.events < FT_MAX_EVENTS) {
		if (ft.qn > 0) {
			struct ft_pkt p = ft_take(0);

			ft_packet(p.to, p.from, p.data, p.len);
		} else {
			ft_advance(0);
		}
	}
}

static void ft_op(uint8_t op)
{
	switch (op % 8) {
	case 0:
		ft_step(1u + ft_byte() % 64u);
		break;
	case 1:
	case 2:
	case 3:
	case 4:
		if (ft.qn > 0)
			ft_queue_op(op % 8);
		break;
	case 5:
		ft_advance(op & 0x80 ? 0 : ft_byte());
		break;
	case 6: {
		unsigned idx = ft_byte() % FT_NODES;
		size_t len = (size_t)ft_byte() << 4 | (op >> 4);

		ft_submit(idx, len, op & 0x08);
		break;
	}
	default:
		if (op & 0x80)
			ft_forge();
		else
			ft_lifecycle();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&ft.node, 0, sizeof(ft.node));
	memset(ft.submit_ctr, 0, sizeof(ft.submit_ctr));
	ft.in = data;
	ft.left = size;
	ft.now = 1000000;
	ft.events = 0;
	ft.honest = true;
	ft.qn = 0;
	for (unsigned i = 0; i < FT_NODES; i++)
		ft_start(i);
	while (ft.left > 0 && ft.events < FT_MAX_EVENTS)
		ft_op(ft_byte());
	for (unsigned i = 0; i < FT_NODES; i++)
		ft_stop(i);
	return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "fuzz_totem";
const unsigned long fuzz_target_iterations = 10000;

/* Byte programs: form a ring, send traffic of every size class, then lose,
 * duplicate, reorder and corrupt packets, crash and restart nodes. */
void fuzz_target_seeds(void)
{
	static const uint8_t form[] = { 0, 63, 0, 63, 0, 63 };
	static const uint8_t traffic[] = { 0,  63, 0,  63, 6, 0, 1, 0x16, 1, 40, 0x6e, 2, 200, 0,
					   63, 0,  63, 6,  2, 3, 6, 0,	  0, 0,	 63,   0, 63 };
	static const uint8_t lossy[] = { 0,  63, 0, 63, 6, 0, 5, 6, 1, 9, 2, 0,	 1, 1,	3, 0, 0,
					 20, 5,	 0, 1,	0, 6, 2, 7, 2, 1, 0, 63, 0, 63, 0, 63 };
	static const uint8_t churn[] = { 0,  63, 0, 63, 7, 4,  0, 63, 0, 63, 6, 1,  4,
					 7,  7,	 0, 63, 0, 63, 7, 2,  0, 63, 0, 63, 7,
					 11, 1,	 0, 63, 7, 0,  0, 63, 0, 63, 0, 63 };
	static const uint8_t corrupt[] = { 0,	 63, 0,	 63, 6, 1, 3, 0, 4, 0,	0, 30,
					   0x40, 0,  63, 4,  1, 0, 3, 0, 0, 63, 0, 63 };
	static const uint8_t forged[] = { 0, 63, 0x87, 0, 1, 20, 2, 0, 0, 0,  1, 0, 0, 0,
					  0, 0,	 0,    0, 0, 0,	 0, 0, 0, 0,  0, 0, 0, 0x87,
					  1, 2,	 4,    3, 1, 2,	 3, 4, 0, 63, 0, 63 };

	fuzz_seed_add("form", form, sizeof(form));
	fuzz_seed_add("traffic", traffic, sizeof(traffic));
	fuzz_seed_add("lossy", lossy, sizeof(lossy));
	fuzz_seed_add("churn", churn, sizeof(churn));
	fuzz_seed_add("corrupt", corrupt, sizeof(corrupt));
	fuzz_seed_add("forged", forged, sizeof(forged));
}
#endif
