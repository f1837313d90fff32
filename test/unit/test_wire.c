/* Unit tests of the wire codec: golden bytes, round trips at the count limits,
 * and one test per rejection reason. Any failed check exits 1 at once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_wire.h"

const struct wire_hdr hdr = { .type = 0, .cluster_id = CLUSTER, .sender = 0x0A0B0C0Du };
const struct wire_ring_id ring = { .rep = 0x01020304u, .seq = 0x0000000500000006ull };
struct wire_packet pkt;
uint8_t buf[BUF_CAP];
static struct wire_token tok;
static struct wire_join join;
static struct wire_commit com;

void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

enum wire_err dec(const uint8_t *b, size_t len)
{
	pkt.hdr.type = 0xEE;
	enum wire_err e = wire_decode(b, len, CLUSTER, &pkt);

	/* Whatever the reason, a failed decode must not look like a packet. */
	CHECK(e == WIRE_OK || pkt.hdr.type == 0);
	return e;
}

/* Seeds: one valid packet of each shape, with counts chosen to have several
 * entries in every array. */
size_t seed_mcast(uint8_t *b, size_t cap)
{
	struct wire_mcast_builder mb;

	/* Every step reports "does not fit" as 0; the encoder-limit test relies on it. */
	if (!wire_mcast_begin(&mb, b, cap, &hdr, &ring, 42) ||
	    !wire_mcast_add_item(&mb, 0, WIRE_FRAG_FIRST | WIRE_FRAG_LAST, "abc", 3) ||
	    !wire_mcast_add_item(&mb, 1, WIRE_FRAG_FIRST, "defg", 4) ||
	    !wire_mcast_add_item(&mb, 1, WIRE_FRAG_LAST, "h", 1))
		return 0;
	return wire_mcast_finish(&mb);
}

size_t seed_encap(uint8_t *b, size_t cap)
{
	uint8_t inner[128];
	struct wire_ring_id old = { .rep = 9, .seq = 1 };
	struct wire_mcast_builder mb;
	size_t n;

	wire_mcast_begin(&mb, inner, sizeof(inner), &hdr, &old, 7);
	wire_mcast_add_item(&mb, 0, WIRE_FRAG_FIRST | WIRE_FRAG_LAST, "x", 1);
	n = wire_mcast_finish(&mb);
	CHECK(wire_mcast_begin(&mb, b, cap, &hdr, &ring, 43));
	CHECK(wire_mcast_add_raw(&mb, inner, (uint32_t)n));
	return wire_mcast_finish(&mb);
}

static void fill_token(unsigned rtr)
{
	memset(&tok, 0, sizeof(tok));
	tok.ring_id = ring;
	tok.token_seq = 7;
	tok.seq = 9;
	tok.aru = 8;
	tok.aru_id = 0x0A0B0C0Du;
	tok.backlog = 0x100;
	tok.fcc = 3;
	tok.retrans_flg = 1;
	tok.rtr_count = (uint16_t)rtr;
	for (unsigned i = 0; i < rtr && i < WIRE_RTR_MAX; i++)
		tok.rtr[i] = 0x0102030405060708ull + i;
}

static size_t seed_token(uint8_t *b, size_t cap)
{
	fill_token(3);
	return wire_encode_token(b, cap, &hdr, &tok);
}

static void fill_join(unsigned procs, unsigned fails)
{
	memset(&join, 0, sizeof(join));
	join.ring_seq = 0x0102030405060708ull;
	join.proc_count = (uint16_t)procs;
	join.fail_count = (uint16_t)fails;
	for (unsigned i = 0; i < procs; i++)
		join.proc[i] = i + 1;
	for (unsigned i = 0; i < fails; i++)
		join.fail[i] = 0xDEADBEEFu - i;
}

static size_t seed_join(uint8_t *b, size_t cap)
{
	fill_join(3, 2);
	return wire_encode_join(b, cap, &hdr, &join);
}

static void fill_commit(unsigned n, unsigned index)
{
	memset(&com, 0, sizeof(com));
	com.ring_id = ring;
	com.token_seq = 3;
	com.memb_count = (uint16_t)n;
	com.memb_index = (uint16_t)index;
	for (unsigned i = 0; i < n; i++) {
		com.memb[i].nodeid = i + 5;
		com.memb[i].old_ring_id.rep = 5;
		com.memb[i].old_ring_id.seq = 0x10 + i;
		com.memb[i].my_aru = 0x20;
		com.memb[i].high_seq = 0x30;
		com.memb[i].received_flg = i < index;
	}
}

