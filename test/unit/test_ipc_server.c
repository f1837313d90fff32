/* The IPC server with a toy service, driven over raw sockets: the hello
 * handshake, each malformed input closing only its own connection, access
 * control, the connection limit and the per-client backlog limit. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ipc_client.h"
#include "ipc/ipc_server.h"

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

#define T_ECHO 0x500   /* respond with the body */
#define T_EVENTS 0x501 /* body: u32 count, u32 size: push that many events */
#define SVC_ID 77

struct toy {
	struct dloop *loop;
	struct ipc_server *srv;
	int stop_fd;
	pthread_t th;
	atomic_int disconnects;
	char name[64];
};

static void toy_log(void *ctx, int level, const char *subsys, const char *fmt, ...)
{
	(void)ctx;
	(void)level;
	(void)subsys;
	(void)fmt;
}

static int toy_connect(void *arg, struct ipc_conn *c, const struct ipc_hello *h,
		       struct ipc_hello_reply *r)
{
	(void)arg;
	(void)c;
	if (h->flags == 0xbad)
		return -EINVAL;
	r->nodeid = 7;
	r->max_atomic = 1000;
	return 0;
}

static enum ipc_req_rc toy_request(void *arg, struct ipc_conn *c, const struct ipc_hdr *h,
				   const uint8_t *body, size_t len)
{
	static uint8_t ev[1 << 20];
	struct iovec iov = { .iov_base = (void *)body, .iov_len = len };

	(void)arg;
	if (h->type == T_ECHO) {
		ipc_respond(c, h, 0, &iov, 1);
	} else if (h->type == T_EVENTS && len == 8) {
		uint32_t count = ipc_get_u32(body), size = ipc_get_u32(body + 4);

		CHECK(size >= IPC_HDR_LEN && size <= sizeof(ev));
		ipc_resp_head_encode(ev, 0x600, 0, 0, size - IPC_HDR_LEN);
		iov = (struct iovec){ .iov_base = ev, .iov_len = size };
		for (uint32_t i = 0; i < count && !ipc_conn_closing(c); i++)
			ipc_send_event(c, &iov, 1);
		ipc_respond(c, h, 0, NULL, 0);
	} else {
		ipc_conn_close(c, 3, "unknown request");
	}
	return IPC_DONE;
}

static void toy_disconnect(void *arg, struct ipc_conn *c)
{
	struct toy *t = arg;

	(void)c;
	atomic_fetch_add(&t->disconnects, 1);
}

static const struct ipc_server_ops toy_ops = { toy_connect, toy_request, toy_disconnect, NULL };

static void stop_cb(void *arg, int fd, uint32_t events)
{
	struct toy *t = arg;

	(void)fd;
	(void)events;
	dloop_stop(t->loop);
}

static void *toy_main(void *arg)
{
	struct toy *t = arg;

	dloop_run(t->loop);
	return NULL;
}

static void toy_start(struct toy *t, const char *tag, const struct ipc_allow *allow, size_t nallow,
		      size_t max_conns)
{
	struct ipc_server_config cfg = { .service = "toy",
					 .service_id = SVC_ID,
					 .allow = allow,
					 .allow_count = nallow,
					 .max_backlog = 1 << 20,
					 .max_conns = max_conns,
					 .log = toy_log };

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "test-ipc-%s-%d", tag, getpid());
	cfg.ipc_name = t->name;
	CHECK(dloop_create(&t->loop) == 0);
	CHECK(ipc_server_create(t->loop, &cfg, &toy_ops, t, &t->srv) == 0);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(dloop_add_fd(t->loop, t->stop_fd, EPOLLIN, stop_cb, t) == 0);
	pthread_create(&t->th, NULL, toy_main, t);
}

static void toy_stop(struct toy *t, struct ipc_server_stats *st)
{
	uint64_t one = 1;

	CHECK(write(t->stop_fd, &one, sizeof(one)) == sizeof(one));
	pthread_join(t->th, NULL);
	if (st)
		ipc_server_stats(t->srv, st);
	ipc_server_destroy(t->srv);
	close(t->stop_fd);
	dloop_destroy(t->loop);
}

static int raw_connect(struct toy *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[108];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(ipc_socket_name(t->name, "toy", name, sizeof(name)) == 0);
	memcpy(sa.sun_path + 1, name, strlen(name));
	CHECK(connect(fd, (struct sockaddr *)&sa,
		      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) == 0);
	return fd;
}

static int kept[64];
static unsigned nkept;

static void keep_fd(int fd)
{
	CHECK(nkept < 64);
	kept[nkept++] = fd;
}

static void close_kept(void)
{
	while (nkept)
		close(kept[--nkept]);
}

