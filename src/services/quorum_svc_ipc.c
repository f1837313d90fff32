/* Quorum service, client side: the "quorum" and "votequorum" endpoints,
 * their requests, and the notifications sent to tracking clients. */
#include "services/quorum_svc_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/corotypes.h>
#include <corosync/quorum.h>

_Static_assert(QUORUM_IPC_SERVICE_ID == SVC_QUORUM && VQ_IPC_SERVICE_ID == SVC_VOTEQUORUM,
	       "the libraries and the daemon disagree on the service ids");

int quorum_svc_errno(int vq_err)
{
	switch (vq_err) {
	case 0:
		return 0;
	case VQ_E_INVAL:
	case VQ_E_LOSES_QUORUM:
	case VQ_E_MINORITY:
		return -EINVAL;
	case VQ_E_NOENT:
		return -ENOENT;
	case VQ_E_NOMEM:
		return -ENOMEM;
	default:
		return -EAGAIN;
	}
}

/* ---- notifications --------------------------------------------------------- */

static void send_to(struct quorum_svc *qs, struct qsvc_client *c, size_t len)
{
	struct iovec iov = { qs->evbuf, len };

	if (c->vq)
		ipc_put_u64(qs->evbuf + IPC_HDR_LEN, c->context);
	ipc_send_event(c->conn, &iov, 1);
}

/* Build qs->ev into evbuf and send it to one client, or to every tracking
 * client of that kind when c is NULL. The context of votequorum events is
 * the first body field and is patched per client. */
static void emit(struct quorum_svc *qs, struct qsvc_client *only, bool vq)
{
	size_t len = quorum_ipc_event_encode(qs->evbuf, sizeof(qs->evbuf), &qs->ev);

	if (!len) {
		QSVC_LOG(qs, 0, "notification too large, not sent");
		return;
	}
	if (only) {
		send_to(qs, only, len);
		return;
	}
	for (struct qsvc_client *c = qs->clients; c; c = c->next) {
		if (c->tracking && c->vq == vq && !ipc_conn_closing(c->conn))
			send_to(qs, c, len);
	}
}

static size_t diff(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < na; i++) {
		bool found = false;

		for (size_t j = 0; j < nb && !found; j++)
			found = a[i] == b[j];
		if (!found)
			out[n++] = a[i];
	}
	return n;
}

static void ring_into_ev(struct quorum_svc *qs, uint16_t type)
{
	struct vq_status st;

	vq_get_status(qs->vq, &st);
	memset(&qs->ev, 0, offsetof(struct quorum_ipc_event, ids));
	qs->ev.type = type;
	qs->ev.quorate = st.quorate;
	qs->ev.rep = st.ring.rep;
	qs->ev.seq = st.ring.seq;
	qs->ev.n_memb = (uint32_t)vq_get_members(qs->vq, qs->ev.ids, VQ_MAX_NODES);
}

/* libquorum V1 nodelist: members, and joined/left since the last
 * notification; votequorum nodelist: ring and members. */
static void nodelist_to(struct quorum_svc *qs, struct qsvc_client *only, bool update)
{
	uint32_t *ids = qs->ev.ids;
	size_t m;

	ring_into_ev(qs, QUORUM_IPC_EV_NODELIST);
	m = qs->ev.n_memb;
	if (update) {
		qs->ev.n_joined = (uint32_t)diff(ids, m, qs->notified, qs->notified_count, ids + m);
		qs->ev.n_left = (uint32_t)diff(qs->notified, qs->notified_count, ids, m,
					       ids + m + qs->ev.n_joined);
	}
	emit(qs, only, false);
	if (update) {
		memcpy(qs->notified, ids, m * sizeof(uint32_t));
		qs->notified_count = m;
	}
}

static void vq_nodelist_to(struct quorum_svc *qs, struct qsvc_client *only)
{
	ring_into_ev(qs, VQ_IPC_EV_NODELIST);
	emit(qs, only, true);
}

static void quorum_to(struct quorum_svc *qs, struct qsvc_client *only)
{
	ring_into_ev(qs, QUORUM_IPC_EV_QUORUM);
	emit(qs, only, false);
}

