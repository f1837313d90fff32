/* In-process cluster of votequorum cores (test_vq_fixture.h). */
#include "test_vq_fixture.h"

#include <stdlib.h>
#include <string.h>

int vqt_checks, vqt_failures;

static struct vqt_msg queue[VQT_QUEUE];
static size_t queue_len;

void vqt_init(struct vqt *t, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->base.my_votes = 1;
	t->base.expected_votes = (uint32_t)n;
	t->base.lms_window_ms = 10000;
	for (size_t i = 0; i <= VQT_MAX; i++)
		t->votes[i] = 1;
	t->seq = 100;
}

static void note(struct vqt *t, uint32_t id, char kind, bool quorate, uint32_t value)
{
	if (t->log_len[id] < VQT_LOG)
		t->log[id][t->log_len[id]++] = (struct vqt_note){ kind, quorate, value };
}

void vqt_start(struct vqt *t, uint32_t id)
{
	struct vq_options o = t->base;
	int err;

	o.my_nodeid = id;
	o.my_votes = t->votes[id];
	if (t->expected[id])
		o.expected_votes = t->expected[id];
	vqt_stop(t, id);
	err = vq_create(&o, &t->node[id]);
	CHECK_EQ(err, 0);
	t->part[id] = -(int)id; /* alone until formed into a ring */
}

void vqt_stop(struct vqt *t, uint32_t id)
{
	vq_destroy(t->node[id]);
	t->node[id] = NULL;
	t->part[id] = 0;
}

static void record(struct vqt *t, uint32_t id, int ev)
{
	struct vq_status st;

	if (ev <= 0)
		return;
	vq_get_status(t->node[id], &st);
	if (ev & VQ_EV_SETTLED)
		note(t, id, 'S', st.quorate, (uint32_t)st.member_count);
	else if (ev & VQ_EV_QUORATE)
		note(t, id, 'Q', st.quorate, 0);
	if (ev & VQ_EV_EXPECTED)
		note(t, id, 'E', st.quorate, st.expected);
}

static void deliver_one(struct vqt *t, int part, const struct vqt_msg *m)
{
	struct vq_msg msg;

	if (vq_msg_decode(m->buf, m->len, &msg) != VQ_MSG_OK) {
		CHECK(!"fixture message failed to decode");
		return;
	}
	for (uint32_t id = 1; id <= VQT_MAX; id++) {
		int ev = 0, result = 0;

		if (!t->node[id] || t->part[id] != part)
			continue;
		if (msg.type == VQ_MSG_NODEINFO) {
			ev = vq_on_nodeinfo(t->node[id], m->sender, &msg.u.nodeinfo, t->now_ms);
		} else if (msg.type == VQ_MSG_RECONFIG) {
			ev = vq_on_reconfig(t->node[id], m->sender, &msg.u.reconfig, &result);
			if (id == msg.u.reconfig.origin && ev >= 0)
				t->last_reconfig_result[id] = result;
		} else {
			ev = vq_on_lms(t->node[id], m->sender, msg.ring);
		}
		record(t, id, ev);
	}
}

/* Deliver the queue in order (or reverse order per round) to partition part. */
static void flush(struct vqt *t, int part)
{
	size_t n = queue_len;

	queue_len = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = t->reverse ? n - 1 - k : k;

		deliver_one(t, part, &queue[i]);
	}
}

static void enqueue(uint32_t sender, const uint8_t *buf, size_t len)
{
	if (queue_len == VQT_QUEUE || len > VQ_MSG_MAX_BYTES) {
		CHECK(!"fixture queue overflow");
		return;
	}
	queue[queue_len].sender = sender;
	queue[queue_len].len = len;
	memcpy(queue[queue_len].buf, buf, len);
	queue_len++;
}

void vqt_form(struct vqt *t, const uint32_t *ids, size_t n)
{
	struct vq_ring ring = { ids[0], ++t->seq };
	static struct vq_nodeinfo ni;
	uint8_t buf[VQ_MSG_MAX_BYTES];
	int part = (int)t->seq;

	for (size_t i = 0; i < n; i++) {
		if (ids[i] < ring.rep)
			ring.rep = ids[i];
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(t->node[ids[i]] != NULL);
		t->part[ids[i]] = part;
		vq_confchg(t->node[ids[i]], ring, ids, n);
	}
	for (size_t i = 0; i < n; i++) {
		vq_my_nodeinfo(t->node[ids[i]], &ni);
		enqueue(ids[i], buf, vq_msg_encode_nodeinfo(&ni, buf, sizeof(buf)));
	}
	flush(t, part);
}

