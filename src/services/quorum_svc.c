/* Quorum service: glue between the ring and the votequorum core. Every
 * decision is taken by the core on messages delivered in Totem's order;
 * this file sends what the core needs sent, keeps the LMS timer, and turns
 * the core's events into client notifications. */
#include "services/quorum_svc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

static uint64_t now_ms(void)
{
	return dloop_now_us() / 1000u;
}

/* ---- outgoing ring messages ------------------------------------------------ */

static void flush_out(struct quorum_svc *qs)
{
	while (qs->out_count && !qs->blocked) {
		struct qsvc_out *o = &qs->outq[qs->out_head];
		struct iovec iov = { o->buf, o->len };
		int rc = qs->host.mcast(qs->host.ctx, SVC_VOTEQUORUM, TOTEM_AGREED, &iov, 1);

		if (rc == -EAGAIN) {
			qs->blocked = true;
			return;
		}
		if (rc)
			QSVC_LOG(qs, 0, "cannot send a votequorum message: %s", strerror(-rc));
		qs->out_head = (qs->out_head + 1) % QSVC_OUTQ;
		qs->out_count--;
	}
}

/* Returns the slot to fill, or NULL when the queue is full. */
static struct qsvc_out *out_slot(struct quorum_svc *qs)
{
	if (qs->out_count == QSVC_OUTQ)
		return NULL;
	return &qs->outq[(qs->out_head + qs->out_count++) % QSVC_OUTQ];
}

/* The queue overflowed (the ring refused messages for long): waiting
 * clients are answered "try again". One whose change had already left may
 * still see it applied; asking again is harmless. */
static void fail_pending(struct quorum_svc *qs)
{
	for (size_t i = 0; i < QSVC_PENDING; i++) {
		struct qsvc_pending *p = &qs->pending[i];

		if (p->used && p->client)
			ipc_respond(p->client->conn, &p->hdr, -EAGAIN, NULL, 0);
		p->used = false;
	}
}

static void send_nodeinfo(struct quorum_svc *qs)
{
	struct vq_nodeinfo *ni = malloc(sizeof(*ni));
	struct qsvc_out *o;

	if (!ni) {
		QSVC_LOG(qs, 0, "out of memory sending node information");
		return;
	}
	vq_my_nodeinfo(qs->vq, ni);
	/* Older queued messages belong to a ring that is gone: the core
	 * would ignore them anyway, and this one must get through. */
	if (qs->out_count == QSVC_OUTQ) {
		qs->out_count = 0;
		fail_pending(qs);
	}
	o = out_slot(qs);
	o->len = vq_msg_encode_nodeinfo(ni, o->buf, sizeof(o->buf));
	free(ni);
	flush_out(qs);
}

void quorum_svc_on_flow(struct quorum_svc *qs)
{
	qs->blocked = false;
	flush_out(qs);
}

int quorum_svc_send_reconfig(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
			     uint32_t param, uint32_t nodeid, uint32_t value)
{
	struct vq_reconfig rc = {
		.origin = qs->host.my_nodeid, .param = param, .nodeid = nodeid, .value = value
	};
	struct qsvc_pending *p = NULL;
	struct vq_status st;
	struct qsvc_out *o;

	for (size_t i = 0; i < QSVC_PENDING && !p; i++) {
		if (!qs->pending[i].used)
			p = &qs->pending[i];
	}
	if (!p || qs->out_count == QSVC_OUTQ)
		return -EAGAIN;
	vq_get_status(qs->vq, &st);
	rc.ring = st.ring;
	rc.req_id = ++qs->next_req;
	o = out_slot(qs);
	o->len = vq_msg_encode_reconfig(&rc, o->buf, sizeof(o->buf));
	*p = (struct qsvc_pending){ true, rc.req_id, c, *h };
	flush_out(qs);
	return 0;
}

/* ---- core events to notifications ------------------------------------------ */

static void arm_lms(struct quorum_svc *qs);

static void log_quorum(struct quorum_svc *qs)
{
	struct vq_status st;

	vq_get_status(qs->vq, &st);
	QSVC_LOG(qs, 2, "%s: %zu members, %u of %u expected votes, quorum %u",
		 st.quorate ? "quorate" : "not quorate", st.member_count, st.total_votes,
		 st.expected, st.quorum);
}