/* Every node votequorum knows, with its state, as Corosync sends it. */
static void vq_quorum_to(struct quorum_svc *qs, struct qsvc_client *only)
{
	static const size_t max = QUORUM_IPC_MAX_IDS;
	struct vq_node *nodes = malloc(max * sizeof(*nodes));
	size_t n;

	if (!nodes)
		return;
	ring_into_ev(qs, VQ_IPC_EV_QUORUM);
	n = vq_get_nodes(qs->vq, nodes, max);
	qs->ev.n_memb = (uint32_t)(n < max ? n : max);
	for (size_t i = 0; i < qs->ev.n_memb; i++) {
		qs->ev.ids[i] = nodes[i].nodeid;
		qs->ev.states[i] = nodes[i].state;
	}
	free(nodes);
	emit(qs, only, true);
}

void quorum_svc_notify_nodelist(struct quorum_svc *qs)
{
	nodelist_to(qs, NULL, true);
	vq_nodelist_to(qs, NULL);
}

void quorum_svc_notify_quorum(struct quorum_svc *qs)
{
	quorum_to(qs, NULL);
	vq_quorum_to(qs, NULL);
}

void quorum_svc_notify_expected(struct quorum_svc *qs)
{
	struct vq_status st;

	vq_get_status(qs->vq, &st);
	memset(&qs->ev, 0, offsetof(struct quorum_ipc_event, ids));
	qs->ev.type = VQ_IPC_EV_EXPECTED;
	qs->ev.expected = st.expected;
	emit(qs, NULL, true);
}

/* ---- requests ----------------------------------------------------------------- */

static int respond_words(struct qsvc_client *c, const struct ipc_hdr *h, int result,
			 const uint32_t *v, size_t n)
{
	uint8_t body[4 * VQ_IPC_INFO_WORDS];
	struct iovec iov = { body, 4 * n };

	for (size_t i = 0; i < n; i++)
		ipc_put_u32(body + 4 * i, v[i]);
	return ipc_respond(c->conn, h, result, &iov, n ? 1 : 0);
}

static int trackstart(struct quorum_svc *qs, struct qsvc_client *c, uint32_t flags)
{
	if (flags & ~(uint32_t)(CS_TRACK_CURRENT | CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY))
		return -EINVAL;
	/* Without a provider nothing is ever sent (quorum_model_initialize(3):
	 * "no callbacks will take place"). */
	if (qs->vq && (flags & (CS_TRACK_CURRENT | CS_TRACK_CHANGES))) {
		if (c->vq) {
			vq_nodelist_to(qs, c);
			vq_quorum_to(qs, c);
		} else {
			nodelist_to(qs, c, false);
			quorum_to(qs, c);
		}
	}
	if (c->tracking)
		return -EEXIST;
	if (flags & (CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY))
		c->tracking = true;
	return 0;
}

static int quorum_request(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
			  const uint8_t *body, size_t len)
{
	uint32_t v[1];
	struct vq_status st = { .quorate = true };

	switch (h->type) {
	case QUORUM_IPC_GETTYPE:
		v[0] = qs->vq ? QUORUM_SET : QUORUM_FREE;
		return quorum_ipc_words_decode(body, len, NULL, 0) ?: respond_words(c, h, 0, v, 1);
	case QUORUM_IPC_GETQUORATE:
		if (quorum_ipc_words_decode(body, len, NULL, 0))
			return -EPROTO;
		if (qs->vq)
			vq_get_status(qs->vq, &st);
		v[0] = st.quorate;
		return respond_words(c, h, 0, v, 1);
	case QUORUM_IPC_TRACKSTART:
		if (quorum_ipc_words_decode(body, len, v, 1))
			return -EPROTO;
		return respond_words(c, h, trackstart(qs, c, v[0]), NULL, 0);
	case QUORUM_IPC_TRACKSTOP:
		if (quorum_ipc_words_decode(body, len, NULL, 0))
			return -EPROTO;
		v[0] = c->tracking;
		c->tracking = false;
		return respond_words(c, h, v[0] ? 0 : -ENOENT, NULL, 0);
	default:
		return -EPROTO;
	}
}

