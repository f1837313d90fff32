/* Private helpers of the wire codec, shared by the decoder and the encoders.
 * Every multi-byte field is assembled from single bytes so that alignment and
 * host byte order never matter; compilers turn these into one load + bswap. */
#ifndef COHORT_WIRE_INT_H
#define COHORT_WIRE_INT_H

#include <stdint.h>

#include "wire.h"

#define WIRE_RING_ID_LEN 12u
/* MCAST fields patched after the payload is in place. */
#define WIRE_OFF_MCAST_SEQ (WIRE_HDR_LEN + WIRE_RING_ID_LEN)
#define WIRE_OFF_MCAST_FLAGS (WIRE_OFF_MCAST_SEQ + 8u)
#define WIRE_OFF_MCAST_COUNT (WIRE_OFF_MCAST_FLAGS + 1u)
/* Fixed body lengths (after the common header). */
#define WIRE_MCAST_BODY_LEN (WIRE_MCAST_FIXED_LEN - WIRE_HDR_LEN)
#define WIRE_TOKEN_BODY_LEN (WIRE_RING_ID_LEN + 3u * 8u + 3u * 4u + 1u + 2u)
#define WIRE_JOIN_BODY_LEN (8u + 2u) /* up to proc[]; fail_count follows it */
#define WIRE_COMMIT_BODY_LEN (WIRE_RING_ID_LEN + 8u + 2u + 2u)
#define WIRE_COMMIT_MEMB_LEN (4u + WIRE_RING_ID_LEN + 8u + 8u + 1u)
#define WIRE_MCAST_FLAGS_ALL (WIRE_MCAST_ENCAP | WIRE_MCAST_HAS_SAFE)
#define WIRE_FRAG_ALL (WIRE_FRAG_FIRST | WIRE_FRAG_LAST)

static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t wire_get_u64(const uint8_t *p)
{
	return (uint64_t)wire_get_u32(p) << 32 | wire_get_u32(p + 4);
}

static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void wire_put_u64(uint8_t *p, uint64_t v)
{
	wire_put_u32(p, (uint32_t)(v >> 32));
	wire_put_u32(p + 4, (uint32_t)v);
}

/* Cursor forms: the caller has already checked that the whole run of fields
 * fits, so these only advance. */
static inline uint8_t wire_rd_u8(const uint8_t **p)
{
	return *(*p)++;
}

static inline uint16_t wire_rd_u16(const uint8_t **p)
{
	uint16_t v = wire_get_u16(*p);

	*p += 2;
	return v;
}

static inline uint32_t wire_rd_u32(const uint8_t **p)
{
	uint32_t v = wire_get_u32(*p);

	*p += 4;
	return v;
}

static inline uint64_t wire_rd_u64(const uint8_t **p)
{
	uint64_t v = wire_get_u64(*p);

	*p += 8;
	return v;
}

static inline void wire_rd_ring_id(const uint8_t **p, struct wire_ring_id *r)
{
	r->rep = wire_rd_u32(p);
	r->seq = wire_rd_u64(p);
}

static inline void wire_wr_u8(uint8_t **p, uint8_t v)
{
	*(*p)++ = v;
}

static inline void wire_wr_u16(uint8_t **p, uint16_t v)
{
	wire_put_u16(*p, v);
	*p += 2;
}

static inline void wire_wr_u32(uint8_t **p, uint32_t v)
{
	wire_put_u32(*p, v);
	*p += 4;
}

static inline void wire_wr_u64(uint8_t **p, uint64_t v)
{
	wire_put_u64(*p, v);
	*p += 8;
}

static inline void wire_wr_ring_id(uint8_t **p, const struct wire_ring_id *r)
{
	wire_wr_u32(p, r->rep);
	wire_wr_u64(p, r->seq);
}

#endif
