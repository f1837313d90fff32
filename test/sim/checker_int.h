/* Private state of the checker, shared by checker*.c. */
#ifndef COHORT_SIM_CHECKER_INT_H
#define COHORT_SIM_CHECKER_INT_H

#include "checker.h"

#define CHK_NONE UINT32_MAX
#define CHK_TAIL 40u		   /* events printed before a violation */
#define CHK_LOG_BUDGET (64u << 20) /* bytes of event traces over all nodes */
#define CHK_DL_NEWINC 0x80000000u  /* delivery list flag: first of an incarnation */

enum chk_ev_kind {
	CHK_EV_SUBMIT = 1,
	CHK_EV_DELIVER,
	CHK_EV_TRANS,
	CHK_EV_REGULAR,
	CHK_EV_PERSIST,
	CHK_EV_START,
	CHK_EV_CRASH,
	CHK_EV_NOTE,
};

struct chk_ev {
	uint64_t t;
	uint64_t seq;		   /* DELIVER: packet seq; PERSIST: value; NOTE: arg */
	struct totem_ring_id ring; /* DELIVER: ring sent in; TRANS/REGULAR: new ring */
	uint32_t ref;		   /* message index, conf event index or note kind */
	uint8_t kind;
	uint8_t g;	  /* guarantee */
	uint8_t in_trans; /* DELIVER inside a transitional configuration */
};

/* Member sets are masks of node indexes: nodes are at most 64. */
struct chk_conf_ev {
	uint64_t members, left, joined;
};

#define CHK_M_KEYED 0x01u    /* ring and seq known from a first delivery */
#define CHK_M_SAFE_REG 0x02u /* delivered as safe in a regular configuration */

struct chk_msg {
	uint64_t counter;
	uint64_t submit_t;
	uint64_t mask; /* nodes whose current incarnation delivered it */
	struct totem_ring_id ring;
	uint64_t seq;
	uint32_t inc;
	uint32_t len;
	uint32_t cfg; /* configuration of ring, once keyed */
	uint16_t sender;
	uint16_t first_node;
	uint16_t safe_node; /* a node that delivered it as safe in a regular conf */
	uint8_t g;
	uint8_t flags;
};

/* A regular configuration, by ring id. */
struct chk_cfg {
	struct totem_ring_id ring;
	uint64_t members;
	uint64_t installed; /* nodes that installed it */
	uint64_t last_install_t;
	uint32_t inc[CHK_NODES_MAX]; /* incarnation of each installer */
	uint32_t first_node;
};

/* The transitional configuration between two regular ones. */
struct chk_trans {
	uint32_t old_cfg;
	struct totem_ring_id ring;
	uint64_t members;
	uint32_t first_node;
};

enum chk_epoch_end { CHK_END_NEXT = 1, CHK_END_CRASH, CHK_END_RUN };

/* What one node incarnation delivered while in one regular configuration
 * (its transitional configuration included). */
struct chk_epoch {
	uint32_t node, inc, cfg, next_cfg;
	uint32_t dl_off, dl_len; /* in the node's delivery list */
	uint64_t end_log;	 /* log index of the event that closed it */
	uint8_t end;
};

struct chk_node {
	uint32_t id;
	uint32_t inc;
	bool started, alive, in_trans, inc_first;
	uint32_t cur;	/* current regular configuration, CHK_NONE before the first */
	uint32_t trans; /* transitional record when in_trans (CHK_NONE: first ring) */
	struct totem_ring_id trans_ring;
	uint64_t trans_members;
	uint64_t max_seq;
	uint64_t persisted;
	uint64_t install_t;
	struct totem_ring_id last_ring; /* ring and seq of the previous delivery */
	uint64_t last_seq;
	bool have_last;
	uint32_t epoch_start; /* delivery list offset where the current epoch began */
	uint32_t *dl;	      /* delivered message indexes, CHK_DL_NEWINC flagged */
	uint32_t dl_n, dl_cap;
	struct chk_ev *log;
	uint32_t log_cap;
	uint64_t log_n; /* events ever logged; the last log_cap are kept */
};

struct chk {
	FILE *out;
	uint32_t n;
	uint32_t log_cap_max; /* events kept per node: a ring buffer past this */
	int violation;
	uint64_t delivered;
	struct chk_node node[CHK_NODES_MAX];
	uint32_t sorted_ids[CHK_NODES_MAX]; /* for id -> index lookup */
	uint8_t sorted_idx[CHK_NODES_MAX];
	struct chk_msg *msg;
	uint32_t msg_n, msg_cap;
	uint32_t *msg_tab; /* open addressing, index + 1 */
	uint32_t msg_tab_cap;
	struct chk_cfg *cfg;
	uint32_t cfg_n, cfg_cap;
	uint32_t *cfg_tab;
	uint32_t cfg_tab_cap;
	struct chk_trans *trans;
	uint32_t trans_n, trans_cap;
	struct chk_conf_ev *cev;
	uint32_t cev_n, cev_cap;
	struct chk_epoch *ep;
	uint32_t ep_n, ep_cap;
	uint32_t *scratch; /* end-of-run work space */
	uint32_t scratch_cap;
};

/* checker.c */
void *chk_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
int chk_node_index(const struct chk *c, uint32_t nodeid);
uint32_t chk_msg_find(const struct chk *c, uint32_t sender, uint32_t inc, uint64_t counter);
uint32_t chk_cfg_find(const struct chk *c, struct totem_ring_id ring);
uint32_t chk_cfg_add(struct chk *c, struct totem_ring_id ring, uint64_t members, uint32_t node);
bool chk_ring_eq(struct totem_ring_id a, struct totem_ring_id b);
void chk_close_epoch(struct chk *c, uint32_t node, enum chk_epoch_end end, uint32_t next_cfg);

/* checker_report.c */
bool chk_fail(struct chk *c, int prop, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void chk_trace(struct chk *c, uint32_t node, uint64_t upto);
void chk_log(struct chk *c, uint32_t node, const struct chk_ev *ev);
const char *chk_msg_name(const struct chk *c, uint32_t msg, char *buf, size_t len);
const char *chk_mask_str(const struct chk *c, uint64_t mask, char *buf, size_t len);
uint64_t chk_find_delivery(const struct chk *c, uint32_t node, uint32_t msg);

/* checker_end.c */
void chk_check_order(struct chk *c);
void chk_check_vs(struct chk *c);
void chk_check_safe(struct chk *c, bool run_end);
void chk_check_live(struct chk *c, uint64_t now, const struct chk_live *live);

#endif
