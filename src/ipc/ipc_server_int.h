/* Private structures of the IPC server (ipc_server.c, ipc_server_io.c). */
#ifndef COHORT_IPC_SERVER_INT_H
#define COHORT_IPC_SERVER_INT_H

#include "ipc/ipc_server.h"

/* Unsent bytes of one socket, as a list of copied chunks. Small frames are
 * packed into the tail chunk so a slow reader costs few allocations. */
struct ipc_chunk {
	struct ipc_chunk *next;
	size_t len; /* bytes filled */
	size_t off; /* bytes already written */
	size_t cap;
	uint8_t data[];
};

struct ipc_outq {
	struct ipc_chunk *head, *tail;
	size_t bytes;
};

struct ipc_conn {
	struct ipc_server *srv;
	struct ipc_conn *prev, *next;
	int fd;	  /* requests in, responses out */
	int evfd; /* events out; -1 until the hello brought it */
	uint32_t id;
	struct ipc_creds cred;
	bool allowed;	  /* passed access control at accept */
	bool ready;	  /* hello accepted */
	bool closing;	  /* close scheduled */
	bool paused;	  /* handler asked to stop reading (RETRY/HOLD) */
	bool drain_close; /* close once the responses are written (refused hello) */
	bool over_limit;  /* accepted only to refuse its hello: too many clients */
	bool fd_lost;	  /* the passed fd could not be installed (out of fds) */
	bool timer_armed;
	int passed_fd; /* fd received with the hello, until the hello completes */
	uint8_t *in;
	size_t in_len, in_cap;
	struct ipc_outq rq, eq;
	uint32_t ep_fd_events, ep_ev_events; /* what is registered with the loop */
	struct dloop_timer timer;
	/* flow control: over the high mark (until the low mark), not reading */
	bool congested, stalled, flow_counted;
	uint64_t ev_sent_bytes, ev_seen_bytes; /* progress seen by the stall check */
	uint64_t stall_check_us;	       /* when the stall check runs next */
	struct dloop_timer flow_timer;
	bool ev_corked; /* events gathered in eq until the server is uncorked */
	struct ipc_conn *corked_next;
	int close_level;
	char close_reason[112];
	void *data;
};

struct ipc_server {
	struct dloop *loop;
	struct ipc_server_config cfg;
	struct ipc_allow *allow;
	char name[108];
	const struct ipc_server_ops *ops;
	void *arg;
	int lfd;
	uid_t self_uid;
	uint32_t next_id;
	struct ipc_conn *conns;
	size_t refusing; /* over_limit connections */
	int spare_fd;	 /* given up to accept-and-close when out of fds */
	unsigned cork_depth;
	struct ipc_conn *corked; /* connections with gathered events */
	struct ipc_server_stats stats;
};

#define IPC_LOG(s, lvl, ...)                                                          \
	do {                                                                          \
		if ((s)->cfg.log)                                                     \
			(s)->cfg.log((s)->cfg.log_ctx, lvl, IPC_SUBSYS, __VA_ARGS__); \
	} while (0)

/* ipc_server_io.c */
void ipc_conn_update_events(struct ipc_conn *c);
void ipc_conn_readable(struct ipc_conn *c);
void ipc_conn_writable(struct ipc_conn *c, int fd, struct ipc_outq *q);
int ipc_queue_send(struct ipc_conn *c, int fd, struct ipc_outq *q, const struct iovec *iov,
		   unsigned n);
void ipc_outq_free(struct ipc_outq *q);
int ipc_queue_event(struct ipc_conn *c, const struct iovec *iov, unsigned n);
void ipc_conn_uncork(struct ipc_conn *c);
/* Uncork and write what was gathered (unless closing). */
void ipc_conn_flush_corked(struct ipc_conn *c);
void ipc_conn_process(struct ipc_conn *c);
void ipc_flow_queued(struct ipc_conn *c);
void ipc_flow_written(struct ipc_conn *c, size_t bytes);
void ipc_flow_stop(struct ipc_conn *c);

/* ipc_server.c */
void ipc_conn_hello(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *body, size_t len);
void ipc_conn_arm_timer(struct ipc_conn *c);

#endif