static size_t seed_commit(uint8_t *b, size_t cap)
{
	fill_commit(3, 1);
	return wire_encode_commit(b, cap, &hdr, &com);
}

static size_t seed_merge(uint8_t *b, size_t cap)
{
	struct wire_merge_detect m = { .ring_id = ring };

	return wire_encode_merge_detect(b, cap, &hdr, &m);
}

static size_t seed_leave(uint8_t *b, size_t cap)
{
	struct wire_leave l = { .ring_id = ring };

	return wire_encode_leave(b, cap, &hdr, &l);
}

static size_t seed_hold_cancel(uint8_t *b, size_t cap)
{
	struct wire_hold_cancel c = { .ring_id = ring };

	return wire_encode_hold_cancel(b, cap, &hdr, &c);
}

typedef size_t (*seed_fn)(uint8_t *b, size_t cap);
static const seed_fn seeds[] = { seed_mcast, seed_token, seed_join,	  seed_commit,
				 seed_merge, seed_leave, seed_hold_cancel };
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* Byte tables are laid out one field per run; keep clang-format away. */
/* clang-format off */
static const uint8_t golden_mcast[] = {
	0xC0, 0xA7, 0x01, 0x01, 0x11, 0x22, 0x33, 0x44, 0x0A, 0x0B, 0x0C, 0x0D, /* hdr */
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 6,	/* ring_id */
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* seq */
	0x02, 0x00, 0x01,				/* flags HAS_SAFE, 1 item */
	0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 'h', 'i',	/* safe, first|last, 2 bytes */
};

static const uint8_t golden_token[] = {
	0xC0, 0xA7, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x0A, 0x0B, 0x0C, 0x0D,
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 6,
	0, 0, 0, 0, 0, 0, 0, 7,		/* token_seq */
	0, 0, 0, 0, 0, 0, 0, 9,		/* seq */
	0, 0, 0, 0, 0, 0, 0, 8,		/* aru */
	0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 1, 0, 0, 0, 0, 3, /* aru_id, backlog, fcc */
	0x01, 0x00, 0x02,		/* retrans_flg, rtr_count */
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 9,
};

static const uint8_t golden_join[] = {
	0xC0, 0xA7, 0x01, 0x03, 0x11, 0x22, 0x33, 0x44, 0x0A, 0x0B, 0x0C, 0x0D,
	1, 2, 3, 4, 5, 6, 7, 8,			/* ring_seq */
	0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,	/* procs */
	0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF,	/* fails */
};

static const uint8_t golden_commit[] = {
	0xC0, 0xA7, 0x01, 0x04, 0x11, 0x22, 0x33, 0x44, 0x0A, 0x0B, 0x0C, 0x0D,
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 6,
	0, 0, 0, 0, 0, 0, 0, 3,		/* token_seq */
	0x00, 0x01, 0x00, 0x01,		/* memb_count, memb_index */
	0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0x10, /* nodeid, old ring */
	0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x30, 0x01,
};

static const uint8_t golden_leave[] = {
	0xC0, 0xA7, 0x01, 0x06, 0x11, 0x22, 0x33, 0x44, 0x0A, 0x0B, 0x0C, 0x0D,
	0x01, 0x02, 0x03, 0x04, 0, 0, 0, 5, 0, 0, 0, 6,
};
/* clang-format on */

static void check_golden(const uint8_t *want, size_t want_len, size_t got_len)
{
	CHECK(got_len == want_len);
	for (size_t i = 0; i < want_len; i++) {
		if (buf[i] != want[i])
			fprintf(stderr, "byte %zu: got 0x%02x want 0x%02x\n", i, buf[i], want[i]);
		CHECK(buf[i] == want[i]);
	}
	CHECK(dec(buf, got_len) == WIRE_OK);
}

