/* votequorum ring messages: round trips, and every malformed input refused
 * with its reason (never read past the buffer: run under ASan). */
#include <stdlib.h>
#include <string.h>

#include "test_vq_fixture.h"

int test_vq_msg_main(void);

static void test_roundtrip(void)
{
	static struct vq_nodeinfo ni, *got;
	static struct vq_msg m;
	struct vq_reconfig rc = { { 4, 77 }, 4, 9, VQ_RECONFIG_VOTES, 2, 3 };
	uint8_t buf[VQ_MSG_MAX_BYTES];
	size_t len;

	ni = (struct vq_nodeinfo){ .ring = { 1, 0x1122334455667788ull },
				   .nodeid = 7,
				   .votes = 2,
				   .expected = 9,
				   .flags = VQ_NF_QUORATE | VQ_NF_WAITING,
				   .tb = { 1, 40 },
				   .tb_count = 3 };
	ni.tb_members[0] = 1;
	ni.tb_members[1] = 5;
	ni.tb_members[2] = 7;
	len = vq_msg_encode_nodeinfo(&ni, buf, sizeof(buf));
	CHECK_EQ(len, VQ_MSG_NODEINFO_FIXED + 12);
	CHECK_EQ(vq_msg_encode_nodeinfo(&ni, buf, len - 1), 0);
	CHECK_EQ(vq_msg_decode(buf, len, &m), VQ_MSG_OK);
	got = &m.u.nodeinfo;
	CHECK_EQ(m.type, VQ_MSG_NODEINFO);
	CHECK(m.ring.rep == 1 && m.ring.seq == 0x1122334455667788ull);
	CHECK(got->nodeid == 7 && got->votes == 2 && got->expected == 9);
	CHECK_EQ(got->flags, VQ_NF_QUORATE | VQ_NF_WAITING);
	CHECK(got->tb.rep == 1 && got->tb.seq == 40 && got->tb_count == 3);
	CHECK(got->tb_members[1] == 5 && got->tb_members[2] == 7);
	/* Little-endian on the wire whatever the host. */
	CHECK(buf[0] == VQ_MSG_NODEINFO && buf[1] == VQ_MSG_VERSION && buf[4] == 1);
	CHECK(buf[8] == 0x88 && buf[15] == 0x11);

	len = vq_msg_encode_reconfig(&rc, buf, sizeof(buf));
	CHECK_EQ(len, VQ_MSG_HEADER_BYTES + 20);
	CHECK_EQ(vq_msg_decode(buf, len, &m), VQ_MSG_OK);
	CHECK_EQ(m.type, VQ_MSG_RECONFIG);
	CHECK(m.u.reconfig.ring.seq == 77 && m.u.reconfig.origin == 4);
	CHECK(m.u.reconfig.req_id == 9 && m.u.reconfig.nodeid == 2 && m.u.reconfig.value == 3);

	len = vq_msg_encode_lms((struct vq_ring){ 3, 12 }, buf, sizeof(buf));
	CHECK_EQ(len, VQ_MSG_HEADER_BYTES);
	CHECK_EQ(vq_msg_decode(buf, len, &m), VQ_MSG_OK);
	CHECK(m.type == VQ_MSG_LMS && m.ring.rep == 3 && m.ring.seq == 12);
}

static enum vq_msg_err decode_copy(const uint8_t *src, size_t len)
{
	static struct vq_msg m;
	/* An exact-size heap copy so that ASan catches any read past it. */
	uint8_t *p = malloc(len ? len : 1);
	enum vq_msg_err e;

