/* libcpg: connections and the simple requests. Multicast is in
 * cpgl_send.c, dispatch in cpgl_dispatch.c, iteration in cpgl_iter.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cpgl.h"

#define CPGL_HANDLE_TAG 0x43504701u /* "CPG" */

struct cslib_htab cpgl_handles = CSLIB_HTAB_INIT(CPGL_HANDLE_TAG);

static void inst_free(struct cpgl_inst *in)
{
	ipcc_free(in->conn);
	cpgl_partials_free(in);
	cpgl_zcbs_free(in);
	free(in->iters);
	pthread_mutex_destroy(&in->disp_lock);
	pthread_mutex_destroy(&in->send_lock);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

struct cpgl_inst *cpgl_get(cpg_handle_t h, cs_error_t *err)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, h);

	*err = CS_OK;
	if (!in) {
		*err = CS_ERR_BAD_HANDLE;
		return NULL;
	}
	if (atomic_load(&in->finalized)) {
		cpgl_put(in);
		*err = CS_ERR_BAD_HANDLE;
		return NULL;
	}
	if (ipcc_dead(in->conn)) {
		cpgl_put(in);
		*err = CS_ERR_LIBRARY;
		return NULL;
	}
	return in;
}

void cpgl_put(struct cpgl_inst *in)
{
	struct cpgl_inst *last = cslib_h_put(&cpgl_handles, in->handle);

	if (last)
		inst_free(last);
}

int cpgl_call(struct cpgl_inst *in, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n, struct ipcc_resp *resp)
{
	struct ipcc_resp r;
	int err = ipcc_call(in->conn, head, head_len, payload, n, &r);

	if (err)
		return err;
	if (resp)
		*resp = r;
	else
		free(r.body);
	return r.result;
}

cs_error_t cpgl_name_in(const struct cpg_name *in, struct cpg_ipc_name *out)
{
	if (!in)
		return CS_ERR_INVALID_PARAM;
	if (in->length > CPG_MAX_NAME_LENGTH)
		return CS_ERR_NAME_TOO_LONG;
	out->len = in->length;
	memcpy(out->value, in->value, in->length);
	return CS_OK;
}

void cpgl_name_out(const struct cpg_ipc_name *in, struct cpg_name *out)
{
	memset(out, 0, sizeof(*out));
	out->length = in->len;
	memcpy(out->value, in->value, in->len);
}

static const char *ipc_name(void)
{
	const char *n = getenv("COHORT_IPC");

	return n && n[0] ? n : "cohort";
}

static cs_error_t connect_inst(struct cpgl_inst *in, unsigned v1_flags)
{
	struct ipc_hello hello = { .version = IPC_PROTO_VERSION,
				   .service = CPG_IPC_SERVICE_ID,
				   .pid = (uint32_t)getpid() };
	struct ipc_hello_reply r;
	int err;

	if (in->totem_fn) {
		hello.flags |= CPG_IPC_HELLO_TOTEM;
		if (v1_flags & CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF)
			hello.flags |= CPG_IPC_HELLO_INITIAL;
	}
	err = ipcc_connect(ipc_name(), CPG_IPC_SERVICE_NAME, &hello, &r, &in->conn);
	if (err == -ENAMETOOLONG)
		return CS_ERR_LIBRARY; /* COHORT_IPC names no reachable daemon */
	if (err)
		return cslib_error(err);
	in->nodeid = r.nodeid;
	in->max_atomic = r.max_atomic < IPC_MAX_ATOMIC ? r.max_atomic : IPC_MAX_ATOMIC;
	return CS_OK;
}

static struct cpgl_inst *inst_new(void)
{
	struct cpgl_inst *in = calloc(1, sizeof(*in));
	pthread_mutexattr_t a;

	if (!in)
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&in->disp_lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&in->send_lock, NULL);
	pthread_mutex_init(&in->lock, NULL);
	return in;
}

