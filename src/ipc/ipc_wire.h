/* Local IPC frame codec, shared by cohortd and the client libraries.
 *
 * Every frame on a client connection starts with a 16-byte header, all fields
 * little-endian:
 *
 *   0  u32 len      whole frame, header included, IPC_HDR_LEN..IPC_MAX_FRAME
 *   4  u16 type     message id (ipc_cpg.h, IPC_T_HELLO, ...)
 *   6  u16 flags    must be 0 (reserved, so that a future use is detectable)
 *   8  u32 req_id   echoed in the response; 0 in events
 *  12  i32 result   0 or a negative errno in responses; 0 in requests/events
 *
 * Bodies are read through struct ipc_rd, which never reads past the end and
 * remembers the first failure, so decoders check once at the end. Nothing
 * casts a buffer to a struct. See docs/ipc.md. */
#ifndef COHORT_IPC_WIRE_H
#define COHORT_IPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_HDR_LEN 16u
/* Largest atomic CPG message (Corosync's value) plus room for the headers. */
#define IPC_MAX_ATOMIC 1047552u
#define IPC_MAX_FRAME (IPC_MAX_ATOMIC + 4096u)
#define IPC_PROTO_VERSION 1u
#define IPC_NAME_MAX 128u /* CPG_MAX_NAME_LENGTH */

/* Message ids below 0x100 belong to the IPC layer itself. */
enum ipc_type {
	IPC_T_HELLO = 1, /* first request of a connection; carries the event fd */
};

struct ipc_hdr {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t req_id;
	int32_t result;
};

/* Why a frame header was refused (the connection is then closed). */
enum ipc_hdr_err {
	IPC_HDR_OK = 0,
	IPC_HDR_SHORT,	/* len below the header size */
	IPC_HDR_TOOBIG, /* len above the frame limit */
	IPC_HDR_FLAGS,	/* reserved flag bits set */
	IPC_HDR_RESULT, /* result set in a request */
	IPC_HDR_ERR_COUNT_
};
const char *ipc_hdr_err_name(enum ipc_hdr_err e);

/* Generic hello: first request of every connection, any service. */
struct ipc_hello {
	uint32_t version;
	uint32_t service; /* enum svc_id */
	uint32_t flags;	  /* service specific */
	uint32_t pid;	  /* informational; the daemon uses SO_PEERCRED */
};

struct ipc_hello_reply {
	uint32_t nodeid;
	uint32_t conn_id;
	uint32_t max_atomic;
	uint32_t max_frame;
};

void ipc_hdr_encode(uint8_t out[IPC_HDR_LEN], const struct ipc_hdr *h);
/* Decodes the 16 header bytes; checks that make sense for any frame
 * (len range, flags). is_request also requires result == 0. */
enum ipc_hdr_err ipc_hdr_decode(const uint8_t in[IPC_HDR_LEN], size_t max_frame, bool is_request,
				struct ipc_hdr *h);

/* "cohort-<ipc_name>-<service>" into out: the abstract socket name, without
 * its leading NUL. -ENAMETOOLONG when it does not fit a sun_path. */
int ipc_socket_name(const char *ipc_name, const char *service, char *out, size_t cap);

/* Hello bodies are 16 bytes each; decoders return 0 or -EPROTO. */
int ipc_hello_decode(const uint8_t *b, size_t len, struct ipc_hello *out);
int ipc_hello_reply_decode(const uint8_t *b, size_t len, struct ipc_hello_reply *out);
/* Whole frames; return the length written, 0 when cap is too small. */
size_t ipc_hello_encode(uint8_t *buf, size_t cap, uint32_t req_id, const struct ipc_hello *h);
size_t ipc_hello_reply_encode(uint8_t *buf, size_t cap, uint32_t req_id, int32_t result,
			      const struct ipc_hello_reply *r);
/* Writes the header of a response (or event: req_id 0) with a body_len body. */
void ipc_resp_head_encode(uint8_t buf[IPC_HDR_LEN], uint16_t type, uint32_t req_id, int32_t result,
			  size_t body_len);

/* Little-endian field access. */
static inline void ipc_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ipc_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ipc_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t ipc_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ipc_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ipc_get_u64(const uint8_t *p)
{
	return (uint64_t)ipc_get_u32(p) | (uint64_t)ipc_get_u32(p + 4) << 32;
}

/* Bounds-checked reader over one body. After any failure every further read
 * returns zeros and ipc_rd_ok() is false. */
struct ipc_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static inline void ipc_rd_init(struct ipc_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

const uint8_t *ipc_rd_bytes(struct ipc_rd *r, size_t n); /* NULL when short */
uint8_t ipc_rd_u8(struct ipc_rd *r);
uint16_t ipc_rd_u16(struct ipc_rd *r);
uint32_t ipc_rd_u32(struct ipc_rd *r);
uint64_t ipc_rd_u64(struct ipc_rd *r);
/* A counted name: u32 length then that many bytes. Lengths above max are a
 * soft failure: *too_long is set, the bytes are skipped, the reader stays
 * usable (the caller answers -ENAMETOOLONG instead of dropping the client). */
uint32_t ipc_rd_name(struct ipc_rd *r, uint8_t *out, uint32_t max, bool *too_long);
static inline size_t ipc_rd_left(const struct ipc_rd *r)
{
	return r->bad ? 0 : r->len - r->off;
}
/* True when every read succeeded and exactly the whole body was consumed. */
static inline bool ipc_rd_done(const struct ipc_rd *r)
{
	return !r->bad && r->off == r->len;
}

/* Writer into a caller buffer; overflow is remembered like in ipc_rd. */
struct ipc_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool bad;
};

static inline void ipc_wr_init(struct ipc_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->bad = false;
}

void ipc_wr_bytes(struct ipc_wr *w, const void *src, size_t n);
void ipc_wr_u8(struct ipc_wr *w, uint8_t v);
void ipc_wr_u16(struct ipc_wr *w, uint16_t v);
void ipc_wr_u32(struct ipc_wr *w, uint32_t v);
void ipc_wr_u64(struct ipc_wr *w, uint64_t v);
void ipc_wr_name(struct ipc_wr *w, const uint8_t *name, uint32_t len);

#endif
