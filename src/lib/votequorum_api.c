/* libvotequorum.so.8: the votequorum API (corosync/votequorum.h) over the
 * "votequorum" endpoint of cohortd. Quorum devices are not supported: the
 * qdevice calls check the handle and return CS_ERR_NOT_SUPPORTED. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/votequorum.h>

#include "lib/quorum_lib.h"

#define VQ_HANDLE_TAG 0x56514d01u /* "VQM" */

static struct cslib_htab vq_handles = CSLIB_HTAB_INIT(VQ_HANDLE_TAG);

struct vq_inst {
	struct quorum_lib_inst base; /* first */
	votequorum_callbacks_t cb;
};

static bool call_quorum(struct vq_inst *v, const struct quorum_ipc_event *ev)
{
	votequorum_node_t stack[64], *nodes = stack;

	if (!v->cb.votequorum_quorum_notify_fn)
		return false;
	if (ev->n_memb > 64 && !(nodes = calloc(ev->n_memb, sizeof(*nodes))))
		return false;
	for (uint32_t i = 0; i < ev->n_memb; i++)
		nodes[i] = (votequorum_node_t){ ev->ids[i], ev->states[i] };
	v->cb.votequorum_quorum_notify_fn(v->base.handle, ev->context, ev->quorate, ev->n_memb,
					  nodes);
	if (nodes != stack)
		free(nodes);
	return true;
}

static bool call_event(struct vq_inst *v, const struct quorum_ipc_event *ev)
{
	votequorum_ring_id_t ring = { ev->rep, ev->seq };

	switch (ev->type) {
	case VQ_IPC_EV_QUORUM:
		return call_quorum(v, ev);
	case VQ_IPC_EV_NODELIST:
		if (!v->cb.votequorum_nodelist_notify_fn)
			return false;
		/* The list is the decoded copy, so handing it out writable is safe. */
		v->cb.votequorum_nodelist_notify_fn(v->base.handle, ev->context, ring, ev->n_memb,
						    (uint32_t *)ev->ids);
		return true;
	case VQ_IPC_EV_EXPECTED:
		if (!v->cb.votequorum_expectedvotes_notify_fn)
			return false;
		v->cb.votequorum_expectedvotes_notify_fn(v->base.handle, ev->context, ev->expected);
		return true;
	default:
		return false;
	}
}

static bool on_event(struct quorum_lib_inst *in, const struct ipcc_event *e)
{
	/* Decoded on the heap: a callback may dispatch again, nesting frames. */
	struct quorum_ipc_event *ev = malloc(sizeof(*ev));
	bool called = false;

	if (!ev)
		return false;
	if (quorum_ipc_event_decode(e->h.type, e->body, e->len, ev) == 0)
		called = call_event((struct vq_inst *)in, ev);
	free(ev);
	return called;
}

CS_EXPORT cs_error_t votequorum_initialize(votequorum_handle_t *handle,
					   votequorum_callbacks_t *callbacks)
{
	struct quorum_lib_inst *in;
	cs_error_t err;

	if (!handle)
		return CS_ERR_INVALID_PARAM;
	err = quorum_lib_open(&vq_handles, sizeof(struct vq_inst), VQ_IPC_SERVICE_NAME,
			      VQ_IPC_SERVICE_ID, on_event, &in);
	if (err != CS_OK)
		return err;
	if (callbacks)
		((struct vq_inst *)in)->cb = *callbacks;
	*handle = in->handle;
	return CS_OK;
}

CS_EXPORT cs_error_t votequorum_finalize(votequorum_handle_t handle)
{
	return quorum_lib_finalize(&vq_handles, handle);
}

CS_EXPORT cs_error_t votequorum_fd_get(votequorum_handle_t handle, int *fd)
{
	return quorum_lib_fd_get(&vq_handles, handle, fd);
}

CS_EXPORT cs_error_t votequorum_dispatch(votequorum_handle_t handle,
					 cs_dispatch_flags_t dispatch_types)
{
	return quorum_lib_dispatch(&vq_handles, handle, dispatch_types);
}

/* nodeid 0 (VOTEQUORUM_QDEVICE_NODEID) means this node, as in Corosync. */
CS_EXPORT cs_error_t votequorum_getinfo(votequorum_handle_t handle, unsigned int nodeid,
					struct votequorum_info *info)
{
	uint32_t id = nodeid, w[VQ_IPC_INFO_WORDS];
	cs_error_t err;

