/* Private state of the simulator, shared by sim*.c. */
#ifndef COHORT_SIM_INT_H
#define COHORT_SIM_INT_H

#include "checker.h"
#include "sim.h"
#include "sim_rng.h"

#define SIM_PAUSE_BUF 256u	   /* packets a stalled node's socket buffer holds */
#define SIM_MSG_MAX 4096u	   /* largest workload message */
#define SIM_RUN_MSGS 200000u	   /* workload messages per run, to bound memory */
#define SIM_RUN_EVENTS 80000000ull /* a run past this is stuck in a busy loop */
#define SIM_FAULTS_MAX 64u
#define SIM_DRAIN_STEP_US 500000ull  /* the drain grows by this while queues hold messages */
#define SIM_DRAIN_MAX_US 20000000ull /* ... up to this long after the workload stops */

/* One packet on the wire, shared by every receiver of one send. */
struct sim_pkt {
	uint32_t refs;
	uint32_t len;
	uint32_t from; /* node index */
	uint8_t data[];
};

enum sim_ev_type {
	SIM_EV_PACKET = 1,
	SIM_EV_TIMER,
	SIM_EV_SUBMIT,
	SIM_EV_FAULT,
	SIM_EV_START,  /* first start or restart of a node */
	SIM_EV_RESUME, /* a paused node continues */
	SIM_EV_QUIET,  /* faults stop */
	SIM_EV_REACH,  /* the transport's reachability hints are re-evaluated */
};

struct sim_ev {
	uint64_t t;
	uint64_t seq; /* ties broken by scheduling order */
	uint8_t type;
	uint8_t node;
	uint32_t gen; /* timer generation, incarnation, ... */
	union {
		struct sim_pkt *pkt;
		uint64_t arg;
	} u;
};

enum sim_fault_kind {
	SIM_F_PARTITION = 1, /* nodes split into groups */
	SIM_F_HEAL,	     /* one group again */
	SIM_F_BLOCK,	     /* link a -> b drops everything */
	SIM_F_UNBLOCK,
	SIM_F_CRASH,
	SIM_F_LEAVE, /* graceful departure, then the process stops */
	SIM_F_PAUSE,
};

struct sim_fault {
	uint64_t t;
	uint8_t kind;
	uint8_t a, b;
	uint64_t dur_us; /* CRASH/LEAVE: down time; PAUSE: stall length */
	uint8_t group[SIM_NODES_MAX];
};

struct sim_link {
	float loss, dup, reorder;
	uint32_t delay_us, jitter_us;
};

enum { SIM_REACH_UNTOLD = 0, SIM_REACH_UP, SIM_REACH_DOWN };

/* What node a's transport has told its core about node b. */
struct sim_reach {
	uint8_t told;
	bool flowing;	   /* heartbeats go both ways now */
	uint64_t since_us; /* flowing has had its value since */
};

struct sim_node {
	uint32_t id;
	struct totem_node *t;
	bool up, paused, timer_due;
	uint32_t inc;	    /* incarnation: restarts so far */
	uint32_t start_gen; /* invalidates a scheduled restart */
	uint64_t persisted;
	uint64_t deadline;
	uint32_t timer_gen;
	uint64_t counter;  /* next message counter in this incarnation */
	uint32_t work_gen; /* invalidates a scheduled submission */
	uint32_t group;
	/* workload: a message refused with TOTEM_E_AGAIN is retried as is */
	bool retry;
	uint32_t retry_len;
	uint8_t retry_g;
	/* socket buffer while paused */
	struct sim_pkt *pbuf[SIM_PAUSE_BUF];
	uint32_t pbuf_n;
};

struct sim {
	const struct sim_opts *o;
	FILE *out;
	uint64_t seed;
	uint32_t n;
	uint64_t now;
	struct sim_rng rng_net, rng_work, rng_fault;
	struct totem_config cfg;
	struct chk *chk;       /* the checker, or NULL when checks are off */
	struct chk *chk_store; /* kept across runs */
	struct sim_node node[SIM_NODES_MAX];
	struct sim_link link[SIM_NODES_MAX][SIM_NODES_MAX];
	bool blocked[SIM_NODES_MAX][SIM_NODES_MAX];
	struct sim_reach reach[SIM_NODES_MAX][SIM_NODES_MAX];
	bool quiet;
	uint64_t quiet_at, work_end, end_at, bound_us;
	uint32_t reorder_max_us;
	/* workload parameters of the run */
	uint32_t mean_gap_us;
	double safe_ratio, burst_ratio;
	uint64_t submitted_cap;
	/* event heap */
	struct sim_ev *heap;
	uint32_t heap_n, heap_cap;
	uint64_t ev_seq;
	struct sim_fault fault[SIM_FAULTS_MAX];
	uint32_t fault_n;
	uint8_t msgbuf[SIM_MSG_MAX];
	struct sim_result *res;
};

/* sim_heap.c: events and packets */
void sim_push(struct sim *s, const struct sim_ev *ev);
bool sim_pop(struct sim *s, struct sim_ev *ev);
void sim_heap_clear(struct sim *s);
struct sim_pkt *sim_pkt_new(const uint8_t *data, size_t len, uint32_t from);
void sim_pkt_put(struct sim_pkt *p);

/* sim_net.c: the network */
void sim_net_init(struct sim *s);
void sim_net_send(struct sim *s, uint32_t from, uint32_t to_id, const uint8_t *data, size_t len);
void sim_net_quiet(struct sim *s);

/* sim_reach.c: the transport's reachability hints */
void sim_reach_start(struct sim *s);
void sim_reach_reset(struct sim *s, uint32_t node);
void sim_reach_tick(struct sim *s);

/* sim_fault.c: scenario and faults */
void sim_faults_plan(struct sim *s);
void sim_fault_apply(struct sim *s, uint32_t idx);
void sim_describe(struct sim *s);

/* sim_work.c: workload */
void sim_work_plan(struct sim *s);
void sim_work_schedule(struct sim *s, uint32_t node);
void sim_work_event(struct sim *s, uint32_t node, uint32_t gen);
void sim_work_topup(struct sim *s, uint32_t node);

/* sim.c: nodes */
void sim_drain(struct sim *s, uint32_t node);
void sim_node_start(struct sim *s, uint32_t node);
void sim_node_stop(struct sim *s, uint32_t node, bool graceful);
void sim_node_pause(struct sim *s, uint32_t node, uint64_t dur_us);
void sim_node_resume(struct sim *s, uint32_t node);
void sim_node_packet(struct sim *s, uint32_t node, struct sim_pkt *p);

#endif
