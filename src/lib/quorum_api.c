/* libquorum.so.5: the quorum API (corosync/quorum.h) over the "quorum"
 * endpoint of cohortd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/quorum.h>

#include "lib/quorum_lib.h"

#define QUORUM_HANDLE_TAG 0x51524d01u /* "QRM" */

static struct cslib_htab quorum_handles = CSLIB_HTAB_INIT(QUORUM_HANDLE_TAG);

struct quorum_inst {
	struct quorum_lib_inst base; /* first */
	quorum_model_t model;
	quorum_notification_fn_t v0_fn;
	quorum_v1_quorum_notification_fn_t quorum_fn;
	quorum_v1_nodelist_notification_fn_t nodelist_fn;
};

static bool call_quorum(struct quorum_inst *q, const struct quorum_ipc_event *ev)
{
	struct quorum_ring_id ring = { ev->rep, ev->seq };

	if (q->model == QUORUM_MODEL_V0) {
		if (!q->v0_fn)
			return false;
		/* V0's list is not const in the prototype; it is our copy. */
		q->v0_fn(q->base.handle, ev->quorate, ev->seq, ev->n_memb, (uint32_t *)ev->ids);
		return true;
	}
	if (!q->quorum_fn)
		return false;
	q->quorum_fn(q->base.handle, ev->quorate, ring, ev->n_memb, ev->ids);
	return true;
}

static bool call_nodelist(struct quorum_inst *q, const struct quorum_ipc_event *ev)
{
	struct quorum_ring_id ring = { ev->rep, ev->seq };
	const uint32_t *ids = ev->ids;

	if (q->model != QUORUM_MODEL_V1 || !q->nodelist_fn)
		return false;
	q->nodelist_fn(q->base.handle, ring, ev->n_memb, ids, ev->n_joined, ids + ev->n_memb,
		       ev->n_left, ids + ev->n_memb + ev->n_joined);
	return true;
}

static bool on_event(struct quorum_lib_inst *in, const struct ipcc_event *e)
{
	struct quorum_inst *q = (struct quorum_inst *)in;
	/* Decoded on the heap: a callback may dispatch again, nesting frames. */
	struct quorum_ipc_event *ev = malloc(sizeof(*ev));
	bool called = false;

	if (!ev)
		return false;
	if (quorum_ipc_event_decode(e->h.type, e->body, e->len, ev) == 0) {
		if (e->h.type == QUORUM_IPC_EV_QUORUM)
			called = call_quorum(q, ev);
		else if (e->h.type == QUORUM_IPC_EV_NODELIST)
			called = call_nodelist(q, ev);
	}
	free(ev);
	return called;
}

CS_EXPORT cs_error_t quorum_model_initialize(quorum_handle_t *handle, quorum_model_t model,
					     quorum_model_data_t *model_data, uint32_t *quorum_type,
					     void *context)
{
	struct quorum_lib_inst *in;
	struct quorum_inst *q;
	uint32_t type;
	cs_error_t err;

	if (!handle || !model_data || !quorum_type ||
	    (model != QUORUM_MODEL_V0 && model != QUORUM_MODEL_V1))
		return CS_ERR_INVALID_PARAM;
	err = quorum_lib_open(&quorum_handles, sizeof(*q), QUORUM_IPC_SERVICE_NAME,
			      QUORUM_IPC_SERVICE_ID, on_event, &in);
	if (err != CS_OK)
		return err;
	q = (struct quorum_inst *)in;
	/* quorum_model_initialize(3): the model field of the data need not
	 * be set; the model argument decides how it is read. */
	q->model = model;
	if (model == QUORUM_MODEL_V0) {
		q->v0_fn = ((const quorum_model_v0_data_t *)model_data)->quorum_notify_fn;
	} else {
		q->quorum_fn = ((const quorum_model_v1_data_t *)model_data)->quorum_notify_fn;
		q->nodelist_fn = ((const quorum_model_v1_data_t *)model_data)->nodelist_notify_fn;
	}
	in->context = context;
	err = cslib_error(quorum_lib_words(in, QUORUM_IPC_GETTYPE, NULL, 0, &type, 1));
	if (err != CS_OK) {
		quorum_lib_finalize(&quorum_handles, in->handle);
		return err;
	}
	*quorum_type = type;
	*handle = in->handle;
	return CS_OK;
}

CS_EXPORT cs_error_t quorum_initialize(quorum_handle_t *handle, quorum_callbacks_t *callbacks,
				       uint32_t *quorum_type)
{
	quorum_model_v0_data_t v0 = { QUORUM_MODEL_V0,
				      callbacks ? callbacks->quorum_notify_fn : NULL };

	return quorum_model_initialize(handle, QUORUM_MODEL_V0, (quorum_model_data_t *)&v0,
				       quorum_type, NULL);
}

CS_EXPORT cs_error_t quorum_finalize(quorum_handle_t handle)
{
	return quorum_lib_finalize(&quorum_handles, handle);
}

CS_EXPORT cs_error_t quorum_fd_get(quorum_handle_t handle, int *fd)
{
	return quorum_lib_fd_get(&quorum_handles, handle, fd);
}

CS_EXPORT cs_error_t quorum_dispatch(quorum_handle_t handle, cs_dispatch_flags_t dispatch_types)
{
	return quorum_lib_dispatch(&quorum_handles, handle, dispatch_types);
}

CS_EXPORT cs_error_t quorum_getquorate(quorum_handle_t handle, int *quorate)
{
	uint32_t v;
	cs_error_t err;

	if (!quorate)
		return CS_ERR_INVALID_PARAM;
	err = quorum_lib_call(&quorum_handles, handle, QUORUM_IPC_GETQUORATE, NULL, 0, &v, 1);
	if (err == CS_OK)
		*quorate = (int)v;
	return err;
}

CS_EXPORT cs_error_t quorum_trackstart(quorum_handle_t handle, unsigned int flags)
{
	uint32_t f = flags;

	return quorum_lib_call(&quorum_handles, handle, QUORUM_IPC_TRACKSTART, &f, 1, NULL, 0);
}

CS_EXPORT cs_error_t quorum_trackstop(quorum_handle_t handle)
{
	return quorum_lib_call(&quorum_handles, handle, QUORUM_IPC_TRACKSTOP, NULL, 0, NULL, 0);
}

/* Context calls never touch the daemon, so they work after it has gone. */
CS_EXPORT cs_error_t quorum_context_set(quorum_handle_t handle, const void *context)
{
	struct quorum_lib_inst *in = quorum_lib_get_any(&quorum_handles, handle);

	if (!in)
		return CS_ERR_BAD_HANDLE;
	pthread_mutex_lock(&in->lock);
	in->context = (void *)context;
	pthread_mutex_unlock(&in->lock);
	quorum_lib_put(in);
	return CS_OK;
}

CS_EXPORT cs_error_t quorum_context_get(quorum_handle_t handle, const void **context)
{
	struct quorum_lib_inst *in = quorum_lib_get_any(&quorum_handles, handle);

	if (!in)
		return CS_ERR_BAD_HANDLE;
	if (context) {
		pthread_mutex_lock(&in->lock);
		*context = in->context;
		pthread_mutex_unlock(&in->lock);
	}
	quorum_lib_put(in);
	return context ? CS_OK : CS_ERR_INVALID_PARAM;
}
