/* libcpg multicast: atomic messages in one request; larger ones cut into
 * atomic-sized fragments (FIRST, middles, LAST) that every receiver's
 * library puts back together (cpgl_dispatch.c). The daemon answers the LAST
 * fragment once it has come back through the ring: CS_OK, or
 * CS_ERR_INTERRUPT when a membership change of the group came in between
 * (receivers then drop the message: whole or not at all). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpgl.h"

_Static_assert(sizeof(struct cpgl_zcb) % 16 == 0, "zcb data must stay 16-byte aligned");
_Static_assert(offsetof(struct cpgl_zcb, head) + CPG_IPC_MCAST_HEAD == sizeof(struct cpgl_zcb),
	       "the request head must end where the user's bytes start");

static bool guarantee_ok(cpg_guarantee_t g)
{
	return g == CPG_TYPE_UNORDERED || g == CPG_TYPE_FIFO || g == CPG_TYPE_AGREED ||
	       g == CPG_TYPE_SAFE;
}

/* The part [*pos, *pos + len) of the message described by iov as a new
 * iovec array in out (room for n entries); advances the cursor. */
struct iov_cursor {
	const struct iovec *iov;
	unsigned n, i;
	size_t off;
};

static unsigned iov_slice(struct iov_cursor *c, size_t len, struct iovec *out)
{
	unsigned k = 0;

	while (len && c->i < c->n) {
		size_t avail = c->iov[c->i].iov_len - c->off;
		size_t take = avail < len ? avail : len;

		if (take) {
			out[k].iov_base = (uint8_t *)c->iov[c->i].iov_base + c->off;
			out[k++].iov_len = take;
		}
		len -= take;
		c->off += take;
		if (c->off == c->iov[c->i].iov_len) {
			c->i++;
			c->off = 0;
		}
	}
	return k;
}

static int send_fragments(struct cpgl_inst *in, uint8_t g, const struct iovec *iov, unsigned n,
			  size_t total)
{
	struct iov_cursor cur = { .iov = iov, .n = n };
	struct iovec *part = calloc(n ? n : 1, sizeof(*part));
	uint8_t head[CPG_IPC_MCAST_HEAD];
	int rc = 0;

	if (!part)
		return -ENOMEM;
	for (size_t off = 0; off < total && !rc;) {
		size_t len = total - off < in->max_atomic ? total - off : in->max_atomic;
		uint8_t frag =
			(off == 0 ? CPG_FRAG_FIRST : 0) | (off + len == total ? CPG_FRAG_LAST : 0);
		unsigned k = iov_slice(&cur, len, part);

		cpg_ipc_mcast_head_encode(head, sizeof(head), 0, g, frag, (uint32_t)total, len);
		rc = cpgl_call(in, head, sizeof(head), part, k, NULL);
		off += len;
	}
	free(part);
	return rc;
}

static int mcast(struct cpgl_inst *in, uint8_t g, const struct iovec *iov, unsigned n, size_t total)
{
	uint8_t head[CPG_IPC_MCAST_HEAD];
	int rc;

	pthread_mutex_lock(&in->send_lock);
	if (!atomic_load(&in->joined)) {
		rc = -ENOENT; /* Corosync says CS_OK and drops it; we say so */
	} else if (total <= in->max_atomic) {
		/* Queued, not waited for: the socket buffer is our bounded queue
		 * and -EAGAIN (CS_ERR_TRY_AGAIN) says it is full. */
		cpg_ipc_mcast_head_encode(head, sizeof(head), 0, g, CPG_FRAG_WHOLE, (uint32_t)total,
					  total);
		cpg_ipc_mcast_set_flags(head, CPG_MCAST_ASYNC);
		rc = ipcc_send(in->conn, head, sizeof(head), iov, n);
	} else {
		rc = send_fragments(in, g, iov, n, total);
	}
	pthread_mutex_unlock(&in->send_lock);
	return rc;
}

