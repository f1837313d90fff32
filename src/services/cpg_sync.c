/* CPG sync: after every regular configuration each node multicasts its join
 * list (its own processes and their groups). Since they arrive in total
 * order, every node of the ring completes the sync at the same point of the
 * message stream, and the union of the lists becomes the view everywhere.
 * Each node reports the difference with what it had before: processes it
 * did not know join with CPG_REASON_NODEUP (as Corosync 3.1.7 does), known
 * ones no longer listed leave with CPG_REASON_NODEDOWN.
 *
 * A node sends its list only once its own earlier messages are back, so the
 * list reflects every join/leave of its that precedes it in the order; and
 * no new join/leave/mcast is multicast until the sync completes (clients
 * get TRY_AGAIN). Join lists carry the ring id: one sent for an earlier
 * ring is ignored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

#define JL_MSG_MAX (64u << 10)

enum { REASON_NODEDOWN = 3, REASON_NODEUP = 4 };

void cpg_sync_abort(struct cpg_svc *s)
{
	for (size_t i = 0; i < s->njl; i++)
		free(s->jl[i].e);
	free(s->jl);
	s->jl = NULL;
	s->njl = 0;
	s->jl_sent = false;
	s->jl_progress = 0;
}

void cpg_sync_start(struct cpg_svc *s)
{
	cpg_sync_abort(s);
	s->syncing = true;
	s->jl = calloc(s->nmembers ? s->nmembers : 1, sizeof(*s->jl));
	if (!s->jl) {
		CPG_LOG(s, 0, "out of memory: cannot start CPG sync");
		return;
	}
	s->njl = s->nmembers;
	for (size_t i = 0; i < s->nmembers; i++)
		s->jl[i].nodeid = s->members[i];
	cpg_sync_try_send(s);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct cpg_jl_entry *x = a, *y = b;
	int c = cpg_name_cmp(&x->group, &y->group);

	if (c)
		return c;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Our own members, in a fixed order so a list cut into several messages
 * resumes where it stopped. */
static struct cpg_jl_entry *local_entries(struct cpg_svc *s, size_t *n)
{
	struct cpg_jl_entry *e = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t b = 0; b < s->groups.nbuckets; b++) {
		for (struct cpg_group *g = s->groups.tab[b]; g; g = g->hnext) {
			for (size_t i = 0; i < g->n; i++) {
				if (g->m[i].nodeid != s->host.my_nodeid)
					continue;
				if (*n == cap) {
					struct cpg_jl_entry *ne;

					cap = cap ? cap * 2 : 64;
					ne = realloc(e, cap * sizeof(*e));
					if (!ne) {
						free(e);
						return NULL;
					}
					e = ne;
				}
				e[(*n)++] = (struct cpg_jl_entry){ .pid = g->m[i].pid,
								   .conn = g->m[i].conn,
								   .group = g->name };
			}
		}
	}
	if (*n)
		qsort(e, *n, sizeof(*e), entry_cmp);
	return e;
}

/* One message of the list starting at entry from; returns entries sent, or
 * a negative errno. */
static long send_part(struct cpg_svc *s, const struct cpg_jl_entry *e, size_t n, size_t from)
{
	size_t cap = s->host.max_msg_bytes < JL_MSG_MAX ? s->host.max_msg_bytes : JL_MSG_MAX;
	uint8_t *buf = cpg_scratch(s, cap);
	size_t off = CPG_MSG_JL_HEAD, i = from;
	struct iovec iov;
	int rc;

	if (!buf)
		return -ENOMEM;
	while (i < n && cap - off >= CPG_MSG_JL_ENTRY_MAX)
		off += cpg_msg_jl_entry_encode(buf + off, cap - off, &e[i++]);
	cpg_msg_jl_head_encode(buf, cap, i == n ? CPG_JL_LAST : 0, s->ring.rep, s->ring.seq,
			       (uint32_t)(i - from));
	iov = (struct iovec){ .iov_base = buf, .iov_len = off };
	rc = cpg_send(s, &iov, 1, TOTEM_AGREED);
	return rc ? rc : (long)(i - from);
}

void cpg_sync_try_send(struct cpg_svc *s)
{
	struct cpg_jl_entry *e;
	size_t n;

	if (!s->syncing || !s->have_ring || s->jl_sent || !s->jl)
		return;
	if (!s->jl_progress && s->inflight)
		return; /* our earlier messages first */
	e = local_entries(s, &n);
	if (n && !e) {
		CPG_LOG(s, 0, "out of memory building the CPG join list");
		return;
	}
	while (!s->jl_sent) {
		long r = send_part(s, e, n, s->jl_progress);

		if (r < 0) {
			if (r != -EAGAIN)
				CPG_LOG(s, 0, "cannot multicast the CPG join list: %s",
					strerror((int)-r));
			break;
		}
		s->jl_progress += (size_t)r;
		s->jl_sent = s->jl_progress == n;
	}
	free(e);
}

