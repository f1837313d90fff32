/* IPC server: listening socket, access control, the hello handshake and the
 * lifetime of connections. Closing is always deferred to a loop timer so a
 * service can close or be told about a closed connection only from the top
 * of the loop, never in the middle of its own iteration over clients. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/ipc_server_int.h"

#define IPC_EVENT_SNDBUF (4 << 20)
#define IPC_ACCEPT_BUDGET 64
/* Connections over max_conns kept just long enough to refuse their hello. */
#define IPC_REFUSING_MAX 16
/* What ipc_server_create leaves to everything else when it sizes max_conns
 * from RLIMIT_NOFILE (two descriptors per client). */
#define IPC_FD_RESERVE 256

bool ipc_access_allowed(const struct ipc_allow *allow, size_t n, uid_t self, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == self)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (allow[i].uid != (uid_t)-1 && allow[i].uid == uid)
			return true;
		if (allow[i].gid != (gid_t)-1 && allow[i].gid == gid)
			return true;
	}
	return false;
}

void ipc_conn_set_data(struct ipc_conn *c, void *data)
{
	c->data = data;
}

void *ipc_conn_data(const struct ipc_conn *c)
{
	return c->data;
}

const struct ipc_creds *ipc_conn_creds(const struct ipc_conn *c)
{
	return &c->cred;
}

uint32_t ipc_conn_id(const struct ipc_conn *c)
{
	return c->id;
}

bool ipc_conn_closing(const struct ipc_conn *c)
{
	return c->closing;
}

size_t ipc_conn_backlog(const struct ipc_conn *c)
{
	return c->eq.bytes;
}

void ipc_server_stats(const struct ipc_server *s, struct ipc_server_stats *out)
{
	*out = s->stats;
}

static void conn_free(struct ipc_conn *c)
{
	struct ipc_server *s = c->srv;

	if (c->timer.registered)
		dloop_timer_del(s->loop, &c->timer);
	if (c->flow_timer.registered)
		dloop_timer_del(s->loop, &c->flow_timer);
	ipc_conn_uncork(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->stats.conns--;
	s->refusing -= c->over_limit;
	dloop_del_fd(s->loop, c->fd);
	close(c->fd);
	if (c->evfd >= 0) {
		dloop_del_fd(s->loop, c->evfd);
		close(c->evfd);
	}
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	ipc_outq_free(&c->rq);
	ipc_outq_free(&c->eq);
	free(c->in);
	free(c);
}

static void conn_timer(void *arg, uint64_t now)
{
	struct ipc_conn *c = arg;
	struct ipc_server *s = c->srv;

	(void)now;
	c->timer_armed = false;
	if (c->closing) {
		IPC_LOG(s, c->close_level, "client %u (pid %ld, uid %ld) disconnected: %s", c->id,
			(long)c->cred.pid, (long)c->cred.uid, c->close_reason);
		if (c->ready)
			s->ops->disconnect(s->arg, c);
		conn_free(c);
		return;
	}
	ipc_conn_process(c);
	if (!c->closing && !c->paused)
		ipc_conn_readable(c);
}

void ipc_conn_arm_timer(struct ipc_conn *c)
{
	if (c->timer_armed)
		return;
	c->timer_armed = true;
	dloop_timer_set(c->srv->loop, &c->timer, 0, conn_timer, c);
}

void ipc_conn_close(struct ipc_conn *c, int level, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	ipc_flow_stop(c);
	c->close_level = level;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	/* Stop the loop reporting the fds (a hung-up socket would keep
	 * waking it); they are closed when the timer frees the conn. */
	dloop_del_fd(c->srv->loop, c->fd);
	if (c->evfd >= 0)
		dloop_del_fd(c->srv->loop, c->evfd);
	ipc_conn_arm_timer(c);
}

void ipc_conn_kick(struct ipc_conn *c)
{
	if (c->closing)
		return;
	c->paused = false;
	ipc_conn_arm_timer(c);
}

int ipc_respond(struct ipc_conn *c, const struct ipc_hdr *h, int32_t result,
		const struct iovec *body, unsigned n)
{
	uint8_t head[IPC_HDR_LEN];
	struct iovec iov[8];
	size_t blen = 0;

	if (n > 7)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		blen += body[i].iov_len;
		iov[i + 1] = body[i];
	}
	ipc_resp_head_encode(head, h->type, h->req_id, result, blen);
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = IPC_HDR_LEN };
	/* Events gathered before this answer go first: a client that
	 * dispatches once the call returns (trackstart with
	 * CS_TRACK_CURRENT) must find them. */
	if (c->ev_corked)
		ipc_conn_flush_corked(c);
	return ipc_queue_send(c, c->fd, &c->rq, iov, n + 1);
}

