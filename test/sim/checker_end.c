/* Checks that need the whole run: the global total order (2), virtual
 * synchrony (3), safe delivery (5) and liveness (7). */
#include "checker_int.h"

#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "checker: out of memory\n");
		abort();
	}
	return p;
}

/* ---- property 2: the union of every process's delivery order is acyclic ----
 * Each process delivers a chain of messages; the chains are consistent with
 * one total order exactly when their union has no cycle. This is stronger
 * than comparing pairs of processes, which misses a cycle spread over three. */

struct chk_graph {
	uint32_t m, e;
	uint32_t *off, *to, *roff, *rfrom; /* forward and reverse CSR */
	uint8_t *rlabel;		   /* node whose chain has that edge */
};

static uint32_t edge_at(const struct chk *c, uint32_t node, uint32_t i, uint32_t *from)
{
	const struct chk_node *n = &c->node[node];

	if (i == 0 || (n->dl[i] & CHK_DL_NEWINC))
		return CHK_NONE;
	*from = n->dl[i - 1] & ~CHK_DL_NEWINC;
	return n->dl[i] & ~CHK_DL_NEWINC;
}

static void graph_build(const struct chk *c, struct chk_graph *g)
{
	uint32_t *fill, *rfill;

	g->m = c->msg_n;
	g->e = 0;
	g->off = xcalloc(g->m + 1, sizeof(uint32_t));
	g->roff = xcalloc(g->m + 1, sizeof(uint32_t));
	for (uint32_t k = 0; k < c->n; k++)
		for (uint32_t i = 0, f, t; i < c->node[k].dl_n; i++)
			if ((t = edge_at(c, k, i, &f)) != CHK_NONE) {
				g->off[f + 1]++;
				g->roff[t + 1]++;
				g->e++;
			}
	for (uint32_t i = 0; i < g->m; i++) {
		g->off[i + 1] += g->off[i];
		g->roff[i + 1] += g->roff[i];
	}
	g->to = xcalloc(g->e, sizeof(uint32_t));
	g->rfrom = xcalloc(g->e, sizeof(uint32_t));
	g->rlabel = xcalloc(g->e, 1);
	fill = xcalloc(g->m, sizeof(uint32_t));
	rfill = xcalloc(g->m, sizeof(uint32_t));
	for (uint32_t k = 0; k < c->n; k++)
		for (uint32_t i = 0, f, t; i < c->node[k].dl_n; i++)
			if ((t = edge_at(c, k, i, &f)) != CHK_NONE) {
				g->to[g->off[f] + fill[f]++] = t;
				g->rlabel[g->roff[t] + rfill[t]] = (uint8_t)k;
				g->rfrom[g->roff[t] + rfill[t]++] = f;
			}
	free(fill);
	free(rfill);
}

static void graph_free(struct chk_graph *g)
{
	free(g->off);
	free(g->to);
	free(g->roff);
	free(g->rfrom);
	free(g->rlabel);
}

/* Kahn's algorithm; returns a message left on a cycle, or CHK_NONE. */
static uint32_t graph_cycle_member(const struct chk_graph *g, uint32_t *indeg)
{
	uint32_t *queue = xcalloc(g->m, sizeof(uint32_t));
	uint32_t head = 0, tail = 0, left = CHK_NONE;

	for (uint32_t i = 0; i < g->m; i++) {
		indeg[i] = g->roff[i + 1] - g->roff[i];
		if (!indeg[i])
			queue[tail++] = i;
	}
	while (head < tail) {
		uint32_t x = queue[head++];

		for (uint32_t j = g->off[x]; j < g->off[x + 1]; j++)
			if (--indeg[g->to[j]] == 0)
				queue[tail++] = g->to[j];
	}
	for (uint32_t i = 0; i < g->m && left == CHK_NONE; i++)
		if (indeg[i])
			left = i;
	free(queue);
	return left;
}

