/* Frame header and primitive field codec of the local IPC (see ipc_wire.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "ipc/ipc_wire.h"

const char *ipc_hdr_err_name(enum ipc_hdr_err e)
{
	switch (e) {
	case IPC_HDR_OK:
		return "ok";
	case IPC_HDR_SHORT:
		return "frame length below header size";
	case IPC_HDR_TOOBIG:
		return "frame length above limit";
	case IPC_HDR_FLAGS:
		return "reserved header flags set";
	case IPC_HDR_RESULT:
		return "result field set in a request";
	case IPC_HDR_ERR_COUNT_:
		break;
	}
	return "unknown";
}

void ipc_hdr_encode(uint8_t out[IPC_HDR_LEN], const struct ipc_hdr *h)
{
	ipc_put_u32(out, h->len);
	ipc_put_u16(out + 4, h->type);
	ipc_put_u16(out + 6, h->flags);
	ipc_put_u32(out + 8, h->req_id);
	ipc_put_u32(out + 12, (uint32_t)h->result);
}

enum ipc_hdr_err ipc_hdr_decode(const uint8_t in[IPC_HDR_LEN], size_t max_frame, bool is_request,
				struct ipc_hdr *h)
{
	h->len = ipc_get_u32(in);
	h->type = ipc_get_u16(in + 4);
	h->flags = ipc_get_u16(in + 6);
	h->req_id = ipc_get_u32(in + 8);
	h->result = (int32_t)ipc_get_u32(in + 12);
	if (h->len < IPC_HDR_LEN)
		return IPC_HDR_SHORT;
	if (h->len > max_frame)
		return IPC_HDR_TOOBIG;
	if (h->flags)
		return IPC_HDR_FLAGS;
	if (is_request && h->result)
		return IPC_HDR_RESULT;
	return IPC_HDR_OK;
}

const uint8_t *ipc_rd_bytes(struct ipc_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t ipc_rd_u8(struct ipc_rd *r)
{
	const uint8_t *p = ipc_rd_bytes(r, 1);

	return p ? p[0] : 0;
}

uint16_t ipc_rd_u16(struct ipc_rd *r)
{
	const uint8_t *p = ipc_rd_bytes(r, 2);

	return p ? ipc_get_u16(p) : 0;
}

uint32_t ipc_rd_u32(struct ipc_rd *r)
{
	const uint8_t *p = ipc_rd_bytes(r, 4);

	return p ? ipc_get_u32(p) : 0;
}

uint64_t ipc_rd_u64(struct ipc_rd *r)
{
	const uint8_t *p = ipc_rd_bytes(r, 8);

	return p ? ipc_get_u64(p) : 0;
}

uint32_t ipc_rd_name(struct ipc_rd *r, uint8_t *out, uint32_t max, bool *too_long)
{
	uint32_t n = ipc_rd_u32(r);
	const uint8_t *p = ipc_rd_bytes(r, n);

	if (!p)
		return 0;
	if (n > max) {
		*too_long = true;
		return 0;
	}
	memcpy(out, p, n);
	return n;
}

void ipc_wr_bytes(struct ipc_wr *w, const void *src, size_t n)
{
	if (w->bad || n > w->cap - w->off) {
		w->bad = true;
		return;
	}
	if (n)
		memcpy(w->p + w->off, src, n);
	w->off += n;
}

void ipc_wr_u8(struct ipc_wr *w, uint8_t v)
{
	ipc_wr_bytes(w, &v, 1);
}

void ipc_wr_u16(struct ipc_wr *w, uint16_t v)
{
	uint8_t b[2];

	ipc_put_u16(b, v);
	ipc_wr_bytes(w, b, 2);
}

void ipc_wr_u32(struct ipc_wr *w, uint32_t v)
{
	uint8_t b[4];

	ipc_put_u32(b, v);
	ipc_wr_bytes(w, b, 4);
}

void ipc_wr_u64(struct ipc_wr *w, uint64_t v)
{
	uint8_t b[8];

	ipc_put_u64(b, v);
	ipc_wr_bytes(w, b, 8);
}

void ipc_wr_name(struct ipc_wr *w, const uint8_t *name, uint32_t len)
{
	ipc_wr_u32(w, len);
	ipc_wr_bytes(w, name, len);
}

void ipc_resp_head_encode(uint8_t buf[IPC_HDR_LEN], uint16_t type, uint32_t req_id, int32_t result,
			  size_t body_len)
{
	struct ipc_hdr h = { .len = (uint32_t)(IPC_HDR_LEN + body_len),
			     .type = type,
			     .req_id = req_id,
			     .result = result };

	ipc_hdr_encode(buf, &h);
}

int ipc_hello_decode(const uint8_t *b, size_t len, struct ipc_hello *out)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	out->version = ipc_rd_u32(&r);
	out->service = ipc_rd_u32(&r);
	out->flags = ipc_rd_u32(&r);
	out->pid = ipc_rd_u32(&r);
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

int ipc_hello_reply_decode(const uint8_t *b, size_t len, struct ipc_hello_reply *out)
{
	struct ipc_rd r;

	ipc_rd_init(&r, b, len);
	out->nodeid = ipc_rd_u32(&r);
	out->conn_id = ipc_rd_u32(&r);
	out->max_atomic = ipc_rd_u32(&r);
	out->max_frame = ipc_rd_u32(&r);
	return ipc_rd_done(&r) ? 0 : -EPROTO;
}

size_t ipc_hello_encode(uint8_t *buf, size_t cap, uint32_t req_id, const struct ipc_hello *h)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN + 16)
		return 0;
	ipc_resp_head_encode(buf, IPC_T_HELLO, req_id, 0, 16);
	ipc_wr_init(&w, buf + IPC_HDR_LEN, 16);
	ipc_wr_u32(&w, h->version);
	ipc_wr_u32(&w, h->service);
	ipc_wr_u32(&w, h->flags);
	ipc_wr_u32(&w, h->pid);
	return IPC_HDR_LEN + 16;
}

size_t ipc_hello_reply_encode(uint8_t *buf, size_t cap, uint32_t req_id, int32_t result,
			      const struct ipc_hello_reply *r)
{
	struct ipc_wr w;

	if (cap < IPC_HDR_LEN + 16)
		return 0;
	ipc_resp_head_encode(buf, IPC_T_HELLO, req_id, result, 16);
	ipc_wr_init(&w, buf + IPC_HDR_LEN, 16);
	ipc_wr_u32(&w, r->nodeid);
	ipc_wr_u32(&w, r->conn_id);
	ipc_wr_u32(&w, r->max_atomic);
	ipc_wr_u32(&w, r->max_frame);
	return IPC_HDR_LEN + 16;
}

int ipc_socket_name(const char *ipc_name, const char *service, char *out, size_t cap)
{
	struct sockaddr_un sa;
	int n = snprintf(out, cap, "cohort-%s-%s", ipc_name, service);

	if (n < 0 || (size_t)n >= cap || (size_t)n + 1 > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	return 0;
}