static int node_entry_cmp(const void *a, const void *b)
{
	const struct cpg_member *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Replace grp's members by nw (sorted, unique) and report the difference. */
static void apply_group(struct cpg_svc *s, struct cpg_group *grp, struct cpg_member *nw, size_t nn)
{
	struct cpg_ipc_addr *left = calloc(grp->n + 1, sizeof(*left));
	struct cpg_ipc_addr *joined = calloc(nn + 1, sizeof(*joined));
	size_t i = 0, j = 0, nl = 0, nj = 0;

	if (!left || !joined) {
		CPG_LOG(s, 0, "out of memory: sync of a group not applied");
		goto out;
	}
	while (i < grp->n || j < nn) {
		int c = i == grp->n ? 1 : j == nn ? -1 : node_entry_cmp(&grp->m[i], &nw[j]);

		if (c < 0) {
			if (grp->m[i].local)
				grp->m[i].local->memb = NULL;
			left[nl++] = (struct cpg_ipc_addr){ grp->m[i].nodeid, grp->m[i].pid,
							    REASON_NODEDOWN };
			i++;
		} else if (c > 0) {
			joined[nj++] =
				(struct cpg_ipc_addr){ nw[j].nodeid, nw[j].pid, REASON_NODEUP };
			j++;
		} else {
			nw[j++].local = grp->m[i++].local;
		}
	}
	if (nl || nj) {
		free(grp->m);
		grp->m = nw;
		grp->n = grp->cap = nn;
		nw = NULL;
		grp->changes++;
		cpg_emit_confchg(s, grp, left, nl, joined, nj, NULL);
	}
out:
	free(nw);
	free(left);
	free(joined);
}

struct jl_flat {
	const struct cpg_jl_entry *e;
	uint32_t nodeid;
};

static int flat_cmp(const void *a, const void *b)
{
	const struct jl_flat *x = a, *y = b;
	int c = cpg_name_cmp(&x->e->group, &y->e->group);

	if (c)
		return c;
	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->e->pid < y->e->pid ? -1 : x->e->pid > y->e->pid;
}

/* Groups listed by the join lists, one run of equal names at a time. */
static void apply_lists(struct cpg_svc *s, struct jl_flat *f, size_t nf)
{
	for (size_t a = 0, b; a < nf; a = b) {
		struct cpg_group *grp = cpg_group_get(&s->groups, &f[a].e->group);
		struct cpg_member *nw;
		size_t nn = 0;

		for (b = a; b < nf && cpg_name_eq(&f[b].e->group, &f[a].e->group); b++)
			;
		nw = calloc(b - a, sizeof(*nw));
		if (!grp || !nw) {
			free(nw);
			CPG_LOG(s, 0, "out of memory: sync of a group not applied");
			continue;
		}
		grp->mark = true;
		for (size_t k = a; k < b; k++) {
			if (nn && nw[nn - 1].nodeid == f[k].nodeid && nw[nn - 1].pid == f[k].e->pid)
				continue; /* duplicate entry */
			nw[nn++] = (struct cpg_member){ .nodeid = f[k].nodeid,
							.pid = f[k].e->pid,
							.conn = f[k].e->conn };
		}
		apply_group(s, grp, nw, nn);
	}
}

static void complete(struct cpg_svc *s)
{
	size_t nf = 0, k = 0, ng;
	struct jl_flat *f;
	struct cpg_group **gs;

	for (size_t i = 0; i < s->njl; i++)
		nf += s->jl[i].n;
	f = calloc(nf + 1, sizeof(*f));
	gs = calloc(s->groups.count + 1, sizeof(*gs));
	if (!f || !gs) {
		CPG_LOG(s, 0, "out of memory: CPG sync not applied");
		goto out;
	}
	for (size_t i = 0; i < s->njl; i++)
		for (size_t j = 0; j < s->jl[i].n; j++)
			f[k++] = (struct jl_flat){ .e = &s->jl[i].e[j], .nodeid = s->jl[i].nodeid };
	qsort(f, nf, sizeof(*f), flat_cmp);
	ng = cpg_groups_list(&s->groups, gs);
	for (size_t i = 0; i < ng; i++)
		gs[i]->mark = false;
	apply_lists(s, f, nf);
	/* Groups nobody listed any more: every member left. */
	for (size_t i = 0; i < ng; i++)
		if (!gs[i]->mark)
			apply_group(s, gs[i], NULL, 0);
	/* apply_lists may have added groups: gs has no room for them. */
	free(gs);
	gs = calloc(s->groups.count + 1, sizeof(*gs));
	if (!gs) {
		CPG_LOG(s, 0, "out of memory: empty groups kept after CPG sync");
		goto out;
	}
	ng = cpg_groups_list(&s->groups, gs);
	for (size_t i = 0; i < ng; i++)
		cpg_group_drop_if_empty(&s->groups, gs[i]);
out:
	free(f);
	free(gs);
}

void cpg_sync_joinlist(struct cpg_svc *s, uint32_t sender, const struct cpg_msg *m)
{
	struct cpg_jl_node *node = NULL;
	size_t off = 0;

	if (!s->syncing || !s->jl || m->ring_rep != s->ring.rep || m->ring_seq != s->ring.seq)
		return;
	for (size_t i = 0; i < s->njl && !node; i++)
		if (s->jl[i].nodeid == sender)
			node = &s->jl[i];
	if (!node || node->done)
		return;
	for (uint32_t i = 0; i < m->jl_count; i++) {
		struct cpg_jl_entry e;

		cpg_msg_jl_next(m, &off, &e);
		if (node->n == node->cap) {
			size_t cap = node->cap ? node->cap * 2 : 16;
			struct cpg_jl_entry *ne;

			/* Same bound on every node, so the truncation is the same too. */
			if (cap > CPG_JL_MAX_PER_NODE ||
			    !(ne = realloc(node->e, cap * sizeof(*ne))))
				break;
			node->e = ne;
			node->cap = cap;
		}
		node->e[node->n++] = e;
	}
	if (m->jl_flags & CPG_JL_LAST)
		node->done = true;
	for (size_t i = 0; i < s->njl; i++)
		if (!s->jl[i].done)
			return;
	complete(s);
	cpg_sync_abort(s);
	s->syncing = false;
	CPG_LOG(s, 3, "sync done for ring %u/%llu: %zu groups", s->ring.rep,
		(unsigned long long)s->ring.seq, s->groups.count);
	cpg_emit_totem(s, NULL);
	cpg_flush_pending_leaves(s);
	cpg_flow_update(s); /* says our congestion again, kicks the waiting */
}
