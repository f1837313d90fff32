/* Internal state of one Totem node. Shared by the core's translation units
 * only; nothing outside src/totem includes this. */
#ifndef COHORT_TOTEM_INT_H
#define COHORT_TOTEM_INT_H

#include "totem/totem.h"
#include "wire/wire.h"

#define STORE_CAP 4096u /* packets kept per ring; power of two */
#define STORE_MASK (STORE_CAP - 1u)
#define ACT_MAX_INLINE 64u

enum totem_timer {
	TMR_TOKEN_LOSS,
	TMR_TOKEN_RETRANS,
	TMR_HOLD,
	TMR_JOIN,
	TMR_CONSENSUS,
	TMR_MERGE,
	TMR_COUNT_
};

struct store_slot {
	uint8_t *buf; /* whole encoded MCAST packet, NULL when absent */
	uint32_t len;
	uint32_t sender;
	uint8_t flags;
	uint16_t item_count;
};

/* The packets of one ring, indexed by seq. Everything below base is gone. */
struct totem_store {
	struct totem_ring_id ring_id;
	struct store_slot *slots;
	uint64_t base;	    /* lowest seq still held or expected */
	uint64_t aru;	    /* every seq <= aru is present (or released) */
	uint64_t high;	    /* highest seq present */
	uint64_t delivered; /* highest seq handed to the application */
};

/* Recycled packet buffers of one size. Packets up to TOTEM_SMALL_BUF bytes
 * go to a pool of small buffers, so that a large netmtu (64 KiB with knet)
 * does not cost 64 KiB per stored packet of small messages. */
#define TOTEM_SMALL_BUF 2048u
/* Free buffers kept for reuse, per pool, in bytes (the rest are freed). */
#define TOTEM_POOL_KEEP_BYTES (16u << 20)
/* Packets a node may have in flight (sent, not yet received by all) are
 * bounded by the stores' size and by this many bytes of stored packets. */
#define TOTEM_INFLIGHT_BYTES (64u << 20)
struct buf_pool {
	uint8_t **free;
	uint32_t count;
	uint32_t cap;
	uint32_t keep; /* most free buffers kept */
	uint32_t buf_size;
};

struct submit_entry {
	uint64_t off; /* byte offset in the queue's ring */
	uint32_t len;
	uint8_t guarantee;
};

/* Bounded FIFO of application messages waiting for the token. Bytes live in
 * one growable circular buffer so that submit does not allocate per message. */
struct submit_queue {
	struct submit_entry *ent;
	uint32_t ent_cap, head, count;
	uint8_t *bytes;
	uint64_t bytes_cap, bytes_head, bytes_used; /* used includes skipped tails */
	uint64_t payload_bytes;
	uint32_t head_frag_off; /* bytes of the head message already sent */
};

struct reasm {
	uint8_t *buf;
	uint32_t len, cap, total;
	bool active;
};

struct act_rec {
	struct totem_action a;
	size_t off[3];
};

/* Gather history of one configured node, for the merge backoff. */
struct memb_peer {
	uint64_t last_fail_us;	 /* when it last ended up failed in a gather */
	uint64_t quiet_until_us; /* its merge requests are ignored until then */
	uint32_t streak;	 /* failures in a row, each soon after the last */
	bool left;		 /* announced its departure: not a failure */
	bool gather_heard;	 /* a join of it was taken in the current gather */
	bool unreachable;	 /* the transport says every link to it is down */
	bool reach_known;	 /* the transport has said anything about it */
	uint64_t last_join_us;	 /* when that last happened */
};

struct totem_node {
	struct totem_config cfg;
	uint32_t members_sorted[TOTEM_MAX_NODES];
	uint64_t now;
	enum totem_state state;
	bool started, left_cluster;
	uint32_t max_app_payload; /* item bytes per packet, leaving room to encapsulate */

