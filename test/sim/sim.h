/* Deterministic simulator: 1..64 nodes of the real Totem core in one process,
 * in virtual time (microseconds), over a simulated network with loss,
 * duplication, reordering, partitions, asymmetric links, crashes and pauses.
 * Everything a run does follows from its 64-bit seed. */
#ifndef COHORT_SIM_H
#define COHORT_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "totem/totem.h"

#define SIM_NODES_MAX 64u

enum sim_workload {
	SIM_WL_RANDOM = 0, /* random sizes, rates, bursts and guarantees */
	SIM_WL_SATURATE,   /* every submit queue kept full (benchmarks) */
	SIM_WL_PING,	   /* one message in flight per node (latency) */
};

/* Hooks for benchmarks; called for every delivery and every packet sent. */
struct sim_hooks {
	void *ctx;
	void (*deliver)(void *ctx, uint32_t node, uint64_t now, const struct totem_action *a);
	void (*packet)(void *ctx, uint32_t from, uint64_t now, const uint8_t *buf, size_t len);
};

struct sim_opts {
	uint32_t nodes;		       /* node count, when nodes_min is 0 */
	uint32_t nodes_min, nodes_max; /* node count derived from each run's seed */
	double loss, dup, reorder;     /* per-link probabilities are drawn up to these */
	bool partitions, crashes, pauses, asymmetric;
	bool check; /* run the checker (off only for benchmarks) */
	int verbose;
	FILE *out; /* reports; NULL: stdout */
	/* benchmarks: a fixed, fault-free run of a given length */
	enum sim_workload workload;
	uint32_t payload_len;	/* SATURATE/PING message size; 0: random */
	uint64_t duration_us;	/* SATURATE/PING run length; 0: the fault/quiet plan */
	uint32_t netmtu;	/* 0: 1500 */
	uint32_t link_delay_us; /* every link this delay, no jitter; 0: random per run */
	struct sim_hooks hooks;
	uint32_t dump_node; /* print this node id's whole trace after the run */
};

struct sim_result {
	uint64_t seed;
	uint32_t nodes;
	int violation;	    /* enum chk_prop, 0 when every property held */
	uint64_t delivered; /* deliveries summed over nodes */
	uint64_t submitted;
	uint64_t events;
	uint64_t packets;      /* packets put on the simulated wire */
	uint64_t end_us;       /* virtual length of the run */
	uint64_t quiet_us;     /* when faults stopped */
	uint64_t bound_us;     /* liveness bound applied */
	uint64_t rings;	       /* regular configurations installed, summed */
	uint64_t settled_us;   /* last regular configuration installed, after quiet_us */
	uint64_t batch_holds;  /* token visits held for a fuller batch, summed */
	uint64_t hold_cancels; /* idle holds ended by a HOLD_CANCEL, summed */
};

struct sim;

struct sim *sim_create(void);
void sim_destroy(struct sim *s);
void sim_default_opts(struct sim_opts *o);
/* Node count a run with this seed uses. */
uint32_t sim_node_count(const struct sim_opts *o, uint64_t seed);
/* Timer configuration every node of the simulation uses. */
void sim_totem_config(struct totem_config *c, const struct sim_opts *o);
/* Liveness bound after faults stop, derived from the timers. */
uint64_t sim_liveness_bound_us(const struct totem_config *c);
/* One run; returns the violated property (0 when all held). */
int sim_run(struct sim *s, const struct sim_opts *o, uint64_t seed, struct sim_result *r);

#endif
