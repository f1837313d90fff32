/* cohortd start-up and shutdown: configuration, logging, node identity,
 * keys, transport, Totem core, services, signals, real-time priority. */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "services/svc.h"

static int read_config(struct daemon *d, struct cfg_cluster **out)
{
	struct util_diag diag = { 0 };
	struct cfg_options o = { .resolve_names = true };
	int rc = cfg_load_file(d->opt.config_path, &o, out, &diag);

	if (rc == 0)
		cfg_load_uidgid_dir(*out, CFG_DEFAULT_UIDGID_DIR, &diag);
	for (size_t i = 0; i < diag.count; i++) {
		const struct util_msg *m = &diag.msgs[i];
		int lvl = m->severity == UTIL_ERROR   ? DLOG_ERR :
			  m->severity == UTIL_WARNING ? DLOG_WARN :
							DLOG_DEBUG;
		dlog_printf(&d->log, lvl, "CONFIG", "%s", m->text);
	}
	util_diag_free(&diag);
	return rc;
}

static int load_config(struct daemon *d)
{
	return read_config(d, &d->cfg);
}

static void setup_logging(struct daemon *d)
{
	const struct cfg_logging *lg = &d->cfg->logging;

	dlog_close(&d->log);

	d->log.debug = lg->global.debug != CFG_DEBUG_OFF;
	d->log.timestamp = lg->timestamp != CFG_TS_OFF || d->opt.foreground;
	d->log.to_stderr = d->opt.foreground || lg->global.to_stderr;
	if (lg->global.to_logfile && lg->logfile[0] && dlog_open_file(&d->log, lg->logfile))
		dlog_printf(&d->log, DLOG_WARN, "MAIN", "cannot open log file %s: %s", lg->logfile,
			    strerror(errno));
	d->log.to_syslog = lg->global.to_syslog && !d->opt.foreground;
}

static int setup_identity(struct daemon *d)
{
	char err[256] = "";
	const char *dir = d->opt.state_dir ? d->opt.state_dir : d->cfg->system.state_dir;

	d->nodeid = cfg_find_local_node(d->cfg, d->opt.nodeid, err, sizeof(err));
	if (!d->nodeid) {
		dlog_printf(&d->log, DLOG_ERR, "MAIN", "%s", err[0] ? err : "no local node found");
		return -1;
	}
	d->log.nodeid = d->nodeid;
	if (!dir[0])
		dir = CFG_DEFAULT_STATE_DIR;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		dlog_printf(&d->log, DLOG_ERR, "MAIN", "cannot create state dir %s: %s", dir,
			    strerror(errno));
		return -1;
	}
	if (strlen(dir) > sizeof(d->state_path) - 32) {
		dlog_printf(&d->log, DLOG_ERR, "MAIN", "state dir path too long: %s", dir);
		return -1;
	}
	snprintf(d->state_path, sizeof(d->state_path), "%.*s/ringid_%u",
		 (int)(sizeof(d->state_path) - 32), dir, d->nodeid);
	return 0;
}

