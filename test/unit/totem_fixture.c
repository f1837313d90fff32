#include <stdlib.h>
#include <string.h>

#include "totem_fixture.h"

static void fx_config(struct totem_config *cfg, uint32_t n, uint32_t idx, uint32_t token_ms)
{
	totem_config_defaults(cfg);
	cfg->nodeid = idx + 1;
	cfg->cluster_id = 0x1234;
	cfg->member_count = n;
	for (uint32_t i = 0; i < n; i++)
		cfg->members[i] = i + 1;
	cfg->token_ms = token_ms;
	totem_config_derive(cfg);
	cfg->join_ms = 10;
	cfg->merge_ms = 50;
}

static void enqueue(struct fx_cluster *c, uint32_t from, uint32_t to, const uint8_t *d, size_t len)
{
	if (c->cut[from][to] || !c->node[to].up)
		return;
	if (c->q_count == c->q_cap) {
		c->q_cap = c->q_cap ? c->q_cap * 2 : 1024;
		c->q = realloc(c->q, c->q_cap * sizeof(*c->q));
	}
	struct fx_packet *p = &c->q[c->q_count++];
	p->at = c->now + c->delay_us;
	p->from = from;
	p->to = to;
	p->len = (uint32_t)len;
	p->data = malloc(len);
	memcpy(p->data, d, len);
}

static void drain(struct fx_cluster *c, uint32_t idx)
{
	struct fx_node *nd = &c->node[idx];
	struct totem_action a;

	while (totem_next_action(nd->t, &a)) {
		switch (a.type) {
		case TOTEM_ACT_SEND:
			for (uint32_t j = 0; j < c->n; j++)
				if (j != idx &&
				    (a.u.send.to == TOTEM_TO_ALL || a.u.send.to == j + 1))
					enqueue(c, idx, j, a.u.send.data, a.u.send.len);
			break;
		case TOTEM_ACT_DELIVER:
			if (nd->log_count < FX_MAX_LOG) {
				struct fx_delivery *d = &nd->log[nd->log_count++];
				d->sender = a.u.deliver.sender;
				d->ring_seq = a.u.deliver.ring_id.seq;
				d->guarantee = (uint8_t)a.u.deliver.guarantee;
				d->len = (uint32_t)a.u.deliver.len;
				d->tag = 0;
				memcpy(&d->tag, a.u.deliver.data,
				       a.u.deliver.len < 8 ? a.u.deliver.len : 8);
			}
			break;
		case TOTEM_ACT_CONFCHG:
			if (a.u.confchg.type == TOTEM_CONF_REGULAR) {
				nd->confchg_regular++;
				nd->last_member_count = (uint32_t)a.u.confchg.member_count;
				memcpy(nd->last_members, a.u.confchg.members,
				       a.u.confchg.member_count * sizeof(uint32_t));
				nd->last_ring_seq = a.u.confchg.ring_id.seq;
			}
			break;
		case TOTEM_ACT_PERSIST:
			nd->persisted = a.u.persist.ring_seq;
			break;
		default:
			break;
		}
	}
}

void fx_init(struct fx_cluster *c, uint32_t n, uint32_t token_ms)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->delay_us = 100;
	for (uint32_t i = 0; i < n; i++) {
		c->node[i].log = calloc(FX_MAX_LOG, sizeof(struct fx_delivery));
		fx_restart(c, i, token_ms);
	}
}

void fx_restart(struct fx_cluster *c, uint32_t idx, uint32_t token_ms)
{
	struct totem_config cfg;
	struct fx_node *nd = &c->node[idx];

	fx_config(&cfg, c->n, idx, token_ms);
	cfg.batch_us = c->batch_us;
	cfg.batch_bytes = c->batch_bytes;
	cfg.ring_seq_start = nd->persisted;
	totem_create(&cfg, &nd->t);
	nd->up = true;
	totem_start(nd->t, c->now);
	drain(c, idx);
}

void fx_crash(struct fx_cluster *c, uint32_t idx)
{
	totem_destroy(c->node[idx].t);
	c->node[idx].t = NULL;
	c->node[idx].up = false;
}

void fx_leave(struct fx_cluster *c, uint32_t idx)
{
	totem_leave(c->node[idx].t, c->now);
	drain(c, idx);
	fx_crash(c, idx);
}

void fx_reachable(struct fx_cluster *c, uint32_t idx, uint32_t nodeid, bool reachable)
{
	totem_set_reachable(c->node[idx].t, c->now, nodeid, reachable);
	drain(c, idx);
}

void fx_free(struct fx_cluster *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->node[i].t)
			totem_destroy(c->node[i].t);
		free(c->node[i].log);
	}
	for (uint32_t i = 0; i < c->q_count; i++)
		free(c->q[i].data);
	free(c->q);
}

int fx_submit(struct fx_cluster *c, uint32_t idx, enum totem_guarantee g, const void *d,
	      uint32_t len)
{
	int rc = totem_submit(c->node[idx].t, c->now, g, d, len);
	drain(c, idx);
	return rc;
}

/* One step: the earliest packet or timer, FIFO among packets. */
static bool step(struct fx_cluster *c, uint64_t until)
{
	uint64_t best = UINT64_MAX;
	int kind = 0, who = -1;

	for (uint32_t i = 0; i < c->q_count; i++)
		if (c->q[i].at < best) {
			best = c->q[i].at;
			kind = 1;
			who = (int)i;
		}
	for (uint32_t i = 0; i < c->n; i++) {
		if (!c->node[i].up)
			continue;
		uint64_t d = totem_next_deadline(c->node[i].t);
		if (d < best) {
			best = d;
			kind = 2;
			who = (int)i;
		}
	}
	if (best > until || who < 0)
		return false;
	if (best > c->now)
		c->now = best;
	if (kind == 1) {
		struct fx_packet p = c->q[who];
		memmove(&c->q[who], &c->q[who + 1], (c->q_count - who - 1) * sizeof(p));
		c->q_count--;
		if (c->node[p.to].up) {
			totem_on_packet(c->node[p.to].t, c->now, p.from + 1, p.data, p.len);
			drain(c, p.to);
		}
		free(p.data);
	} else {
		totem_on_timer(c->node[who].t, c->now);
		drain(c, (uint32_t)who);
	}
	return true;
}

void fx_run_until(struct fx_cluster *c, uint64_t until_us)
{
	while (step(c, until_us))
		;
	if (c->now < until_us)
		c->now = until_us;
}

bool fx_one_ring(const struct fx_cluster *c)
{
	struct totem_ring_id rid = { 0, 0 };
	uint32_t up = 0;

	for (uint32_t i = 0; i < c->n; i++) {
		if (!c->node[i].up)
			continue;
		struct totem_node *t = c->node[i].t;
		if (totem_get_state(t) != TOTEM_OPERATIONAL)
			return false;
		struct totem_ring_id r = totem_get_ring_id(t);
		if (up && (r.rep != rid.rep || r.seq != rid.seq))
			return false;
		rid = r;
		up++;
	}
	for (uint32_t i = 0; i < c->n; i++)
		if (c->node[i].up && c->node[i].last_member_count != up)
			return false;
	return true;
}
