/* Simulator: node lifecycle, draining the core's actions, and the run loop. */
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

void sim_default_opts(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nodes = 3;
	o->check = true;
}

struct sim *sim_create(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s || !(s->chk_store = chk_create())) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	return s;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	sim_heap_clear(s);
	free(s->heap);
	chk_destroy(s->chk_store);
	free(s);
}

uint32_t sim_node_count(const struct sim_opts *o, uint64_t seed)
{
	uint32_t lo = o->nodes_min, hi = o->nodes_max;

	if (!lo)
		return o->nodes < 1 ? 1 : o->nodes > SIM_NODES_MAX ? SIM_NODES_MAX : o->nodes;
	if (hi < lo)
		hi = lo;
	if (hi > SIM_NODES_MAX)
		hi = SIM_NODES_MAX;
	return lo + (uint32_t)(sim_mix64(seed ^ 0x6e6f646573ull) % (hi - lo + 1));
}

/* Corosync's timer ratios scaled to a 200 ms token, so that runs are cheap
 * in virtual time yet exercise the same interplay of timeouts. */
void sim_totem_config(struct totem_config *c, const struct sim_opts *o)
{
	totem_config_defaults(c);
	c->token_ms = 200;
	totem_config_derive(c);
	c->join_ms = 50;
	c->consensus_ms = 240;
	c->merge_ms = 200;
	c->merge_backoff_max_ms = 500;
	c->hold_ms = 40;
	c->downcheck_ms = 67;
	c->netmtu = o && o->netmtu ? o->netmtu : 1500;
	c->cluster_id = 0x5eed;
	/* a small submit queue makes the random workload meet TOTEM_E_AGAIN */
	if (!o || o->workload == SIM_WL_RANDOM)
		c->send_queue_max_msgs = 256;
}

/* Once faults stop, a node notices a broken ring within one token timeout
 * (a resumed node's timers have expired already); rings that are whole but
 * apart find each other by merge detection; then gather may take several
 * consensus rounds, as nodes that failed each other must time out once,
 * plus joins; commit and recovery take a few rotations and may lose one
 * token (a token timeout) to a node that re-entered gather late. */
uint64_t sim_liveness_bound_us(const struct totem_config *c)
{
	/* A newcomer failed by the faults may still be in its merge backoff
	 * when they stop; the two sides' backoffs do not end together, so a
	 * merge tried when one side's ends may fail once more against the
	 * other's, starting one more (up to the cap, as the streak goes on);
	 * a merge detect then restarts the merge. */
	uint64_t ms = 2ull * c->token_ms + c->merge_ms + 4ull * c->consensus_ms +
		      8ull * c->join_ms + 3ull * c->merge_backoff_max_ms + c->merge_ms;

	return ms * 1000;
}

/* ---- nodes ---- */

static bool misaligned(const uint32_t *p)
{
	return ((uintptr_t)(const void *)p % _Alignof(uint32_t)) != 0;
}

static void drain_confchg(struct sim *s, uint32_t node, const struct totem_action *a)
{
	/* reading a misaligned uint32_t array is undefined behaviour for
	 * every user of the API, so it is the core's fault, reported here */
	if (misaligned(a->u.confchg.members) || misaligned(a->u.confchg.left) ||
	    misaligned(a->u.confchg.joined)) {
		if (s->chk)
			chk_api_error(s->chk, s->now, node,
				      "CONFCHG member arrays are not aligned for uint32_t");
		return;
	}
	if (s->chk)
		chk_confchg(s->chk, s->now, node, a);
	if (a->u.confchg.type != TOTEM_CONF_REGULAR)
		return;
	s->res->rings++;
	if (s->now > s->quiet_at && s->now - s->quiet_at > s->res->settled_us)
		s->res->settled_us = s->now - s->quiet_at;
	if (s->o->verbose > 1)
		fprintf(s->out, "  %llu.%06llu node %u: ring %u.%llu with %zu members\n",
			(unsigned long long)(s->now / 1000000),
			(unsigned long long)(s->now % 1000000), s->node[node].id,
			a->u.confchg.ring_id.rep, (unsigned long long)a->u.confchg.ring_id.seq,
			a->u.confchg.member_count);
}

static void drain_timer(struct sim *s, uint32_t node, bool said, uint64_t said_deadline)
{
	struct sim_node *n = &s->node[node];
	uint64_t d = totem_next_deadline(n->t);
	struct sim_ev ev = { .type = SIM_EV_TIMER, .node = (uint8_t)node };

	if (said && said_deadline != d && s->chk)
		chk_api_error(s->chk, s->now, node,
			      "TIMER action differs from totem_next_deadline");
	if (d == n->deadline)
		return;
	n->deadline = d;
	n->timer_gen++;
	if (d == TOTEM_NO_DEADLINE)
		return;
	ev.t = d > s->now ? d : s->now;
	ev.gen = n->timer_gen;
	sim_push(s, &ev);
}