CS_EXPORT cs_error_t cpg_model_initialize(cpg_handle_t *handle, cpg_model_t model,
					  cpg_model_data_t *model_data, void *context)
{
	const cpg_model_v1_data_t *v1 = (const cpg_model_v1_data_t *)model_data;
	struct cpgl_inst *in;
	cs_error_t err;

	if (!handle || model != CPG_MODEL_V1 || (model_data && model_data->model != model))
		return CS_ERR_INVALID_PARAM;
	if (v1 && (v1->flags & ~(unsigned)CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF))
		return CS_ERR_INVALID_PARAM;
	in = inst_new();
	if (!in)
		return CS_ERR_NO_MEMORY;
	if (v1) {
		in->deliver_fn = v1->cpg_deliver_fn;
		in->confchg_fn = v1->cpg_confchg_fn;
		in->totem_fn = v1->cpg_totem_confchg_fn;
	}
	in->context = context;
	err = connect_inst(in, v1 ? v1->flags : 0);
	if (err == CS_OK && cslib_h_add(&cpgl_handles, in, &in->handle))
		err = CS_ERR_NO_MEMORY;
	if (err != CS_OK) {
		inst_free(in);
		return err;
	}
	*handle = in->handle;
	return CS_OK;
}

CS_EXPORT cs_error_t cpg_initialize(cpg_handle_t *handle, cpg_callbacks_t *callbacks)
{
	cpg_model_v1_data_t v1 = { .model = CPG_MODEL_V1 };

	if (callbacks) {
		v1.cpg_deliver_fn = callbacks->cpg_deliver_fn;
		v1.cpg_confchg_fn = callbacks->cpg_confchg_fn;
	}
	return cpg_model_initialize(handle, CPG_MODEL_V1, (cpg_model_data_t *)&v1, NULL);
}

/* Works on a handle whose daemon is gone too: that is how it is released. */
CS_EXPORT cs_error_t cpg_finalize(cpg_handle_t handle)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, handle);
	void *last;

	if (!in)
		return CS_ERR_BAD_HANDLE;
	if (atomic_exchange(&in->finalized, true)) {
		cpgl_put(in);
		return CS_ERR_BAD_HANDLE;
	}
	/* Wakes threads blocked in dispatch or a request on this handle. */
	ipcc_shutdown(in->conn);
	cpgl_iters_free(in);
	cslib_h_remove(&cpgl_handles, handle, &last);
	cpgl_put(in);
	return CS_OK;
}

CS_EXPORT cs_error_t cpg_fd_get(cpg_handle_t handle, int *fd)
{
	cs_error_t err;
	struct cpgl_inst *in = cpgl_get(handle, &err);

	if (!in)
		return err;
	if (fd)
		*fd = ipcc_poll_fd(in->conn);
	cpgl_put(in);
	return fd ? CS_OK : CS_ERR_INVALID_PARAM;
}

CS_EXPORT cs_error_t cpg_max_atomic_msgsize_get(cpg_handle_t handle, uint32_t *size)
{
	cs_error_t err;
	struct cpgl_inst *in = cpgl_get(handle, &err);

	if (!in)
		return err;
	if (size)
		*size = in->max_atomic;
	cpgl_put(in);
	return size ? CS_OK : CS_ERR_INVALID_PARAM;
}

/* Context calls never touch the daemon, so they work after it has gone,
 * which lets a program find its own state while cleaning up. */
CS_EXPORT cs_error_t cpg_context_get(cpg_handle_t handle, void **context)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, handle);

	if (!in)
		return CS_ERR_BAD_HANDLE;
	if (context) {
		pthread_mutex_lock(&in->lock);
		*context = in->context;
		pthread_mutex_unlock(&in->lock);
	}
	cpgl_put(in);
	return context ? CS_OK : CS_ERR_INVALID_PARAM;
}

CS_EXPORT cs_error_t cpg_context_set(cpg_handle_t handle, void *context)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, handle);

	if (!in)
		return CS_ERR_BAD_HANDLE;
	pthread_mutex_lock(&in->lock);
	in->context = context;
	pthread_mutex_unlock(&in->lock);
	cpgl_put(in);
	return CS_OK;
}

