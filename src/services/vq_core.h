/* votequorum's rules as a state machine with no I/O: it is fed the ring's
 * regular configurations, the votequorum messages delivered by the ring (as
 * decoded structs) and the time, and answers what the quorum is.
 *
 * Agreement: after every regular configuration each member multicasts one
 * NODEINFO (votes, expected votes, flags, tie-breaker reference). The ring
 * is "settled" when the NODEINFO of every member has been delivered; since
 * Totem delivers them in one total order, every member settles at the same
 * message with the same set of NODEINFOs, and every decision taken then (or
 * later, on a RECONFIG or LMS message) is a function of data all members
 * share. Local history only enters through values each member advertises.
 *
 * Rules (votequorum(5), SPEC section 3):
 *   expected  = highest expected votes advertised by the members that were
 *               quorate (so a quorate cluster's lowered value survives a
 *               rejoin), or by all members when none was; never below the
 *               votes present.
 *   quorum    = expected / 2 + 1; 1 with two_node while at most 2 members.
 *   quorate   = votes present >= quorum, unless wait_for_all still waits;
 *               or by auto_tie_breaker on an exact half split.
 */
#ifndef COHORT_SERVICES_VQ_CORE_H
#define COHORT_SERVICES_VQ_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VQ_MAX_NODES 384u   /* members of one ring, as Totem */
#define VQ_MAX_VOTES 65535u /* per node, as the configuration allows */
#define VQ_MAX_EXPECTED (VQ_MAX_NODES * VQ_MAX_VOTES)
#define VQ_MAX_ATB_NODES 32u
#define VQ_TABLE_MAX (2u * VQ_MAX_NODES) /* known nodes, members and dead */

/* Errors (0 is success). */
enum {
	VQ_E_INVAL = -1,	/* value out of range (0 expected votes, too many votes) */
	VQ_E_NOENT = -2,	/* node id not known to votequorum */
	VQ_E_AGAIN = -3,	/* the ring has not settled yet, or changed meanwhile */
	VQ_E_LOSES_QUORUM = -4, /* the quorum needed would be more than the votes present */
	VQ_E_MINORITY = -5,	/* the quorum would not be a majority of the votes present */
	VQ_E_STALE = -6,	/* message for another ring or from a non-member: ignored */
	VQ_E_NOMEM = -7,
};
const char *vq_strerror(int err);

/* Same values as votequorum.h's VOTEQUORUM_INFO_* and _NODESTATE_*. */
#define VQ_INFO_TWONODE 1u
#define VQ_INFO_QUORATE 2u
#define VQ_INFO_WAIT_FOR_ALL 4u
#define VQ_INFO_LAST_MAN_STANDING 8u
#define VQ_INFO_AUTO_TIE_BREAKER 16u
#define VQ_INFO_ALLOW_DOWNSCALE 32u

enum vq_node_state { VQ_NODE_MEMBER = 1, VQ_NODE_DEAD = 2, VQ_NODE_LEAVING = 3 };

/* NODEINFO flags. */
#define VQ_NF_QUORATE 1u /* the sender was quorate when it wrote the message */
#define VQ_NF_WAITING 2u /* the sender's wait_for_all is still waiting */
#define VQ_NF_LEAVING 4u /* the sender is shutting down cleanly (allow_downscale) */
#define VQ_NF_ALL (VQ_NF_QUORATE | VQ_NF_WAITING | VQ_NF_LEAVING)

enum vq_atb_mode { VQ_ATB_LOWEST = 0, VQ_ATB_HIGHEST, VQ_ATB_LIST };

struct vq_options {
	uint32_t my_nodeid;
	uint32_t my_votes;	 /* quorum_votes of this node */
	uint32_t expected_votes; /* quorum.expected_votes, or the nodelist's sum; >= 1 */
	bool two_node;
	bool wait_for_all;
	bool last_man_standing;
	uint32_t lms_window_ms;
	bool auto_tie_breaker;
	enum vq_atb_mode atb_mode;
	uint32_t atb_nodes[VQ_MAX_ATB_NODES];
	size_t atb_node_count;
	bool allow_downscale;
};

struct vq_ring {
	uint32_t rep;
	uint64_t seq;
};

/* One member's view, multicast after every regular configuration. The
 * tie-breaker reference is the member list of the latest ring the sender
 * knows to have been quorate by votes (tb.seq 0: none). */