static void test_golden(void)
{
	struct wire_mcast_builder mb;
	struct wire_merge_detect m = { .ring_id = ring };
	size_t n;

	wire_mcast_begin(&mb, buf, sizeof(buf), &hdr, &ring, 0x1122334455667788ull);
	wire_mcast_add_item(&mb, 1, WIRE_FRAG_FIRST | WIRE_FRAG_LAST, "hi", 2);
	check_golden(golden_mcast, sizeof(golden_mcast), wire_mcast_finish(&mb));

	fill_token(2);
	tok.rtr[1] = 0x0102030405060709ull;
	check_golden(golden_token, sizeof(golden_token),
		     wire_encode_token(buf, BUF_CAP, &hdr, &tok));

	fill_join(2, 1);
	join.proc[1] = 2;
	check_golden(golden_join, sizeof(golden_join), wire_encode_join(buf, BUF_CAP, &hdr, &join));

	fill_commit(1, 1);
	check_golden(golden_commit, sizeof(golden_commit),
		     wire_encode_commit(buf, BUF_CAP, &hdr, &com));

	check_golden(golden_leave, sizeof(golden_leave), seed_leave(buf, BUF_CAP));
	/* MERGE_DETECT differs from LEAVE only in the type byte. */
	n = wire_encode_merge_detect(buf, BUF_CAP, &hdr, &m);
	CHECK(n == sizeof(golden_leave) && buf[3] == WIRE_MERGE_DETECT);
	CHECK(memcmp(buf + 4, golden_leave + 4, n - 4) == 0);
	/* and so does HOLD_CANCEL */
	n = seed_hold_cancel(buf, BUF_CAP);
	CHECK(n == sizeof(golden_leave) && buf[3] == WIRE_HOLD_CANCEL);
	CHECK(memcmp(buf + 4, golden_leave + 4, n - 4) == 0);
}

static void test_roundtrip_token(void)
{
	static const unsigned counts[] = { 0, 1, WIRE_RTR_MAX };

	for (unsigned k = 0; k < 3; k++) {
		fill_token(counts[k]);
		size_t n = wire_encode_token(buf, BUF_CAP, &hdr, &tok);

		CHECK(n == 63u + 8u * counts[k]);
		CHECK(dec(buf, n) == WIRE_OK);
		const struct wire_token *t = &pkt.u.token;

		CHECK(pkt.hdr.type == WIRE_TOKEN && pkt.hdr.cluster_id == CLUSTER);
		CHECK(pkt.hdr.sender == hdr.sender);
		CHECK(t->ring_id.rep == ring.rep && t->ring_id.seq == ring.seq);
		CHECK(t->token_seq == 7 && t->seq == 9 && t->aru == 8);
		CHECK(t->aru_id == tok.aru_id && t->backlog == 0x100 && t->fcc == 3);
		CHECK(t->retrans_flg == 1 && t->rtr_count == counts[k]);
		CHECK(memcmp(t->rtr, tok.rtr, counts[k] * sizeof(uint64_t)) == 0);
	}
}

static void test_roundtrip_join(void)
{
	static const unsigned counts[][2] = {
		{ 0, 0 }, { 1, 0 }, { 0, 1 }, { WIRE_MAX_NODES, WIRE_MAX_NODES }
	};

	for (unsigned k = 0; k < 4; k++) {
		fill_join(counts[k][0], counts[k][1]);
		size_t n = wire_encode_join(buf, BUF_CAP, &hdr, &join);

		CHECK(n == 24u + 4u * (counts[k][0] + counts[k][1]));
		CHECK(dec(buf, n) == WIRE_OK && pkt.hdr.type == WIRE_JOIN);
		const struct wire_join *j = &pkt.u.join;

		CHECK(j->ring_seq == join.ring_seq);
		CHECK(j->proc_count == counts[k][0] && j->fail_count == counts[k][1]);
		CHECK(memcmp(j->proc, join.proc, j->proc_count * 4u) == 0);
		CHECK(memcmp(j->fail, join.fail, j->fail_count * 4u) == 0);
	}
}

static void test_roundtrip_commit(void)
{
	static const unsigned counts[][2] = {
		{ 1, 0 }, { 1, 1 }, { WIRE_MAX_NODES, 7 }, { WIRE_MAX_NODES, WIRE_MAX_NODES }
	};

	for (unsigned k = 0; k < 4; k++) {
		fill_commit(counts[k][0], counts[k][1]);
		size_t n = wire_encode_commit(buf, BUF_CAP, &hdr, &com);

		CHECK(n == 36u + 33u * counts[k][0]);
		CHECK(dec(buf, n) == WIRE_OK && pkt.hdr.type == WIRE_COMMIT);
		const struct wire_commit *c = &pkt.u.commit;

		CHECK(c->ring_id.rep == ring.rep && c->ring_id.seq == ring.seq);
		CHECK(c->token_seq == 3 && c->memb_count == counts[k][0]);
		CHECK(c->memb_index == counts[k][1]);
		for (unsigned i = 0; i < c->memb_count; i++) {
			const struct wire_commit_memb *a = &c->memb[i], *b = &com.memb[i];

			CHECK(a->nodeid == b->nodeid && a->old_ring_id.rep == b->old_ring_id.rep);
			CHECK(a->old_ring_id.seq == b->old_ring_id.seq);
			CHECK(a->my_aru == b->my_aru && a->high_seq == b->high_seq);
			CHECK(a->received_flg == b->received_flg);
		}
	}
}

