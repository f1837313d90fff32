/* Handle life cycle, requests and dispatch shared by libquorum and
 * libvotequorum (quorum_lib.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/quorum_lib.h"

static const char *ipc_name(void)
{
	const char *n = getenv("COHORT_IPC");

	return n && n[0] ? n : "cohort";
}

static void inst_free(struct quorum_lib_inst *in)
{
	ipcc_free(in->conn);
	pthread_mutex_destroy(&in->disp_lock);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

cs_error_t quorum_lib_open(struct cslib_htab *table, size_t size, const char *service,
			   uint32_t service_id, quorum_lib_event_fn on_event,
			   struct quorum_lib_inst **out)
{
	struct ipc_hello hello = { .version = IPC_PROTO_VERSION,
				   .service = service_id,
				   .pid = (uint32_t)getpid() };
	struct quorum_lib_inst *in = calloc(1, size);
	struct ipc_hello_reply r;
	pthread_mutexattr_t a;
	int err;

	*out = NULL;
	if (!in)
		return CS_ERR_NO_MEMORY;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&in->disp_lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&in->lock, NULL);
	in->table = table;
	in->on_event = on_event;
	err = ipcc_connect(ipc_name(), service, &hello, &r, &in->conn);
	if (!err && cslib_h_add(table, in, &in->handle))
		err = -ENOMEM;
	if (err) {
		inst_free(in);
		return cslib_error(err);
	}
	in->nodeid = r.nodeid;
	*out = in;
	return CS_OK;
}

struct quorum_lib_inst *quorum_lib_get_any(struct cslib_htab *table, uint64_t handle)
{
	return cslib_h_get(table, handle);
}

struct quorum_lib_inst *quorum_lib_get(struct cslib_htab *table, uint64_t handle, cs_error_t *err)
{
	struct quorum_lib_inst *in = cslib_h_get(table, handle);

	*err = CS_OK;
	if (!in) {
		*err = CS_ERR_BAD_HANDLE;
		return NULL;
	}
	if (atomic_load(&in->finalized)) {
		quorum_lib_put(in);
		*err = CS_ERR_BAD_HANDLE;
		return NULL;
	}
	if (ipcc_dead(in->conn)) {
		quorum_lib_put(in);
		*err = CS_ERR_LIBRARY;
		return NULL;
	}
	return in;
}

void quorum_lib_put(struct quorum_lib_inst *in)
{
	struct quorum_lib_inst *last = cslib_h_put(in->table, in->handle);

	if (last)
		inst_free(last);
}

/* Works on a handle whose daemon is gone too: that is how it is released. */
cs_error_t quorum_lib_finalize(struct cslib_htab *table, uint64_t handle)
{
	struct quorum_lib_inst *in = cslib_h_get(table, handle);
	void *last;

	if (!in)
		return CS_ERR_BAD_HANDLE;
	if (atomic_exchange(&in->finalized, true)) {
		quorum_lib_put(in);
		return CS_ERR_BAD_HANDLE;
	}
	/* Wakes threads blocked in dispatch or a request on this handle. */
	ipcc_shutdown(in->conn);
	cslib_h_remove(table, handle, &last);
	quorum_lib_put(in);
	return CS_OK;
}

cs_error_t quorum_lib_fd_get(struct cslib_htab *table, uint64_t handle, int *fd)
{
	cs_error_t err;
	struct quorum_lib_inst *in = quorum_lib_get(table, handle, &err);

	if (!in)
		return err;
	if (fd)
		*fd = ipcc_poll_fd(in->conn);
	quorum_lib_put(in);
	return fd ? CS_OK : CS_ERR_INVALID_PARAM;
}

static bool dispatch_event(void *arg, const struct ipcc_event *ev)
{
	struct quorum_lib_inst *in = arg;
	return in->on_event(in, ev);
}

cs_error_t quorum_lib_dispatch(struct cslib_htab *table, uint64_t handle, cs_dispatch_flags_t type)
{
	struct quorum_lib_inst *in = cslib_h_get(table, handle);
	cs_error_t err;

	if (!in || atomic_load(&in->finalized)) {
		if (in)
			quorum_lib_put(in);
		return CS_ERR_BAD_HANDLE;
	}
	if (type < CS_DISPATCH_ONE || type > CS_DISPATCH_ONE_NONBLOCKING) {
		quorum_lib_put(in);
		return CS_ERR_INVALID_PARAM;
	}
	pthread_mutex_lock(&in->disp_lock);
	err = cslib_dispatch(in->conn, &in->finalized, type, dispatch_event, in);
	pthread_mutex_unlock(&in->disp_lock);
	quorum_lib_put(in);
	return err;
}

int quorum_lib_words(struct quorum_lib_inst *in, uint16_t type, const uint32_t *args, size_t n_in,
		     uint32_t *out, size_t n_out)
{
	uint8_t head[IPC_HDR_LEN + 4 * 4];
	struct ipcc_resp r = { 0 };
	size_t len = quorum_ipc_words_encode(head, sizeof(head), type, 0, 0, args, n_in);
	int err;

	if (!len)
		return -EINVAL;
	err = ipcc_call(in->conn, head, len, NULL, 0, &r);
	if (err)
		return err;
	err = r.result;
	if (!err && quorum_ipc_words_decode(r.body, r.len, out, n_out))
		err = -EPROTO;
	free(r.body);
	return err;
}

cs_error_t quorum_lib_call(struct cslib_htab *table, uint64_t handle, uint16_t type,
			   const uint32_t *args, size_t n_in, uint32_t *out, size_t n_out)
{
	cs_error_t err;
	struct quorum_lib_inst *in = quorum_lib_get(table, handle, &err);

	if (!in)
		return err;
	err = cslib_error(quorum_lib_words(in, type, args, n_in, out, n_out));
	quorum_lib_put(in);
	return err;
}