	if (!info)
		return CS_ERR_INVALID_PARAM;
	err = quorum_lib_call(&vq_handles, handle, VQ_IPC_GETINFO, &id, 1, w, VQ_IPC_INFO_WORDS);
	if (err != CS_OK)
		return err;
	memset(info, 0, sizeof(*info));
	info->node_id = w[0];
	info->node_state = w[1];
	info->node_votes = w[2];
	info->node_expected_votes = w[3];
	info->highest_expected = w[4];
	info->total_votes = w[5];
	info->quorum = w[6];
	info->flags = w[7];
	info->qdevice_votes = w[8];
	return CS_OK;
}

/* Answered once every member has applied the change (or refused it). */
CS_EXPORT cs_error_t votequorum_setexpected(votequorum_handle_t handle, unsigned int expected_votes)
{
	uint32_t v = expected_votes;

	return quorum_lib_call(&vq_handles, handle, VQ_IPC_SETEXPECTED, &v, 1, NULL, 0);
}

CS_EXPORT cs_error_t votequorum_setvotes(votequorum_handle_t handle, unsigned int nodeid,
					 unsigned int votes)
{
	uint32_t v[2] = { nodeid, votes };

	return quorum_lib_call(&vq_handles, handle, VQ_IPC_SETVOTES, v, 2, NULL, 0);
}

CS_EXPORT cs_error_t votequorum_trackstart(votequorum_handle_t handle, uint64_t context,
					   unsigned int flags)
{
	uint32_t v[3] = { (uint32_t)context, (uint32_t)(context >> 32), flags };

	return quorum_lib_call(&vq_handles, handle, VQ_IPC_TRACKSTART, v, 3, NULL, 0);
}

CS_EXPORT cs_error_t votequorum_trackstop(votequorum_handle_t handle)
{
	return quorum_lib_call(&vq_handles, handle, VQ_IPC_TRACKSTOP, NULL, 0, NULL, 0);
}

/* Context calls never touch the daemon, so they work after it has gone. */
CS_EXPORT cs_error_t votequorum_context_get(votequorum_handle_t handle, void **context)
{
	struct quorum_lib_inst *in = quorum_lib_get_any(&vq_handles, handle);

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

CS_EXPORT cs_error_t votequorum_context_set(votequorum_handle_t handle, void *context)
{
	struct quorum_lib_inst *in = quorum_lib_get_any(&vq_handles, handle);

	if (!in)
		return CS_ERR_BAD_HANDLE;
	pthread_mutex_lock(&in->lock);
	in->context = context;
	pthread_mutex_unlock(&in->lock);
	quorum_lib_put(in);
	return CS_OK;
}

/* ---- quorum devices: not supported -------------------------------------------- */

static cs_error_t not_supported(votequorum_handle_t handle)
{
	cs_error_t err;
	struct quorum_lib_inst *in = quorum_lib_get(&vq_handles, handle, &err);

	if (!in)
		return err;
	quorum_lib_put(in);
	return CS_ERR_NOT_SUPPORTED;
}

CS_EXPORT cs_error_t votequorum_qdevice_register(votequorum_handle_t handle, const char *name)
{
	(void)name;
	return not_supported(handle);
}

CS_EXPORT cs_error_t votequorum_qdevice_unregister(votequorum_handle_t handle, const char *name)
{
	(void)name;
	return not_supported(handle);
}

CS_EXPORT cs_error_t votequorum_qdevice_update(votequorum_handle_t handle, const char *oldname,
					       const char *newname)
{
	(void)oldname;
	(void)newname;
	return not_supported(handle);
}

CS_EXPORT cs_error_t votequorum_qdevice_poll(votequorum_handle_t handle, const char *name,
					     unsigned int cast_vote, votequorum_ring_id_t ring_id)
{
	(void)name;
	(void)cast_vote;
	(void)ring_id;
	return not_supported(handle);
}

CS_EXPORT cs_error_t votequorum_qdevice_master_wins(votequorum_handle_t handle, const char *name,
						    unsigned int allow)
{
	(void)name;
	(void)allow;
	return not_supported(handle);
}
