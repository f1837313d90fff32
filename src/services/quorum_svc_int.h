/* Private state of the quorum service (quorum_svc.c, quorum_svc_ipc.c). */
#ifndef COHORT_SERVICES_QUORUM_SVC_INT_H
#define COHORT_SERVICES_QUORUM_SVC_INT_H

#include "ipc/ipc_server.h"
#include "services/quorum_ipc.h"
#include "services/quorum_svc.h"
#include "services/vq_core.h"
#include "services/vq_msg.h"

#define QSVC_SUBSYS "QUORUM"
#define QSVC_OUTQ 32u			/* ring messages waiting for room in the submit queue */
#define QSVC_PENDING 64u		/* runtime changes waiting to come back in order */
#define QSVC_DEFAULT_BACKLOG (1u << 20) /* notifications are small */

struct qsvc_client {
	struct quorum_svc *qs;
	struct ipc_conn *conn;
	bool vq;       /* a votequorum connection (else quorum) */
	bool tracking; /* gets change notifications */
	uint64_t context;
	struct qsvc_client *prev, *next;
};

/* A setexpected/setvotes sent through the ring, answered when it returns. */
struct qsvc_pending {
	bool used;
	uint32_t req_id; /* in the RECONFIG message */
	struct qsvc_client *client;
	struct ipc_hdr hdr; /* of the client's request */
};

struct qsvc_out {
	size_t len;
	uint8_t buf[VQ_MSG_MAX_BYTES];
};

struct qsvc_name {
	uint32_t nodeid;
	char name[QUORUM_IPC_NAME_MAX + 1];
};

struct quorum_svc {
	struct svc_host host;
	struct vq *vq; /* NULL: no provider (QUORUM_FREE) */
	struct ipc_server *srv_quorum;
	struct ipc_server *srv_vq;
	struct qsvc_client *clients;

	struct qsvc_out outq[QSVC_OUTQ];
	size_t out_head, out_count;
	bool blocked; /* the ring said -EAGAIN; wait for services_on_flow */
	/* Clients are refused until the first ring is up and our own NODEINFO
	 * for it came back, as Corosync refuses them until its first sync:
	 * before that there is no ring id or quorum to report. */
	bool ring_seen, ready;

	struct qsvc_pending pending[QSVC_PENDING];
	uint32_t next_req;

	struct dloop_timer lms_timer;
	/* Members at the last notification, for the joined and left lists. */
	uint32_t notified[VQ_MAX_NODES];
	size_t notified_count;

	struct qsvc_name *names;
	size_t name_count;

	uint64_t bad_msgs[VQ_MSG_E_COUNT];
	struct quorum_ipc_event ev; /* scratch for building events */
	uint8_t evbuf[QUORUM_IPC_MAX_EVENT];
};

#define QSVC_LOG(qs, lvl, ...) (qs)->host.log((qs)->host.ctx, lvl, QSVC_SUBSYS, __VA_ARGS__)

/* quorum_svc.c */
int quorum_svc_send_reconfig(struct quorum_svc *qs, struct qsvc_client *c, const struct ipc_hdr *h,
			     uint32_t param, uint32_t nodeid, uint32_t value);
const char *quorum_svc_name_of(const struct quorum_svc *qs, uint32_t nodeid);

/* quorum_svc_ipc.c */
int quorum_svc_ipc_start(struct quorum_svc *qs, const struct services_config *cfg);
void quorum_svc_ipc_stop(struct quorum_svc *qs);
/* Notifications to the tracking clients, in this order after a settle. */
void quorum_svc_notify_nodelist(struct quorum_svc *qs);
void quorum_svc_notify_quorum(struct quorum_svc *qs);
void quorum_svc_notify_expected(struct quorum_svc *qs);
/* Internal error (VQ_E_*) to the negative errno a response carries. */
int quorum_svc_errno(int vq_err);

#endif