/* Send bytes with n_fds fresh socket fds attached. */
static void raw_send(int fd, const void *b, size_t len, int n_fds)
{
	union {
		struct cmsghdr h;
		char c[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)b, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[4], sv[2];

	memset(&u, 0, sizeof(u));
	if (n_fds) {
		for (int i = 0; i < n_fds; i++) {
			CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
			fds[i] = sv[1];
			keep_fd(sv[0]); /* our end of the event socket stays open */
		}
		m.msg_control = u.c;
		m.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), fds, n_fds * sizeof(int));
	}
	CHECK(sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)len);
	for (int i = 0; i < n_fds; i++)
		close(fds[i]);
}

/* Read until EOF (true) or a frame header arrives (false), bounded. */
static bool closed_by_server(int fd, struct ipc_hdr *h)
{
	uint8_t b[IPC_HDR_LEN];
	size_t got = 0;

	while (got < sizeof(b)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		CHECK(poll(&p, 1, 10000) == 1);
		r = recv(fd, b + got, sizeof(b) - got, 0);
		if (r <= 0)
			return true;
		got += (size_t)r;
	}
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, false, h) == IPC_HDR_OK);
	return false;
}

static int hello_raw(struct toy *t, uint32_t flags, int n_fds)
{
	struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, flags, 0 };
	uint8_t b[64];
	int fd = raw_connect(t);

	raw_send(fd, b, ipc_hello_encode(b, sizeof(b), 1, &hello), n_fds);
	return fd;
}

/* Whatever is left to read, then EOF from the server's close. */
static void expect_closed(int fd)
{
	uint8_t b[256];
	ssize_t r;

	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		CHECK(poll(&p, 1, 10000) == 1);
		r = recv(fd, b, sizeof(b), 0);
	} while (r > 0);
	close(fd);
}

static void second_hello(struct toy *t)
{
	struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, 0, 0 };
	uint8_t b[64], rest[16];
	struct ipc_hdr h;
	int fd = hello_raw(t, 0, 1);

	CHECK(!closed_by_server(fd, &h) && h.result == 0);
	CHECK(recv(fd, rest, 16, MSG_WAITALL) == 16);
	raw_send(fd, b, ipc_hello_encode(b, sizeof(b), 2, &hello), 0);
	expect_closed(fd);
}

static void test_bad_inputs(void)
{
	struct toy t;
	struct ipc_server_stats st;
	struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, 0, 0 };
	struct ipc_hello_reply rep;
	struct ipc_hdr h = { .len = 8, .type = T_ECHO };
	struct ipcc *good;
	struct ipcc_resp r;
	uint8_t b[64];
	int fd;

	toy_start(&t, "bad", NULL, 0, 0);
	/* A healthy client stays up through everything below. */
	CHECK(ipcc_connect(t.name, "toy", &hello, &rep, &good) == 0 && rep.nodeid == 7);
	fd = raw_connect(&t); /* short length */
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN, 0);
	CHECK(closed_by_server(fd, &h));
	close(fd);
	fd = raw_connect(&t); /* oversized */
	h.len = IPC_MAX_FRAME + 1;
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN, 0);
	expect_closed(fd);
	fd = raw_connect(&t); /* reserved flags */
	h = (struct ipc_hdr){ .len = IPC_HDR_LEN, .type = T_ECHO, .flags = 4 };
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN, 0);
	expect_closed(fd);
	fd = raw_connect(&t); /* a request before the hello */
	h.flags = 0;
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN, 0);
	expect_closed(fd);
	fd = hello_raw(&t, 0, 2); /* two fds passed */
	expect_closed(fd);
	fd = hello_raw(&t, 0, 0); /* no event socket: refused, then closed */
	CHECK(!closed_by_server(fd, &h) && h.result == -EPROTO);
	expect_closed(fd);
	fd = hello_raw(&t, 0xbad, 1); /* the service says no */
	CHECK(!closed_by_server(fd, &h) && h.result == -EINVAL);
	expect_closed(fd);
	fd = raw_connect(&t); /* truncated frame, then gone */
	h.len = 100;
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN + 10, 0);
	close(fd);
	fd = raw_connect(&t); /* malformed hello body */
	h = (struct ipc_hdr){ .len = IPC_HDR_LEN + 3, .type = IPC_T_HELLO };
	ipc_hdr_encode(b, &h);
	raw_send(fd, b, IPC_HDR_LEN + 3, 1);
	expect_closed(fd);
	second_hello(&t);
	ipc_resp_head_encode(b, T_ECHO, 0, 0, 3);
	memcpy(b + IPC_HDR_LEN, "abc", 3);
	CHECK(ipcc_call(good, b, IPC_HDR_LEN + 3, NULL, 0, &r) == 0);
	CHECK(r.result == 0 && r.len == 3 && !memcmp(r.body, "abc", 3));
	free(r.body);
	ipcc_free(good);
	close_kept();
	toy_stop(&t, &st);
	CHECK(st.bad_frames >= 4);
	CHECK(atomic_load(&t.disconnects) >= 1); /* the second-hello connection */
}