static void test_roundtrip_ring_only(void)
{
	CHECK(dec(buf, seed_merge(buf, BUF_CAP)) == WIRE_OK);
	CHECK(pkt.hdr.type == WIRE_MERGE_DETECT);
	CHECK(pkt.u.merge.ring_id.rep == ring.rep && pkt.u.merge.ring_id.seq == ring.seq);
	CHECK(dec(buf, seed_leave(buf, BUF_CAP)) == WIRE_OK);
	CHECK(pkt.hdr.type == WIRE_LEAVE);
	CHECK(pkt.u.leave.ring_id.rep == ring.rep && pkt.u.leave.ring_id.seq == ring.seq);
}

static void test_truncation(void)
{
	for (unsigned s = 0; s < NSEEDS; s++) {
		size_t n = seeds[s](buf, BUF_CAP);

		CHECK(n > 0 && dec(buf, n) == WIRE_OK);
		for (size_t cut = 0; cut < n; cut++)
			CHECK(dec(buf, cut) == WIRE_ERR_TRUNCATED);
		/* One trailing byte, whatever its value. */
		buf[n] = 0;
		CHECK(dec(buf, n + 1) == WIRE_ERR_LENGTH);
	}
	/* An ENCAP payload is opaque here, so only the fixed part can be cut short. */
	seed_encap(buf, BUF_CAP);
	for (size_t cut = 0; cut <= WIRE_MCAST_FIXED_LEN; cut++)
		CHECK(dec(buf, cut) == WIRE_ERR_TRUNCATED);
}

static void test_header_errors(void)
{
	size_t n = seed_leave(buf, BUF_CAP);

	memset(buf, 0, BUF_CAP);
	CHECK(dec(buf, WIRE_MAX_PACKET + 1) == WIRE_ERR_LENGTH); /* before magic */
	CHECK(dec(buf, 0) == WIRE_ERR_TRUNCATED);
	CHECK(dec(buf, n) == WIRE_ERR_MAGIC); /* magic before version */
	seed_leave(buf, BUF_CAP);
	buf[1] ^= 1;
	CHECK(dec(buf, n) == WIRE_ERR_MAGIC);
	buf[1] ^= 1;
	buf[2] = 2;
	buf[4] = 0; /* bad cluster too: version is checked first */
	CHECK(dec(buf, n) == WIRE_ERR_VERSION);
	buf[2] = WIRE_VERSION;
	buf[3] = 99;
	CHECK(dec(buf, n) == WIRE_ERR_CLUSTER); /* cluster before type */
	CHECK(wire_decode(buf, n, 0x00223344u, &pkt) == WIRE_ERR_TYPE);
	buf[4] = 0x11;
	for (unsigned t = 0; t < 256; t++) {
		buf[3] = (uint8_t)t;
		CHECK((dec(buf, WIRE_HDR_LEN) == WIRE_ERR_TYPE) ==
		      (t == 0 || t > WIRE_HOLD_CANCEL));
	}
}

static void test_token_errors(void)
{
	size_t n = seed_token(buf, BUF_CAP);

	buf[60] = 2; /* retrans_flg */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_token(buf, BUF_CAP);
	put64(buf + 40, 10); /* aru 10 > seq 9 */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	put64(buf + 40, 9); /* aru == seq is fine */
	CHECK(dec(buf, n) == WIRE_OK);
	put16(buf + 61, 4); /* more rtr than present */
	CHECK(dec(buf, n) == WIRE_ERR_TRUNCATED);
	put16(buf + 61, 2);
	CHECK(dec(buf, n) == WIRE_ERR_LENGTH);
	/* Over the maximum is a field error even when the bytes are all there. */
	memset(buf + 63, 0, (WIRE_RTR_MAX + 1) * 8);
	put16(buf + 61, WIRE_RTR_MAX + 1);
	CHECK(dec(buf, 63 + (WIRE_RTR_MAX + 1) * 8) == WIRE_ERR_FIELD);
	put16(buf + 61, WIRE_RTR_MAX);
	CHECK(dec(buf, 63 + WIRE_RTR_MAX * 8) == WIRE_OK);
}

static void test_join_errors(void)
{
	size_t n = seed_join(buf, BUF_CAP); /* procs at 22, fail_count at 34 */

	put16(buf + 20, WIRE_MAX_NODES + 1);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_join(buf, BUF_CAP);
	put16(buf + 34, WIRE_MAX_NODES + 1);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_join(buf, BUF_CAP);
	memset(buf + 26, 0, 4); /* second proc id 0 */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_join(buf, BUF_CAP);
	memset(buf + n - 4, 0, 4); /* last fail id 0 */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_join(buf, BUF_CAP);
	put16(buf + 34, 1);
	CHECK(dec(buf, n) == WIRE_ERR_LENGTH);
	put16(buf + 34, 3);
	CHECK(dec(buf, n) == WIRE_ERR_TRUNCATED);
}