static int getinfo(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
		   uint32_t nodeid)
{
	uint32_t v[VQ_IPC_INFO_WORDS] = { 0 };
	struct vq_status st;
	struct vq_node n;
	int err;

	err = vq_get_node(qs->vq, nodeid ? nodeid : qs->host.my_nodeid, &n);
	if (err)
		return respond_words(c, h, quorum_svc_errno(err), NULL, 0);
	vq_get_status(qs->vq, &st);
	v[0] = n.nodeid;
	v[1] = n.state;
	v[2] = n.votes;
	v[3] = n.expected;
	v[4] = st.highest_expected;
	v[5] = st.total_votes;
	v[6] = st.quorum;
	v[7] = st.flags;
	v[8] = 0; /* qdevice votes */
	return respond_words(c, h, 0, v, VQ_IPC_INFO_WORDS);
}

static int nodes_list(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h)
{
	struct vq_node *nodes = malloc(VQ_TABLE_MAX * sizeof(*nodes));
	size_t n = nodes ? vq_get_nodes(qs->vq, nodes, VQ_TABLE_MAX) : 0;
	size_t cap = 4 + n * QUORUM_IPC_NODE_MAX_BYTES;
	uint8_t *body = malloc(cap);
	struct quorum_ipc_node qn;
	struct ipc_wr w;
	struct iovec iov;
	int rc;

	if (!nodes || !body) {
		free(nodes);
		free(body);
		return respond_words(c, h, -ENOMEM, NULL, 0);
	}
	ipc_wr_init(&w, body, cap);
	quorum_ipc_nodes_put_count(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		qn = (struct quorum_ipc_node){ nodes[i].nodeid, nodes[i].state, nodes[i].votes,
					       nodes[i].expected, "" };
		snprintf(qn.name, sizeof(qn.name), "%s", quorum_svc_name_of(qs, nodes[i].nodeid));
		quorum_ipc_node_put(&w, &qn);
	}
	iov = (struct iovec){ body, w.off };
	rc = ipc_respond(c->conn, h, 0, &iov, 1);
	free(nodes);
	free(body);
	return rc;
}

/* Runtime changes are checked here for a quick answer, then sent through
 * the ring; the client is answered when the change comes back in order. */
static int reconfigure(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
		       uint32_t param, uint32_t nodeid, uint32_t value)
{
	int err;

	if (param == VQ_RECONFIG_EXPECTED)
		err = vq_check_setexpected(qs->vq, value);
	else
		err = vq_check_setvotes(qs->vq, nodeid, value);
	if (!err)
		err = quorum_svc_send_reconfig(qs, c, h, param, nodeid, value) ? VQ_E_AGAIN : 0;
	if (err) {
		QSVC_LOG(qs, 1, "refused to set %s to %u: %s",
			 param == VQ_RECONFIG_EXPECTED ? "expected votes" : "votes", value,
			 vq_strerror(err));
		return respond_words(c, h, quorum_svc_errno(err), NULL, 0);
	}
	return 0;
}

static int vq_request(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
		      const uint8_t *body, size_t len)
{
	uint32_t v[3];

	switch (h->type) {
	case VQ_IPC_GETINFO:
		return quorum_ipc_words_decode(body, len, v, 1) ?: getinfo(qs, c, h, v[0]);
	case VQ_IPC_SETEXPECTED:
		return quorum_ipc_words_decode(body, len, v, 1) ?:
			       reconfigure(qs, c, h, VQ_RECONFIG_EXPECTED, 0, v[0]);
	case VQ_IPC_SETVOTES:
		if (quorum_ipc_words_decode(body, len, v, 2))
			return -EPROTO;
		return reconfigure(qs, c, h, VQ_RECONFIG_VOTES, v[0] ? v[0] : qs->host.my_nodeid,
				   v[1]);
	case VQ_IPC_TRACKSTART:
		if (quorum_ipc_words_decode(body, len, v, 3))
			return -EPROTO;
		c->context = v[0] | (uint64_t)v[1] << 32;
		return respond_words(c, h, trackstart(qs, c, v[2]), NULL, 0);
	case VQ_IPC_TRACKSTOP:
		if (quorum_ipc_words_decode(body, len, NULL, 0))
			return -EPROTO;
		v[0] = c->tracking;
		c->tracking = false;
		return respond_words(c, h, v[0] ? 0 : -ENOENT, NULL, 0);
	case VQ_IPC_NODES:
		return quorum_ipc_words_decode(body, len, NULL, 0) ?: nodes_list(qs, c, h);
	default:
		return -EPROTO;
	}
}

/* ---- connections ---------------------------------------------------------------- */