void vqt_advance(struct vqt *t, uint64_t ms)
{
	uint8_t buf[VQ_MSG_HEADER_BYTES];

	t->now_ms += ms;
	for (uint32_t id = 1; id <= VQT_MAX; id++) {
		struct vq_status st;

		if (!t->node[id] || !vq_lms_fire(t->node[id], t->now_ms))
			continue;
		vq_get_status(t->node[id], &st);
		enqueue(id, buf, vq_msg_encode_lms(st.ring, buf, sizeof(buf)));
		flush(t, t->part[id]);
	}
}

static int reconfig(struct vqt *t, uint32_t id, uint32_t param, uint32_t target, uint32_t v)
{
	static uint32_t req;
	struct vq_reconfig rc = { .origin = id, .req_id = ++req, .param = param };
	uint8_t buf[64];
	struct vq_status st;
	int err;

	if (param == VQ_RECONFIG_EXPECTED)
		err = vq_check_setexpected(t->node[id], v);
	else
		err = vq_check_setvotes(t->node[id], target, v);
	t->last_reconfig_result[id] = 1; /* none yet */
	if (err)
		return err;
	vq_get_status(t->node[id], &st);
	rc.ring = st.ring;
	rc.nodeid = target;
	rc.value = v;
	enqueue(id, buf, vq_msg_encode_reconfig(&rc, buf, sizeof(buf)));
	flush(t, t->part[id]);
	return 0;
}

int vqt_setexpected(struct vqt *t, uint32_t id, uint32_t expected)
{
	return reconfig(t, id, VQ_RECONFIG_EXPECTED, 0, expected);
}

int vqt_setvotes(struct vqt *t, uint32_t id, uint32_t target, uint32_t votes)
{
	return reconfig(t, id, VQ_RECONFIG_VOTES, target, votes);
}

void vqt_leave(struct vqt *t, uint32_t id)
{
	static struct vq_nodeinfo ni;
	uint8_t buf[VQ_MSG_MAX_BYTES];

	vq_set_leaving(t->node[id]);
	vq_my_nodeinfo(t->node[id], &ni);
	enqueue(id, buf, vq_msg_encode_nodeinfo(&ni, buf, sizeof(buf)));
	flush(t, t->part[id]);
}

int vqt_inject(struct vqt *t, uint32_t to, uint32_t sender, const uint8_t *buf, size_t len)
{
	struct vq_msg msg;
	enum vq_msg_err e = vq_msg_decode(buf, len, &msg);
	struct vqt_msg m = { .sender = sender, .len = len };

	if (e != VQ_MSG_OK)
		return -(int)e;
	memcpy(m.buf, buf, len);
	deliver_one(t, t->part[to], &m);
	return 0;
}

struct vq_status vqt_status(const struct vqt *t, uint32_t id)
{
	struct vq_status st;

	vq_get_status(t->node[id], &st);
	return st;
}

bool vqt_quorate(const struct vqt *t, uint32_t id)
{
	return vqt_status(t, id).quorate;
}

void vqt_check_agree(const struct vqt *t, uint32_t id, int line)
{
	struct vq_status a = vqt_status(t, id);

	for (uint32_t j = 1; j <= VQT_MAX; j++) {
		struct vq_status b;

		if (!t->node[j] || t->part[j] != t->part[id])
			continue;
		b = vqt_status(t, j);
		vqt_checks++;
		if (a.quorate != b.quorate || a.expected != b.expected || a.quorum != b.quorum ||
		    a.total_votes != b.total_votes || a.settled != b.settled) {
			vqt_failures++;
			fprintf(stderr,
				"line %d: nodes %u and %u disagree: q %d/%d E %u/%u Q %u/%u\n",
				line, id, j, a.quorate, b.quorate, a.expected, b.expected, a.quorum,
				b.quorum);
		}
	}
}

void vqt_clear_logs(struct vqt *t)
{
	memset(t->log_len, 0, sizeof(t->log_len));
}

void vqt_free(struct vqt *t)
{
	for (uint32_t id = 1; id <= VQT_MAX; id++)
		vqt_stop(t, id);
}
