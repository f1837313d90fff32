/* The workload: every node submits a stream of numbered messages of random
 * size and guarantee at random moments, membership changes included, and
 * retries what the core refuses with TOTEM_E_AGAIN. */
#include "sim_int.h"
#include "sim_payload.h"

void sim_work_plan(struct sim *s)
{
	struct sim_rng *r = &s->rng_work;

	s->mean_gap_us = (uint32_t)sim_rng_range(r, 3000, 40000);
	s->safe_ratio = sim_rng_unit(r);
	s->burst_ratio = sim_rng_unit(r) * 0.08;
	/* light but steady: the ring never idles long enough to hold the token */
	if (s->o->workload == SIM_WL_PING)
		s->mean_gap_us = 2000;
}

static uint32_t draw_len(struct sim *s)
{
	struct sim_rng *r = &s->rng_work;
	uint64_t x = sim_rng_below(r, 100);

	if (s->o->payload_len)
		return s->o->payload_len < SIM_PAYLOAD_HDR ? SIM_PAYLOAD_HDR : s->o->payload_len;
	if (x < 80)
		return SIM_PAYLOAD_HDR + (uint32_t)sim_rng_range(r, 8, 300);
	if (x < 95)
		return SIM_PAYLOAD_HDR + (uint32_t)sim_rng_range(r, 300, 1400);
	/* larger than one packet: fragmentation and reassembly */
	return (uint32_t)sim_rng_range(r, 1500, SIM_MSG_MAX);
}

/* Returns false when the core refused (the message is kept for a retry). */
static bool submit_one(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];
	struct sim_msg_id id = {
		.nodeid = n->id, .inc = n->inc, .counter = n->counter, .submit_us = s->now
	};
	uint32_t len;
	enum totem_guarantee g;
	int rc;

	if (s->res->submitted >= s->submitted_cap)
		return false;
	if (n->retry) {
		len = n->retry_len;
		g = (enum totem_guarantee)n->retry_g;
	} else {
		len = draw_len(s);
		g = sim_rng_chance(&s->rng_work, s->safe_ratio) ? TOTEM_SAFE : TOTEM_AGREED;
	}
	sim_payload_encode(s->msgbuf, len, &id);
	rc = totem_submit(n->t, s->now, g, s->msgbuf, len);
	if (rc == TOTEM_OK) {
		n->retry = false;
		n->counter++;
		s->res->submitted++;
		/* recorded before the actions: the submit may deliver at once */
		if (s->chk)
			chk_submit(s->chk, s->now, node, g, s->msgbuf, len);
	} else {
		n->retry = true;
		n->retry_len = len;
		n->retry_g = (uint8_t)g;
		if (rc != TOTEM_E_AGAIN && s->chk)
			chk_api_error(s->chk, s->now, node, "totem_submit refused a valid message");
	}
	sim_drain(s, node);
	return rc == TOTEM_OK;
}

void sim_work_schedule(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];
	struct sim_ev ev = { .type = SIM_EV_SUBMIT, .node = (uint8_t)node };
	uint64_t gap;

	if (s->o->workload == SIM_WL_SATURATE)
		return;
	gap = n->retry ? sim_rng_range(&s->rng_work, 2000, 20000) :
			 sim_rng_range(&s->rng_work, 1, 2ull * s->mean_gap_us);
	ev.t = s->now + gap;
	ev.gen = ++n->work_gen;
	sim_push(s, &ev);
}

void sim_work_event(struct sim *s, uint32_t node, uint32_t gen)
{
	struct sim_node *n = &s->node[node];
	uint32_t count = 1;

	/* a stalled process submits nothing; resuming restarts the stream */
	if (!n->up || n->paused || gen != n->work_gen || s->now >= s->work_end)
		return;
	if (s->burst_ratio > 0 && sim_rng_chance(&s->rng_work, s->burst_ratio))
		count = (uint32_t)sim_rng_range(&s->rng_work, 5, 60);
	while (count-- && submit_one(s, node))
		;
	sim_work_schedule(s, node);
}

/* Benchmarks: keep the submit queue full. */
void sim_work_topup(struct sim *s, uint32_t node)
{
	struct sim_node *n = &s->node[node];

	if (!n->up || n->paused || s->now >= s->work_end)
		return;
	while (totem_submit_space(n->t) > 0 && submit_one(s, node))
		;
}
