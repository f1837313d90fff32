/* Checker: recording of what the nodes did and the checks that can be made
 * as each event happens (properties 1, 2 in part, 4 and 6). */
#include "checker_int.h"

#include <stdlib.h>
#include <string.h>

#include "sim_payload.h"
#include "sim_rng.h"

void *chk_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	np = realloc(p, (size_t)ncap * elem);
	if (!np) {
		fprintf(stderr, "checker: out of memory\n");
		abort();
	}
	*cap = ncap;
	return np;
}

struct chk *chk_create(void)
{
	struct chk *c = calloc(1, sizeof(*c));

	if (!c) {
		fprintf(stderr, "checker: out of memory\n");
		abort();
	}
	return c;
}

void chk_destroy(struct chk *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < CHK_NODES_MAX; i++) {
		free(c->node[i].dl);
		free(c->node[i].log);
	}
	free(c->msg);
	free(c->msg_tab);
	free(c->cfg);
	free(c->cfg_tab);
	free(c->trans);
	free(c->cev);
	free(c->ep);
	free(c->scratch);
	free(c);
}

void chk_begin(struct chk *c, const struct chk_params *p)
{
	c->out = p->out;
	c->n = p->node_count > CHK_NODES_MAX ? CHK_NODES_MAX : p->node_count;
	c->violation = CHK_OK;
	c->delivered = 0;
	c->log_cap_max = 1024;
	while ((uint64_t)c->log_cap_max * 2 * sizeof(struct chk_ev) * (c->n ? c->n : 1) <=
	       CHK_LOG_BUDGET)
		c->log_cap_max *= 2;
	c->msg_n = c->cfg_n = c->trans_n = c->cev_n = c->ep_n = 0;
	if (c->msg_tab)
		memset(c->msg_tab, 0, c->msg_tab_cap * sizeof(*c->msg_tab));
	if (c->cfg_tab)
		memset(c->cfg_tab, 0, c->cfg_tab_cap * sizeof(*c->cfg_tab));
	for (uint32_t i = 0; i < c->n; i++) {
		struct chk_node *n = &c->node[i];
		uint32_t j = i;

		/* a buffer from a run with fewer nodes may exceed this run's cap */
		if (n->log_cap > c->log_cap_max) {
			free(n->log);
			n->log = NULL;
			n->log_cap = 0;
		}

		n->id = p->nodeids[i];
		n->inc = 0;
		n->started = n->alive = n->in_trans = n->have_last = false;
		n->cur = n->trans = CHK_NONE;
		n->max_seq = n->persisted = n->install_t = 0;
		n->dl_n = n->epoch_start = 0;
		n->log_n = 0;
		/* insertion sort keeps the id -> index table ordered */
		while (j > 0 && c->sorted_ids[j - 1] > n->id) {
			c->sorted_ids[j] = c->sorted_ids[j - 1];
			c->sorted_idx[j] = c->sorted_idx[j - 1];
			j--;
		}
		c->sorted_ids[j] = n->id;
		c->sorted_idx[j] = (uint8_t)i;
	}
}

