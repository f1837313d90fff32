/* Daemon side of the local IPC: one listening unix socket per service in the
 * abstract namespace ("\0cohort-<ipc_name>-<service>"), driven by the daemon
 * loop. A client connection has two sockets: the one it connected (requests
 * in, responses out) and an event socket whose other end the client keeps
 * and polls (cpg_fd_get); the client hands it over with SCM_RIGHTS in its
 * hello. Responses and events never share a socket, so the client's fd is
 * readable exactly when events are waiting. See docs/ipc.md. */
#ifndef COHORT_IPC_SERVER_H
#define COHORT_IPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "daemon/loop.h"
#include "ipc/ipc_wire.h"

struct ipc_server;
struct ipc_conn;

struct ipc_creds {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* One allow-list entry: uid, gid, or both ((uid_t)-1 / (gid_t)-1 = unset). */
struct ipc_allow {
	uid_t uid;
	gid_t gid;
};

/* What a request handler did with the frame. */
enum ipc_req_rc {
	IPC_DONE = 0, /* consumed; the response was sent or will be */
	IPC_RETRY,    /* not consumed: keep it and stop reading until ipc_conn_kick */
	IPC_HOLD,     /* consumed, but stop reading until ipc_conn_kick */
};

typedef void (*ipc_log_fn)(void *ctx, int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct ipc_server_ops {
	/* A client passed access control and sent a valid hello. Fill
	 * reply->nodeid and reply->max_atomic; return 0, or a negative errno
	 * that is sent back as the hello result before the connection is
	 * closed (disconnect is then not called). May send events. */
	int (*connect)(void *arg, struct ipc_conn *c, const struct ipc_hello *h,
		       struct ipc_hello_reply *reply);
	/* One request frame of an accepted connection. body is valid during
	 * the call (and until the retry when IPC_RETRY is returned). */
	enum ipc_req_rc (*request)(void *arg, struct ipc_conn *c, const struct ipc_hdr *h,
				   const uint8_t *body, size_t len);
	/* An accepted connection is gone. Called once, from the loop, never
	 * from inside another ipc_* call. */
	void (*disconnect)(void *arg, struct ipc_conn *c);
	/* Optional (flow control, see flow_high_bytes): c's unsent events went
	 * over flow_high_bytes (on), or back to flow_low_bytes, or c stopped
	 * reading for flow_stall_ms, or c is closing (off). Every on is
	 * followed by exactly one off. May be called from inside
	 * ipc_send_event, so it must only record the change. */
	void (*congestion)(void *arg, struct ipc_conn *c, bool on);
};

struct ipc_server_config {
	const char *ipc_name; /* "cohort" by default (--ipc / COHORT_IPC) */
	const char *service;  /* "cpg", "quorum", ... */
	uint32_t service_id;  /* expected in the hello */
	const struct ipc_allow *allow;
	size_t allow_count;
	size_t max_backlog; /* unsent bytes per connection before disconnecting it */
	size_t max_conns;   /* 0: from RLIMIT_NOFILE (two fds per client) */
	/* Flow control: 0 flow_high_bytes turns it off. A client that accepts
	 * no event byte for flow_stall_ms while over the high mark is taken for
	 * one that stopped dispatching: it stops counting as congested and is
	 * left to reach max_backlog. */
	size_t flow_high_bytes, flow_low_bytes;
	unsigned flow_stall_ms;
	ipc_log_fn log;
	void *log_ctx;
};

#define IPC_DEFAULT_MAX_CONNS 4096u
#define IPC_SUBSYS "IPC"

/* root, our own uid, or an allow-list match (uid, or primary gid). */
bool ipc_access_allowed(const struct ipc_allow *allow, size_t n, uid_t self, uid_t uid, gid_t gid);

int ipc_server_create(struct dloop *loop, const struct ipc_server_config *cfg,
		      const struct ipc_server_ops *ops, void *arg, struct ipc_server **out);
/* Closes every connection without calling disconnect (the service is going
 * away with them). */
void ipc_server_destroy(struct ipc_server *s);

void ipc_conn_set_data(struct ipc_conn *c, void *data);
void *ipc_conn_data(const struct ipc_conn *c);
const struct ipc_creds *ipc_conn_creds(const struct ipc_conn *c);
uint32_t ipc_conn_id(const struct ipc_conn *c);
bool ipc_conn_closing(const struct ipc_conn *c);
size_t ipc_conn_backlog(const struct ipc_conn *c); /* unsent event bytes */

/* Response to request h: header + body (may be empty). Returns 0, or
 * -EPIPE when the connection is closing. */
int ipc_respond(struct ipc_conn *c, const struct ipc_hdr *h, int32_t result,
		const struct iovec *body, unsigned n);
/* Queue a whole event frame (header included) on the event channel. A
 * connection whose backlog passes max_backlog is closed (deferred) with a
 * warning and -ENOBUFS is returned. */
int ipc_send_event(struct ipc_conn *c, const struct iovec *iov, unsigned n);
/* Between cork and uncork (nested: counted), events are gathered per client
 * and each client's are written at uncork in one call: a token visit that
 * delivers many messages then wakes a reader once, not once per message. */
void ipc_server_cork(struct ipc_server *s);
void ipc_server_uncork(struct ipc_server *s);
/* Resume reading after IPC_RETRY / IPC_HOLD (from the loop, not at once). */
void ipc_conn_kick(struct ipc_conn *c);
/* Close from the loop soon; reason is logged (level 1 warning, 3 debug). */
void ipc_conn_close(struct ipc_conn *c, int level, const char *reason);

struct ipc_server_stats {
	uint64_t accepted;
	uint64_t refused_access;
	uint64_t refused_full; /* over max_conns, or the passed fd was lost */
	uint64_t refused_fds;  /* accepted and closed at once: out of descriptors */
	uint64_t bad_frames;
	uint64_t backlog_drops;
	uint64_t congested; /* times a connection went over flow_high_bytes */
	uint64_t stalled;   /* ... and stopped reading while over it */
	size_t conns;
};
void ipc_server_stats(const struct ipc_server *s, struct ipc_server_stats *out);

#endif