static int setup_net(struct daemon *d)
{
	struct net_node *nodes;
	struct net_config nc;
	int rc;
	char err[256] = "";
	enum crypto_mode mode = cfg_crypto_mode(d->cfg);

	if (mode != CRYPTO_MODE_NONE &&
	    crypto_key_load(d->cfg->totem.keyfile, &d->key, err, sizeof(err))) {
		dlog_printf(&d->log, DLOG_ERR, "MAIN", "%s", err);
		return -1;
	}
	nodes = calloc(d->cfg->node_count, sizeof(*nodes));
	if (!nodes)
		return -1;
	memset(&nc, 0, sizeof(nc));
	for (size_t i = 0; i < d->cfg->node_count; i++) {
		nodes[i].nodeid = d->cfg->nodes[i].nodeid;
		nodes[i].link_mask = d->cfg->nodes[i].link_mask;
		memcpy(nodes[i].addrs, d->cfg->nodes[i].addrs, sizeof(nodes[i].addrs));
	}
	nc.my_nodeid = d->nodeid;
	nc.nodes = nodes;
	nc.node_count = d->cfg->node_count;
	for (unsigned l = 0; l < CFG_MAX_LINKS; l++) {
		const struct cfg_interface *ifc = &d->cfg->totem.interfaces[l];
		nc.port[l] = ifc->present ? ifc->mcastport : CFG_DEFAULT_PORT;
		cfg_link_heartbeat(d->cfg, l, &nc.heartbeat_interval_ms[l], &nc.link_timeout_ms[l]);
		cfg_mcast_addr(d->cfg, l, &nc.mcast[l]);
	}
	nc.multicast = d->cfg->totem.transport == CFG_TRANSPORT_UDP;
	nc.mcast_ttl = d->cfg->totem.interfaces[0].ttl ? d->cfg->totem.interfaces[0].ttl : 1;
	nc.send_all_links = d->cfg->totem.link_mode == CFG_LINK_ACTIVE;
	nc.crypto_mode = mode;
	nc.key = &d->key;
	nc.cluster_name = d->cfg->totem.cluster_name;
	nc.deliver = daemon_net_deliver;
	nc.link_change = daemon_net_link_change;
	nc.arg = d;
	rc = net_create(&nc, &d->net, err, sizeof(err));
	free(nodes);
	if (rc) {
		dlog_printf(&d->log, DLOG_ERR, "KNET", "%s", err);
		return -1;
	}
	int fds[2 * NET_MAX_LINKS];
	size_t n = net_get_fds(d->net, fds, 2 * NET_MAX_LINKS);
	for (size_t i = 0; i < n; i++)
		dloop_add_fd(d->loop, fds[i], EPOLLIN, daemon_net_readable, d);
	daemon_rearm_net_timer(d);
	return 0;
}

static void daemon_totem_trace(void *arg, const char *what, uint32_t nodeid)
{
	struct daemon *d = arg;

	if (!d->log.debug)
		return;
	if (nodeid)
		dlog_printf(&d->log, DLOG_DEBUG, "TOTEM", "%s node %u", what, nodeid);
	else
		dlog_printf(&d->log, DLOG_DEBUG, "TOTEM", "gather: %s", what);
}

static int setup_totem(struct daemon *d)
{
	struct totem_config tc;
	uint64_t seq = 0;

	totem_config_defaults(&tc);
	if (cfg_to_totem(d->cfg, d->nodeid, &tc)) {
		dlog_printf(&d->log, DLOG_ERR, "TOTEM", "node %u is not in the nodelist",
			    d->nodeid);
		return -1;
	}
	if (state_load_ring_seq(d->state_path, &seq))
		dlog_printf(&d->log, DLOG_WARN, "MAIN", "unreadable %s: starting from 0",
			    d->state_path);
	tc.ring_seq_start = seq;
	tc.trace = daemon_totem_trace; /* it checks the debug flag, which a reload may change */
	tc.trace_arg = d;
	tc.max_msg_bytes = 2u << 20;
	if (tc.netmtu > net_max_payload(d->net))
		tc.netmtu = (uint32_t)net_max_payload(d->net);
	d->max_msg_bytes = tc.max_msg_bytes - 1;
	if (totem_create(&tc, &d->totem)) {
		dlog_printf(&d->log, DLOG_ERR, "TOTEM", "invalid Totem parameters");
		return -1;
	}
	dlog_printf(
		&d->log, DLOG_NOTICE, "TOTEM",
		"node %u: token %u ms, retransmit %u ms, hold %u ms, join %u ms, consensus %u ms, merge %u ms, netmtu %u, last ring seq %llu",
		d->nodeid, tc.token_ms, tc.token_retransmit_ms, tc.hold_ms, tc.join_ms,
		tc.consensus_ms, tc.merge_ms, tc.netmtu, (unsigned long long)seq);
	d->pending.cap = 8u << 20;
	d->pending.buf = malloc(d->pending.cap);
	return d->pending.buf ? 0 : -1;
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return -1;
	return dloop_add_fd(d->loop, d->signal_fd, EPOLLIN, daemon_signal_readable, d);
}