CS_EXPORT cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
				      const struct iovec *iovec, unsigned int iov_len)
{
	struct cpgl_inst *in;
	size_t total = 0;
	cs_error_t err;
	int rc;

	if (!guarantee_ok(guarantee) || (!iovec && iov_len))
		return CS_ERR_INVALID_PARAM;
	for (unsigned i = 0; i < iov_len; i++) {
		if (!iovec[i].iov_base && iovec[i].iov_len)
			return CS_ERR_INVALID_PARAM;
		if (iovec[i].iov_len > CPG_IPC_MAX_MSG - total)
			return CS_ERR_TOO_BIG;
		total += iovec[i].iov_len;
	}
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	rc = mcast(in, (uint8_t)guarantee, iovec, iov_len, total);
	cpgl_put(in);
	return cslib_error(rc);
}

static struct cpgl_zcb *zcb_of(void *buffer)
{
	return (struct cpgl_zcb *)((uint8_t *)buffer - sizeof(struct cpgl_zcb));
}

/* in->lock held. */
static struct cpgl_zcb **zcb_find(struct cpgl_inst *in, void *buffer)
{
	struct cpgl_zcb **pp;

	for (pp = &in->zcbs; *pp; pp = &(*pp)->next)
		if (*pp == zcb_of(buffer))
			return pp;
	return NULL;
}

CS_EXPORT cs_error_t cpg_zcb_alloc(cpg_handle_t handle, size_t size, void **buffer)
{
	struct cpgl_zcb *z;
	struct cpgl_inst *in;
	cs_error_t err;

	if (!buffer)
		return CS_ERR_INVALID_PARAM;
	if (size > CPG_IPC_MAX_MSG)
		return CS_ERR_TOO_BIG;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	z = malloc(sizeof(*z) + (size ? size : 1));
	if (z) {
		z->size = size;
		pthread_mutex_lock(&in->lock);
		z->next = in->zcbs;
		in->zcbs = z;
		pthread_mutex_unlock(&in->lock);
		*buffer = z + 1;
	}
	cpgl_put(in);
	return z ? CS_OK : CS_ERR_NO_MEMORY;
}

CS_EXPORT cs_error_t cpg_zcb_free(cpg_handle_t handle, void *buffer)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, handle);
	struct cpgl_zcb **pp, *z = NULL;

	if (!in)
		return CS_ERR_BAD_HANDLE;
	pthread_mutex_lock(&in->lock);
	pp = buffer ? zcb_find(in, buffer) : NULL;
	if (pp) {
		z = *pp;
		*pp = z->next;
	}
	pthread_mutex_unlock(&in->lock);
	free(z);
	cpgl_put(in);
	return z ? CS_OK : CS_ERR_INVALID_PARAM;
}

CS_EXPORT cs_error_t cpg_zcb_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee, void *msg,
					  size_t msg_len)
{
	struct cpgl_zcb *z = NULL;
	struct cpgl_inst *in;
	cs_error_t err;
	int rc;

	if (!guarantee_ok(guarantee) || !msg)
		return CS_ERR_INVALID_PARAM;
	in = cpgl_get(handle, &err);
	if (!in)
		return err;
	pthread_mutex_lock(&in->lock);
	if (zcb_find(in, msg))
		z = zcb_of(msg);
	pthread_mutex_unlock(&in->lock);
	if (!z || msg_len > z->size) {
		cpgl_put(in);
		return CS_ERR_INVALID_PARAM;
	}
	if (msg_len <= in->max_atomic) {
		/* Head and data are contiguous: one write, no copy. */
		pthread_mutex_lock(&in->send_lock);
		cpg_ipc_mcast_head_encode(z->head, sizeof(z->head), 0, (uint8_t)guarantee,
					  CPG_FRAG_WHOLE, (uint32_t)msg_len, msg_len);
		cpg_ipc_mcast_set_flags(z->head, CPG_MCAST_ASYNC);
		rc = atomic_load(&in->joined) ?
			     ipcc_send(in->conn, z->head, sizeof(z->head) + msg_len, NULL, 0) :
			     -ENOENT;
		pthread_mutex_unlock(&in->send_lock);
	} else {
		struct iovec iov = { .iov_base = msg, .iov_len = msg_len };

		rc = mcast(in, (uint8_t)guarantee, &iov, 1, msg_len);
	}
	cpgl_put(in);
	return cslib_error(rc);
}

void cpgl_zcbs_free(struct cpgl_inst *in)
{
	while (in->zcbs) {
		struct cpgl_zcb *z = in->zcbs;

		in->zcbs = z->next;
		free(z);
	}
}
