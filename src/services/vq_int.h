/* Private state of the votequorum core (vq_core.c, vq_calc.c). */
#ifndef COHORT_SERVICES_VQ_INT_H
#define COHORT_SERVICES_VQ_INT_H

#include "services/vq_core.h"

#define VQ_NO_DEADLINE UINT64_MAX

struct vq_entry {
	uint32_t nodeid;
	uint32_t state; /* enum vq_node_state */
	bool reported;	/* its NODEINFO for the current ring has been delivered */
	uint32_t votes;
	uint32_t expected;
	uint32_t flags; /* VQ_NF_* it advertised last */
};

/* A tie-breaker reference: the members of a ring that was quorate by votes. */
struct vq_ref {
	struct vq_ring ring; /* seq 0: none yet */
	uint32_t count;
	uint32_t members[VQ_MAX_NODES];
};

struct vq {
	struct vq_options opt;
	uint32_t my_votes;
	uint32_t my_expected;
	uint32_t ev_floor; /* allow_downscale never lowers expected below this */
	bool waiting;	   /* wait_for_all: not yet seen every vote at once */
	bool leaving;
	bool quorate;
	bool by_votes; /* quorate without the tie-breaker's help */
	uint32_t quorum;
	uint32_t total_votes;

	struct vq_ring ring;
	uint32_t members[VQ_MAX_NODES];
	size_t member_count;
	size_t reported;
	bool settled;

	/* What this ring's NODEINFOs advertised so far, decided on at settle. */
	struct vq_ref cand;
	bool peer_quorate;    /* a member was quorate and not waiting */
	uint32_t exp_quorate; /* highest expected among quorate members, 0: none */
	uint32_t exp_all;     /* highest expected among all members */

	struct vq_ref tb;
	uint64_t lms_deadline;

	struct vq_entry nodes[VQ_TABLE_MAX]; /* sorted by node id */
	size_t node_count;
};

/* vq_core.c */
struct vq_entry *vq_find(struct vq *q, uint32_t nodeid);
const struct vq_entry *vq_find_const(const struct vq *q, uint32_t nodeid);
bool vq_is_member(const struct vq *q, uint32_t nodeid);

/* vq_calc.c */
uint32_t vq_quorum_for(const struct vq *q, uint32_t expected, size_t member_count);
uint32_t vq_member_votes(const struct vq *q);
bool vq_atb_wins(const struct vq *q, uint32_t total, uint32_t expected);
/* Recompute totals, quorum and quorate from the table; VQ_EV_* of what changed. */
unsigned vq_recompute(struct vq *q);
bool vq_ring_newer(struct vq_ring a, struct vq_ring b);
bool vq_ring_eq(struct vq_ring a, struct vq_ring b);

#endif