/* A name or a number; false when neither resolves. */
static bool resolve_id(const char *s, bool group, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*s && !*end && !errno)
		return true;
	if (group) {
		struct group *g = getgrnam(s);
		if (g)
			*out = g->gr_gid;
		return g != NULL;
	}
	struct passwd *p = getpwnam(s);
	if (p)
		*out = p->pw_uid;
	return p != NULL;
}

/* uidgid { uid: gid: } entries as the IPC access list; the IPC layer lets
 * in a client whose uid or gid matches an entry, as Corosync does. */
static void resolve_uidgid(struct daemon *d)
{
	d->allow_count = 0;
	for (size_t i = 0; i < d->cfg->uidgid_count; i++) {
		const struct cfg_uidgid *u = &d->cfg->uidgid[i];
		struct svc_uidgid a = { (uid_t)-1, (gid_t)-1 };
		unsigned long v;

		if (u->uid[0] && !resolve_id(u->uid, false, &v)) {
			dlog_printf(&d->log, DLOG_WARN, "MAIN", "uidgid: unknown user %s, ignored",
				    u->uid);
			continue;
		}
		if (u->uid[0])
			a.uid = (uid_t)v;
		if (u->gid[0] && !resolve_id(u->gid, true, &v)) {
			dlog_printf(&d->log, DLOG_WARN, "MAIN", "uidgid: unknown group %s, ignored",
				    u->gid);
			continue;
		}
		if (u->gid[0])
			a.gid = (gid_t)v;
		d->allow[d->allow_count++] = a;
	}
}

static int setup_services(struct daemon *d)
{
#ifdef COHORT_HAVE_SERVICES
	struct svc_host *host = &d->host;
	struct services_config sc = { .ipc_name = d->ipc_name,
				      .client_buffer_max_bytes = 64u << 20,
				      .quorum = &d->cfg->quorum,
				      .nodes = d->cfg->nodes,
				      .node_count = d->cfg->node_count };

	resolve_uidgid(d);
	sc.allow = d->allow;
	sc.allow_count = d->allow_count;

	host->ctx = d;
	host->loop = d->loop;
	host->my_nodeid = d->nodeid;
	host->mcast = daemon_host_mcast;
	host->max_msg_bytes = d->max_msg_bytes;
	host->log = daemon_host_log;
	if (services_create(host, &sc, &d->svc)) {
		dlog_printf(&d->log, DLOG_ERR, "MAIN", "cannot start the services");
		return -1;
	}
#else
	(void)d;
#endif
	return 0;
}

static void realtime(struct daemon *d)
{
	struct sched_param sp = { .sched_priority = sched_get_priority_max(SCHED_RR) };

	/* With every page locked, memory given back to the system and taken
	 * again is faulted in and locked each time: queues of 64-256 KiB
	 * buffers freed and refilled per token visit made the heap shrink and
	 * grow thousands of times a second (1 node, 3 senders of 8 KiB: 62k ->
	 * 14k msg/s). Keep freed memory for reuse; the queues are bounded. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	if (d->opt.no_realtime)
		return;
	if (sched_setscheduler(0, SCHED_RR, &sp))
		dlog_printf(&d->log, DLOG_WARN, "MAIN", "no real-time priority (%s); continuing",
			    strerror(errno));
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		dlog_printf(&d->log, DLOG_WARN, "MAIN", "cannot lock memory (%s); continuing",
			    strerror(errno));
}

/* Every client costs two descriptors, and distributions start services
 * with a soft limit of 1024: take the whole hard limit, and as root (who
 * may) lift a hard limit under DAEMON_MIN_FILES up to it. The IPC servers
 * size their client limits from the result. */
#define DAEMON_MIN_FILES 65536u

static void raise_fd_limit(struct daemon *d)
{
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	want = rl;
	if (want.rlim_max != RLIM_INFINITY && want.rlim_max < DAEMON_MIN_FILES)
		want.rlim_max = DAEMON_MIN_FILES;
	want.rlim_cur = want.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want)) {
		want = rl;
		want.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want))
			want = rl;
	}
	dlog_printf(&d->log, want.rlim_cur < 4096 ? DLOG_WARN : DLOG_NOTICE, "MAIN",
		    "file descriptor limit %llu (was %llu, hard %llu)",
		    (unsigned long long)want.rlim_cur, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want.rlim_max);
}

