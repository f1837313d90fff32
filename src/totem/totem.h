/* Cohort Totem core: the single-ring ordering and membership protocol as a
 * pure state machine. It owns no sockets, clock, threads or randomness: the
 * caller feeds it events with the current time and drains the actions it
 * produced (packets to send, deliveries, configuration changes, the next timer
 * deadline, the ring sequence to persist). The daemon and the simulator drive
 * the same code. */
#ifndef COHORT_TOTEM_H
#define COHORT_TOTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTEM_MAX_NODES 384u
#define TOTEM_TO_ALL 0u /* send destination: every configured node but self */
#define TOTEM_NO_DEADLINE UINT64_MAX

struct totem_ring_id {
	uint32_t rep;
	uint64_t seq;
};

enum totem_guarantee { TOTEM_AGREED = 0, TOTEM_SAFE = 1 };

enum totem_state { TOTEM_GATHER = 1, TOTEM_COMMIT, TOTEM_RECOVERY, TOTEM_OPERATIONAL };

/* Internal error convention of the core (negative errno-like values). */
enum totem_err {
	TOTEM_OK = 0,
	TOTEM_E_AGAIN = -1, /* submit queue full: retry later */
	TOTEM_E_TOOBIG = -2,
	TOTEM_E_INVAL = -3,
	TOTEM_E_NOMEM = -4,
};

struct totem_config {
	uint32_t nodeid;
	uint32_t cluster_id;
	uint32_t members[TOTEM_MAX_NODES]; /* configured node ids (includes self) */
	uint32_t member_count;
	uint32_t token_ms;
	uint32_t token_retransmit_ms;
	uint32_t hold_ms;
	uint32_t join_ms;
	uint32_t consensus_ms;
	uint32_t merge_ms;
	uint32_t downcheck_ms;
	uint32_t token_retransmits_before_loss;
	uint32_t fail_recv_const;	/* rotations without progress before a node is failed */
	uint32_t seqno_unchanged_const; /* idle rotations before the token is held */
	uint32_t max_messages;		/* packets one node may send per token visit */
	uint32_t window_size;		/* packets all nodes may send per rotation */
	uint32_t netmtu;		/* largest data packet the core builds; a token
					 * with a long retransmit list may exceed it */
	uint32_t send_queue_max_msgs;	/* submit queue bound (messages) */
	uint64_t send_queue_max_bytes;	/* submit queue bound (bytes) */
	uint32_t max_msg_bytes;		/* largest application message accepted */
	uint64_t ring_seq_start;	/* persisted highest ring seq, 0 on first start */
	/* A node that fails our gathers again and again (a one-way or
	 * non-transitive link) is not merged with for a while, doubling up to
	 * this cap; 0 turns the backoff off. */
	uint32_t merge_backoff_max_ms;
	/* Under load a node that streams small messages holds the token until
	 * a rotation has taken this long or it has batch_bytes queued, so each
	 * visit carries more and the ring costs fewer wake-ups; 0: off. */
	uint32_t batch_us;
	uint32_t batch_bytes;
	/* Optional: told why membership moves (gather reasons, failures), for
	 * a debug log. Called synchronously from inside the event calls. */
	void (*trace)(void *arg, const char *what, uint32_t nodeid);
	void *trace_arg;
};

/* Fill c with Corosync 3.1.7's defaults (token 3000 ms, consensus 1.2 x token, ...);
 * nodeid, members and cluster_id are left zero. */
void totem_config_defaults(struct totem_config *c);
/* Derive the dependent timers (token_retransmit, consensus) from token_ms. */
void totem_config_derive(struct totem_config *c);

enum totem_action_type {
	TOTEM_ACT_SEND = 1,
	TOTEM_ACT_DELIVER,
	TOTEM_ACT_CONFCHG,
	TOTEM_ACT_TIMER,
	TOTEM_ACT_PERSIST,
};

enum totem_confchg_type { TOTEM_CONF_TRANSITIONAL = 1, TOTEM_CONF_REGULAR = 2 };