int chk_node_index(const struct chk *c, uint32_t nodeid)
{
	uint32_t lo = 0, hi = c->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (c->sorted_ids[mid] < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->sorted_ids[lo] == nodeid ? c->sorted_idx[lo] : -1;
}

bool chk_ring_eq(struct totem_ring_id a, struct totem_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

/* ---- message table: (sender index, incarnation, counter) -> index ---- */

static uint64_t msg_hash(uint32_t sender, uint32_t inc, uint64_t counter)
{
	return sim_mix64(((uint64_t)sender << 56) ^ ((uint64_t)inc << 40) ^ counter);
}

uint32_t chk_msg_find(const struct chk *c, uint32_t sender, uint32_t inc, uint64_t counter)
{
	uint32_t mask = c->msg_tab_cap - 1;

	if (!c->msg_tab_cap)
		return CHK_NONE;
	for (uint64_t h = msg_hash(sender, inc, counter);; h++) {
		uint32_t v = c->msg_tab[h & mask];
		const struct chk_msg *m;

		if (!v)
			return CHK_NONE;
		m = &c->msg[v - 1];
		if (m->sender == sender && m->inc == inc && m->counter == counter)
			return v - 1;
	}
}

static void msg_tab_insert(struct chk *c, uint32_t idx)
{
	const struct chk_msg *m = &c->msg[idx];
	uint32_t mask = c->msg_tab_cap - 1;
	uint64_t h = msg_hash(m->sender, m->inc, m->counter);

	while (c->msg_tab[h & mask])
		h++;
	c->msg_tab[h & mask] = idx + 1;
}

static uint32_t msg_add(struct chk *c)
{
	if ((c->msg_n + 1) * 2 > c->msg_tab_cap) {
		uint32_t ncap = c->msg_tab_cap ? c->msg_tab_cap * 2 : 1024;

		free(c->msg_tab);
		c->msg_tab = calloc(ncap, sizeof(*c->msg_tab));
		if (!c->msg_tab)
			abort();
		c->msg_tab_cap = ncap;
		for (uint32_t i = 0; i < c->msg_n; i++)
			msg_tab_insert(c, i);
	}
	c->msg = chk_grow(c->msg, &c->msg_cap, c->msg_n + 1, sizeof(*c->msg));
	return c->msg_n++;
}

/* ---- configuration table: ring id -> index ---- */

static uint64_t ring_hash(struct totem_ring_id r)
{
	return sim_mix64(r.seq * 0x100000001b3ull ^ r.rep);
}

uint32_t chk_cfg_find(const struct chk *c, struct totem_ring_id ring)
{
	uint32_t mask = c->cfg_tab_cap - 1;

	if (!c->cfg_tab_cap)
		return CHK_NONE;
	for (uint64_t h = ring_hash(ring);; h++) {
		uint32_t v = c->cfg_tab[h & mask];

		if (!v)
			return CHK_NONE;
		if (chk_ring_eq(c->cfg[v - 1].ring, ring))
			return v - 1;
	}
}

static void cfg_tab_insert(struct chk *c, uint32_t idx)
{
	uint32_t mask = c->cfg_tab_cap - 1;
	uint64_t h = ring_hash(c->cfg[idx].ring);

	while (c->cfg_tab[h & mask])
		h++;
	c->cfg_tab[h & mask] = idx + 1;
}

uint32_t chk_cfg_add(struct chk *c, struct totem_ring_id ring, uint64_t members, uint32_t node)
{
	struct chk_cfg *k;

	if ((c->cfg_n + 1) * 2 > c->cfg_tab_cap) {
		uint32_t ncap = c->cfg_tab_cap ? c->cfg_tab_cap * 2 : 64;

		free(c->cfg_tab);
		c->cfg_tab = calloc(ncap, sizeof(*c->cfg_tab));
		if (!c->cfg_tab)
			abort();
		c->cfg_tab_cap = ncap;
		for (uint32_t i = 0; i < c->cfg_n; i++)
			cfg_tab_insert(c, i);
	}
	c->cfg = chk_grow(c->cfg, &c->cfg_cap, c->cfg_n + 1, sizeof(*c->cfg));
	k = &c->cfg[c->cfg_n];
	memset(k, 0, sizeof(*k));
	k->ring = ring;
	k->members = members;
	k->first_node = node;
	cfg_tab_insert(c, c->cfg_n);
	return c->cfg_n++;
}

/* ---- node lifecycle ---- */

static struct chk_ev ev_make(uint64_t now, enum chk_ev_kind kind)
{
	struct chk_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.t = now;
	ev.kind = (uint8_t)kind;
	return ev;
}

void chk_close_epoch(struct chk *c, uint32_t node, enum chk_epoch_end end, uint32_t next_cfg)
{
	struct chk_node *n = &c->node[node];
	struct chk_epoch *e;

	if (n->cur == CHK_NONE)
		return;
	c->ep = chk_grow(c->ep, &c->ep_cap, c->ep_n + 1, sizeof(*c->ep));
	e = &c->ep[c->ep_n++];
	e->node = node;
	e->inc = n->inc;
	e->cfg = n->cur;
	e->next_cfg = next_cfg;
	e->dl_off = n->epoch_start;
	e->dl_len = n->dl_n - n->epoch_start;
	e->end_log = n->log_n ? n->log_n - 1 : 0;
	e->end = (uint8_t)end;
	n->epoch_start = n->dl_n;
}

void chk_start(struct chk *c, uint64_t now, uint32_t node)
{
	struct chk_node *n = &c->node[node];
	struct chk_ev ev = ev_make(now, CHK_EV_START);

	if (n->alive)
		chk_crash(c, now, node);
	if (n->started)
		n->inc++;
	n->started = n->alive = true;
	n->in_trans = n->have_last = false;
	n->cur = n->trans = CHK_NONE;
	n->inc_first = true;
	n->epoch_start = n->dl_n;
	ev.seq = n->inc;
	chk_log(c, node, &ev);
}

void chk_crash(struct chk *c, uint64_t now, uint32_t node)
{
	struct chk_node *n = &c->node[node];
	struct chk_ev ev = ev_make(now, CHK_EV_CRASH);
	uint64_t bit = 1ull << node;

	if (!n->alive)
		return;
	chk_log(c, node, &ev);
	chk_close_epoch(c, node, CHK_END_CRASH, CHK_NONE);
	n->alive = false;
	/* a restarted node is a new process: "at most once" starts over */
	for (uint32_t i = 0; i < c->msg_n; i++)
		c->msg[i].mask &= ~bit;
}

void chk_persist(struct chk *c, uint64_t now, uint32_t node, uint64_t ring_seq)
{
	struct chk_node *n = &c->node[node];
	struct chk_ev ev = ev_make(now, CHK_EV_PERSIST);

	ev.seq = ring_seq;
	chk_log(c, node, &ev);
	if (ring_seq < n->persisted &&
	    chk_fail(c, CHK_P_CONF, "node %u persisted ring seq %llu after %llu: it went down",
		     n->id, (unsigned long long)ring_seq, (unsigned long long)n->persisted))
		chk_trace(c, node, n->log_n - 1);
	if (ring_seq > n->persisted)
		n->persisted = ring_seq;
}

void chk_note(struct chk *c, uint64_t now, uint32_t node, enum chk_note what, uint64_t arg)
{
	struct chk_ev ev = ev_make(now, CHK_EV_NOTE);

	ev.ref = what;
	ev.seq = arg;
	chk_log(c, node, &ev);
}

void chk_api_error(struct chk *c, uint64_t now, uint32_t node, const char *what)
{
	(void)now;
	if (chk_fail(c, CHK_P_API, "node %u: %s", c->node[node].id, what))
		chk_trace(c, node, c->node[node].log_n ? c->node[node].log_n - 1 : 0);
}

void chk_submit(struct chk *c, uint64_t now, uint32_t node, enum totem_guarantee g,
		const uint8_t *payload, size_t len)
{
	struct chk_node *n = &c->node[node];
	struct sim_msg_id id;
	struct chk_ev ev = ev_make(now, CHK_EV_SUBMIT);
	struct chk_msg *m;
	uint32_t idx;

	if (sim_payload_decode(payload, len, &id) != SIM_PAYLOAD_OK || id.nodeid != n->id ||
	    id.inc != n->inc || chk_msg_find(c, node, id.inc, id.counter) != CHK_NONE) {
		chk_api_error(c, now, node, "simulator submitted a malformed message");
		return;
	}
	idx = msg_add(c);
	m = &c->msg[idx];
	memset(m, 0, sizeof(*m));
	m->counter = id.counter;
	m->submit_t = now;
	m->inc = id.inc;
	m->len = (uint32_t)len;
	m->sender = (uint16_t)node;
	m->g = (uint8_t)g;
	m->cfg = CHK_NONE;
	msg_tab_insert(c, idx);
	ev.ref = idx;
	ev.g = (uint8_t)g;
	chk_log(c, node, &ev);
}

uint64_t chk_delivered(const struct chk *c)
{
	return c->delivered;
}

uint64_t chk_submitted(const struct chk *c)
{
	return c->msg_n;
}

uint64_t chk_max_ring_seq(const struct chk *c, uint32_t node)
{
	return c->node[node].max_seq;
}

bool chk_pending(const struct chk *c)
{
	for (uint32_t i = 0; i < c->msg_n; i++) {
		const struct chk_msg *m = &c->msg[i];
		const struct chk_node *s = &c->node[m->sender];

		if (s->alive && s->inc == m->inc && !(m->mask & (1ull << m->sender)))
			return true;
		if (!(m->flags & CHK_M_KEYED))
			continue;
		for (uint32_t k = 0; k < c->n; k++)
			if (c->node[k].alive && c->node[k].cur == m->cfg &&
			    !(m->mask & (1ull << k)))
				return true;
	}
	return false;
}

int chk_violation(const struct chk *c)
{
	return c->violation;
}

int chk_finish(struct chk *c, uint64_t now, const struct chk_live *live)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->node[i].alive)
			chk_close_epoch(c, i, CHK_END_RUN, CHK_NONE);
	if (!c->violation)
		chk_check_order(c);
	if (!c->violation)
		chk_check_vs(c);
	if (!c->violation)
		chk_check_safe(c, false);
	if (!c->violation && live && live->enabled) {
		chk_check_live(c, now, live);
		/* a node still in a configuration at the end owes its safe
		 * messages only once the run has settled */
		if (!c->violation)
			chk_check_safe(c, true);
	}
	return c->violation;
}