/* Tell systemd we are up, when started as Type=notify. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !path[0] || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

int daemon_setup(struct daemon *d)
{
	d->signal_fd = d->ctl_fd = -1;
	d->started_us = dloop_now_us();
	if (load_config(d))
		return -1;
	setup_logging(d);
	if (setup_identity(d))
		return -1;
	if (d->opt.check_only)
		return 0;
	snprintf(d->ipc_name, sizeof(d->ipc_name), "%s",
		 d->opt.ipc_name ? d->opt.ipc_name :
				   (getenv("COHORT_IPC") ? getenv("COHORT_IPC") : "cohort"));
	raise_fd_limit(d);
	if (dloop_create(&d->loop) || setup_signals(d) || setup_net(d) || setup_totem(d) ||
	    setup_services(d))
		return -1;
	if (ctl_open(d))
		dlog_printf(&d->log, DLOG_WARN, "MAIN", "control socket unavailable: %s",
			    strerror(errno));
	realtime(d);
	return 0;
}

int daemon_run(struct daemon *d)
{
	int rc;

	totem_start(d->totem, dloop_now_us());
	daemon_drain(d);
	dlog_printf(&d->log, DLOG_NOTICE, "MAIN", "cohortd node %u running (ipc \"%s\")", d->nodeid,
		    d->ipc_name);
	notify_ready();
	rc = dloop_run(d->loop);
	return rc;
}

void daemon_teardown(struct daemon *d)
{
	if (d->net)
		net_flush(d->net);
#ifdef COHORT_HAVE_SERVICES
	if (d->svc)
		services_destroy(d->svc);
#endif
	ctl_close(d);
	totem_destroy(d->totem);
	net_destroy(d->net);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	dloop_destroy(d->loop);
	cfg_free(d->cfg);
	crypto_key_wipe(&d->key);
	free(d->pending.buf);
	dlog_close(&d->log);
}

/* SIGHUP or "cohort-cfgtool -R": the logging section applies at once; the
 * rest is Totem's, the transport's or the services' start-up state and needs
 * a restart, which the reply says instead of half-applying it. */
int daemon_reload(struct daemon *d, char *msg, size_t cap)
{
	struct cfg_cluster *n = NULL;
	const struct cfg_cluster *o = d->cfg;
	bool fixed;

	if (read_config(d, &n)) {
		snprintf(msg, cap,
			 "error: configuration %s has errors (see the log); nothing changed\n",
			 d->opt.config_path);
		cfg_free(n);
		return -1;
	}
	fixed = memcmp(&n->totem, &o->totem, sizeof(o->totem)) || n->node_count != o->node_count ||
		memcmp(n->nodes, o->nodes, o->node_count * sizeof(o->nodes[0])) ||
		memcmp(&n->quorum, &o->quorum, sizeof(o->quorum)) ||
		n->uidgid_count != o->uidgid_count ||
		memcmp(n->uidgid, o->uidgid, o->uidgid_count * sizeof(o->uidgid[0]));
	memcpy(&d->cfg->logging, &n->logging, sizeof(n->logging));
	cfg_free(n);
	setup_logging(d);
	snprintf(msg, cap, "reloaded: logging applied%s\n",
		 fixed ? "; totem, nodelist, quorum and uidgid changes need a restart" : "");
	dlog_printf(&d->log, DLOG_NOTICE, "MAIN", "%.*s", (int)strcspn(msg, "\n"), msg);
	return 0;
}