	memcpy(p, src, len);
	e = vq_msg_decode(p, len, &m);
	free(p);
	return e;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_malformed(void)
{
	static struct vq_nodeinfo ni;
	uint8_t good[VQ_MSG_MAX_BYTES], b[VQ_MSG_MAX_BYTES + 8];
	size_t len;

	ni = (struct vq_nodeinfo){ .ring = { 1, 2 },
				   .nodeid = 1,
				   .votes = 1,
				   .expected = 3,
				   .tb = { 1, 1 },
				   .tb_count = 1 };
	ni.tb_members[0] = 1;
	len = vq_msg_encode_nodeinfo(&ni, good, sizeof(good));
	/* Every truncation, and one byte too many. */
	for (size_t l = 0; l < len; l++)
		CHECK(decode_copy(good, l) != VQ_MSG_OK);
	memcpy(b, good, len);
	b[len] = 0;
	CHECK_EQ(decode_copy(b, len + 1), VQ_MSG_E_LENGTH);
	CHECK_EQ(decode_copy(good, 3), VQ_MSG_E_SHORT);
	/* Header fields. */
	memcpy(b, good, len);
	b[0] = 9;
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_TYPE);
	memcpy(b, good, len);
	b[1] = 2;
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_VERSION);
	memcpy(b, good, len);
	b[3] = 1;
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_VERSION);
	/* Ranges: node id 0, too many votes, 0 expected, unknown flags,
	 * a huge member count, a member id 0, a ring without members. */
	static const struct {
		size_t off;
		uint32_t v;
		enum vq_msg_err want;
	} bad[] = {
		{ 16, 0, VQ_MSG_E_RANGE },
		{ 20, VQ_MAX_VOTES + 1, VQ_MSG_E_RANGE },
		{ 24, 0, VQ_MSG_E_RANGE },
		{ 28, 0x80, VQ_MSG_E_RANGE },
		{ 44, VQ_MAX_NODES + 1, VQ_MSG_E_RANGE },
		{ 44, 0xffffffffu, VQ_MSG_E_RANGE },
		{ 44, 2, VQ_MSG_E_LENGTH },
		{ 48, 0, VQ_MSG_E_RANGE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(b, good, len);
		put32(b + bad[i].off, bad[i].v);
		CHECK_EQ(decode_copy(b, len), bad[i].want);
	}
	ni.tb_count = 0;
	len = vq_msg_encode_nodeinfo(&ni, b, sizeof(b));
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_RANGE); /* ring seq set, no members */
}

static void test_malformed_other(void)
{
	struct vq_reconfig rc = { { 1, 2 }, 1, 1, VQ_RECONFIG_EXPECTED, 0, 3 };
	uint8_t good[64], b[64];
	size_t len;

	len = vq_msg_encode_reconfig(&rc, good, sizeof(good));
	CHECK_EQ(decode_copy(good, len), VQ_MSG_OK);
	CHECK_EQ(decode_copy(good, len - 1), VQ_MSG_E_SHORT);
	memcpy(b, good, len);
	put32(b + 24, 3); /* unknown parameter */
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_RANGE);
	put32(b + 24, VQ_RECONFIG_EXPECTED);
	put32(b + 32, 0); /* expected 0 */
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_RANGE);
	put32(b + 24, VQ_RECONFIG_VOTES);
	put32(b + 32, VQ_MAX_VOTES + 1);
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_RANGE);
	put32(b + 32, 1);
	put32(b + 28, 0); /* votes for node 0 */
	CHECK_EQ(decode_copy(b, len), VQ_MSG_E_RANGE);

	len = vq_msg_encode_lms((struct vq_ring){ 1, 1 }, b, sizeof(b));
	b[len] = 0;
	CHECK_EQ(decode_copy(b, len + 1), VQ_MSG_E_LENGTH);
	CHECK(strcmp(vq_msg_strerror(VQ_MSG_E_LENGTH), "length does not match contents") == 0);
	CHECK(strcmp(vq_msg_strerror((enum vq_msg_err)99), "unknown") == 0);
}

/* Random bytes, and random mutations of good messages: the decoder must
 * refuse or accept without reading out of bounds, and whatever it accepts
 * must be harmless to a running core. */
static void test_random(void)
{
	struct vqt t;
	uint8_t b[VQ_MSG_MAX_BYTES];
	uint32_t x = 12345;

	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	for (int round = 0; round < 20000; round++) {
		size_t len;

		x = x * 1103515245u + 12345u;
		len = (x >> 8) % 96;
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			b[i] = (uint8_t)(x >> 16);
		}
		if (len >= 4 && (round & 1)) {
			b[0] = (uint8_t)(1 + round % 3);
			b[1] = VQ_MSG_VERSION;
			b[2] = b[3] = 0;
		}
		(void)decode_copy(b, len);
		(void)vqt_inject(&t, 1, 1 + (x % 3), b, len);
	}
	/* Random LMS/RECONFIG/NODEINFO for stale rings changed nothing. */
	CHECK(vqt_quorate(&t, 1));
	vqt_free(&t);
}

int test_vq_msg_main(void)
{
	test_roundtrip();
	test_malformed();
	test_malformed_other();
	test_random();
	return 0;
}
