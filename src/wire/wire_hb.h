/* Transport heartbeats (packet kind NET_KIND_HEARTBEAT), encoded and decoded
 * here like every other packet. Layout, network byte order:
 *   u8 version, u8 flags, u8 link, u8 reserved          (4 bytes, always)
 *   u32 seq, u32 echo_seq, u32 echo_hold_us            (12 bytes, optional)
 * The optional part lets the sender measure the link's round-trip time: the
 * peer echoes the newest seq it received and how long it held it before
 * answering. A 4-byte heartbeat (older senders) carries no timing; any other
 * length, a flag bit other than HEAR_YOU or a non-zero reserved byte is
 * refused. */
#ifndef COHORT_WIRE_HB_H
#define COHORT_WIRE_HB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_HB_VERSION 1u
#define WIRE_HB_BASE_LEN 4u
#define WIRE_HB_LEN 16u
#define WIRE_HB_HEAR_YOU 0x01u

struct wire_hb {
	uint8_t flags;
	uint8_t link;
	bool timed;	       /* the optional part is present */
	uint32_t seq;	       /* this heartbeat's number, from 1; 0 = none */
	uint32_t echo_seq;     /* newest seq heard from the receiver; 0 = none */
	uint32_t echo_hold_us; /* time between hearing echo_seq and sending this */
};

/* Returns WIRE_HB_LEN, or 0 if cap is too small. */
size_t wire_encode_hb(uint8_t *buf, size_t cap, const struct wire_hb *h);
enum wire_err wire_decode_hb(const uint8_t *buf, size_t len, struct wire_hb *out);

#endif
