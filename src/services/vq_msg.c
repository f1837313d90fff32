/* Encoding and validated decoding of votequorum ring messages (vq_msg.h). */
#include "services/vq_msg.h"

struct vq_wr {
	uint8_t *p;
};

struct vq_rd {
	const uint8_t *p;
};

static void wr_u8(struct vq_wr *w, uint8_t v)
{
	*w->p++ = v;
}

static void wr_u32(struct vq_wr *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*w->p++ = (uint8_t)(v >> (8 * i));
}

static void wr_u64(struct vq_wr *w, uint64_t v)
{
	wr_u32(w, (uint32_t)v);
	wr_u32(w, (uint32_t)(v >> 32));
}

static uint8_t rd_u8(struct vq_rd *r)
{
	return *r->p++;
}

static uint32_t rd_u32(struct vq_rd *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)*r->p++ << (8 * i);
	return v;
}

static uint64_t rd_u64(struct vq_rd *r)
{
	uint64_t lo = rd_u32(r);

	return lo | (uint64_t)rd_u32(r) << 32;
}

static void wr_header(struct vq_wr *w, enum vq_msg_type type, struct vq_ring ring)
{
	wr_u8(w, (uint8_t)type);
	wr_u8(w, VQ_MSG_VERSION);
	wr_u8(w, 0);
	wr_u8(w, 0);
	wr_u32(w, ring.rep);
	wr_u64(w, ring.seq);
}

size_t vq_msg_encode_nodeinfo(const struct vq_nodeinfo *ni, uint8_t *buf, size_t cap)
{
	uint32_t n = ni->tb_count > VQ_MAX_NODES ? VQ_MAX_NODES : ni->tb_count;
	size_t len = VQ_MSG_NODEINFO_FIXED + 4u * n;
	struct vq_wr w = { buf };

	if (cap < len)
		return 0;
	wr_header(&w, VQ_MSG_NODEINFO, ni->ring);
	wr_u32(&w, ni->nodeid);
	wr_u32(&w, ni->votes);
	wr_u32(&w, ni->expected);
	wr_u32(&w, ni->flags);
	wr_u32(&w, ni->tb.rep);
	wr_u64(&w, ni->tb.seq);
	wr_u32(&w, n);
	for (uint32_t i = 0; i < n; i++)
		wr_u32(&w, ni->tb_members[i]);
	return len;
}

size_t vq_msg_encode_reconfig(const struct vq_reconfig *rc, uint8_t *buf, size_t cap)
{
	size_t len = VQ_MSG_HEADER_BYTES + 20u;
	struct vq_wr w = { buf };

	if (cap < len)
		return 0;
	wr_header(&w, VQ_MSG_RECONFIG, rc->ring);
	wr_u32(&w, rc->origin);
	wr_u32(&w, rc->req_id);
	wr_u32(&w, rc->param);
	wr_u32(&w, rc->nodeid);
	wr_u32(&w, rc->value);
	return len;
}

size_t vq_msg_encode_lms(struct vq_ring ring, uint8_t *buf, size_t cap)
{
	struct vq_wr w = { buf };

	if (cap < VQ_MSG_HEADER_BYTES)
		return 0;
	wr_header(&w, VQ_MSG_LMS, ring);
	return VQ_MSG_HEADER_BYTES;
}

