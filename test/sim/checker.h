/* Checker of the extended virtual synchrony properties (SPEC.md section 2).
 * The simulator reports what every node observably did (submissions,
 * deliveries, configuration changes, persisted ring seqs, crashes); the
 * checker verifies what it can at once and the rest when the run ends, and
 * on the first violation prints a description and the events that led to it. */
#ifndef COHORT_SIM_CHECKER_H
#define COHORT_SIM_CHECKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "totem/totem.h"

#define CHK_NODES_MAX 64u

enum chk_prop {
	CHK_OK = 0,
	CHK_P_ONCE = 1,	   /* at most once, only what was submitted, intact */
	CHK_P_ORDER = 2,   /* one total order */
	CHK_P_VS = 3,	   /* virtual synchrony */
	CHK_P_SENT_IN = 4, /* delivered in the configuration it was sent in */
	CHK_P_SAFE = 5,	   /* safe delivery */
	CHK_P_CONF = 6,	   /* configuration changes, ring id monotony */
	CHK_P_LIVE = 7,	   /* liveness after faults stop */
	CHK_P_API = 8,	   /* the core broke its API contract */
};

/* Events the simulator records only to give a trace context. */
enum chk_note { CHK_NOTE_PAUSE = 1, CHK_NOTE_RESUME, CHK_NOTE_LEAVE, CHK_NOTE_PART };

struct chk_params {
	uint32_t node_count;	 /* 1..CHK_NODES_MAX */
	const uint32_t *nodeids; /* distinct; index i is "node i" below */
	FILE *out;		 /* violation reports; NULL: keep quiet */
};

/* Liveness obligations, checked by chk_finish when enabled. */
struct chk_live {
	bool enabled;
	uint64_t quiet_start_us; /* every fault healed, every node up from here */
	uint64_t bound_us;	 /* one ring of all nodes by quiet_start_us + bound_us */
};

struct chk;

struct chk *chk_create(void);
void chk_destroy(struct chk *c);
/* Forget the previous run and start a new one; every node starts down. */
void chk_begin(struct chk *c, const struct chk_params *p);

/* A node incarnation was created (first start or restart). */
void chk_start(struct chk *c, uint64_t now, uint32_t node);
/* The node's process died (crash or leave): its state is gone. */
void chk_crash(struct chk *c, uint64_t now, uint32_t node);
void chk_submit(struct chk *c, uint64_t now, uint32_t node, enum totem_guarantee g,
		const uint8_t *payload, size_t len);
void chk_deliver(struct chk *c, uint64_t now, uint32_t node, const struct totem_action *a);
void chk_confchg(struct chk *c, uint64_t now, uint32_t node, const struct totem_action *a);
void chk_persist(struct chk *c, uint64_t now, uint32_t node, uint64_t ring_seq);
void chk_note(struct chk *c, uint64_t now, uint32_t node, enum chk_note what, uint64_t arg);
/* The simulator saw the core break its API contract. */
void chk_api_error(struct chk *c, uint64_t now, uint32_t node, const char *what);
/* End-of-run checks; returns the violated property or CHK_OK. */
int chk_finish(struct chk *c, uint64_t now, const struct chk_live *live);

/* Print every event kept for node (the last few thousand). */
void chk_dump(struct chk *c, uint32_t node, FILE *out);
/* Whether a delivery that liveness will require is still outstanding: a live
 * sender has not delivered its own message, or a node in the ring a message
 * was sent in has not delivered it. */
bool chk_pending(const struct chk *c);
int chk_violation(const struct chk *c);
const char *chk_prop_name(int prop);
uint64_t chk_delivered(const struct chk *c);
uint64_t chk_submitted(const struct chk *c);
/* Highest ring seq node has installed over all its incarnations. */
uint64_t chk_max_ring_seq(const struct chk *c, uint32_t node);

#endif
