/* The transport's reachability hints, as the daemon gives them to Totem
 * (totem_set_reachable): a link comes up once heartbeats have gone both ways,
 * and a node is called unreachable only after a token timeout without them
 * (link timeout, then the daemon's further delay). The hints lag the network
 * on both sides: a restarted node's first joins reach its peers while they
 * still call it unreachable, which is exactly the window the core must
 * survive without failing a live node. */
#include "sim_int.h"

#define SIM_REACH_TICK_US 20000ull /* the daemon's heartbeat checks, roughly */
#define SIM_REACH_UP_US 40000ull   /* a heartbeat each way */

/* Heartbeats flow both ways between a and b. Loss is ignored: heartbeats
 * are small and frequent, one lost now and then never takes a link down. */
static bool flowing(const struct sim *s, uint32_t a, uint32_t b)
{
	const struct sim_node *x = &s->node[a], *y = &s->node[b];

	return x->up && y->up && !x->paused && !y->paused && x->group == y->group &&
	       !s->blocked[a][b] && !s->blocked[b][a];
}

void sim_reach_start(struct sim *s)
{
	struct sim_ev ev = { .type = SIM_EV_REACH, .t = SIM_REACH_TICK_US };

	for (uint32_t a = 0; a < s->n; a++)
		sim_reach_reset(s, a);
	sim_push(s, &ev);
}

/* A fresh process has been told nothing. */
void sim_reach_reset(struct sim *s, uint32_t a)
{
	for (uint32_t b = 0; b < s->n; b++) {
		s->reach[a][b].told = SIM_REACH_UNTOLD;
		s->reach[a][b].flowing = false;
		s->reach[a][b].since_us = s->now;
	}
}

static void tell(struct sim *s, uint32_t a, uint32_t b, uint8_t what)
{
	s->reach[a][b].told = what;
	totem_set_reachable(s->node[a].t, s->now, s->node[b].id, what == SIM_REACH_UP);
	sim_drain(s, a);
}

static void check_pair(struct sim *s, uint32_t a, uint32_t b)
{
	struct sim_reach *r = &s->reach[a][b];
	bool f = flowing(s, a, b);
	uint64_t down_us = (uint64_t)s->cfg.token_ms * 1000u;

	if (f != r->flowing) {
		r->flowing = f;
		r->since_us = s->now;
	}
	if (f && r->told != SIM_REACH_UP && s->now - r->since_us >= SIM_REACH_UP_US)
		tell(s, a, b, SIM_REACH_UP);
	/* Only a link that was up can go down: a process that never heard
	 * the peer says nothing about it, as the daemon does. */
	else if (!f && r->told == SIM_REACH_UP && s->now - r->since_us >= down_us)
		tell(s, a, b, SIM_REACH_DOWN);
}

void sim_reach_tick(struct sim *s)
{
	struct sim_ev ev = { .type = SIM_EV_REACH, .t = s->now + SIM_REACH_TICK_US };

	for (uint32_t a = 0; a < s->n; a++) {
		/* A stalled daemon evaluates nothing; it catches up on resume. */
		if (!s->node[a].up || s->node[a].paused)
			continue;
		for (uint32_t b = 0; b < s->n; b++)
			if (b != a)
				check_pair(s, a, b);
	}
	sim_push(s, &ev);
}
