/* The simulated network: per directed link a base delay, jitter, loss,
 * duplication and reordering (an extra delay on some packets); partitions
 * into groups and one-way blocked links on top. */
#include <stdlib.h>

#include "sim_int.h"

static float draw_prob(struct sim_rng *r, double max)
{
	/* about a third of the links stay clean, so that a run mixes good and
	 * bad paths instead of spreading the same damage everywhere */
	if (max <= 0 || sim_rng_chance(r, 0.3))
		return 0.0f;
	return (float)(sim_rng_unit(r) * max);
}

void sim_net_init(struct sim *s)
{
	const struct sim_opts *o = s->o;
	struct sim_rng *r = &s->rng_net;
	uint32_t base = (uint32_t)sim_rng_range(r, 100, 1500);

	s->reorder_max_us = (uint32_t)sim_rng_range(r, 1000, 30000);
	for (uint32_t a = 0; a < s->n; a++) {
		s->node[a].group = 0;
		for (uint32_t b = 0; b < s->n; b++) {
			struct sim_link *l = &s->link[a][b];

			l->delay_us = (uint32_t)sim_rng_range(r, base / 2, base + base / 2);
			l->jitter_us = (uint32_t)sim_rng_below(r, l->delay_us / 5 + 1);
			if (o->link_delay_us) {
				l->delay_us = o->link_delay_us;
				l->jitter_us = 0;
			}
			l->loss = draw_prob(r, o->loss);
			l->dup = draw_prob(r, o->dup);
			l->reorder = draw_prob(r, o->reorder);
			s->blocked[a][b] = false;
		}
	}
}

/* Faults stop: one group, no blocked link, no loss, duplication or
 * reordering. Heavy reordering alone slows a ring (the token overtakes the
 * data, retransmission requests pile up) without bound on how much, so a
 * liveness bound is only meaningful on a clean network. */
void sim_net_quiet(struct sim *s)
{
	for (uint32_t a = 0; a < s->n; a++) {
		s->node[a].group = 0;
		for (uint32_t b = 0; b < s->n; b++) {
			s->blocked[a][b] = false;
			s->link[a][b].loss = 0;
			s->link[a][b].dup = 0;
			s->link[a][b].reorder = 0;
		}
	}
}

static int node_index(const struct sim *s, uint32_t id)
{
	uint32_t lo = 0, hi = s->n;

	/* node ids ascend with the index */
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (s->node[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->node[lo].id == id ? (int)lo : -1;
}

static void link_send(struct sim *s, uint32_t from, uint32_t to, struct sim_pkt **p,
		      const uint8_t *data, size_t len)
{
	const struct sim_link *l = &s->link[from][to];
	struct sim_rng *r = &s->rng_net;
	struct sim_ev ev = { .type = SIM_EV_PACKET, .node = (uint8_t)to };
	int copies = 1;

	if (s->node[from].group != s->node[to].group || s->blocked[from][to])
		return;
	if (l->loss > 0 && sim_rng_chance(r, l->loss))
		return;
	if (l->dup > 0 && sim_rng_chance(r, l->dup))
		copies = 2;
	if (!*p)
		*p = sim_pkt_new(data, len, from);
	while (copies--) {
		uint64_t delay = l->delay_us + sim_rng_below(r, l->jitter_us + 1);

		if (l->reorder > 0 && sim_rng_chance(r, l->reorder))
			delay += sim_rng_below(r, s->reorder_max_us);
		ev.t = s->now + delay;
		ev.u.pkt = *p;
		(*p)->refs++;
		sim_push(s, &ev);
	}
}

void sim_net_send(struct sim *s, uint32_t from, uint32_t to_id, const uint8_t *data, size_t len)
{
	struct sim_pkt *p = NULL;

	s->res->packets++;
	if (s->o->hooks.packet)
		s->o->hooks.packet(s->o->hooks.ctx, from, s->now, data, len);
	if (to_id == TOTEM_TO_ALL) {
		for (uint32_t j = 0; j < s->n; j++)
			if (j != from)
				link_send(s, from, j, &p, data, len);
	} else {
		int j = node_index(s, to_id);

		if (j < 0) {
			if (s->chk)
				chk_api_error(s->chk, s->now, from,
					      "sent a packet to an unknown node");
			return;
		}
		link_send(s, from, (uint32_t)j, &p, data, len);
	}
	if (p && !p->refs)
		free(p);
}