/* Pointers inside an action stay valid until the next event call on the node. */
struct totem_action {
	enum totem_action_type type;
	union {
		struct {
			uint32_t to; /* node id, or TOTEM_TO_ALL */
			const uint8_t *data;
			size_t len;
		} send;
		struct {
			uint32_t sender;
			struct totem_ring_id ring_id; /* ring the message was sent in */
			uint64_t seq;		      /* packet seq in that ring */
			enum totem_guarantee guarantee;
			const uint8_t *data;
			size_t len;
		} deliver;
		struct {
			enum totem_confchg_type type;
			struct totem_ring_id ring_id; /* the new ring's id for both kinds */
			const uint32_t *members;
			size_t member_count;
			const uint32_t *left;
			size_t left_count;
			const uint32_t *joined; /* empty for TRANSITIONAL */
			size_t joined_count;
		} confchg;
		struct {
			uint64_t
				deadline_us; /* call totem_on_timer at or after; TOTEM_NO_DEADLINE */
		} timer;
		struct {
			uint64_t ring_seq; /* store durably before acting on later actions */
		} persist;
	} u;
};

struct totem_stats {
	uint64_t rx_packets;
	uint64_t rx_rejected[16]; /* by enum wire_err */
	uint64_t rx_dup;	  /* duplicate or stale packets ignored */
	uint64_t rx_foreign;	  /* packets of other rings */
	uint64_t rx_spoofed;	  /* header sender differs from transport source */
	uint64_t tx_packets;
	uint64_t tx_retransmits;
	uint64_t token_retransmits;
	uint64_t delivered;
	uint64_t rings_formed;
	uint64_t token_losses;
	uint64_t actions_dropped; /* actions not drained before the next event */
	uint64_t rx_backoff;	  /* merge requests ignored during a merge backoff */
	uint64_t merge_backoffs;  /* backoffs started for repeatedly failed nodes */
	uint64_t batch_holds;	  /* token visits held for a fuller batch */
	uint64_t hold_cancels;	  /* idle holds ended early by a member's HOLD_CANCEL */
	/* Time between two visits of the token on the current ring (an idle
	 * ring includes the representative's hold): the last one, and smoothed
	 * with 1/8 of each new one. 0 until two visits were seen. */
	uint64_t token_rotation_last_us;
	uint64_t token_rotation_us;
};

struct totem_node;

int totem_create(const struct totem_config *cfg, struct totem_node **out);
void totem_destroy(struct totem_node *t);

/* Events. now_us is the caller's monotonic clock (virtual in the simulator). */
void totem_start(struct totem_node *t, uint64_t now_us);
void totem_on_packet(struct totem_node *t, uint64_t now_us, uint32_t from_nodeid,
		     const uint8_t *buf, size_t len);
void totem_on_timer(struct totem_node *t, uint64_t now_us);
/* Queue an application message. TOTEM_E_AGAIN when the submit queue is full. */
int totem_submit(struct totem_node *t, uint64_t now_us, enum totem_guarantee g, const void *data,
		 size_t len);
/* The transport's view of a node: unreachable when every link to it is
 * down. It never starts a membership change by itself (the token timeout
 * does), but a gather fails an unreachable node at once instead of waiting
 * for the consensus timeout. */
void totem_set_reachable(struct totem_node *t, uint64_t now_us, uint32_t nodeid, bool reachable);
/* Announce a graceful departure; the node then stays silent. */
void totem_leave(struct totem_node *t, uint64_t now_us);

/* Drain actions in order; returns false when none remain. */
bool totem_next_action(struct totem_node *t, struct totem_action *out);
uint64_t totem_next_deadline(const struct totem_node *t);

/* Queries. */
enum totem_state totem_get_state(const struct totem_node *t);
struct totem_ring_id totem_get_ring_id(const struct totem_node *t);
size_t totem_get_members(const struct totem_node *t, uint32_t *out, size_t max);
uint64_t totem_get_highest_ring_seq(const struct totem_node *t);
size_t totem_submit_space(const struct totem_node *t); /* messages that fit now */
const struct totem_stats *totem_get_stats(const struct totem_node *t);
const char *totem_state_name(enum totem_state s);

#endif
