/* Wire unit tests, MCAST part: payload walking, its rejection reasons, and the
 * incremental builder. */
#include <stdint.h>
#include <string.h>

#include "test_wire.h"

static void test_roundtrip_mcast(void)
{
	static const struct {
		uint8_t g, f;
		const char *s;
	} want[] = { { 0, 3, "abc" }, { 1, 1, "defg" }, { 1, 2, "h" } };
	struct wire_item it;
	uint32_t off = 0;
	unsigned k = 0;

	CHECK(dec(buf, seed_mcast(buf, BUF_CAP)) == WIRE_OK && pkt.hdr.type == WIRE_MCAST);
	CHECK(pkt.u.mcast.ring_id.rep == ring.rep && pkt.u.mcast.seq == 42);
	CHECK(pkt.u.mcast.item_count == 3 && pkt.u.mcast.flags == WIRE_MCAST_HAS_SAFE);
	/* The payload is a view into the buffer, not a copy. */
	CHECK(pkt.u.mcast.payload == buf + WIRE_MCAST_FIXED_LEN);
	while (wire_item_next(&pkt.u.mcast, &off, &it)) {
		CHECK(k < 3 && it.guarantee == want[k].g && it.frag == want[k].f);
		CHECK(it.len == strlen(want[k].s) && memcmp(it.data, want[k].s, it.len) == 0);
		k++;
	}
	CHECK(k == 3 && off == pkt.u.mcast.payload_len);

	/* ENCAP: the outer decode leaves the inner bytes alone; they decode on their own. */
	size_t n = seed_encap(buf, BUF_CAP);

	CHECK(dec(buf, n) == WIRE_OK && pkt.u.mcast.flags == WIRE_MCAST_ENCAP);
	CHECK(pkt.u.mcast.item_count == 0 && pkt.u.mcast.seq == 43);
	off = 0;
	CHECK(!wire_item_next(&pkt.u.mcast, &off, &it));
	struct wire_packet inner;

	CHECK(wire_decode(pkt.u.mcast.payload, pkt.u.mcast.payload_len, CLUSTER, &inner) == 0);
	CHECK(inner.u.mcast.ring_id.rep == 9 && inner.u.mcast.seq == 7);
}

/* Items of seed_mcast: "abc" at 35 (6-byte header), "defg" at 44 and "h" at 58
 * (fragments: 10-byte headers); total 69. */
static void test_mcast_errors(void)
{
	static const uint8_t bad_flags[] = { 0x04, 0x08, 0x80, 0xFF, 0x03 };
	size_t n = seed_mcast(buf, BUF_CAP);

	CHECK(n == 69);
	for (unsigned i = 0; i < sizeof(bad_flags); i++) {
		seed_mcast(buf, BUF_CAP);
		buf[32] = bad_flags[i];
		CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	}
	seed_mcast(buf, BUF_CAP);
	buf[32] = 0; /* a safe LAST item without HAS_SAFE */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	buf[32] = WIRE_MCAST_HAS_SAFE;
	buf[58] = 0; /* HAS_SAFE with no safe LAST item */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	buf[58] = 1;
	buf[35] = 2; /* guarantee out of range, flags otherwise consistent */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	buf[35] = 0;
	buf[36] = 0x04; /* unknown frag bit */
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	buf[36] = 0x03;
	put16(buf + 33, 0);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	put16(buf + 33, 4);
	CHECK(dec(buf, n) == WIRE_ERR_TRUNCATED);
	put16(buf + 33, 2);
	CHECK(dec(buf, n) == WIRE_ERR_LENGTH);
	put16(buf + 33, 3);
	buf[63] = 2; /* last item claims one byte past the end */
	CHECK(dec(buf, n) == WIRE_ERR_TRUNCATED);
	buf[63] = 0; /* last item leaves one byte over */
	CHECK(dec(buf, n) == WIRE_ERR_LENGTH);

	n = seed_encap(buf, BUF_CAP);
	buf[32] = WIRE_MCAST_ENCAP | WIRE_MCAST_HAS_SAFE;
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
	buf[32] = WIRE_MCAST_ENCAP;
	put16(buf + 33, 1);
	CHECK(dec(buf, n) == WIRE_ERR_FIELD);
}

