/* One simulated run: set-up from the seed, the event loop, the end checks. */
#include <string.h>

#include "sim_int.h"

static void run_setup(struct sim *s, const struct sim_opts *o, uint64_t seed)
{
	struct chk_params p;
	uint32_t ids[SIM_NODES_MAX];

	s->o = o;
	s->out = o->out ? o->out : stdout;
	s->seed = seed;
	s->n = sim_node_count(o, seed);
	s->now = 0;
	s->quiet = false;
	sim_rng_seed(&s->rng_net, sim_mix64(seed ^ 0x6e6574ull));
	sim_rng_seed(&s->rng_work, sim_mix64(seed ^ 0x776f726bull));
	sim_rng_seed(&s->rng_fault, sim_mix64(seed ^ 0x6661756c74ull));
	sim_totem_config(&s->cfg, o);
	/* half the runs hold busy tokens for fuller batches, as cohortd does */
	uint64_t b = sim_mix64(seed ^ 0x6261746368ull);
	if (b & 1) {
		s->cfg.batch_us = 200 + (uint32_t)(b >> 8) % 3000;
		s->cfg.batch_bytes = 1024u << ((b >> 32) % 7);
	}
	s->bound_us = sim_liveness_bound_us(&s->cfg);
	s->submitted_cap = o->workload == SIM_WL_RANDOM ? SIM_RUN_MSGS : UINT64_MAX;
	for (uint32_t i = 0; i < s->n; i++) {
		struct sim_node *n = &s->node[i];

		n->t = NULL;
		n->up = n->paused = n->retry = false;
		n->inc = n->start_gen = n->timer_gen = n->work_gen = 0;
		n->persisted = 0;
		n->pbuf_n = 0;
	}
	sim_faults_plan(s);
	for (uint32_t i = 0; i < s->n; i++)
		ids[i] = s->cfg.members[i] = s->node[i].id;
	s->cfg.member_count = s->n;
	sim_net_init(s);
	sim_reach_start(s);
	sim_work_plan(s);
	s->chk = o->check ? s->chk_store : NULL;
	if (s->chk) {
		p.node_count = s->n;
		p.nodeids = ids;
		p.out = s->out;
		chk_begin(s->chk, &p);
	}
}

static void on_quiet(struct sim *s)
{
	s->quiet = true;
	sim_net_quiet(s);
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->chk)
			chk_note(s->chk, s->now, i, CHK_NOTE_PART, 0);
		if (!s->node[i].up)
			sim_node_start(s, i);
		else if (s->node[i].paused)
			sim_node_resume(s, i);
	}
}

static void dispatch(struct sim *s, struct sim_ev *ev)
{
	struct sim_node *n = &s->node[ev->node];

	switch (ev->type) {
	case SIM_EV_PACKET:
		sim_node_packet(s, ev->node, ev->u.pkt);
		break;
	case SIM_EV_TIMER:
		if (!n->up || ev->gen != n->timer_gen)
			break;
		if (n->paused) {
			n->timer_due = true;
			break;
		}
		/* the deadline is consumed: the core may re-arm the same instant
		 * (a 0 ms timer) without a TIMER action, since for it nothing
		 * changed; it must still be scheduled again */
		n->deadline = TOTEM_NO_DEADLINE;
		totem_on_timer(n->t, s->now);
		sim_drain(s, ev->node);
		break;
	case SIM_EV_SUBMIT:
		sim_work_event(s, ev->node, ev->gen);
		break;
	case SIM_EV_FAULT:
		sim_fault_apply(s, (uint32_t)ev->u.arg);
		break;
	case SIM_EV_START:
		if (ev->gen == n->start_gen)
			sim_node_start(s, ev->node);
		break;
	case SIM_EV_RESUME:
		if (ev->gen == n->inc)
			sim_node_resume(s, ev->node);
		break;
	case SIM_EV_QUIET:
		on_quiet(s);
		break;
	case SIM_EV_REACH:
		sim_reach_tick(s);
		return;
	}
	if (s->o->workload == SIM_WL_SATURATE && ev->type != SIM_EV_FAULT && n->up)
		sim_work_topup(s, ev->node);
}

static bool queues_empty(const struct sim *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->node[i].up && totem_submit_space(s->node[i].t) < s->cfg.send_queue_max_msgs)
			return false;
	return true;
}

/* A loaded ring may still hold seconds of queued and in-flight messages
 * when the drain ends: extend it while a queue is non-empty or the checker
 * still waits for a delivery liveness requires; the cap keeps a stuck ring a
 * reported failure instead of an endless run. */
static bool drain_more(struct sim *s)
{
	if (s->o->workload != SIM_WL_RANDOM || s->o->duration_us ||
	    s->end_at >= s->work_end + SIM_DRAIN_MAX_US)
		return false;
	if (queues_empty(s) && !(s->chk && chk_pending(s->chk)))
		return false;
	s->end_at += SIM_DRAIN_STEP_US;
	return true;
}

static void run_loop(struct sim *s)
{
	struct sim_ev ev;

	while (sim_pop(s, &ev)) {
		if (ev.t > s->end_at && drain_more(s)) {
			sim_push(s, &ev);
			continue;
		}
		if (ev.t > s->end_at) {
			if (ev.type == SIM_EV_PACKET)
				sim_pkt_put(ev.u.pkt);
			break;
		}
		s->now = ev.t;
		dispatch(s, &ev);
		if (++s->res->events > SIM_RUN_EVENTS) {
			if (s->chk)
				chk_api_error(s->chk, s->now, ev.node,
					      "the run does not settle: too many events");
			break;
		}
		if (s->chk && chk_violation(s->chk))
			break;
	}
}

int sim_run(struct sim *s, const struct sim_opts *o, uint64_t seed, struct sim_result *r)
{
	struct chk_live live;

	memset(r, 0, sizeof(*r));
	s->res = r;
	run_setup(s, o, seed);
	r->seed = seed;
	r->nodes = s->n;
	run_loop(s);
	if (s->now < s->end_at && !(s->chk && chk_violation(s->chk)))
		s->now = s->end_at;
	live.enabled = o->workload == SIM_WL_RANDOM && !o->duration_us;
	live.quiet_start_us = s->quiet_at;
	live.bound_us = s->bound_us;
	if (s->chk)
		r->violation = chk_finish(s->chk, s->now, &live);
	if (r->violation)
		sim_describe(s);
	for (uint32_t i = 0; i < s->n && s->chk && o->dump_node; i++)
		if (s->node[i].id == o->dump_node)
			chk_dump(s->chk, i, s->out);
	/* the run ends: processes are torn down without it being a crash */
	for (uint32_t i = 0; i < s->n; i++) {
		struct sim_node *n = &s->node[i];

		for (uint32_t j = 0; j < n->pbuf_n; j++)
			sim_pkt_put(n->pbuf[j]);
		n->pbuf_n = 0;
		if (n->t) {
			r->batch_holds += totem_get_stats(n->t)->batch_holds;
			r->hold_cancels += totem_get_stats(n->t)->hold_cancels;
		}
		totem_destroy(n->t);
		n->t = NULL;
	}
	sim_heap_clear(s);
	r->end_us = s->now;
	r->quiet_us = s->quiet_at;
	r->bound_us = s->bound_us;
	return r->violation;
}
