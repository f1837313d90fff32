#include "wire_hb.h"

#include "wire_int.h"

size_t wire_encode_hb(uint8_t *buf, size_t cap, const struct wire_hb *h)
{
	uint8_t *p = buf;

	if (cap < WIRE_HB_LEN)
		return 0;
	wire_wr_u8(&p, WIRE_HB_VERSION);
	wire_wr_u8(&p, h->flags);
	wire_wr_u8(&p, h->link);
	wire_wr_u8(&p, 0);
	wire_wr_u32(&p, h->seq);
	wire_wr_u32(&p, h->echo_seq);
	wire_wr_u32(&p, h->echo_hold_us);
	return WIRE_HB_LEN;
}

enum wire_err wire_decode_hb(const uint8_t *buf, size_t len, struct wire_hb *out)
{
	const uint8_t *p = buf;

	*out = (struct wire_hb){ 0 };
	if (len < WIRE_HB_BASE_LEN)
		return WIRE_ERR_TRUNCATED;
	if (buf[0] != WIRE_HB_VERSION)
		return WIRE_ERR_VERSION;
	p++;
	out->flags = wire_rd_u8(&p);
	out->link = wire_rd_u8(&p);
	/* As everywhere on the wire, unused bits must be zero, so a later
	 * version can give them a meaning that older nodes then refuse. */
	if ((out->flags & ~WIRE_HB_HEAR_YOU) != 0 || wire_rd_u8(&p) != 0)
		return WIRE_ERR_FIELD;
	if (len == WIRE_HB_BASE_LEN)
		return WIRE_OK;
	if (len < WIRE_HB_LEN)
		return WIRE_ERR_TRUNCATED;
	if (len > WIRE_HB_LEN)
		return WIRE_ERR_LENGTH;
	out->timed = true;
	out->seq = wire_rd_u32(&p);
	out->echo_seq = wire_rd_u32(&p);
	out->echo_hold_us = wire_rd_u32(&p);
	return WIRE_OK;
}
