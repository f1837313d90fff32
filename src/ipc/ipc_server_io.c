/* IPC server connection I/O: reading and splitting request frames, and the
 * bounded outgoing queues of both sockets of a connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc_server_int.h"

#define IPC_IN_MIN (64u << 10)
/* First read buffer: most clients only ever send small requests, and with
 * mlockall every byte allocated is resident (1,000s of clients). */
#define IPC_IN_SMALL 2048u
#define IPC_CHUNK_MIN (64u << 10)
#define IPC_READ_BUDGET 8 /* reads per wake-up, so one client cannot starve the rest */
#define IPC_MAX_PASSED_FDS 4

void ipc_conn_update_events(struct ipc_conn *c)
{
	struct dloop *l = c->srv->loop;
	uint32_t fe = 0, ee = 0;

	if (c->closing)
		return;
	if (!c->paused && !c->drain_close)
		fe |= EPOLLIN;
	if (c->rq.bytes)
		fe |= EPOLLOUT;
	if (c->eq.bytes)
		ee |= EPOLLOUT;
	if (fe != c->ep_fd_events && dloop_mod_fd(l, c->fd, fe) == 0)
		c->ep_fd_events = fe;
	if (c->evfd >= 0 && ee != c->ep_ev_events && dloop_mod_fd(l, c->evfd, ee) == 0)
		c->ep_ev_events = ee;
}

void ipc_outq_free(struct ipc_outq *q)
{
	while (q->head) {
		struct ipc_chunk *k = q->head;

		q->head = k->next;
		free(k);
	}
	q->tail = NULL;
	q->bytes = 0;
}

/* Copy iov, minus its first skip bytes, to the end of q. */
static int outq_append(struct ipc_outq *q, const struct iovec *iov, unsigned n, size_t skip,
		       size_t bytes)
{
	struct ipc_chunk *k = q->tail;

	if (!k || k->cap - k->len < bytes) {
		size_t cap = bytes > IPC_CHUNK_MIN ? bytes : IPC_CHUNK_MIN;

		k = malloc(sizeof(*k) + cap);
		if (!k)
			return -ENOMEM;
		k->next = NULL;
		k->len = k->off = 0;
		k->cap = cap;
		if (q->tail)
			q->tail->next = k;
		else
			q->head = k;
		q->tail = k;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		memcpy(k->data + k->len, (const uint8_t *)iov[i].iov_base + skip, l - skip);
		k->len += l - skip;
		skip = 0;
	}
	q->bytes += bytes;
	return 0;
}

int ipc_queue_send(struct ipc_conn *c, int fd, struct ipc_outq *q, const struct iovec *iov,
		   unsigned n)
{
	size_t total = 0, sent = 0;

	if (c->closing || fd < 0)
		return -EPIPE;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (!q->bytes) {
		struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
		ssize_t r;

		do
			r = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			ipc_conn_close(c, 3, "write failed: client went away");
			return -EPIPE;
		}
		sent = r > 0 ? (size_t)r : 0;
	}
	if (sent == total)
		return 0;
	/* Refuse before copying: the limit bounds what we allocate too. */
	if (q->bytes + (total - sent) > c->srv->cfg.max_backlog) {
		char why[112];

		c->srv->stats.backlog_drops++;
		snprintf(why, sizeof(why), "backlog over %zu bytes: client is not reading",
			 c->srv->cfg.max_backlog);
		ipc_conn_close(c, 1, why);
		return -ENOBUFS;
	}
	if (outq_append(q, iov, n, sent, total - sent)) {
		ipc_conn_close(c, 1, "out of memory queueing output");
		return -ENOBUFS;
	}
	if (q == &c->eq)
		ipc_flow_queued(c);
	ipc_conn_update_events(c);
	return 0;
}

/* Gathered events per client at most; past it they are written at once. */
#define IPC_CORK_MAX (256u << 10)

void ipc_conn_uncork(struct ipc_conn *c)
{
	if (!c->ev_corked)
		return;
	for (struct ipc_conn **p = &c->srv->corked; *p; p = &(*p)->corked_next) {
		if (*p == c) {
			*p = c->corked_next;
			break;
		}
	}
	c->ev_corked = false;
}

void ipc_conn_flush_corked(struct ipc_conn *c)
{
	ipc_conn_uncork(c);
	if (!c->closing && c->eq.bytes)
		ipc_conn_writable(c, c->evfd, &c->eq);
}

int ipc_queue_event(struct ipc_conn *c, const struct iovec *iov, unsigned n)
{
	size_t total = 0;

	if (c->closing || c->evfd < 0)
		return -EPIPE;
	/* a backlog waiting for the socket keeps its own pace (EPOLLOUT) */
	if (!c->ev_corked && c->eq.bytes)
		return ipc_queue_send(c, c->evfd, &c->eq, iov, n);
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (c->eq.bytes + total > IPC_CORK_MAX) {
		ipc_conn_flush_corked(c);
		if (c->closing)
			return -EPIPE;
		return ipc_queue_send(c, c->evfd, &c->eq, iov, n);
	}
	if (outq_append(&c->eq, iov, n, 0, total)) {
		ipc_conn_close(c, 1, "out of memory queueing output");
		return -ENOBUFS;
	}
	if (!c->ev_corked) {
		c->ev_corked = true;
		c->corked_next = c->srv->corked;
		c->srv->corked = c;
	}
	return 0;
}

