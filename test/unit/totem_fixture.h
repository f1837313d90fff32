/* A small in-memory cluster of Totem cores on a perfect network, for unit
 * tests of the core (the full fault-injecting simulator is in test/sim). */
#ifndef COHORT_TOTEM_FIXTURE_H
#define COHORT_TOTEM_FIXTURE_H

#include <stdint.h>

#include "totem/totem.h"

#define FX_MAX_NODES 16
#define FX_MAX_LOG 20000

struct fx_delivery {
	uint32_t sender;
	uint64_t ring_seq;
	uint8_t guarantee;
	uint32_t len;
	uint64_t tag; /* first 8 bytes of the payload */
};

struct fx_node {
	struct totem_node *t;
	bool up;
	uint64_t persisted;
	struct fx_delivery *log;
	uint32_t log_count;
	uint32_t confchg_regular;
	uint32_t last_members[FX_MAX_NODES];
	uint32_t last_member_count;
	uint64_t last_ring_seq;
};

struct fx_packet {
	uint64_t at;
	uint32_t from, to;
	uint32_t len;
	uint8_t *data;
};

struct fx_cluster {
	uint32_t n;
	uint64_t now;
	struct fx_node node[FX_MAX_NODES];
	struct fx_packet *q;
	uint32_t q_count, q_cap;
	bool cut[FX_MAX_NODES][FX_MAX_NODES]; /* cut[a][b]: a's packets do not reach b */
	uint64_t delay_us;
	uint32_t batch_us, batch_bytes; /* given to nodes (re)started from now on */
};

void fx_init(struct fx_cluster *c, uint32_t n, uint32_t token_ms);
void fx_free(struct fx_cluster *c);
void fx_run_until(struct fx_cluster *c, uint64_t until_us);
int fx_submit(struct fx_cluster *c, uint32_t idx, enum totem_guarantee g, const void *d,
	      uint32_t len);
void fx_crash(struct fx_cluster *c, uint32_t idx);
void fx_restart(struct fx_cluster *c, uint32_t idx, uint32_t token_ms);
void fx_leave(struct fx_cluster *c, uint32_t idx);
/* Tell node idx what the transport knows of nodeid. */
void fx_reachable(struct fx_cluster *c, uint32_t idx, uint32_t nodeid, bool reachable);
bool fx_one_ring(const struct fx_cluster *c);

#endif