static void report_cycle(struct chk *c, const struct chk_graph *g, const uint32_t *indeg,
			 uint32_t start)
{
	uint32_t *seen = xcalloc(g->m, sizeof(uint32_t));
	uint32_t *path = xcalloc(g->m + 1, sizeof(uint32_t));
	uint8_t *label = xcalloc(g->m + 1, 1);
	uint32_t x = start, step = 0, first, shown = 0;
	char a[64], b[64];

	/* every message Kahn left has a predecessor it left too, so walking
	 * back along such predecessors must meet a message already seen */
	while (!seen[x]) {
		seen[x] = ++step;
		path[step] = x;
		for (uint32_t j = g->roff[x]; j < g->roff[x + 1]; j++)
			if (indeg[g->rfrom[j]]) {
				label[step] = g->rlabel[j];
				x = g->rfrom[j];
				break;
			}
	}
	first = seen[x];
	if (chk_fail(c, CHK_P_ORDER, "no total order: %u messages are delivered in a cycle",
		     step - first + 1)) {
		for (uint32_t i = step; i >= first; i--) {
			uint32_t pred = i == step ? path[first] : path[i + 1], k = label[i];

			fprintf(c->out, "  node %u delivered %s right before %s\n", c->node[k].id,
				chk_msg_name(c, pred, a, sizeof(a)),
				chk_msg_name(c, path[i], b, sizeof(b)));
			if (shown++ < 3)
				chk_trace(c, k, chk_find_delivery(c, k, path[i]));
		}
	}
	free(seen);
	free(path);
	free(label);
}

void chk_check_order(struct chk *c)
{
	struct chk_graph g;
	uint32_t *indeg, left;

	graph_build(c, &g);
	indeg = xcalloc(g.m, sizeof(uint32_t));
	left = graph_cycle_member(&g, indeg);
	if (left != CHK_NONE)
		report_cycle(c, &g, indeg, left);
	free(indeg);
	graph_free(&g);
}

/* ---- property 3 ---- */

struct ep_key {
	uint64_t key;
	uint32_t ep;
};

static int ep_key_cmp(const void *a, const void *b)
{
	const struct ep_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ep < y->ep ? -1 : x->ep > y->ep;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t *epoch_sorted(const struct chk *c, const struct chk_epoch *e)
{
	uint32_t *v = xcalloc(e->dl_len, sizeof(uint32_t));

	for (uint32_t i = 0; i < e->dl_len; i++)
		v[i] = c->node[e->node].dl[e->dl_off + i] & ~CHK_DL_NEWINC;
	qsort(v, e->dl_len, sizeof(uint32_t), u32_cmp);
	return v;
}

/* First message in exactly one of the sorted sets; CHK_NONE when equal.
 * *in_a tells which set holds it. */
static uint32_t set_diff(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb, bool *in_a)
{
	uint32_t i = 0, j = 0;

	while (i < na && j < nb && a[i] == b[j]) {
		i++;
		j++;
	}
	if (i == na && j == nb)
		return CHK_NONE;
	*in_a = j == nb || (i < na && a[i] < b[j]);
	return *in_a ? a[i] : b[j];
}

static void vs_compare(struct chk *c, const struct chk_epoch *x, const struct chk_epoch *y)
{
	uint32_t *a = epoch_sorted(c, x), *b = epoch_sorted(c, y);
	bool in_a = false;
	uint32_t d = set_diff(a, x->dl_len, b, y->dl_len, &in_a);
	const struct chk_cfg *k = &c->cfg[x->cfg], *k2 = &c->cfg[x->next_cfg];
	char nm[64];

	if (d != CHK_NONE &&
	    chk_fail(c, CHK_P_VS,
		     "nodes %u and %u both moved from ring %u.%llu to ring %u.%llu, but node %u "
		     "delivered %s in ring %u.%llu (or its transitional configuration) and node "
		     "%u did not (%u vs %u messages)",
		     c->node[x->node].id, c->node[y->node].id, k->ring.rep,
		     (unsigned long long)k->ring.seq, k2->ring.rep,
		     (unsigned long long)k2->ring.seq, c->node[in_a ? x->node : y->node].id,
		     chk_msg_name(c, d, nm, sizeof(nm)), k->ring.rep,
		     (unsigned long long)k->ring.seq, c->node[in_a ? y->node : x->node].id,
		     x->dl_len, y->dl_len)) {
		chk_trace(c, x->node, x->end_log);
		chk_trace(c, y->node, y->end_log);
	}
	free(a);
	free(b);
}

void chk_check_vs(struct chk *c)
{
	struct ep_key *keys = xcalloc(c->ep_n, sizeof(*keys));
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->ep_n; i++)
		if (c->ep[i].end == CHK_END_NEXT) {
			keys[n].key = (uint64_t)c->ep[i].cfg << 32 | c->ep[i].next_cfg;
			keys[n++].ep = i;
		}
	qsort(keys, n, sizeof(*keys), ep_key_cmp);
	for (uint32_t i = 1; i < n && !c->violation; i++)
		if (keys[i].key == keys[i - 1].key)
			vs_compare(c, &c->ep[keys[i - 1].ep], &c->ep[keys[i].ep]);
	free(keys);
}

