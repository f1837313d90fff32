/* Heartbeat codec (wire/wire_hb.h): golden bytes, the short form older nodes
 * send, and every malformed variant the decoder must refuse. */
#include <string.h>

#include "test_wire.h"
#include "wire/wire_hb.h"

static void test_hb_golden(void)
{
	static const uint8_t want[WIRE_HB_LEN] = { 1, 1, 2, 0, 0, 0, 0,	   7,
						   0, 0, 1, 0, 0, 0, 0x30, 0x39 };
	struct wire_hb h = { .flags = WIRE_HB_HEAR_YOU,
			     .link = 2,
			     .seq = 7,
			     .echo_seq = 256,
			     .echo_hold_us = 12345 };
	struct wire_hb back;
	uint8_t b[WIRE_HB_LEN + 1];

	CHECK(wire_encode_hb(b, sizeof(b), &h) == WIRE_HB_LEN);
	CHECK(memcmp(b, want, WIRE_HB_LEN) == 0);
	CHECK(wire_encode_hb(b, WIRE_HB_LEN - 1, &h) == 0);
	CHECK(wire_decode_hb(want, WIRE_HB_LEN, &back) == WIRE_OK);
	CHECK(back.timed && back.flags == h.flags && back.link == 2 && back.seq == 7 &&
	      back.echo_seq == 256 && back.echo_hold_us == 12345);
	/* The 4-byte form of version 1 without timing. */
	CHECK(wire_decode_hb(want, WIRE_HB_BASE_LEN, &back) == WIRE_OK);
	CHECK(!back.timed && back.link == 2 && back.seq == 0);
}

static void test_hb_errors(void)
{
	uint8_t b[WIRE_HB_LEN + 1] = { 1, 0, 0, 0 };
	struct wire_hb h;

	for (size_t len = 0; len < WIRE_HB_BASE_LEN; len++)
		CHECK(wire_decode_hb(b, len, &h) == WIRE_ERR_TRUNCATED);
	for (size_t len = WIRE_HB_BASE_LEN + 1; len < WIRE_HB_LEN; len++)
		CHECK(wire_decode_hb(b, len, &h) == WIRE_ERR_TRUNCATED);
	CHECK(wire_decode_hb(b, WIRE_HB_LEN + 1, &h) == WIRE_ERR_LENGTH);
	b[0] = 2;
	CHECK(wire_decode_hb(b, WIRE_HB_BASE_LEN, &h) == WIRE_ERR_VERSION);
	b[0] = 1;
	b[1] = 0x02;
	CHECK(wire_decode_hb(b, WIRE_HB_BASE_LEN, &h) == WIRE_ERR_FIELD);
	b[1] = 0;
	b[3] = 1;
	CHECK(wire_decode_hb(b, WIRE_HB_BASE_LEN, &h) == WIRE_ERR_FIELD);
}

void test_wire_hb(void)
{
	test_hb_golden();
	test_hb_errors();
}