int ipc_send_event(struct ipc_conn *c, const struct iovec *iov, unsigned n)
{
	if (!c->ready)
		return -EPIPE;
	if (c->srv->cork_depth)
		return ipc_queue_event(c, iov, n);
	return ipc_queue_send(c, c->evfd, &c->eq, iov, n);
}

void ipc_server_cork(struct ipc_server *s)
{
	s->cork_depth++;
}

void ipc_server_uncork(struct ipc_server *s)
{
	if (!s->cork_depth || --s->cork_depth)
		return;
	while (s->corked)
		ipc_conn_flush_corked(s->corked);
}

static void conn_fd_cb(void *arg, int fd, uint32_t events)
{
	struct ipc_conn *c = arg;

	(void)fd;
	if (c->closing)
		return;
	if (events & EPOLLOUT)
		ipc_conn_writable(c, c->fd, &c->rq);
	if ((events & EPOLLIN) && !c->closing)
		ipc_conn_readable(c);
	if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN) && !c->closing)
		ipc_conn_close(c, 3, "client hung up");
}

static void conn_ev_cb(void *arg, int fd, uint32_t events)
{
	struct ipc_conn *c = arg;

	(void)fd;
	if (c->closing)
		return;
	if (events & (EPOLLHUP | EPOLLERR)) {
		ipc_conn_close(c, 3, "client closed its event channel");
		return;
	}
	if (events & EPOLLOUT)
		ipc_conn_writable(c, c->evfd, &c->eq);
}

/* The passed fd must be a connected unix stream socket; ours from now on. */
static int adopt_event_fd(struct ipc_conn *c)
{
	int fd = c->passed_fd, type = 0, dom = 0, sz = IPC_EVENT_SNDBUF;
	socklen_t l1 = sizeof(type), l2 = sizeof(dom);
	struct stat st;

	if (fd < 0)
		return -EPROTO;
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l2) || type != SOCK_STREAM ||
	    dom != AF_UNIX)
		return -EPROTO;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	/* A deep kernel buffer absorbs bursts before our own backlog counts. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (dloop_add_fd(c->srv->loop, fd, 0, conn_ev_cb, c))
		return -EMFILE;
	c->evfd = fd;
	c->passed_fd = -1;
	return 0;
}

static void hello_refuse(struct ipc_conn *c, const struct ipc_hdr *h, int err)
{
	struct ipc_hello_reply r = { 0 };
	uint8_t buf[IPC_HDR_LEN + 16];
	size_t n = ipc_hello_reply_encode(buf, sizeof(buf), h->req_id, err, &r);
	struct iovec iov = { .iov_base = buf, .iov_len = n };

	c->drain_close = true;
	if (ipc_queue_send(c, c->fd, &c->rq, &iov, 1) == 0 && !c->rq.bytes)
		ipc_conn_close(c, 3, "refused connection answered");
}

void ipc_conn_hello(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *body, size_t len)
{
	struct ipc_server *s = c->srv;
	struct ipc_hello hello;
	struct ipc_hello_reply r = { 0 };
	uint8_t buf[IPC_HDR_LEN + 16];
	struct iovec iov = { .iov_base = buf };
	int err;

	if (ipc_hello_decode(body, len, &hello)) {
		ipc_conn_close(c, 1, "malformed hello");
		return;
	}
	if (c->over_limit || c->fd_lost) {
		s->stats.refused_full++;
		IPC_LOG(s, 1, "refused client pid %ld: %s", (long)c->cred.pid,
			c->over_limit ? "too many clients" : "out of file descriptors");
		hello_refuse(c, h, -EMFILE);
		return;
	}
	if (!c->allowed) {
		s->stats.refused_access++;
		IPC_LOG(s, 1, "refused client pid %ld uid %ld gid %ld: not allowed (uidgid)",
			(long)c->cred.pid, (long)c->cred.uid, (long)c->cred.gid);
		hello_refuse(c, h, -EACCES);
		return;
	}
	if (hello.version != IPC_PROTO_VERSION || hello.service != s->cfg.service_id) {
		hello_refuse(c, h, -EPROTONOSUPPORT);
		return;
	}
	err = adopt_event_fd(c);
	if (err) {
		hello_refuse(c, h, err);
		return;
	}
	/* Ready first: the service may queue events from connect. */
	c->ready = true;
	err = s->ops->connect(s->arg, c, &hello, &r);
	if (err) {
		c->ready = false;
		ipc_outq_free(&c->eq);
		hello_refuse(c, h, err);
		return;
	}
	r.conn_id = c->id;
	r.max_frame = IPC_MAX_FRAME;
	iov.iov_len = ipc_hello_reply_encode(buf, sizeof(buf), h->req_id, 0, &r);
	ipc_queue_send(c, c->fd, &c->rq, &iov, 1);
}

