/* IPC client: connection set-up and synchronous requests (see
 * ipc_client.h). */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/ipc_client_int.h"

#define IPCC_SNDBUF (2 << 20)
#define IPCC_IOV_STACK 16

int ipcc_poll_fd(const struct ipcc *c)
{
	return c->epfd;
}

bool ipcc_congested(const struct ipcc *c)
{
	int queued = 0, cap = 0;
	socklen_t l = sizeof(cap);

	if (ioctl(c->fd, SIOCOUTQ, &queued) || getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &cap, &l))
		return false;
	return queued > cap / 2;
}

bool ipcc_dead(const struct ipcc *c)
{
	return atomic_load(&c->dead);
}

void ipcc_shutdown(struct ipcc *c)
{
	atomic_store(&c->shut, true);
	shutdown(c->fd, SHUT_RDWR);
	shutdown(c->evfd, SHUT_RDWR);
}

void ipcc_free(struct ipcc *c)
{
	if (!c)
		return;
	int fds[4] = { c->fd, c->evfd, c->efd, c->epfd };

	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ipcc_ev_free_all(c);
	pthread_mutex_destroy(&c->req_lock);
	pthread_mutex_destroy(&c->ev_lock);
	free(c);
}

/* Wait until fd is ready for events; meanwhile pull any events the daemon
 * pushes into the queue, so our own backlog there stays small. */
static int wait_io(struct ipcc *c, short events)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = events },
				       { .fd = c->evfd, .events = POLLIN } };
		bool drain;
		int n;

		if (atomic_load(&c->shut))
			return -ESHUTDOWN;
		pthread_mutex_lock(&c->ev_lock);
		drain = !c->ev_eof && !c->ev_bad && c->queued < IPCC_EVQ_MAX;
		pthread_mutex_unlock(&c->ev_lock);
		n = poll(p, drain ? 2 : 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (drain && p[1].revents) {
			pthread_mutex_lock(&c->ev_lock);
			ipcc_ev_read(c);
			ipcc_ev_signal(c);
			pthread_mutex_unlock(&c->ev_lock);
		}
		if (p[0].revents)
			return 0;
	}
}

static int send_all(struct ipcc *c, struct iovec *iov, unsigned n)
{
	while (n) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t r = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0) {
			int err;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -ECONNRESET;
			err = wait_io(c, POLLOUT);
			if (err)
				return err;
			continue;
		}
		while (n && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int recv_all(struct ipcc *c, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(c->fd, buf + got, len - got, MSG_DONTWAIT);
		int err;

		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -ECONNRESET;
		err = wait_io(c, POLLIN);
		if (err)
			return err;
	}
	return 0;
}

static int recv_resp(struct ipcc *c, uint16_t type, uint32_t req_id, struct ipcc_resp *resp)
{
	uint8_t hb[IPC_HDR_LEN];
	struct ipc_hdr h;
	int err = recv_all(c, hb, sizeof(hb));

	if (err)
		return err;
	if (ipc_hdr_decode(hb, IPC_MAX_FRAME, false, &h) != IPC_HDR_OK || h.req_id != req_id ||
	    h.type != type)
		return -EPROTO;
	resp->result = h.result;
	resp->len = h.len - IPC_HDR_LEN;
	resp->body = NULL;
	if (!resp->len)
		return 0;
	resp->body = malloc(resp->len);
	if (!resp->body)
		return -ENOMEM;
	err = recv_all(c, resp->body, resp->len);
	if (err) {
		free(resp->body);
		resp->body = NULL;
	}
	return err;
}

/* The iovec array [head, payload...]; *iov is stack unless n is large. */
static struct iovec *frame_iov(struct iovec *stack, uint8_t *head, size_t head_len,
			       const struct iovec *payload, unsigned n)
{
	struct iovec *iov = stack;

	if (n + 1 > IPCC_IOV_STACK && !(iov = malloc((n + 1) * sizeof(*iov))))
		return NULL;
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = head_len };
	if (n)
		memcpy(iov + 1, payload, n * sizeof(*iov));
	return iov;
}

static int send_some(struct ipcc *c, struct iovec *iov, unsigned n)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	size_t total = 0;
	ssize_t r;

	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	do
		r = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? -EAGAIN : -ECONNRESET;
	if ((size_t)r == total)
		return 0;
	/* Part of the frame is in: the rest must follow, whatever it takes. */
	while (n && (size_t)r >= iov->iov_len) {
		r -= (ssize_t)iov->iov_len;
		iov++;
		n--;
	}
	iov->iov_base = (uint8_t *)iov->iov_base + r;
	iov->iov_len -= (size_t)r;
	return send_all(c, iov, n);
}

/* A frame once begun must be finished, blocking if need be; one that does
 * not fit the socket's free room is better refused (-EAGAIN) so the caller
 * can dispatch and retry: that is how a daemon holding our multicasts for
 * slow receivers turns into CS_ERR_TRY_AGAIN for large messages too. An
 * empty socket takes any frame (one larger than the buffer never fits). */
/* Asking the kernel costs two system calls per message; the room it last
 * reported, less what we wrote since, is a lower bound as long as only the
 * daemon's reads change it. The kernel counts buffers, not bytes (an 8 KiB
 * frame takes about 12), and a frame that does not fit whole must be
 * finished blocking until the socket is 3/4 empty: so each frame is charged
 * half again its size and a fixed overhead. req_lock held. */
#define IPCC_FRAME_OVERHEAD 2048u