static cs_error_t name_request(cpg_handle_t handle, uint16_t type, const struct cpg_name *group)
{
	uint8_t head[IPC_HDR_LEN + 4 + IPC_NAME_MAX];
	struct cpg_ipc_name n;
	struct cpgl_inst *in;
	cs_error_t err = cpgl_name_in(group, &n);
	size_t len;

	if (err != CS_OK)
		return err;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	len = cpg_ipc_name_req_encode(head, sizeof(head), type, 0, &n);
	/* Under send_lock: no multicast slips between the answer and the flag. */
	pthread_mutex_lock(&in->send_lock);
	err = cslib_error(cpgl_call(in, head, len, NULL, 0, NULL));
	if (err == CS_OK)
		atomic_store(&in->joined, type == CPG_IPC_JOIN);
	pthread_mutex_unlock(&in->send_lock);
	cpgl_put(in);
	return err;
}

CS_EXPORT cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name *group)
{
	return name_request(handle, CPG_IPC_JOIN, group);
}

CS_EXPORT cs_error_t cpg_leave(cpg_handle_t handle, const struct cpg_name *group)
{
	return name_request(handle, CPG_IPC_LEAVE, group);
}

/* member_list must hold CPG_MEMBERS_MAX entries, as with Corosync: the
 * count passed in is not read; at most CPG_MEMBERS_MAX are returned. */
CS_EXPORT cs_error_t cpg_membership_get(cpg_handle_t handle, struct cpg_name *group_name,
					struct cpg_address *member_list, int *member_list_entries)
{
	uint8_t head[IPC_HDR_LEN + 4 + IPC_NAME_MAX];
	struct cpg_ipc_name n;
	struct ipcc_resp r = { 0 };
	const uint8_t *e;
	uint32_t count;
	struct cpgl_inst *in;
	cs_error_t err = member_list_entries ? cpgl_name_in(group_name, &n) : CS_ERR_INVALID_PARAM;
	int rc;

	if (err != CS_OK)
		return err;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	rc = cpgl_call(in, head,
		       cpg_ipc_name_req_encode(head, sizeof(head), CPG_IPC_MEMBERSHIP, 0, &n), NULL,
		       0, &r);
	if (!rc && cpg_ipc_members_decode(r.body, r.len, &count, &e))
		rc = -EPROTO;
	if (!rc) {
		if (count > CPG_MEMBERS_MAX)
			count = CPG_MEMBERS_MAX;
		for (uint32_t i = 0; i < count && member_list; i++) {
			struct cpg_ipc_addr a = cpg_ipc_addr_at(e, i);

			member_list[i] = (struct cpg_address){ a.nodeid, a.pid, a.reason };
		}
		*member_list_entries = (int)count;
	}
	free(r.body);
	cpgl_put(in);
	return cslib_error(rc);
}

static cs_error_t u32_request(cpg_handle_t handle, uint16_t type, uint32_t *out)
{
	uint8_t head[IPC_HDR_LEN];
	struct ipcc_resp r = { 0 };
	struct cpgl_inst *in;
	cs_error_t err;
	int rc;

	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	rc = cpgl_call(in, head, cpg_ipc_name_req_encode(head, sizeof(head), type, 0, NULL), NULL,
		       0, &r);
	if (!rc && cpg_ipc_u32_decode(r.body, r.len, out))
		rc = -EPROTO;
	free(r.body);
	cpgl_put(in);
	return cslib_error(rc);
}

CS_EXPORT cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int *local_nodeid)
{
	uint32_t v;
	cs_error_t err;

	if (!local_nodeid)
		return CS_ERR_INVALID_PARAM;
	err = u32_request(handle, CPG_IPC_LOCAL_GET, &v);
	if (err == CS_OK)
		*local_nodeid = v;
	return err;
}

/* Answered here, without asking the daemon: a request would queue behind
 * the very multicasts that fill the ring. Enabled while the daemon is
 * behind on our queued messages (then CS_ERR_TRY_AGAIN is near). */
CS_EXPORT cs_error_t cpg_flow_control_state_get(cpg_handle_t handle,
						cpg_flow_control_state_t *flow_control_enabled)
{
	struct cpgl_inst *in;
	cs_error_t err;

	if (!flow_control_enabled)
		return CS_ERR_INVALID_PARAM;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	*flow_control_enabled =
		ipcc_congested(in->conn) ? CPG_FLOW_CONTROL_ENABLED : CPG_FLOW_CONTROL_DISABLED;
	cpgl_put(in);
	return CS_OK;
}