static void accept_one(struct ipc_server *s, int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	struct ipc_conn *c;

	bool over = s->stats.conns - s->refusing >= s->cfg.max_conns;

	if (over && s->refusing >= IPC_REFUSING_MAX) {
		s->stats.refused_full++;
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l)) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->over_limit = over;
	s->refusing += over;
	c->evfd = c->passed_fd = -1;
	c->cred = (struct ipc_creds){ .pid = cr.pid, .uid = cr.uid, .gid = cr.gid };
	c->allowed = ipc_access_allowed(s->allow, s->cfg.allow_count, s->self_uid, cr.uid, cr.gid);
	c->id = ++s->next_id ? s->next_id : ++s->next_id;
	c->timer.deadline_us = UINT64_MAX;
	c->flow_timer.deadline_us = UINT64_MAX;
	if (dloop_add_fd(s->loop, fd, EPOLLIN, conn_fd_cb, c)) {
		s->refusing -= over;
		free(c);
		close(fd);
		return;
	}
	c->ep_fd_events = EPOLLIN;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->stats.conns++;
	s->stats.accepted++;
}

/* Out of descriptors, the pending connection would keep the listening
 * socket readable and the loop spinning: give up the spare descriptor to
 * accept it and close it at once (the client sees the connection closed),
 * then take the spare back. Logged at powers of two. */
static bool shed_one(struct ipc_server *s, int lfd)
{
	int cfd;

	if (s->spare_fd < 0)
		return false;
	close(s->spare_fd);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd >= 0)
		close(cfd);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		return false;
	s->stats.refused_fds++;
	if ((s->stats.refused_fds & (s->stats.refused_fds - 1)) == 0)
		IPC_LOG(s, 1, "out of file descriptors: %llu client(s) refused so far",
			(unsigned long long)s->stats.refused_fds);
	return true;
}

/* Two descriptors per client, from what the process may open. */
static size_t conns_for_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return IPC_DEFAULT_MAX_CONNS;
	if (rl.rlim_cur < 2 * IPC_FD_RESERVE)
		return rl.rlim_cur / 4;
	return (rl.rlim_cur - IPC_FD_RESERVE) / 2;
}

static void listen_cb(void *arg, int fd, uint32_t events)
{
	struct ipc_server *s = arg;

	(void)events;
	for (int i = 0; i < IPC_ACCEPT_BUDGET; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && shed_one(s, fd))
				continue;
			if (errno != EAGAIN)
				IPC_LOG(s, 1, "accept on %s: %s", s->name, strerror(errno));
			return;
		}
		accept_one(s, cfd);
	}
}

static int listen_socket(struct ipc_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(s->name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Abstract namespace: sun_path[0] is NUL, the length counts the name. */
	memcpy(sa.sun_path + 1, s->name, n);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) ||
	    listen(fd, 128)) {
		int e = -errno;

		close(fd);
		return e;
	}
	s->lfd = fd;
	return 0;
}

int ipc_server_create(struct dloop *loop, const struct ipc_server_config *cfg,
		      const struct ipc_server_ops *ops, void *arg, struct ipc_server **out)
{
	struct ipc_server *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->cfg = *cfg;
	s->ops = ops;
	s->arg = arg;
	s->lfd = -1;
	s->self_uid = geteuid();
	if (!s->cfg.max_conns)
		s->cfg.max_conns = conns_for_fd_limit();
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (cfg->allow_count) {
		s->allow = calloc(cfg->allow_count, sizeof(*s->allow));
		if (!s->allow) {
			free(s);
			return -ENOMEM;
		}
		memcpy(s->allow, cfg->allow, cfg->allow_count * sizeof(*s->allow));
	}
	err = ipc_socket_name(cfg->ipc_name, cfg->service, s->name, sizeof(s->name));
	if (!err)
		err = listen_socket(s);
	if (!err)
		err = dloop_add_fd(loop, s->lfd, EPOLLIN, listen_cb, s);
	if (err) {
		IPC_LOG(s, 0, "cannot listen on @%s: %s", s->name, strerror(-err));
		ipc_server_destroy(s);
		return err;
	}
	IPC_LOG(s, 2, "listening on @%s", s->name);
	*out = s;
	return 0;
}

void ipc_server_destroy(struct ipc_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	if (s->lfd >= 0) {
		dloop_del_fd(s->loop, s->lfd);
		close(s->lfd);
	}
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s->allow);
	free(s);
}