	/* ring currently being run (operational or recovering) */
	struct totem_ring_id ring_id;
	uint32_t memb[TOTEM_MAX_NODES];
	uint32_t memb_count;
	/* last operational ring: its store and members */
	struct totem_store ops;
	uint32_t ops_memb[TOTEM_MAX_NODES];
	uint32_t ops_memb_count;
	bool have_ops;
	/* store of the ring under recovery */
	struct totem_store rec;
	uint64_t highest_ring_seq;

	/* token handling for the current ring */
	uint64_t last_token_seq;
	struct wire_token tok; /* working copy, also the held token */
	bool holding;
	bool batch_holding;    /* holding is a batch hold (see totem_config.batch_us) */
	bool hold_cancel_sent; /* since the token last came by */
	bool self_token_pending;
	struct wire_token self_tok; /* a ring of one passes the token to itself */
	uint64_t prev_in_aru, prev_visit_seq, prev_my_aru, stable;
	bool have_prev_visit;
	uint64_t prev_visit_us; /* when the token last reached us on this ring */
	uint32_t seq_unchanged, aru_stalled;
	uint32_t my_last_sent, my_last_backlog;
	uint32_t my_last_msgs; /* messages our last visit took from the submit queue */
	uint8_t *last_tok_buf;
	size_t last_tok_len;
	uint32_t last_tok_to;
	uint32_t tok_retrans_count;

	/* recovery */
	uint64_t *recq; /* old-ring seqs to re-send encapsulated */
	uint32_t recq_head, recq_count, recq_cap;
	uint32_t quiet_count;
	uint64_t install_seq;
	uint32_t trans_memb[TOTEM_MAX_NODES];
	uint32_t trans_count;

	/* gather / commit */
	uint32_t proc[TOTEM_MAX_NODES], proc_count;
	uint32_t fail[TOTEM_MAX_NODES], fail_count;
	bool agreed[TOTEM_MAX_NODES]; /* indexed like proc[] */
	bool heard[TOTEM_MAX_NODES];
	uint64_t gather_max_ring_seq;
	bool consensus_waited;	  /* the last consensus timeout spared live nodes */
	uint64_t gather_start_us; /* when the current gather began */
	bool awaiting_commit;	  /* all agreed; the representative's token is due */
	uint64_t last_commit_token_seq;
	struct wire_commit commit;
	struct memb_peer *peer; /* indexed like members_sorted */

	struct submit_queue sq;
	struct reasm *reasm;	    /* indexed like members_sorted */
	struct buf_pool pool;	    /* netmtu-sized buffers */
	struct buf_pool pool_small; /* TOTEM_SMALL_BUF-sized buffers */

	/* actions of the current event */
	struct act_rec *acts;
	uint32_t acts_count, acts_head, acts_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint64_t reported_deadline;

	uint64_t tmr[TMR_COUNT_];
	struct wire_packet pkt;	   /* decode scratch for the packet being handled */
	struct wire_join join_out; /* encode scratch: never alias pkt */
	struct wire_packet inner;  /* decode scratch for encapsulated packets */
	struct totem_stats stats;
};

/* totem.c: actions, timers, helpers */
int totem_member_index(const struct totem_node *t, uint32_t nodeid);
bool totem_set_has(const uint32_t *set, uint32_t n, uint32_t id);
void totem_set_add(uint32_t *set, uint32_t *n, uint32_t id);
void totem_timer_arm(struct totem_node *t, enum totem_timer w, uint64_t after_ms);
void totem_timer_arm_us(struct totem_node *t, enum totem_timer w, uint64_t after_us);
void totem_timer_stop(struct totem_node *t, enum totem_timer w);
uint8_t *totem_act_send_reserve(struct totem_node *t, uint32_t to, size_t cap);
void totem_act_send_commit(struct totem_node *t, size_t len);
void totem_act_send_copy(struct totem_node *t, uint32_t to, const uint8_t *data, size_t len);
void totem_act_deliver(struct totem_node *t, uint32_t sender, struct totem_ring_id rid,
		       uint64_t seq, uint8_t guarantee, const uint8_t *data, size_t len);
void totem_act_confchg(struct totem_node *t, enum totem_confchg_type type, const uint32_t *members,
		       size_t mc, const uint32_t *left, size_t lc, const uint32_t *joined,
		       size_t jc);