/* ---- property 5 ----
 * A safe message delivered in a regular configuration was received by every
 * member. Delivery is all that can be observed, so: every member process that
 * installed the configuration and did not crash before leaving it delivers
 * the message in it or in its transitional configuration. */

static void safe_report(struct chk *c, const struct chk_epoch *e, uint32_t msg)
{
	const struct chk_msg *m = &c->msg[msg];
	const struct chk_cfg *k = &c->cfg[e->cfg];
	char nm[64];

	if (chk_fail(c, CHK_P_SAFE,
		     "node %u delivered %s as safe in regular ring %u.%llu, but member node %u "
		     "(incarnation %u, did not crash) %s without delivering it",
		     c->node[m->safe_node].id, chk_msg_name(c, msg, nm, sizeof(nm)), k->ring.rep,
		     (unsigned long long)k->ring.seq, c->node[e->node].id, e->inc,
		     e->end == CHK_END_NEXT ? "left that configuration" : "ended the run")) {
		chk_trace(c, m->safe_node, chk_find_delivery(c, m->safe_node, msg));
		chk_trace(c, e->node, e->end_log);
	}
}

void chk_check_safe(struct chk *c, bool run_end)
{
	uint32_t *start = xcalloc(c->cfg_n + 1, sizeof(uint32_t));
	uint32_t *list = xcalloc(c->msg_n, sizeof(uint32_t));
	uint32_t *stamp = xcalloc(c->msg_n, sizeof(uint32_t));
	uint32_t *fill = xcalloc(c->cfg_n, sizeof(uint32_t));

	/* bucket the safe messages by configuration */
	for (uint32_t i = 0; i < c->msg_n; i++)
		if (c->msg[i].flags & CHK_M_SAFE_REG)
			start[c->msg[i].cfg + 1]++;
	for (uint32_t k = 0; k < c->cfg_n; k++)
		start[k + 1] += start[k];
	for (uint32_t i = 0; i < c->msg_n; i++)
		if (c->msg[i].flags & CHK_M_SAFE_REG)
			list[start[c->msg[i].cfg] + fill[c->msg[i].cfg]++] = i;
	free(fill);
	for (uint32_t i = 0; i < c->ep_n && !c->violation; i++) {
		const struct chk_epoch *e = &c->ep[i];
		const uint32_t *dl = c->node[e->node].dl + e->dl_off;

		if (e->end == CHK_END_CRASH || (e->end == CHK_END_RUN) != run_end)
			continue;
		for (uint32_t j = 0; j < e->dl_len; j++)
			stamp[dl[j] & ~CHK_DL_NEWINC] = i + 1;
		for (uint32_t j = start[e->cfg]; j < start[e->cfg + 1]; j++)
			if (stamp[list[j]] != i + 1) {
				safe_report(c, e, list[j]);
				break;
			}
	}
	free(start);
	free(list);
	free(stamp);
}

/* ---- property 7 ---- */