void sim_drain(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];
	struct totem_action a;
	bool said = false;
	uint64_t said_deadline = 0;

	while (totem_next_action(n->t, &a)) {
		switch (a.type) {
		case TOTEM_ACT_SEND:
			sim_net_send(s, node, a.u.send.to, a.u.send.data, a.u.send.len);
			break;
		case TOTEM_ACT_DELIVER:
			s->res->delivered++;
			if (s->chk)
				chk_deliver(s->chk, s->now, node, &a);
			if (s->o->hooks.deliver)
				s->o->hooks.deliver(s->o->hooks.ctx, node, s->now, &a);
			break;
		case TOTEM_ACT_CONFCHG:
			drain_confchg(s, node, &a);
			break;
		case TOTEM_ACT_TIMER:
			said = true;
			said_deadline = a.u.timer.deadline_us;
			break;
		case TOTEM_ACT_PERSIST:
			n->persisted = a.u.persist.ring_seq;
			if (s->chk)
				chk_persist(s->chk, s->now, node, a.u.persist.ring_seq);
			break;
		}
	}
	drain_timer(s, node, said, said_deadline);
}

void sim_node_start(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];
	struct totem_config c = s->cfg;
	int rc;

	if (n->up)
		return;
	c.nodeid = n->id;
	c.ring_seq_start = n->persisted;
	rc = totem_create(&c, &n->t);
	if (rc != TOTEM_OK) {
		if (s->chk)
			chk_api_error(s->chk, s->now, node, "totem_create failed");
		return;
	}
	n->up = true;
	n->paused = n->timer_due = n->retry = false;
	n->deadline = TOTEM_NO_DEADLINE;
	n->timer_gen++;
	n->start_gen++;
	n->counter = 0;
	sim_reach_reset(s, node);
	if (s->chk)
		chk_start(s->chk, s->now, node);
	totem_start(n->t, s->now);
	sim_drain(s, node);
	sim_work_schedule(s, node);
}

static void drop_pbuf(struct sim_node *n)
{
	for (uint32_t i = 0; i < n->pbuf_n; i++)
		sim_pkt_put(n->pbuf[i]);
	n->pbuf_n = 0;
}

/* The process ends: all state but the persisted ring seq is gone. */
void sim_node_stop(struct sim *s, uint32_t node, bool graceful)
{
	struct sim_node *n = &s->node[node];

	if (!n->up)
		return;
	if (graceful && !n->paused) {
		if (s->chk)
			chk_note(s->chk, s->now, node, CHK_NOTE_LEAVE, 0);
		totem_leave(n->t, s->now);
		sim_drain(s, node);
	}
	s->res->batch_holds += totem_get_stats(n->t)->batch_holds;
	s->res->hold_cancels += totem_get_stats(n->t)->hold_cancels;
	totem_destroy(n->t);
	n->t = NULL;
	n->up = n->paused = false;
	n->timer_gen++;
	n->inc++;
	drop_pbuf(n);
	if (s->chk)
		chk_crash(s->chk, s->now, node);
}

void sim_node_pause(struct sim *s, uint32_t node, uint64_t dur_us)
{
	struct sim_node *n = &s->node[node];
	struct sim_ev ev = { .type = SIM_EV_RESUME, .node = (uint8_t)node };

	if (!n->up || n->paused)
		return;
	n->paused = true;
	n->timer_due = false;
	if (s->chk)
		chk_note(s->chk, s->now, node, CHK_NOTE_PAUSE, dur_us / 1000);
	ev.t = s->now + dur_us;
	ev.gen = n->inc;
	sim_push(s, &ev);
}

static void resume_packets(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];

	for (uint32_t i = 0; i < n->pbuf_n; i++) {
		struct sim_pkt *p = n->pbuf[i];

		totem_on_packet(n->t, s->now, s->node[p->from].id, p->data, p->len);
		sim_drain(s, node);
		sim_pkt_put(p);
	}
	n->pbuf_n = 0;
}

/* A stalled process runs again: what queued up meanwhile (its socket buffer,
 * its expired timer) is handled at once, in an order a real event loop might
 * pick either way. */
void sim_node_resume(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];
	bool timer_first = sim_rng_chance(&s->rng_fault, 0.5);

	if (!n->up || !n->paused)
		return;
	n->paused = false;
	if (s->chk)
		chk_note(s->chk, s->now, node, CHK_NOTE_RESUME, n->pbuf_n);
	if (!timer_first)
		resume_packets(s, node);
	if (n->deadline <= s->now) {
		n->deadline = TOTEM_NO_DEADLINE;
		totem_on_timer(n->t, s->now);
		sim_drain(s, node);
	}
	if (timer_first)
		resume_packets(s, node);
	sim_work_schedule(s, node);
}

void sim_node_packet(struct sim *s, uint32_t node, struct sim_pkt *p)
{
	struct sim_node *n = &s->node[node];

	if (!n->up) {
		sim_pkt_put(p);
		return;
	}
	if (n->paused) {
		if (n->pbuf_n < SIM_PAUSE_BUF)
			n->pbuf[n->pbuf_n++] = p;
		else
			sim_pkt_put(p);
		return;
	}
	totem_on_packet(n->t, s->now, s->node[p->from].id, p->data, p->len);
	sim_drain(s, node);
	sim_pkt_put(p);
}