struct vq_nodeinfo {
	struct vq_ring ring;
	uint32_t nodeid;
	uint32_t votes;
	uint32_t expected;
	uint32_t flags; /* VQ_NF_* */
	struct vq_ring tb;
	uint32_t tb_count;
	uint32_t tb_members[VQ_MAX_NODES];
};

enum vq_reconfig_param { VQ_RECONFIG_EXPECTED = 1, VQ_RECONFIG_VOTES = 2 };

/* A runtime change asked by a client of node `origin`; request `req_id` lets
 * the origin answer its client when the change comes back in order. */
struct vq_reconfig {
	struct vq_ring ring;
	uint32_t origin;
	uint32_t req_id;
	uint32_t param; /* enum vq_reconfig_param */
	uint32_t nodeid;
	uint32_t value;
};

/* What changed, returned by the event functions (a bit mask). */
#define VQ_EV_SETTLED 1u  /* ring settled: nodelist then quorum notification */
#define VQ_EV_QUORATE 2u  /* quorate flipped outside a settle: quorum notification */
#define VQ_EV_EXPECTED 4u /* expected votes changed: expected-votes notification */
#define VQ_EV_LMS 8u	  /* the last_man_standing deadline changed */

struct vq_status {
	bool quorate;
	bool settled;
	struct vq_ring ring;
	uint32_t expected;	   /* this node's expected votes */
	uint32_t highest_expected; /* highest expected votes among members */
	uint32_t total_votes;	   /* votes of the members present */
	uint32_t quorum;
	uint32_t flags; /* VQ_INFO_* */
	size_t member_count;
	bool waiting; /* wait_for_all has not yet seen every node */
};

struct vq_node {
	uint32_t nodeid;
	uint32_t state; /* enum vq_node_state */
	uint32_t votes;
	uint32_t expected;
};

struct vq;

/* Validates the options (VQ_E_INVAL for 0 expected votes, votes or ids out of
 * range) and starts alone: members {me}, quorate if my votes suffice. */
int vq_create(const struct vq_options *opt, struct vq **out);
void vq_destroy(struct vq *q);

/* A regular configuration. Afterwards the caller multicasts vq_my_nodeinfo(). */
unsigned vq_confchg(struct vq *q, struct vq_ring ring, const uint32_t *members, size_t count);
void vq_my_nodeinfo(const struct vq *q, struct vq_nodeinfo *out);

/* Messages delivered by the ring. Return VQ_EV_* bits, or a negative error
 * (VQ_E_STALE for messages that do not belong to the current ring). */
int vq_on_nodeinfo(struct vq *q, uint32_t sender, const struct vq_nodeinfo *ni, uint64_t now_ms);
/* For a RECONFIG, *result is 0 when it was applied, or why it was refused;
 * the origin reports that to its client. */
int vq_on_reconfig(struct vq *q, uint32_t sender, const struct vq_reconfig *rc, int *result);
int vq_on_lms(struct vq *q, uint32_t sender, struct vq_ring ring);

/* Would this change be accepted now? 0 or a VQ_E_* reason. */
int vq_check_setexpected(const struct vq *q, uint32_t expected);
int vq_check_setvotes(const struct vq *q, uint32_t nodeid, uint32_t votes);

/* last_man_standing: when the window started by a shrink ends (UINT64_MAX:
 * not armed). vq_lms_fire returns true once the deadline has passed; the
 * caller then multicasts an LMS message for the current ring, which lowers
 * the expected votes on every member at the same point of the order. */
uint64_t vq_lms_deadline(const struct vq *q);
bool vq_lms_fire(struct vq *q, uint64_t now_ms);

/* Clean shutdown with allow_downscale: the next NODEINFO says LEAVING. */
void vq_set_leaving(struct vq *q);

void vq_get_status(const struct vq *q, struct vq_status *out);
size_t vq_get_members(const struct vq *q, uint32_t *out, size_t max);
/* Every node known (members, dead, leaving), by node id. */
size_t vq_get_nodes(const struct vq *q, struct vq_node *out, size_t max);
int vq_get_node(const struct vq *q, uint32_t nodeid, struct vq_node *out);
uint32_t vq_my_nodeid(const struct vq *q);

#endif