static void test_builder_fit(void)
{
	struct wire_mcast_builder mb;
	uint8_t data[1000];

	memset(data, 0x5A, sizeof(data));
	CHECK(wire_mcast_begin(&mb, buf, WIRE_MCAST_FIXED_LEN - 1, &hdr, &ring, 1) == 0);
	CHECK(wire_mcast_add_item(&mb, 0, 3, data, 0) == 0);
	CHECK(wire_mcast_add_raw(&mb, data, 1) == 0);
	CHECK(wire_mcast_finish(&mb) == 0);

	CHECK(wire_mcast_begin(&mb, buf, WIRE_MCAST_FIXED_LEN, &hdr, &ring, 1) == 35);
	CHECK(wire_mcast_add_item(&mb, 0, 3, NULL, 0) == 0); /* needs 6 more */
	CHECK(wire_mcast_finish(&mb) == 0);		     /* empty is invalid */

	/* 35 + 4 * 16 = 99 fits in 100; the fifth item must leave no trace. */
	memset(buf, 0xEE, 200);
	wire_mcast_begin(&mb, buf, 100, &hdr, &ring, 1);
	for (unsigned i = 0; i < 4; i++)
		CHECK(wire_mcast_add_item(&mb, 0, 3, data, 10) == 35 + 16 * (i + 1));
	CHECK(wire_mcast_add_item(&mb, 0, 3, data, 10) == 0);
	CHECK(wire_mcast_add_item(&mb, 0, 3, data, UINT32_MAX) == 0);
	CHECK(mb.len == 99 && mb.item_count == 4 && buf[99] == 0xEE);
	CHECK(wire_mcast_add_item(&mb, 2, 3, data, 0) == 0); /* bad guarantee */
	CHECK(wire_mcast_add_item(&mb, 0, 4, data, 0) == 0); /* bad frag */
	CHECK(wire_mcast_add_raw(&mb, data, 1) == 0);	     /* items already there */
	CHECK(wire_mcast_finish(&mb) == 99 && dec(buf, 99) == WIRE_OK);
	CHECK(pkt.u.mcast.item_count == 4 && pkt.u.mcast.flags == 0);

	/* A huge buffer still yields at most WIRE_MAX_PACKET bytes. */
	static uint8_t big[1u << 18];

	wire_mcast_begin(&mb, big, sizeof(big), &hdr, &ring, 1);
	while (wire_mcast_add_item(&mb, 0, 3, data, sizeof(data)))
		;
	CHECK(wire_mcast_add_item(&mb, 0, 3, data, (uint32_t)(WIRE_MAX_PACKET - mb.len - 6)));
	CHECK(mb.len == WIRE_MAX_PACKET && !wire_mcast_add_item(&mb, 0, 3, NULL, 0));
	CHECK(wire_mcast_finish(&mb) == WIRE_MAX_PACKET);
	CHECK(dec(big, WIRE_MAX_PACKET) == WIRE_OK && pkt.u.mcast.item_count == mb.item_count);
}

static void test_builder_flags(void)
{
	static const struct {
		uint8_t g, f, safe;
	} cases[] = {
		{ 1, 3, 1 }, { 1, 2, 1 }, { 1, 1, 0 }, { 1, 0, 0 }, { 0, 3, 0 }, { 0, 2, 0 }
	};
	struct wire_mcast_builder mb;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wire_mcast_begin(&mb, buf, BUF_CAP, &hdr, &ring, 1);
		wire_mcast_add_item(&mb, 0, 0, "a", 1);
		wire_mcast_add_item(&mb, cases[i].g, cases[i].f, "b", 1);
		size_t n = wire_mcast_finish(&mb);

		CHECK(buf[32] == (cases[i].safe ? WIRE_MCAST_HAS_SAFE : 0));
		CHECK(dec(buf, n) == WIRE_OK);
	}
	/* ENCAP: one raw blob only, and nothing after it. */
	wire_mcast_begin(&mb, buf, BUF_CAP, &hdr, &ring, 1);
	CHECK(wire_mcast_add_raw(&mb, "x", 0) == 0);
	CHECK(wire_mcast_add_raw(&mb, "xyz", 3) == 38);
	CHECK(wire_mcast_add_raw(&mb, "xyz", 3) == 0);
	CHECK(wire_mcast_add_item(&mb, 0, 3, "a", 1) == 0);
	CHECK(wire_mcast_finish(&mb) == 38 && buf[32] == WIRE_MCAST_ENCAP);
	CHECK(dec(buf, 38) == WIRE_OK && pkt.u.mcast.payload_len == 3);
}

static void test_set_seq(void)
{
	uint8_t copy[128];
	size_t n = seed_mcast(buf, BUF_CAP);

	memcpy(copy, buf, n);
	wire_mcast_set_seq(buf, 0xA1A2A3A4A5A6A7A8ull);
	CHECK(dec(buf, n) == WIRE_OK && pkt.u.mcast.seq == 0xA1A2A3A4A5A6A7A8ull);
	CHECK(buf[24] == 0xA1 && buf[31] == 0xA8);
	CHECK(memcmp(buf, copy, 24) == 0 && memcmp(buf + 32, copy + 32, n - 32) == 0);
}

void test_wire_mcast(void)
{
	test_roundtrip_mcast();
	test_mcast_errors();
	test_builder_fit();
	test_builder_flags();
	test_set_seq();
}