void ipc_conn_writable(struct ipc_conn *c, int fd, struct ipc_outq *q)
{
	size_t written = 0;

	while (q->head && !c->closing) {
		struct ipc_chunk *k = q->head;
		ssize_t r =
			send(fd, k->data + k->off, k->len - k->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				ipc_conn_close(c, 3, "write failed: client went away");
			break;
		}
		k->off += (size_t)r;
		q->bytes -= (size_t)r;
		written += (size_t)r;
		if (k->off == k->len) {
			q->head = k->next;
			if (!q->head)
				q->tail = NULL;
			free(k);
		}
	}
	if (q == &c->eq)
		ipc_flow_written(c, written);
	if (c->drain_close && !c->rq.bytes) {
		ipc_conn_close(c, 3, "refused connection answered");
		return;
	}
	ipc_conn_update_events(c);
}

/* Before the hello completes, reads go through recvmsg to collect the event
 * socket the client passes; at most one fd is kept, extras are closed and
 * fail the connection. After it, plain recv: the kernel then discards any fd
 * a client sends (MSG_CTRUNC) instead of installing it in our table. */
static ssize_t conn_recv(struct ipc_conn *c, void *buf, size_t n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(IPC_MAX_PASSED_FDS * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)
	};
	ssize_t r;
	bool extra = false;

	if (c->ready)
		return recv(c->fd, buf, n, MSG_DONTWAIT);
	r = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0)
		return r;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t cnt = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0 && !extra) {
				c->passed_fd = fd;
				continue;
			}
			close(fd);
			extra = true;
		}
	}
	/* Out of descriptors: the kernel drops the fd and truncates. The hello
	 * is then refused with -EMFILE rather than the connection dropped. */
	if (!extra && c->passed_fd < 0 && (m.msg_flags & MSG_CTRUNC)) {
		c->fd_lost = true;
		return r;
	}
	if (extra || (m.msg_flags & MSG_CTRUNC)) {
		ipc_conn_close(c, 1, "client passed unexpected file descriptors");
		errno = EPROTO;
		return -1;
	}
	return r;
}

static int in_reserve(struct ipc_conn *c, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (need <= c->in_cap)
		return 0;
	cap = need < IPC_IN_SMALL ? IPC_IN_SMALL : need;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

static void bad_frame(struct ipc_conn *c, const char *what)
{
	char why[112];

	c->srv->stats.bad_frames++;
	snprintf(why, sizeof(why), "malformed frame: %s", what);
	ipc_conn_close(c, 1, why);
}

/* Handle the complete frame at off; returns its length when consumed, 0
 * when it must stay (RETRY). */
static size_t one_frame(struct ipc_conn *c, size_t off, const struct ipc_hdr *h)
{
	const uint8_t *body = c->in + off + IPC_HDR_LEN;
	size_t blen = h->len - IPC_HDR_LEN;
	enum ipc_req_rc rc;

	if (!c->ready) {
		if (h->type != IPC_T_HELLO) {
			bad_frame(c, "request before hello");
			return h->len;
		}
		ipc_conn_hello(c, h, body, blen);
		return h->len;
	}
	if (h->type == IPC_T_HELLO) {
		bad_frame(c, "second hello");
		return h->len;
	}
	rc = c->srv->ops->request(c->srv->arg, c, h, body, blen);
	if (rc == IPC_RETRY) {
		c->paused = true;
		return 0;
	}
	if (rc == IPC_HOLD)
		c->paused = true;
	return h->len;
}

void ipc_conn_process(struct ipc_conn *c)
{
	size_t off = 0;

	while (!c->closing && !c->paused && !c->drain_close && c->in_len - off >= IPC_HDR_LEN) {
		struct ipc_hdr h;
		enum ipc_hdr_err e = ipc_hdr_decode(c->in + off, IPC_MAX_FRAME, true, &h);
		size_t used;

		if (e != IPC_HDR_OK) {
			bad_frame(c, ipc_hdr_err_name(e));
			break;
		}
		if (c->in_len - off < h.len) {
			memmove(c->in, c->in + off, c->in_len - off);
			c->in_len -= off;
			off = 0;
			if (in_reserve(c, h.len))
				ipc_conn_close(c, 1, "out of memory for a request");
			break;
		}
		used = one_frame(c, off, &h);
		if (!used)
			break;
		off += used;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* A large request is done with: give its buffer back. */
	if (!c->in_len && c->in_cap > 4 * IPC_IN_MIN) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	ipc_conn_update_events(c);
}

void ipc_conn_readable(struct ipc_conn *c)
{
	for (int budget = IPC_READ_BUDGET; budget > 0; budget--) {
		ssize_t r;

		if (c->closing || c->paused || c->drain_close)
			return;
		/* Small until a read fills it, then room for a burst. */
		size_t room = c->in_cap - c->in_len, want = 0;

		if (!c->in_cap)
			want = IPC_IN_SMALL;
		else if (!room || (c->in_cap >= IPC_IN_MIN && room < 4096))
			want = c->in_len + IPC_IN_MIN;
		if (want && in_reserve(c, want)) {
			ipc_conn_close(c, 1, "out of memory reading a request");
			return;
		}
		r = conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (r == 0) {
			ipc_conn_close(c, 3, "client closed the connection");
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && !c->closing)
				ipc_conn_close(c, 3, "read failed: client went away");
			return;
		}
		c->in_len += (size_t)r;
		ipc_conn_process(c);
	}
}