static bool frame_fits(struct ipcc *c, const struct iovec *iov, unsigned n)
{
	int queued = 0, cap = 0;
	socklen_t l = sizeof(cap);
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	total += total / 2 + IPCC_FRAME_OVERHEAD;
	if (c->room_est >= total) {
		c->room_est -= total;
		return true;
	}
	c->room_est = 0;
	if (ioctl(c->fd, SIOCOUTQ, &queued) || queued < 0 ||
	    getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &cap, &l) || cap <= 0)
		return true;
	if (queued == 0 || (size_t)queued + total <= (size_t)cap) {
		if ((size_t)cap > (size_t)queued + total)
			c->room_est = (size_t)cap - (size_t)queued - total;
		return true;
	}
	return false;
}

/* One request frame: without resp queued and not answered (-EAGAIN when it
 * does not fit now), with resp sent whole and its answer awaited. An error
 * other than those two (and out of memory) marks the connection dead. */
static int request(struct ipcc *c, uint8_t *head, size_t head_len, const struct iovec *payload,
		   unsigned n, struct ipcc_resp *resp)
{
	struct iovec stack[IPCC_IOV_STACK], *iov;
	uint32_t id = 0;
	int err;

	if (atomic_load(&c->shut))
		return -ESHUTDOWN;
	if (atomic_load(&c->dead))
		return -ECONNRESET;
	iov = frame_iov(stack, head, head_len, payload, n);
	if (!iov)
		return -ENOMEM;
	pthread_mutex_lock(&c->req_lock);
	if (resp) {
		c->room_est = 0; /* a blocking write may take any room there was */
		id = ++c->next_req ? c->next_req : ++c->next_req;
	}
	ipc_put_u32(head + 8, id);
	if (!resp)
		err = frame_fits(c, iov, n + 1) ? send_some(c, iov, n + 1) : -EAGAIN;
	else if (!(err = send_all(c, iov, n + 1)))
		err = recv_resp(c, ipc_get_u16(head + 4), id, resp);
	if (err && atomic_load(&c->shut))
		err = -ESHUTDOWN; /* finalized under us, not a daemon failure */
	else if (err && err != -EAGAIN && err != -ENOMEM)
		atomic_store(&c->dead, true);
	pthread_mutex_unlock(&c->req_lock);
	if (iov != stack)
		free(iov);
	return err;
}

int ipcc_send(struct ipcc *c, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n)
{
	return request(c, head, head_len, payload, n, NULL);
}

int ipcc_call(struct ipcc *c, uint8_t *head, size_t head_len, const struct iovec *payload,
	      unsigned n, struct ipcc_resp *resp)
{
	return request(c, head, head_len, payload, n, resp);
}

/* The hello carries our end of the event socket pair. */
static int send_hello(int fd, int passfd, const struct ipc_hello *hello)
{
	uint8_t buf[IPC_HDR_LEN + 16];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = buf,
			     .iov_len = ipc_hello_encode(buf, sizeof(buf), 1, hello) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	ssize_t r;

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	do
		r = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == iov.iov_len ? 0 : -EPROTO;
}

static int dial(const char *ipc_name, const char *service)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[sizeof(sa.sun_path)];
	int fd, err = ipc_socket_name(ipc_name, service, name, sizeof(name));
	size_t n = strlen(name);

	if (err)
		return err;
	memcpy(sa.sun_path + 1, name, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int setup_poll(struct ipcc *c)
{
	struct epoll_event e1 = { .events = EPOLLIN }, e2 = { .events = EPOLLIN };

	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->efd < 0 || c->epfd < 0)
		return -errno;
	e1.data.fd = c->evfd;
	e2.data.fd = c->efd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &e1) ||
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->efd, &e2))
		return -errno;
	return 0;
}

static int handshake(struct ipcc *c, int passfd, const struct ipc_hello *hello,
		     struct ipc_hello_reply *reply)
{
	struct ipcc_resp r;
	int err = send_hello(c->fd, passfd, hello);

	if (err)
		return err;
	c->next_req = 1;
	err = recv_resp(c, IPC_T_HELLO, 1, &r);
	if (err)
		return err;
	if (r.result < 0)
		err = r.result;
	else if (ipc_hello_reply_decode(r.body, r.len, reply))
		err = -EPROTO;
	free(r.body);
	return err;
}

int ipcc_connect(const char *ipc_name, const char *service, const struct ipc_hello *hello,
		 struct ipc_hello_reply *reply, struct ipcc **out)
{
	struct ipcc *c = calloc(1, sizeof(*c));
	int sv[2], err, sz = IPCC_SNDBUF;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->fd = c->evfd = c->efd = c->epfd = -1;
	pthread_mutex_init(&c->req_lock, NULL);
	pthread_mutex_init(&c->ev_lock, NULL);
	c->fd = dial(ipc_name, service);
	if (c->fd < 0) {
		err = c->fd;
		c->fd = -1;
		goto fail;
	}
	/* Capped at wmem_max for most callers. Not SO_SNDBUFFORCE: a socket
	 * of megabytes gave no throughput and cost 50 us of latency per 8 KiB
	 * message (the kernel allocates larger buffers per write). */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		goto fail;
	}
	c->evfd = sv[0];
	/* Poll set first: events drained during the handshake must already
	 * be signalled on it. */
	err = setup_poll(c);
	if (!err)
		err = handshake(c, sv[1], hello, reply);
	close(sv[1]);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	ipcc_free(c);
	return err;
}
