#include "sim_payload.h"

#include <string.h>

#include "sim_rng.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t pad_seed(const struct sim_msg_id *id)
{
	return sim_mix64(((uint64_t)id->nodeid << 32 | id->inc) ^ sim_mix64(id->counter));
}

static uint32_t hdr_check(const uint8_t *buf)
{
	return (uint32_t)sim_mix64(get64(buf) ^ sim_mix64(get64(buf + 8)) ^
				   sim_mix64(get64(buf + 16) + get32(buf + 24)));
}

void sim_payload_encode(uint8_t *buf, size_t len, const struct sim_msg_id *id)
{
	uint64_t x = pad_seed(id);
	size_t off = SIM_PAYLOAD_HDR;

	put32(buf, id->nodeid);
	put32(buf + 4, id->inc);
	put64(buf + 8, id->counter);
	put64(buf + 16, id->submit_us);
	put32(buf + 24, (uint32_t)len);
	put32(buf + 28, hdr_check(buf));
	while (off < len) {
		uint64_t w = sim_splitmix(&x);
		size_t n = len - off < 8 ? len - off : 8;

		memcpy(buf + off, &w, n);
		off += n;
	}
}

enum sim_payload_err sim_payload_decode(const uint8_t *buf, size_t len, struct sim_msg_id *id)
{
	uint64_t x;
	size_t off = SIM_PAYLOAD_HDR;

	memset(id, 0, sizeof(*id));
	if (len < SIM_PAYLOAD_HDR)
		return SIM_PAYLOAD_SHORT;
	id->nodeid = get32(buf);
	id->inc = get32(buf + 4);
	id->counter = get64(buf + 8);
	id->submit_us = get64(buf + 16);
	if (get32(buf + 28) != hdr_check(buf))
		return SIM_PAYLOAD_HEADER;
	if (get32(buf + 24) != len)
		return SIM_PAYLOAD_LENGTH;
	x = pad_seed(id);
	/* whole words compared as integers: this runs for every delivery */
	for (; off + 8 <= len; off += 8) {
		uint64_t w = sim_splitmix(&x), got;

		memcpy(&got, buf + off, 8);
		if (got != w)
			return SIM_PAYLOAD_PADDING;
	}
	if (off < len) {
		uint64_t w = sim_splitmix(&x);

		if (memcmp(buf + off, &w, len - off) != 0)
			return SIM_PAYLOAD_PADDING;
	}
	return SIM_PAYLOAD_OK;
}

const char *sim_payload_err_name(enum sim_payload_err e)
{
	switch (e) {
	case SIM_PAYLOAD_OK:
		return "ok";
	case SIM_PAYLOAD_SHORT:
		return "shorter than its header";
	case SIM_PAYLOAD_LENGTH:
		return "length differs from the submitted one";
	case SIM_PAYLOAD_HEADER:
		return "header corrupted";
	case SIM_PAYLOAD_PADDING:
		return "body corrupted";
	}
	return "?";
}
