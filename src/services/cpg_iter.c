/* Group iteration for cpg_iteration_*: the library asks for pages; each page
 * continues strictly after the last entry of the previous one in (name,
 * nodeid, pid) order, so a listing never repeats or reorders entries even
 * when groups change between pages. */
#include <errno.h>
#include <stdlib.h>

#include "services/cpg_int.h"

#define ITER_NAME_ONLY 1u
#define ITER_ONE_GROUP 2u
#define ITER_ALL 3u

struct iter_item {
	const struct cpg_group *g;
	uint32_t nodeid, pid;
};

static int key_cmp(const struct cpg_ipc_name *n1, uint32_t id1, uint32_t p1,
		   const struct cpg_ipc_name *n2, uint32_t id2, uint32_t p2)
{
	int c = cpg_name_cmp(n1, n2);

	if (c)
		return c;
	if (id1 != id2)
		return id1 < id2 ? -1 : 1;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct iter_item *x = a, *y = b;

	return key_cmp(&x->g->name, x->nodeid, x->pid, &y->g->name, y->nodeid, y->pid);
}

/* Every entry of the listing, sorted; NULL with *n = 0 when empty. */
static struct iter_item *collect(struct cpg_svc *s, const struct cpg_ipc_iter_req *q, size_t *n,
				 int *err)
{
	struct cpg_group **gs = NULL, *one;
	struct iter_item *it = NULL;
	size_t ng = 0, total = 0;

	*n = 0;
	*err = 0;
	if (q->type == ITER_ONE_GROUP) {
		one = cpg_group_find(&s->groups, &q->group);
		gs = one ? &one : NULL;
		ng = one ? 1 : 0;
	} else if (s->groups.count) {
		gs = calloc(s->groups.count, sizeof(*gs));
		if (!gs)
			goto oom;
		ng = cpg_groups_list(&s->groups, gs);
	}
	for (size_t i = 0; i < ng; i++)
		total += q->type == ITER_NAME_ONLY ? 1 : gs[i]->n;
	if (total && !(it = calloc(total, sizeof(*it))))
		goto oom;
	for (size_t i = 0; i < ng; i++) {
		if (q->type == ITER_NAME_ONLY) {
			it[(*n)++] = (struct iter_item){ .g = gs[i] };
			continue;
		}
		for (size_t j = 0; j < gs[i]->n; j++)
			it[(*n)++] = (struct iter_item){ .g = gs[i],
							 .nodeid = gs[i]->m[j].nodeid,
							 .pid = gs[i]->m[j].pid };
	}
	if (q->type != ITER_ONE_GROUP)
		free(gs);
	if (*n)
		qsort(it, *n, sizeof(*it), item_cmp);
	return it;
oom:
	if (q->type != ITER_ONE_GROUP)
		free(gs);
	*err = -ENOMEM;
	return NULL;
}

enum ipc_req_rc cpg_req_iter(struct cpg_svc *s, struct cpg_conn *c, const struct ipc_hdr *h,
			     const uint8_t *body, size_t len)
{
	struct cpg_ipc_iter_req q;
	struct iter_item *it;
	size_t n, i = 0, cap = IPC_MAX_FRAME - IPC_HDR_LEN;
	uint32_t count = 0;
	struct ipc_wr w;
	struct iovec iov;
	int rc = cpg_ipc_iter_req_decode(body, len, &q);

	if (rc == -EPROTO) {
		ipc_conn_close(c->ipc, 1, "malformed iteration request");
		return IPC_DONE;
	}
	if (!rc && (q.type < ITER_NAME_ONLY || q.type > ITER_ALL))
		rc = -EINVAL;
	it = rc ? NULL : collect(s, &q, &n, &rc);
	iov.iov_base = rc ? NULL : cpg_scratch(s, cap);
	if (rc || !iov.iov_base) {
		free(it);
		ipc_respond(c->ipc, h, rc ? rc : -ENOMEM, NULL, 0);
		return IPC_DONE;
	}
	while (q.has_cursor && i < n &&
	       key_cmp(&it[i].g->name, it[i].nodeid, it[i].pid, &q.cur_group, q.cur_nodeid,
		       q.cur_pid) <= 0)
		i++;
	ipc_wr_init(&w, iov.iov_base, cap);
	w.off = 5; /* count and more, written last */
	for (; i < n && w.cap - w.off >= CPG_IPC_ITER_ENTRY_MAX; i++, count++) {
		struct cpg_ipc_iter_entry e = { .group = it[i].g->name,
						.nodeid = it[i].nodeid,
						.pid = it[i].pid };

		cpg_ipc_iter_entry_put(&w, &e);
	}
	ipc_put_u32(iov.iov_base, count);
	((uint8_t *)iov.iov_base)[4] = i < n;
	iov.iov_len = w.off;
	free(it);
	ipc_respond(c->ipc, h, 0, &iov, 1);
	return IPC_DONE;
}