static void test_commit_errors(void)
{
	size_t n = seed_commit(buf, BUF_CAP); /* count at 32, index at 34, entries at 36 */

	put16(buf + 32, 0);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	put16(buf + 32, WIRE_MAX_NODES + 1);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	put16(buf + 32, 3);
	put16(buf + 34, 4);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	put16(buf + 34, 3);
	CHECK(dec(buf, n) == WIRE_OK);
	buf[36 + 33 + 32] = 2; /* second entry's received_flg */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	seed_commit(buf, BUF_CAP);
	put16(buf + 32, 2);
	CHECK(dec(buf, n) == WIRE_ERR_LENGTH);
	put16(buf + 32, 4);
	CHECK(dec(buf, n) == WIRE_ERR_TRUNCATED);
}

static void test_encoder_limits(void)
{
	for (unsigned s = 0; s < NSEEDS; s++) {
		size_t n = seeds[s](buf, BUF_CAP);

		CHECK(seeds[s](buf, n) == n);
		CHECK(seeds[s](buf, n - 1) == 0);
		CHECK(seeds[s](buf, 0) == 0);
	}
	struct wire_hdr odd = hdr;

	odd.type = 99; /* the encoder, not the caller, decides the type */
	fill_token(1);
	CHECK(dec(buf, wire_encode_token(buf, BUF_CAP, &odd, &tok)) == WIRE_OK);
	CHECK(pkt.hdr.type == WIRE_TOKEN);

	fill_token(WIRE_RTR_MAX + 1);
	CHECK(wire_encode_token(buf, BUF_CAP, &hdr, &tok) == 0);
	fill_token(1);
	tok.retrans_flg = 2;
	CHECK(wire_encode_token(buf, BUF_CAP, &hdr, &tok) == 0);
	fill_token(1);
	tok.aru = tok.seq + 1;
	CHECK(wire_encode_token(buf, BUF_CAP, &hdr, &tok) == 0);

	fill_join(WIRE_MAX_NODES, 0);
	join.proc_count++;
	CHECK(wire_encode_join(buf, BUF_CAP, &hdr, &join) == 0);
	fill_join(0, WIRE_MAX_NODES);
	join.fail_count++;
	CHECK(wire_encode_join(buf, BUF_CAP, &hdr, &join) == 0);
	fill_join(2, 2);
	join.fail[1] = 0;
	CHECK(wire_encode_join(buf, BUF_CAP, &hdr, &join) == 0);

	fill_commit(1, 0);
	com.memb_count = 0;
	CHECK(wire_encode_commit(buf, BUF_CAP, &hdr, &com) == 0);
	com.memb_count = WIRE_MAX_NODES + 1;
	CHECK(wire_encode_commit(buf, BUF_CAP, &hdr, &com) == 0);
	fill_commit(2, 3);
	CHECK(wire_encode_commit(buf, BUF_CAP, &hdr, &com) == 0);
	fill_commit(2, 2);
	com.memb[1].received_flg = 2;
	CHECK(wire_encode_commit(buf, BUF_CAP, &hdr, &com) == 0);
}

static void test_err_names(void)
{
	static const char *const want[] = { "ok",	   "truncated", "bad-magic",  "bad-version",
					    "bad-cluster", "bad-type",	"bad-length", "bad-field" };

	CHECK(sizeof(want) / sizeof(want[0]) == WIRE_ERR_COUNT_);
	for (unsigned i = 0; i < WIRE_ERR_COUNT_; i++)
		CHECK(strcmp(wire_err_name((enum wire_err)i), want[i]) == 0);
	CHECK(strcmp(wire_err_name(WIRE_ERR_COUNT_), "unknown") == 0);
	CHECK(strcmp(wire_err_name((enum wire_err)255), "unknown") == 0);
}

int main(void)
{
	test_golden();
	test_roundtrip_token();
	test_roundtrip_join();
	test_roundtrip_commit();
	test_roundtrip_ring_only();
	test_truncation();
	test_header_errors();
	test_token_errors();
	test_join_errors();
	test_commit_errors();
	test_encoder_limits();
	test_wire_mcast();
	test_wire_hb();
	test_err_names();
	printf("test_wire: ok\n");
	return 0;
}
