/* CPG group table: a hash of groups, each with its members sorted by
 * (nodeid, pid) so that member lists are the same on every node. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

#define CPG_BUCKETS_MIN 64u

int cpg_name_cmp(const struct cpg_ipc_name *a, const struct cpg_ipc_name *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->value, b->value, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static uint32_t name_hash(const struct cpg_ipc_name *n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (uint32_t i = 0; i < n->len; i++)
		h = (h ^ n->value[i]) * 16777619u;
	return h;
}

int cpg_groups_init(struct cpg_groups *g)
{
	g->tab = calloc(CPG_BUCKETS_MIN, sizeof(*g->tab));
	g->nbuckets = CPG_BUCKETS_MIN;
	g->count = 0;
	return g->tab ? 0 : -ENOMEM;
}

static void group_free(struct cpg_group *grp)
{
	free(grp->m);
	free(grp);
}

void cpg_groups_free(struct cpg_groups *g)
{
	for (size_t i = 0; i < g->nbuckets && g->tab; i++) {
		while (g->tab[i]) {
			struct cpg_group *grp = g->tab[i];

			g->tab[i] = grp->hnext;
			group_free(grp);
		}
	}
	free(g->tab);
	g->tab = NULL;
	g->count = 0;
}

struct cpg_group *cpg_group_find(struct cpg_groups *g, const struct cpg_ipc_name *name)
{
	uint32_t h = name_hash(name);

	for (struct cpg_group *grp = g->tab[h & (g->nbuckets - 1)]; grp; grp = grp->hnext)
		if (grp->hash == h && cpg_name_eq(&grp->name, name))
			return grp;
	return NULL;
}

static void rehash(struct cpg_groups *g)
{
	size_t nb = g->nbuckets * 2;
	struct cpg_group **tab = calloc(nb, sizeof(*tab));

	if (!tab)
		return; /* keep the longer chains */
	for (size_t i = 0; i < g->nbuckets; i++) {
		while (g->tab[i]) {
			struct cpg_group *grp = g->tab[i];

			g->tab[i] = grp->hnext;
			grp->hnext = tab[grp->hash & (nb - 1)];
			tab[grp->hash & (nb - 1)] = grp;
		}
	}
	free(g->tab);
	g->tab = tab;
	g->nbuckets = nb;
}

struct cpg_group *cpg_group_get(struct cpg_groups *g, const struct cpg_ipc_name *name)
{
	struct cpg_group *grp = cpg_group_find(g, name);

	if (grp)
		return grp;
	grp = calloc(1, sizeof(*grp));
	if (!grp)
		return NULL;
	grp->name = *name;
	grp->hash = name_hash(name);
	if (g->count >= g->nbuckets)
		rehash(g);
	grp->hnext = g->tab[grp->hash & (g->nbuckets - 1)];
	g->tab[grp->hash & (g->nbuckets - 1)] = grp;
	g->count++;
	return grp;
}

void cpg_group_drop_if_empty(struct cpg_groups *g, struct cpg_group *grp)
{
	struct cpg_group **pp;

	if (grp->n)
		return;
	for (pp = &g->tab[grp->hash & (g->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == grp) {
			*pp = grp->hnext;
			g->count--;
			group_free(grp);
			return;
		}
	}
}

static int memb_cmp(uint32_t n1, uint32_t p1, uint32_t n2, uint32_t p2)
{
	if (n1 != n2)
		return n1 < n2 ? -1 : 1;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return 0;
}

/* First index whose (nodeid, pid) is not below the key. */
static size_t lower_bound(const struct cpg_group *grp, uint32_t nodeid, uint32_t pid)
{
	size_t lo = 0, hi = grp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memb_cmp(grp->m[mid].nodeid, grp->m[mid].pid, nodeid, pid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long cpg_group_index(const struct cpg_group *grp, uint32_t nodeid, uint32_t pid)
{
	size_t i = lower_bound(grp, nodeid, pid);

	if (i < grp->n && grp->m[i].nodeid == nodeid && grp->m[i].pid == pid)
		return (long)i;
	return -1;
}

int cpg_group_insert(struct cpg_group *grp, const struct cpg_member *m)
{
	size_t i = lower_bound(grp, m->nodeid, m->pid);

	if (i < grp->n && grp->m[i].nodeid == m->nodeid && grp->m[i].pid == m->pid)
		return -EEXIST;
	if (grp->n == grp->cap) {
		size_t cap = grp->cap ? grp->cap * 2 : 4;
		struct cpg_member *nm = realloc(grp->m, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		grp->m = nm;
		grp->cap = cap;
	}
	memmove(grp->m + i + 1, grp->m + i, (grp->n - i) * sizeof(*grp->m));
	grp->m[i] = *m;
	grp->n++;
	return 0;
}

void cpg_group_remove_at(struct cpg_group *grp, size_t i)
{
	memmove(grp->m + i, grp->m + i + 1, (grp->n - i - 1) * sizeof(*grp->m));
	grp->n--;
}

size_t cpg_groups_list(const struct cpg_groups *g, struct cpg_group **out)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nbuckets; i++)
		for (struct cpg_group *grp = g->tab[i]; grp; grp = grp->hnext)
			out[n++] = grp;
	return n;
}
