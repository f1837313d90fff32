/* The daemon's entry points into its services (svc.h): a thin dispatcher by
 * service id. Each service owns its state and its IPC endpoint. */
#include <errno.h>
#include <stdlib.h>

#include "ipc/ipc_server.h"
#include "services/cpg_svc.h"
#include "services/quorum_svc.h"
#include "services/svc.h"

struct services {
	struct cpg_svc *cpg;
	struct quorum_svc *quorum;
};

int services_create(const struct svc_host *host, const struct services_config *cfg,
		    struct services **out)
{
	struct services *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	rc = cpg_svc_create(host, cfg, &s->cpg);
	if (rc) {
		host->log(host->ctx, 0, "SERV", "cannot start the CPG service: error %d", rc);
		services_destroy(s);
		return rc;
	}
	rc = quorum_svc_create(host, cfg, &s->quorum);
	if (rc) {
		host->log(host->ctx, 0, "SERV", "cannot start the quorum service: error %d", rc);
		services_destroy(s);
		return rc;
	}
	*out = s;
	return 0;
}

void services_destroy(struct services *s)
{
	if (!s)
		return;
	quorum_svc_destroy(s->quorum);
	cpg_svc_destroy(s->cpg);
	free(s);
}

void services_on_deliver(struct services *s, uint8_t svc, uint32_t sender_nodeid,
			 enum totem_guarantee g, const uint8_t *data, size_t len)
{
	switch (svc) {
	case SVC_CPG:
		cpg_svc_deliver(s->cpg, sender_nodeid, g, data, len);
		break;
	case SVC_VOTEQUORUM:
		quorum_svc_on_deliver(s->quorum, sender_nodeid, data, len);
		break;
	default:
		break; /* a service this node does not run */
	}
}

void services_on_confchg(struct services *s, enum totem_confchg_type type,
			 struct totem_ring_id ring_id, const uint32_t *members, size_t member_count,
			 const uint32_t *left, size_t left_count, const uint32_t *joined,
			 size_t joined_count)
{
	(void)left;
	(void)left_count;
	(void)joined;
	(void)joined_count;
	cpg_svc_confchg(s->cpg, type, ring_id, members, member_count);
	quorum_svc_on_confchg(s->quorum, type, ring_id, members, member_count);
}

void services_add_ipc_stats(struct services_stats *out, const struct ipc_server *srv)
{
	struct ipc_server_stats st;

	if (!srv)
		return;
	ipc_server_stats(srv, &st);
	out->ipc_conns += st.conns;
	out->ipc_accepted += st.accepted;
	out->ipc_refused += st.refused_access + st.refused_full + st.refused_fds;
	out->ipc_bad_frames += st.bad_frames;
	out->ipc_backlog_drops += st.backlog_drops;
	out->ipc_congested += st.congested;
	out->ipc_stalled += st.stalled;
}

void services_get_stats(const struct services *s, struct services_stats *out)
{
	*out = (struct services_stats){ .quorate = true };
	cpg_svc_add_stats(s->cpg, out);
	quorum_svc_add_stats(s->quorum, out);
}

void services_cork(struct services *s, bool on)
{
	cpg_svc_cork(s->cpg, on);
}

void services_on_flow(struct services *s)
{
	cpg_svc_flow(s->cpg);
	quorum_svc_on_flow(s->quorum);
}