static void handle_events(struct quorum_svc *qs, int ev)
{
	if (ev <= 0)
		return;
	if (ev & VQ_EV_SETTLED) {
		quorum_svc_notify_nodelist(qs);
		quorum_svc_notify_quorum(qs);
		log_quorum(qs);
	} else if (ev & VQ_EV_QUORATE) {
		quorum_svc_notify_quorum(qs);
		log_quorum(qs);
	}
	if (ev & VQ_EV_EXPECTED)
		quorum_svc_notify_expected(qs);
	if (ev & VQ_EV_LMS)
		arm_lms(qs);
}

static void lms_due(void *arg, uint64_t now_us)
{
	struct quorum_svc *qs = arg;
	struct vq_status st;
	struct qsvc_out *o;

	if (!vq_lms_fire(qs->vq, now_us / 1000u)) {
		arm_lms(qs);
		return;
	}
	vq_get_status(qs->vq, &st);
	o = out_slot(qs);
	if (!o)
		return;
	o->len = vq_msg_encode_lms(st.ring, o->buf, sizeof(o->buf));
	QSVC_LOG(qs, 2, "last_man_standing window passed: lowering expected votes");
	flush_out(qs);
}

static void arm_lms(struct quorum_svc *qs)
{
	uint64_t d = vq_lms_deadline(qs->vq);

	dloop_timer_set(qs->host.loop, &qs->lms_timer, d == UINT64_MAX ? UINT64_MAX : d * 1000u,
			lms_due, qs);
}

static void reconfig_done(struct quorum_svc *qs, const struct vq_reconfig *rc, int result)
{
	for (size_t i = 0; i < QSVC_PENDING; i++) {
		struct qsvc_pending *p = &qs->pending[i];

		if (!p->used || p->req_id != rc->req_id)
			continue;
		p->used = false;
		if (result)
			QSVC_LOG(qs, 1, "refused to set %s to %u: %s",
				 rc->param == VQ_RECONFIG_EXPECTED ? "expected votes" : "votes",
				 rc->value, vq_strerror(result));
		if (p->client)
			ipc_respond(p->client->conn, &p->hdr, quorum_svc_errno(result), NULL, 0);
		return;
	}
}

void quorum_svc_on_deliver(struct quorum_svc *qs, uint32_t sender, const uint8_t *data, size_t len)
{
	struct vq_msg *m;
	enum vq_msg_err e;
	int ev, result = 0;

	if (!qs->vq)
		return;
	if (qs->ring_seen && sender == qs->host.my_nodeid)
		qs->ready = true;
	m = malloc(sizeof(*m));
	if (!m) {
		QSVC_LOG(qs, 0, "out of memory reading a votequorum message");
		return;
	}
	e = vq_msg_decode(data, len, m);
	if (e != VQ_MSG_OK) {
		/* Counted, not logged: a peer must not be able to flood the log. */
		qs->bad_msgs[e]++;
		free(m);
		return;
	}
	if (m->type == VQ_MSG_NODEINFO) {
		ev = vq_on_nodeinfo(qs->vq, sender, &m->u.nodeinfo, now_ms());
	} else if (m->type == VQ_MSG_RECONFIG) {
		ev = vq_on_reconfig(qs->vq, sender, &m->u.reconfig, &result);
		if (ev >= 0 && sender == qs->host.my_nodeid)
			reconfig_done(qs, &m->u.reconfig, result);
	} else {
		ev = vq_on_lms(qs->vq, sender, m->ring);
	}
	free(m);
	handle_events(qs, ev);
}

void quorum_svc_on_confchg(struct quorum_svc *qs, enum totem_confchg_type type,
			   struct totem_ring_id ring_id, const uint32_t *members,
			   size_t member_count)
{
	struct vq_ring ring = { ring_id.rep, ring_id.seq };

	if (type == TOTEM_CONF_REGULAR) {
		qs->ring_seen = true;
		qs->ready |= !qs->vq;
	}
	if (!qs->vq || type != TOTEM_CONF_REGULAR)
		return;
	vq_confchg(qs->vq, ring, members, member_count);
	send_nodeinfo(qs);
}

void quorum_svc_leave(struct quorum_svc *qs)
{
	struct vq_status st;

	if (!qs->vq)
		return;
	vq_get_status(qs->vq, &st);
	if (!(st.flags & VQ_INFO_ALLOW_DOWNSCALE))
		return;
	vq_set_leaving(qs->vq);
	send_nodeinfo(qs);
}

/* ---- configuration ---------------------------------------------------------- */

