/* libcpg group iteration. cpg_iteration_initialize fetches the whole listing
 * (page by page) into a snapshot that cpg_iteration_next walks, so a walk
 * is consistent and costs no round trip per entry. Iterations belong to
 * their cpg handle and end with it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpgl.h"

#define CPGL_ITER_TAG 0x49544552u /* "ITER" */

struct cpgl_iter {
	cpg_handle_t parent;
	struct cpg_iteration_description_t *items;
	size_t n, cap, pos;
};

static struct cslib_htab iter_handles = CSLIB_HTAB_INIT(CPGL_ITER_TAG);

static void iter_free(struct cpgl_iter *it)
{
	if (!it)
		return;
	free(it->items);
	free(it);
}

static int append_page(struct cpgl_iter *it, const struct ipcc_resp *r, bool *more,
		       struct cpg_ipc_iter_req *q)
{
	struct ipc_rd rd;
	uint32_t count;

	if (cpg_ipc_iter_page_decode(r->body, r->len, &count, more, &rd))
		return -EPROTO;
	for (uint32_t i = 0; i < count; i++) {
		struct cpg_ipc_iter_entry e;
		struct cpg_iteration_description_t *d;

		if (cpg_ipc_iter_entry_next(&rd, &e))
			return -EPROTO;
		if (it->n == it->cap) {
			size_t cap = it->cap ? it->cap * 2 : 64;
			void *p = realloc(it->items, cap * sizeof(*it->items));

			if (!p)
				return -ENOMEM;
			it->items = p;
			it->cap = cap;
		}
		d = &it->items[it->n++];
		cpgl_name_out(&e.group, &d->group);
		d->nodeid = e.nodeid;
		d->pid = e.pid;
		q->has_cursor = true;
		q->cur_group = e.group;
		q->cur_nodeid = e.nodeid;
		q->cur_pid = e.pid;
	}
	return ipc_rd_done(&rd) && (count || !*more) ? 0 : -EPROTO;
}

static int fetch(struct cpgl_inst *in, struct cpg_ipc_iter_req *q, struct cpgl_iter *it)
{
	uint8_t head[IPC_HDR_LEN + 2 * (4 + IPC_NAME_MAX) + 16];
	bool more = true;
	int rc = 0;

	while (more && !rc) {
		struct ipcc_resp r = { 0 };
		size_t len = cpg_ipc_iter_req_encode(head, sizeof(head), 0, q);

		rc = cpgl_call(in, head, len, NULL, 0, &r);
		if (!rc)
			rc = append_page(it, &r, &more, q);
		free(r.body);
	}
	return rc;
}

static int track(struct cpgl_inst *in, uint64_t ih)
{
	int rc = 0;

	pthread_mutex_lock(&in->lock);
	if (in->niters == in->cap_iters) {
		size_t cap = in->cap_iters ? in->cap_iters * 2 : 8;
		uint64_t *p = realloc(in->iters, cap * sizeof(*p));

		if (p) {
			in->iters = p;
			in->cap_iters = cap;
		}
	}
	if (in->niters < in->cap_iters)
		in->iters[in->niters++] = ih;
	else
		rc = -ENOMEM;
	pthread_mutex_unlock(&in->lock);
	return rc;
}

CS_EXPORT cs_error_t cpg_iteration_initialize(cpg_handle_t handle,
					      cpg_iteration_type_t iteration_type,
					      const struct cpg_name *group,
					      cpg_iteration_handle_t *cpg_iteration_handle)
{
	struct cpg_ipc_iter_req q = { .type = iteration_type };
	struct cpgl_iter *it;
	struct cpgl_inst *in;
	cs_error_t err;
	int rc;

	if (!cpg_iteration_handle ||
	    (iteration_type != CPG_ITERATION_NAME_ONLY &&
	     iteration_type != CPG_ITERATION_ONE_GROUP && iteration_type != CPG_ITERATION_ALL) ||
	    (iteration_type == CPG_ITERATION_ONE_GROUP) != (group != NULL))
		return CS_ERR_INVALID_PARAM;
	if (group && (err = cpgl_name_in(group, &q.group)) != CS_OK)
		return err;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	it = calloc(1, sizeof(*it));
	rc = it ? fetch(in, &q, it) : -ENOMEM;
	if (!rc) {
		it->parent = handle;
		rc = cslib_h_add(&iter_handles, it, cpg_iteration_handle);
	}
	if (!rc && track(in, *cpg_iteration_handle)) {
		void *last;

		cslib_h_remove(&iter_handles, *cpg_iteration_handle, &last);
		rc = -ENOMEM;
	}
	if (rc)
		iter_free(it);
	cpgl_put(in);
	return cslib_error(rc);
}

CS_EXPORT cs_error_t cpg_iteration_next(cpg_iteration_handle_t handle,
					struct cpg_iteration_description_t *description)
{
	struct cpgl_iter *it;
	cs_error_t err = CS_OK;

	if (!description)
		return CS_ERR_INVALID_PARAM;
	it = cslib_h_get(&iter_handles, handle);
	if (!it)
		return CS_ERR_BAD_HANDLE;
	/* One walker at a time per iteration is the caller's business, as
	 * with Corosync; the handle reference keeps the snapshot alive. */
	if (it->pos < it->n)
		*description = it->items[it->pos++];
	else
		err = CS_ERR_NO_SECTIONS;
	iter_free(cslib_h_put(&iter_handles, handle));
	return err;
}

static void untrack(cpg_handle_t parent, uint64_t ih)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, parent);

	if (!in)
		return;
	pthread_mutex_lock(&in->lock);
	for (size_t i = 0; i < in->niters; i++) {
		if (in->iters[i] == ih) {
			in->iters[i] = in->iters[--in->niters];
			break;
		}
	}
	pthread_mutex_unlock(&in->lock);
	cpgl_put(in);
}

CS_EXPORT cs_error_t cpg_iteration_finalize(cpg_iteration_handle_t handle)
{
	struct cpgl_iter *it = cslib_h_get(&iter_handles, handle);
	cpg_handle_t parent;
	void *last;

	if (!it)
		return CS_ERR_BAD_HANDLE;
	parent = it->parent;
	iter_free(cslib_h_put(&iter_handles, handle));
	if (cslib_h_remove(&iter_handles, handle, &last))
		return CS_ERR_BAD_HANDLE;
	iter_free(last);
	untrack(parent, handle);
	return CS_OK;
}

/* At cpg_finalize: the handle's iterations end with it. */
void cpgl_iters_free(struct cpgl_inst *in)
{
	uint64_t *ids;
	size_t n;

	pthread_mutex_lock(&in->lock);
	ids = in->iters;
	n = in->niters;
	in->iters = NULL;
	in->niters = in->cap_iters = 0;
	pthread_mutex_unlock(&in->lock);
	for (size_t i = 0; i < n; i++) {
		void *last;

		if (!cslib_h_remove(&iter_handles, ids[i], &last))
			iter_free(last);
	}
	free(ids);
}