static enum vq_msg_err decode_nodeinfo(struct vq_rd *r, size_t body, struct vq_nodeinfo *ni)
{
	if (body < VQ_MSG_NODEINFO_FIXED - VQ_MSG_HEADER_BYTES)
		return VQ_MSG_E_SHORT;
	ni->nodeid = rd_u32(r);
	ni->votes = rd_u32(r);
	ni->expected = rd_u32(r);
	ni->flags = rd_u32(r);
	ni->tb.rep = rd_u32(r);
	ni->tb.seq = rd_u64(r);
	ni->tb_count = rd_u32(r);
	if (ni->tb_count > VQ_MAX_NODES)
		return VQ_MSG_E_RANGE;
	if (body != VQ_MSG_NODEINFO_FIXED - VQ_MSG_HEADER_BYTES + 4u * (size_t)ni->tb_count)
		return VQ_MSG_E_LENGTH;
	for (uint32_t i = 0; i < ni->tb_count; i++) {
		ni->tb_members[i] = rd_u32(r);
		if (ni->tb_members[i] == 0)
			return VQ_MSG_E_RANGE;
	}
	if (ni->nodeid == 0 || ni->votes > VQ_MAX_VOTES || ni->expected == 0 ||
	    ni->expected > VQ_MAX_EXPECTED || (ni->flags & ~VQ_NF_ALL))
		return VQ_MSG_E_RANGE;
	/* A reference ring without members (or members without a ring) is not one. */
	if ((ni->tb.seq == 0) != (ni->tb_count == 0))
		return VQ_MSG_E_RANGE;
	return VQ_MSG_OK;
}

static enum vq_msg_err decode_reconfig(struct vq_rd *r, size_t body, struct vq_reconfig *rc)
{
	if (body < 20u)
		return VQ_MSG_E_SHORT;
	if (body != 20u)
		return VQ_MSG_E_LENGTH;
	rc->origin = rd_u32(r);
	rc->req_id = rd_u32(r);
	rc->param = rd_u32(r);
	rc->nodeid = rd_u32(r);
	rc->value = rd_u32(r);
	if (rc->param == VQ_RECONFIG_EXPECTED) {
		if (rc->value == 0 || rc->value > VQ_MAX_EXPECTED)
			return VQ_MSG_E_RANGE;
	} else if (rc->param == VQ_RECONFIG_VOTES) {
		if (rc->nodeid == 0 || rc->value > VQ_MAX_VOTES)
			return VQ_MSG_E_RANGE;
	} else {
		return VQ_MSG_E_RANGE;
	}
	return VQ_MSG_OK;
}

enum vq_msg_err vq_msg_decode(const uint8_t *buf, size_t len, struct vq_msg *out)
{
	struct vq_rd r = { buf };
	uint8_t type, version, pad0, pad1;
	size_t body;

	if (len < VQ_MSG_HEADER_BYTES)
		return VQ_MSG_E_SHORT;
	type = rd_u8(&r);
	version = rd_u8(&r);
	pad0 = rd_u8(&r);
	pad1 = rd_u8(&r);
	out->ring.rep = rd_u32(&r);
	out->ring.seq = rd_u64(&r);
	if (version != VQ_MSG_VERSION || pad0 || pad1)
		return VQ_MSG_E_VERSION;
	body = len - VQ_MSG_HEADER_BYTES;
	switch (type) {
	case VQ_MSG_NODEINFO:
		out->type = VQ_MSG_NODEINFO;
		out->u.nodeinfo.ring = out->ring;
		return decode_nodeinfo(&r, body, &out->u.nodeinfo);
	case VQ_MSG_RECONFIG:
		out->type = VQ_MSG_RECONFIG;
		out->u.reconfig.ring = out->ring;
		return decode_reconfig(&r, body, &out->u.reconfig);
	case VQ_MSG_LMS:
		out->type = VQ_MSG_LMS;
		return body == 0 ? VQ_MSG_OK : VQ_MSG_E_LENGTH;
	default:
		return VQ_MSG_E_TYPE;
	}
}

const char *vq_msg_strerror(enum vq_msg_err e)
{
	static const char *const names[VQ_MSG_E_COUNT] = {
		[VQ_MSG_OK] = "ok",
		[VQ_MSG_E_SHORT] = "truncated",
		[VQ_MSG_E_LENGTH] = "length does not match contents",
		[VQ_MSG_E_TYPE] = "unknown message type",
		[VQ_MSG_E_VERSION] = "unknown version",
		[VQ_MSG_E_RANGE] = "value out of range",
	};

	if ((unsigned)e >= VQ_MSG_E_COUNT)
		return "unknown";
	return names[e];
}