static int on_connect(void *arg, struct ipc_conn *conn, const struct ipc_hello *hello,
		      struct ipc_hello_reply *reply, bool vq)
{
	struct quorum_svc *qs = arg;
	struct qsvc_client *c;

	(void)hello;
	/* votequorum exists only with a provider, as in Corosync. */
	if (vq && !qs->vq)
		return -ENOENT;
	if (!qs->ready)
		return -ECONNREFUSED;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->qs = qs;
	c->conn = conn;
	c->vq = vq;
	c->next = qs->clients;
	if (qs->clients)
		qs->clients->prev = c;
	qs->clients = c;
	ipc_conn_set_data(conn, c);
	reply->nodeid = qs->host.my_nodeid;
	reply->max_atomic = 0;
	return 0;
}

static int connect_quorum(void *arg, struct ipc_conn *conn, const struct ipc_hello *hello,
			  struct ipc_hello_reply *reply)
{
	return on_connect(arg, conn, hello, reply, false);
}

static int connect_vq(void *arg, struct ipc_conn *conn, const struct ipc_hello *hello,
		      struct ipc_hello_reply *reply)
{
	return on_connect(arg, conn, hello, reply, true);
}

static enum ipc_req_rc on_request(void *arg, struct ipc_conn *conn, const struct ipc_hdr *h,
				  const uint8_t *body, size_t len)
{
	struct quorum_svc *qs = arg;
	struct qsvc_client *c = ipc_conn_data(conn);
	int rc = c->vq ? vq_request(qs, c, h, body, len) : quorum_request(qs, c, h, body, len);

	if (rc == -EPROTO)
		ipc_conn_close(conn, 1, "malformed quorum request");
	return IPC_DONE;
}

static void forget(struct quorum_svc *qs, struct qsvc_client *c)
{
	for (size_t i = 0; i < QSVC_PENDING; i++) {
		if (qs->pending[i].client == c)
			qs->pending[i].client = NULL;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		qs->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void on_disconnect(void *arg, struct ipc_conn *conn)
{
	forget(arg, ipc_conn_data(conn));
}

static const struct ipc_server_ops quorum_ops = { connect_quorum, on_request, on_disconnect, NULL };
static const struct ipc_server_ops vq_ops = { connect_vq, on_request, on_disconnect, NULL };

static int start_one(struct quorum_svc *qs, const struct services_config *cfg, bool vq,
		     struct ipc_server **out)
{
	struct ipc_allow *allow = NULL;
	struct ipc_server_config sc = {
		.ipc_name = cfg->ipc_name ? cfg->ipc_name : "cohort",
		.service = vq ? VQ_IPC_SERVICE_NAME : QUORUM_IPC_SERVICE_NAME,
		.service_id = vq ? VQ_IPC_SERVICE_ID : QUORUM_IPC_SERVICE_ID,
		.allow_count = cfg->allow_count,
		.max_backlog = cfg->client_buffer_max_bytes ? cfg->client_buffer_max_bytes :
							      QSVC_DEFAULT_BACKLOG,
		.log = qs->host.log,
		.log_ctx = qs->host.ctx,
	};
	int err;

	if (cfg->allow_count) {
		allow = calloc(cfg->allow_count, sizeof(*allow));
		if (!allow)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->allow_count; i++)
			allow[i] = (struct ipc_allow){ cfg->allow[i].uid, cfg->allow[i].gid };
	}
	sc.allow = allow;
	err = ipc_server_create(qs->host.loop, &sc, vq ? &vq_ops : &quorum_ops, qs, out);
	free(allow);
	if (err)
		QSVC_LOG(qs, 0, "cannot listen for %s clients: %s", sc.service, strerror(-err));
	return err;
}

int quorum_svc_ipc_start(struct quorum_svc *qs, const struct services_config *cfg)
{
	int err = start_one(qs, cfg, false, &qs->srv_quorum);

	return err ? err : start_one(qs, cfg, true, &qs->srv_vq);
}

void quorum_svc_ipc_stop(struct quorum_svc *qs)
{
	/* ipc_server_destroy does not call disconnect: free the clients here. */
	if (qs->srv_quorum)
		ipc_server_destroy(qs->srv_quorum);
	if (qs->srv_vq)
		ipc_server_destroy(qs->srv_vq);
	qs->srv_quorum = qs->srv_vq = NULL;
	while (qs->clients)
		forget(qs, qs->clients);
}
