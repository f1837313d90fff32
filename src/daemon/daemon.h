/* cohortd: one struct holding every subsystem of the daemon. */
#ifndef COHORT_DAEMON_H
#define COHORT_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "net/transport.h"
#include "services/svc.h"
#include "totem/totem.h"

struct services;

#define CTL_MAX_CLIENTS 16

struct daemon_options {
	const char *config_path;
	const char *ipc_name;
	const char *state_dir; /* NULL: from the configuration */
	uint32_t nodeid;       /* 0: find it from the interfaces */
	bool foreground;
	bool check_only;
	bool no_realtime;
};

struct daemon {
	struct daemon_options opt;
	struct dlog log;
	struct dloop *loop;
	struct cfg_cluster *cfg;
	struct crypto_key key;
	struct net *net;
	struct totem_node *totem;
	struct services *svc;
	struct svc_host host;
	struct svc_uidgid allow[CFG_MAX_UIDGID]; /* uidgid sections, resolved */
	/* nodes whose links are all down, by nodelist index: since when, and
	 * whether Totem has been told (only after a further token / 2) */
	uint64_t down_since_us[CFG_MAX_NODES];
	bool down_told[CFG_MAX_NODES];
	size_t down_waiting; /* down, not yet told */
	size_t allow_count;
	uint32_t nodeid;
	char ipc_name[64];
	char state_path[PATH_MAX];
	struct dloop_timer totem_timer;
	struct dloop_timer net_timer;
	int signal_fd;
	int ctl_fd;
	int ctl_clients[CTL_MAX_CLIENTS];
	unsigned ctl_next;
	bool stopping;
	bool svc_blocked; /* a service got -EAGAIN and waits for room */
	struct daemon_pending {
		uint8_t *buf;	       /* [u8 guarantee][u32 len][bytes]... */
		size_t head, len, cap; /* queued messages are buf[head..len) */
		bool draining;
	} pending;
	size_t max_msg_bytes;
	struct dlog_limit drop_limit;
	uint64_t drops_reported;
	uint64_t started_us;
	uint64_t first_ring_us;
	uint64_t rings_seen;
};

int daemon_setup(struct daemon *d);
int daemon_run(struct daemon *d);
void daemon_teardown(struct daemon *d);

/* state.c: the highest ring sequence, kept across restarts */
int state_load_ring_seq(const char *path, uint64_t *out);
int state_store_ring_seq(const char *path, uint64_t seq);

/* ctl.c: the local control socket used by the tools */
int ctl_open(struct daemon *d);
void ctl_close(struct daemon *d);
void ctl_socket_name(const char *ipc_name, char *out, size_t cap);

/* daemon.c: runtime callbacks, used by daemon_setup.c and ctl.c */
const char *daemon_state_text(const struct daemon *d);
void daemon_log(struct daemon *d, int level, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void daemon_drain(struct daemon *d);
int daemon_host_mcast(void *ctx, uint8_t svc, enum totem_guarantee g, const struct iovec *iov,
		      unsigned iovcnt);
void daemon_host_log(void *ctx, int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void daemon_net_deliver(void *arg, uint32_t from, const uint8_t *data, size_t len);
void daemon_net_link_change(void *arg, uint32_t nodeid, unsigned link, bool up);
void daemon_net_readable(void *arg, int fd, uint32_t events);
void daemon_signal_readable(void *arg, int fd, uint32_t events);
void daemon_leave_and_stop(struct daemon *d);
/* Re-read the configuration file; msg says what was applied. */
int daemon_reload(struct daemon *d, char *msg, size_t cap);
void daemon_rearm_net_timer(struct daemon *d);

#endif
