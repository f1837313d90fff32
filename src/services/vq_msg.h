/* The votequorum messages that cross the ring between daemons. They come from
 * other machines, so they are bytes to be checked, never structs to be cast:
 * vq_msg_decode accepts a message only when its length matches its counts
 * exactly and every value is in range.
 *
 * Layout (little-endian), after the service byte the host adds:
 *   u8 type, u8 version, u16 zero, u32 ring rep, u64 ring seq   (16 bytes)
 *   NODEINFO: u32 nodeid, votes, expected, flags, tb rep, u64 tb seq,
 *             u32 tb count, then tb count u32 node ids
 *   RECONFIG: u32 origin, req_id, param, nodeid, value
 *   LMS:      nothing more
 */
#ifndef COHORT_SERVICES_VQ_MSG_H
#define COHORT_SERVICES_VQ_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "services/vq_core.h"

#define VQ_MSG_VERSION 1
#define VQ_MSG_HEADER_BYTES 16u
#define VQ_MSG_NODEINFO_FIXED (VQ_MSG_HEADER_BYTES + 32u)
#define VQ_MSG_MAX_BYTES (VQ_MSG_NODEINFO_FIXED + 4u * VQ_MAX_NODES)

enum vq_msg_type { VQ_MSG_NODEINFO = 1, VQ_MSG_RECONFIG = 2, VQ_MSG_LMS = 3 };

/* Why a message was refused; counted by the caller, never logged per message. */
enum vq_msg_err {
	VQ_MSG_OK = 0,
	VQ_MSG_E_SHORT,	  /* shorter than its header or fixed part */
	VQ_MSG_E_LENGTH,  /* length does not match the counts inside */
	VQ_MSG_E_TYPE,	  /* unknown type */
	VQ_MSG_E_VERSION, /* version or reserved bits we do not speak */
	VQ_MSG_E_RANGE,	  /* a value outside its limits */
	VQ_MSG_E_COUNT
};

struct vq_msg {
	enum vq_msg_type type;
	struct vq_ring ring; /* the ring the sender was in when it wrote the message */
	union {
		struct vq_nodeinfo nodeinfo;
		struct vq_reconfig reconfig;
	} u;
};

/* Encoders return the number of bytes written, or 0 when cap is too small. */
size_t vq_msg_encode_nodeinfo(const struct vq_nodeinfo *ni, uint8_t *buf, size_t cap);
size_t vq_msg_encode_reconfig(const struct vq_reconfig *rc, uint8_t *buf, size_t cap);
size_t vq_msg_encode_lms(struct vq_ring ring, uint8_t *buf, size_t cap);

enum vq_msg_err vq_msg_decode(const uint8_t *buf, size_t len, struct vq_msg *out);
const char *vq_msg_strerror(enum vq_msg_err e);

#endif
