/* CPG service: creation, and the IPC side of its client connections. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_int.h"

#define CPG_DEFAULT_BACKLOG (64u << 20)
/* Flow control marks: the high mark, a fraction of the backlog limit,
 * leaves room for what the ring still delivers after senders are told to
 * stop (docs/testing-limits.md); the low mark, CPG_FLOW_BAND below it,
 * keeps a receiver busy while they start again. */
#define CPG_FLOW_HIGH_DIV 8u
#define CPG_FLOW_BAND (1u << 20)
#define CPG_FLOW_STALL_MS 2000u

_Static_assert(CPG_IPC_SERVICE_ID == SVC_CPG, "libcpg and the daemon disagree on the service id");

static int op_connect(void *arg, struct ipc_conn *ic, const struct ipc_hello *h,
		      struct ipc_hello_reply *r)
{
	struct cpg_svc *s = arg;
	struct cpg_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->svc = s;
	c->ipc = ic;
	c->id = ipc_conn_id(ic);
	c->pid = (uint32_t)ipc_conn_creds(ic)->pid;
	c->flags = h->flags & (CPG_IPC_HELLO_TOTEM | CPG_IPC_HELLO_INITIAL);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	ipc_conn_set_data(ic, c);
	r->nodeid = s->host.my_nodeid;
	r->max_atomic = IPC_MAX_ATOMIC;
	/* The initial ring comes now if there is one; otherwise with the first
	 * completed sync, like every later ring. */
	if ((c->flags & CPG_IPC_HELLO_TOTEM) && (c->flags & CPG_IPC_HELLO_INITIAL) &&
	    s->have_ring && !s->syncing)
		cpg_emit_totem(s, c);
	return 0;
}

static enum ipc_req_rc op_request(void *arg, struct ipc_conn *ic, const struct ipc_hdr *h,
				  const uint8_t *body, size_t len)
{
	return cpg_req_handle(arg, ipc_conn_data(ic), h, body, len);
}

static void conn_unlink(struct cpg_svc *s, struct cpg_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
}

/* A client went away: its membership goes with a PROCDOWN leave through the
 * ring, queued if the ring cannot take it now. */
static void op_disconnect(void *arg, struct ipc_conn *ic)
{
	struct cpg_svc *s = arg;
	struct cpg_conn *c = ipc_conn_data(ic);

	if (c->memb) {
		long i = cpg_group_index(c->memb, s->host.my_nodeid, c->pid);

		if (i >= 0 && c->memb->m[i].local == c)
			c->memb->m[i].local = NULL;
	}
	if (c->intent_joined)
		cpg_queue_leave(s, &c->intent_group, c->pid, c->id);
	conn_unlink(s, c);
	free(c);
}

static const struct ipc_server_ops cpg_ipc_ops = {
	.connect = op_connect,
	.request = op_request,
	.disconnect = op_disconnect,
	.congestion = cpg_flow_congestion,
};

static int start_ipc(struct cpg_svc *s, const struct services_config *cfg)
{
	struct ipc_allow *allow = NULL;
	size_t high = s->backlog_max / CPG_FLOW_HIGH_DIV;
	struct ipc_server_config ic = {
		.ipc_name = cfg->ipc_name ? cfg->ipc_name : "cohort",
		.service = CPG_IPC_SERVICE_NAME,
		.service_id = SVC_CPG,
		.allow_count = cfg->allow_count,
		.max_backlog = s->backlog_max,
		.flow_high_bytes = high,
		/* A narrow band: senders are held while a receiver drains it,
		 * which shows as a stall in their latency (6 MiB was 20-70 ms). */
		.flow_low_bytes = high > 2 * CPG_FLOW_BAND ? high - CPG_FLOW_BAND : high / 2,
		.flow_stall_ms = CPG_FLOW_STALL_MS,
		.log = s->host.log,
		.log_ctx = s->host.ctx,
	};
	int rc;

	if (cfg->allow_count) {
		allow = calloc(cfg->allow_count, sizeof(*allow));
		if (!allow)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->allow_count; i++)
			allow[i] = (struct ipc_allow){ .uid = cfg->allow[i].uid,
						       .gid = cfg->allow[i].gid };
	}
	ic.allow = allow;
	rc = ipc_server_create(s->host.loop, &ic, &cpg_ipc_ops, s, &s->ipc);
	free(allow);
	return rc;
}

int cpg_svc_create(const struct svc_host *host, const struct services_config *cfg,
		   struct cpg_svc **out)
{
	struct cpg_svc *s;
	int rc;

	*out = NULL;
	/* An atomic message plus our head must fit one ring message. */
	if (host->max_msg_bytes < IPC_MAX_ATOMIC + CPG_MSG_MCAST_HEAD_MAX || !host->mcast ||
	    !host->log)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->host = *host;
	s->backlog_max =
		cfg->client_buffer_max_bytes ? cfg->client_buffer_max_bytes : CPG_DEFAULT_BACKLOG;
	s->syncing = true; /* no ring yet */
	s->flow_timer.deadline_us = UINT64_MAX;
	rc = cpg_groups_init(&s->groups);
	if (!rc)
		rc = start_ipc(s, cfg);
	if (rc) {
		cpg_svc_destroy(s);
		return rc;
	}
	*out = s;
	return 0;
}

void cpg_svc_cork(struct cpg_svc *s, bool on)
{
	if (!s->ipc)
		return;
	if (on)
		ipc_server_cork(s->ipc);
	else
		ipc_server_uncork(s->ipc);
}

void cpg_svc_add_stats(const struct cpg_svc *s, struct services_stats *out)
{
	services_add_ipc_stats(out, s->ipc);
	out->cpg_groups += s->groups.count;
	out->cpg_senders_held = cpg_flow_blocked(s);
	out->cpg_held_flow = s->flow_blocked_count;
	out->cpg_held_queue = s->queue_full_count;
}

void cpg_svc_destroy(struct cpg_svc *s)
{
	if (!s)
		return;
	ipc_server_destroy(s->ipc);
	if (s->flow_timer.registered)
		dloop_timer_del(s->host.loop, &s->flow_timer);
	while (s->conns) {
		struct cpg_conn *c = s->conns;

		conn_unlink(s, c);
		free(c);
	}
	cpg_sync_abort(s);
	cpg_groups_free(&s->groups);
	free(s->members);
	free(s->trans);
	free(s->flow_node);
	free(s->pl);
	free(s->scratch);
	free(s->addrs);
	free(s);
}
