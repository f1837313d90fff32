/* Shared fixtures of the wire unit tests (test_wire.c, test_wire_mcast.c). */
#ifndef COHORT_TEST_WIRE_H
#define COHORT_TEST_WIRE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire/wire.h"

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

#define CLUSTER 0x11223344u
#define BUF_CAP (WIRE_MAX_PACKET + 16u)

extern const struct wire_hdr hdr;
extern const struct wire_ring_id ring;
/* Large structs live in static storage rather than on the stack. */
extern struct wire_packet pkt;
extern uint8_t buf[BUF_CAP];

void put16(uint8_t *p, uint16_t v);
/* wire_decode with CLUSTER into pkt, checking that failures leave type 0. */
enum wire_err dec(const uint8_t *b, size_t len);
/* Three items: (0, FIRST|LAST, "abc"), (1, FIRST, "defg"), (1, LAST, "h"); seq 42. */
size_t seed_mcast(uint8_t *b, size_t cap);
/* ENCAP around a one-item MCAST of ring (9, 1) with seq 7; outer seq 43. */
size_t seed_encap(uint8_t *b, size_t cap);

void test_wire_mcast(void);
void test_wire_hb(void);

#endif