void totem_act_persist(struct totem_node *t, uint64_t ring_seq);
struct wire_hdr totem_hdr(const struct totem_node *t, uint8_t type);
uint32_t totem_next_member(const struct totem_node *t);

/* totem_store.c: buffer pool, stores, submit queue, packing; totem_order.c: token, delivery */
void totem_pool_init(struct buf_pool *p, uint32_t buf_size);
void totem_pool_free(struct buf_pool *p);
int store_init(struct totem_store *s);
void store_reset(struct totem_node *t, struct totem_store *s, struct totem_ring_id rid);
void store_free(struct totem_node *t, struct totem_store *s);
bool store_put(struct totem_node *t, struct totem_store *s, uint64_t seq, const uint8_t *buf,
	       size_t len, uint32_t sender, const struct wire_mcast *m);
struct store_slot *store_get(struct totem_store *s, uint64_t seq);
void store_release_upto(struct totem_node *t, struct totem_store *s, uint64_t upto);
size_t order_pack_packet(struct totem_node *t, struct wire_mcast_builder *bp, uint8_t *buf,
			 uint64_t seq);
void sq_free(struct submit_queue *q);
int sq_push(struct totem_node *t, uint8_t g, const void *data, size_t len);
void order_on_mcast(struct totem_node *t, const struct wire_packet *p, const uint8_t *buf,
		    size_t len);
void order_on_token(struct totem_node *t, const struct wire_token *in);
void order_token_emit(struct totem_node *t);
bool order_batch_full(const struct totem_node *t);
void order_hold_cancel_send(struct totem_node *t);
void order_on_hold_cancel(struct totem_node *t, const struct wire_packet *p);
void order_token_send(struct totem_node *t, const struct wire_token *tok, uint32_t to);
void order_deliver_ready(struct totem_node *t);
void order_deliver_old_ring(struct totem_node *t);
void order_reasm_reset(struct totem_node *t);
void order_begin_ring(struct totem_node *t);

/* totem_memb.c: gather, commit, recovery */
void memb_gather_enter(struct totem_node *t, const char *why);
void memb_on_join(struct totem_node *t, const struct wire_packet *p);
void memb_on_commit(struct totem_node *t, const struct wire_packet *p);
void memb_on_merge_detect(struct totem_node *t, const struct wire_packet *p);
static inline void totem_trace(const struct totem_node *t, const char *what, uint32_t nodeid)
{
	if (t->cfg.trace)
		t->cfg.trace(t->cfg.trace_arg, what, nodeid);
}
void memb_fail_unreachable(struct totem_node *t);
/* The gather's sets changed: every agreement so far is void. */
void memb_sets_changed(struct totem_node *t);
/* Commit when every active node agrees (or wait for the representative). */
void memb_check_consensus(struct totem_node *t);

/* totem_peer.c: per-node history and hints used by membership */
struct memb_peer *memb_peer_of(const struct totem_node *t, uint32_t nodeid);
/* At commit: newcomers in the fail set start or extend their merge backoff. */
void memb_backoff_note_failures(struct totem_node *t);
bool memb_backoff_quiet(const struct totem_node *t, uint32_t nodeid);
/* Fail every unreachable node of proc; true when the fail set grew. */
bool memb_fail_unreachable_sets(struct totem_node *t);
bool memb_join_evicts_incumbent(const struct totem_node *t, uint32_t from,
				const struct wire_join *j);
void memb_heard_from(struct totem_node *t, uint32_t from);
bool memb_joined_lately(const struct totem_node *t, uint32_t nodeid);
/* Some configured node outside our ring is not in a merge backoff. */
bool memb_outside_node_wanted(const struct totem_node *t);
void memb_on_leave(struct totem_node *t, const struct wire_packet *p);
void memb_send_join(struct totem_node *t);
void memb_consensus_timeout(struct totem_node *t);
void memb_recovery_done(struct totem_node *t);
void memb_send_merge_detect(struct totem_node *t);

#endif