static int make_options(const struct services_config *cfg, uint32_t my_nodeid, struct vq_options *o)
{
	const struct cfg_quorum *q = cfg->quorum;
	uint32_t sum = 0;
	bool found = false;

	memset(o, 0, sizeof(*o));
	o->my_nodeid = my_nodeid;
	for (size_t i = 0; i < cfg->node_count; i++) {
		sum += cfg->nodes[i].quorum_votes;
		if (cfg->nodes[i].nodeid == my_nodeid) {
			o->my_votes = cfg->nodes[i].quorum_votes;
			found = true;
		}
	}
	if (!found)
		o->my_votes = 1;
	o->expected_votes = q->expected_votes ? q->expected_votes : sum;
	o->two_node = q->two_node;
	o->wait_for_all = q->wait_for_all;
	o->last_man_standing = q->last_man_standing;
	o->lms_window_ms = q->last_man_standing_window_ms;
	o->auto_tie_breaker = q->auto_tie_breaker;
	o->atb_mode = q->atb_mode == CFG_ATB_HIGHEST ? VQ_ATB_HIGHEST :
		      q->atb_mode == CFG_ATB_LIST    ? VQ_ATB_LIST :
						       VQ_ATB_LOWEST;
	o->atb_node_count =
		q->atb_node_count > VQ_MAX_ATB_NODES ? VQ_MAX_ATB_NODES : q->atb_node_count;
	memcpy(o->atb_nodes, q->atb_nodes, o->atb_node_count * sizeof(uint32_t));
	o->allow_downscale = q->allow_downscale;
	return 0;
}

static int copy_names(struct quorum_svc *qs, const struct services_config *cfg)
{
	if (!cfg->node_count)
		return 0;
	qs->names = calloc(cfg->node_count, sizeof(*qs->names));
	if (!qs->names)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->node_count; i++) {
		qs->names[i].nodeid = cfg->nodes[i].nodeid;
		snprintf(qs->names[i].name, sizeof(qs->names[i].name), "%s", cfg->nodes[i].name);
	}
	qs->name_count = cfg->node_count;
	return 0;
}

const char *quorum_svc_name_of(const struct quorum_svc *qs, uint32_t nodeid)
{
	for (size_t i = 0; i < qs->name_count; i++) {
		if (qs->names[i].nodeid == nodeid)
			return qs->names[i].name;
	}
	return "";
}

static int create_core(struct quorum_svc *qs, const struct services_config *cfg)
{
	struct vq_options o;
	int err;

	make_options(cfg, qs->host.my_nodeid, &o);
	err = vq_create(&o, &qs->vq);
	if (err) {
		QSVC_LOG(qs, 0, "votequorum: %s (expected votes %u, votes %u)", vq_strerror(err),
			 o.expected_votes, o.my_votes);
		return -EINVAL;
	}
	QSVC_LOG(qs, 2, "votequorum: %u votes, %u expected%s%s%s%s%s", o.my_votes, o.expected_votes,
		 o.two_node ? ", two_node" : "", o.wait_for_all ? ", wait_for_all" : "",
		 o.last_man_standing ? ", last_man_standing" : "",
		 o.auto_tie_breaker ? ", auto_tie_breaker" : "",
		 o.allow_downscale ? ", allow_downscale" : "");
	return 0;
}

int quorum_svc_create(const struct svc_host *host, const struct services_config *cfg,
		      struct quorum_svc **out)
{
	struct quorum_svc *qs = calloc(1, sizeof(*qs));
	int err;

	*out = NULL;
	if (!qs)
		return -ENOMEM;
	qs->host = *host;
	qs->lms_timer.deadline_us = UINT64_MAX;
	err = copy_names(qs, cfg);
	if (!err && cfg->quorum && cfg->quorum->provider == CFG_QUORUM_VOTEQUORUM)
		err = create_core(qs, cfg);
	if (!err)
		err = quorum_svc_ipc_start(qs, cfg);
	if (err) {
		quorum_svc_destroy(qs);
		return err;
	}
	*out = qs;
	return 0;
}

void quorum_svc_add_stats(const struct quorum_svc *qs, struct services_stats *out)
{
	struct vq_status st;

	services_add_ipc_stats(out, qs->srv_quorum);
	services_add_ipc_stats(out, qs->srv_vq);
	if (!qs->vq)
		return;
	vq_get_status(qs->vq, &st);
	out->quorum_provider = true;
	out->quorate = st.quorate;
	out->quorum_total_votes = st.total_votes;
	out->quorum_expected = st.expected;
	out->quorum_needed = st.quorum;
}

void quorum_svc_destroy(struct quorum_svc *qs)
{
	if (!qs)
		return;
	quorum_svc_ipc_stop(qs);
	dloop_timer_del(qs->host.loop, &qs->lms_timer);
	vq_destroy(qs->vq);
	free(qs->names);
	free(qs);
}