static void test_access(void)
{
	struct ipc_allow allow[2] = { { 4000, (gid_t)-1 }, { (uid_t)-1, 5000 } };
	struct toy t, t2;
	pid_t pid;
	int st = 0;

	CHECK(ipc_access_allowed(NULL, 0, 1000, 0, 0));
	CHECK(ipc_access_allowed(NULL, 0, 1000, 1000, 1));
	CHECK(!ipc_access_allowed(NULL, 0, 1000, 1001, 1));
	CHECK(ipc_access_allowed(allow, 2, 1000, 4000, 1));
	CHECK(ipc_access_allowed(allow, 2, 1000, 4001, 5000));
	CHECK(!ipc_access_allowed(allow, 2, 1000, 4001, 5001));
	if (geteuid() != 0) {
		printf("access: not root, refusal over a real socket skipped\n");
		return;
	}
	toy_start(&t, "acc", NULL, 0, 0);
	toy_start(&t2, "acc2", allow, 2, 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, 0, 0 };
		struct ipc_hello_reply rep;
		struct ipcc *c;

		if (setgid(5001) || setuid(4001))
			_exit(3);
		if (ipcc_connect(t.name, "toy", &hello, &rep, &c) != -EACCES)
			_exit(1);
		if (setuid(4001) == 0 && ipcc_connect(t2.name, "toy", &hello, &rep, &c) != -EACCES)
			_exit(2);
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pid = fork();
	if (pid == 0) {
		struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, 0, 0 };
		struct ipc_hello_reply rep;
		struct ipcc *c;

		if (setgid(5000) || setuid(4001))
			_exit(3);
		_exit(ipcc_connect(t2.name, "toy", &hello, &rep, &c) == 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	toy_stop(&t, NULL);
	toy_stop(&t2, NULL);
}

static void test_limits(void)
{
	struct ipc_hello hello = { IPC_PROTO_VERSION, SVC_ID, 0, 0 };
	struct ipc_hello_reply rep;
	struct ipc_server_stats st;
	struct ipcc *a, *b, *c;
	struct ipcc_resp r;
	struct ipcc_event ev;
	uint8_t req[IPC_HDR_LEN + 8];
	struct toy t;
	int n = 0, rc;

	toy_start(&t, "lim", NULL, 0, 2);
	CHECK(ipcc_connect(t.name, "toy", &hello, &rep, &a) == 0);
	CHECK(ipcc_connect(t.name, "toy", &hello, &rep, &b) == 0);
	CHECK(ipcc_connect(t.name, "toy", &hello, &rep, &c) != 0);
	/* 64 MiB of events to a client that reads none: disconnected. The
	 * response still comes (it is on the other socket). */
	ipc_resp_head_encode(req, T_EVENTS, 0, 0, 8);
	ipc_put_u32(req + IPC_HDR_LEN, 64);
	ipc_put_u32(req + IPC_HDR_LEN + 4, 1 << 20);
	rc = ipcc_call(b, req, sizeof(req), NULL, 0, &r);
	CHECK(rc == 0 || rc == -ECONNRESET);
	/* What made it before the cut is readable, then the end. */
	while ((rc = ipcc_event_next(b, &ev)) >= 0) {
		if (rc == 0) {
			CHECK(ipcc_event_wait(b, 10000) == 0);
			continue;
		}
		n++;
		ipcc_event_done(b, &ev);
	}
	CHECK(rc == -ECONNRESET && n < 64);
	/* a was never touched. */
	ipc_put_u32(req + IPC_HDR_LEN, 3);
	ipc_put_u32(req + IPC_HDR_LEN + 4, 100);
	CHECK(ipcc_call(a, req, sizeof(req), NULL, 0, &r) == 0 && r.result == 0);
	for (n = 0; n < 3;) {
		rc = ipcc_event_next(a, &ev);
		CHECK(rc >= 0);
		if (rc == 0) {
			CHECK(ipcc_event_wait(a, 10000) == 0);
			continue;
		}
		CHECK(ev.h.type == 0x600 && ev.len == 100 - IPC_HDR_LEN);
		ipcc_event_done(a, &ev);
		n++;
	}
	ipcc_free(a);
	ipcc_free(b);
	toy_stop(&t, &st);
	CHECK(st.backlog_drops == 1 && st.refused_full == 1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_bad_inputs();
	test_access();
	test_limits();
	printf("ipc_server: all tests passed\n");
	return 0;
}