static bool live_one_ring(struct chk *c, uint32_t *ring_cfg, uint64_t *formed)
{
	uint32_t k = CHK_NONE, kn = 0;
	char b1[512], b2[512];

	*formed = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		const struct chk_node *n = &c->node[i];

		if (!n->alive || n->cur == CHK_NONE || n->in_trans) {
			if (chk_fail(c, CHK_P_LIVE, "node %u ends the run %s", n->id,
				     !n->alive ? "down" : "outside any regular configuration"))
				chk_trace(c, i, n->log_n - 1);
			return false;
		}
		if (k == CHK_NONE) {
			k = n->cur;
			kn = i;
		} else if (n->cur != k) {
			if (chk_fail(c, CHK_P_LIVE,
				     "no single ring at the end: node %u is in ring %u.%llu [%s], "
				     "node %u in ring %u.%llu [%s]",
				     c->node[kn].id, c->cfg[k].ring.rep,
				     (unsigned long long)c->cfg[k].ring.seq,
				     chk_mask_str(c, c->cfg[k].members, b1, sizeof(b1)), n->id,
				     c->cfg[n->cur].ring.rep,
				     (unsigned long long)c->cfg[n->cur].ring.seq,
				     chk_mask_str(c, c->cfg[n->cur].members, b2, sizeof(b2)))) {
				chk_trace(c, kn, c->node[kn].log_n - 1);
				chk_trace(c, i, n->log_n - 1);
			}
			return false;
		}
		if (n->install_t > *formed)
			*formed = n->install_t;
	}
	*ring_cfg = k;
	return true;
}

static void live_messages(struct chk *c, uint32_t k, uint64_t all)
{
	char nm[64], b1[512];

	for (uint32_t i = 0; i < c->msg_n && !c->violation; i++) {
		const struct chk_msg *m = &c->msg[i];
		uint32_t s = m->sender;

		/* a process that never crashed delivers everything it sent */
		if (c->node[s].inc == m->inc && !(m->mask & (1ull << s))) {
			if (chk_fail(c, CHK_P_LIVE,
				     "node %u submitted %s at %llu us and never crashed, but never "
				     "delivered it",
				     c->node[s].id, chk_msg_name(c, i, nm, sizeof(nm)),
				     (unsigned long long)m->submit_t))
				chk_trace(c, s, c->node[s].log_n - 1);
			return;
		}
		if ((m->flags & CHK_M_KEYED) && m->cfg == k && m->mask != all) {
			uint32_t miss = (uint32_t)__builtin_ctzll(all & ~m->mask);

			if (chk_fail(
				    c, CHK_P_LIVE,
				    "%s was delivered in the final ring by [%s] but never by node %u",
				    chk_msg_name(c, i, nm, sizeof(nm)),
				    chk_mask_str(c, m->mask, b1, sizeof(b1)), c->node[miss].id))
				chk_trace(c, miss, c->node[miss].log_n - 1);
			return;
		}
	}
}

void chk_check_live(struct chk *c, uint64_t now, const struct chk_live *live)
{
	uint64_t all = c->n >= 64 ? ~0ull : (1ull << c->n) - 1;
	uint64_t formed, deadline = live->quiet_start_us + live->bound_us;
	uint32_t k, last = 0;
	char b1[512];

	(void)now;
	if (!live_one_ring(c, &k, &formed))
		return;
	if (c->cfg[k].members != all) {
		if (chk_fail(c, CHK_P_LIVE,
			     "the final ring %u.%llu has members [%s], not all nodes",
			     c->cfg[k].ring.rep, (unsigned long long)c->cfg[k].ring.seq,
			     chk_mask_str(c, c->cfg[k].members, b1, sizeof(b1))))
			chk_trace(c, 0, c->node[0].log_n - 1);
		return;
	}
	if (formed > deadline) {
		for (uint32_t i = 0; i < c->n; i++)
			if (c->node[i].install_t == formed)
				last = i;
		if (chk_fail(c, CHK_P_LIVE,
			     "one ring of all nodes formed only at %llu us, %llu ms after faults "
			     "stopped; the bound is %llu ms",
			     (unsigned long long)formed,
			     (unsigned long long)((formed - live->quiet_start_us) / 1000),
			     (unsigned long long)(live->bound_us / 1000)))
			chk_trace(c, last, c->node[last].log_n - 1);
		return;
	}
	live_messages(c, k, all);
}
