/* libcpg on a one-node fake ring, the harder cases: messages over the
 * atomic size, clients that die (PROCDOWN) or stop reading (disconnected),
 * flow control, threads sharing a handle, and the daemon going away. Other
 * processes are forked clients reporting over a pipe. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_cpg_ring.h"
#include "test_cpg_util.h"

static char ipc1[64];

struct child {
	pid_t pid;
	int to, from; /* pipes: parent writes to, reads from */
};

static char child_read(struct child *k)
{
	struct pollfd p = { .fd = k->from, .events = POLLIN };
	char c = 0;

	CHECK(poll(&p, 1, 30000) == 1);
	CHECK(read(k->from, &c, 1) == 1);
	return c;
}

static void child_tell(int fd, char c)
{
	CHECK(write(fd, &c, 1) == 1);
}

static void child_start(struct child *k, void (*fn)(int rfd, int wfd, const char *group),
			const char *group)
{
	int a[2], b[2];

	CHECK(pipe(a) == 0 && pipe(b) == 0);
	k->pid = fork();
	CHECK(k->pid >= 0);
	if (k->pid == 0) {
		close(a[1]);
		close(b[0]);
		fn(a[0], b[1], group);
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	k->to = a[1];
	k->from = b[0];
}

static void child_end(struct child *k)
{
	int st = 0;

	close(k->to);
	close(k->from);
	CHECK(waitpid(k->pid, &st, 0) == k->pid);
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 % 251);
}

static bool filled(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 % 251))
			return false;
	return true;
}

/* Child: join, report ready, wait for a message of the size sent over the
 * pipe, report whether it arrived whole and intact. */
static void big_receiver(int rfd, int wfd, const char *group)
{
	struct tcli c;
	struct cpg_name g = tname(group);
	size_t one = 1, want = 0;

	if (tcli_open(&c, ipc1, false, false) != CS_OK || tjoin(c.h, &g) != CS_OK)
		_exit(2);
	tcli_wait(&c, tcli_count_at_least, &(size_t){ 0 }, 1000, "nothing");
	child_tell(wfd, 'R');
	CHECK(read(rfd, &want, sizeof(want)) == sizeof(want));
	tcli_wait(&c, tcli_count_at_least, &one, 60000, "big message");
	child_tell(wfd, c.last_len == want && filled(c.last_msg, want) ? 'O' : 'F');
	tcli_close(&c);
}

static bool saw_join_of(struct tcli *c, const void *pid)
{
	char s[64];

	snprintf(s, sizeof(s), "joined [1:%d/1]", *(const pid_t *)pid);
	return tcli_find(c, s, 0) >= 0;
}

static void test_big(size_t size, bool with_child)
{
	struct tcli c;
	struct cpg_name g = tname("big");
	uint8_t *buf = malloc(size);
	struct iovec iov[3];
	struct child k = { 0 };
	size_t one = 1;
	cs_error_t err;

	CHECK(buf);
	fill(buf, size);
	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	if (with_child) {
		child_start(&k, big_receiver, "big");
		CHECK(child_read(&k) == 'R');
		tcli_wait(&c, saw_join_of, &k.pid, 10000, "receiver's join");
		CHECK(write(k.to, &size, sizeof(size)) == sizeof(size));
	}
	/* Uneven pieces, so fragments do not line up with the iovec. */
	iov[0] = (struct iovec){ .iov_base = buf, .iov_len = 1000 };
	iov[1] = (struct iovec){ .iov_base = buf + 1000, .iov_len = size / 2 };
	iov[2] = (struct iovec){ .iov_base = buf + 1000 + size / 2,
				 .iov_len = size - 1000 - size / 2 };
	/* The first fragment may meet a full queue; the rest wait for room. */
	while ((err = cpg_mcast_joined(c.h, CPG_TYPE_AGREED, iov, 3)) == CS_ERR_TRY_AGAIN)
		cpg_dispatch(c.h, CS_DISPATCH_ALL);
	CHECK_CS(err, CS_OK);
	tcli_wait(&c, tcli_count_at_least, &one, 60000, "own big message");
	CHECK(c.last_len == size && filled(c.last_msg, size));
	CHECK(c.delivered == 1);
	if (with_child) {
		CHECK(child_read(&k) == 'O');
		child_end(&k);
	}
	CHECK_CS(cpg_leave(c.h, &g), CS_OK);
	tcli_close(&c);
	free(buf);
}

static void dier(int rfd, int wfd, const char *group)
{
	cpg_handle_t h;
	struct cpg_name g = tname(group);

	(void)rfd;
	setenv("COHORT_IPC", ipc1, 1);
	if (cpg_initialize(&h, NULL) != CS_OK || tjoin(h, &g) != CS_OK)
		_exit(2);
	child_tell(wfd, 'R');
	if (!strcmp(group, "pd-finalize"))
		cpg_finalize(h); /* without leaving: also PROCDOWN, as in Corosync */
	_exit(0);
}

static void test_procdown(const char *group)
{
	struct tcli c;
	struct cpg_name g = tname(group);
	struct child k;
	char line[128];

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	child_start(&k, dier, group);
	CHECK(child_read(&k) == 'R');
	child_end(&k);
	snprintf(line, sizeof(line), "joined [1:%d/1]", k.pid);
	tcli_wait_line(&c, line);
	snprintf(line, sizeof(line), "left [1:%d/5]", k.pid);
	tcli_wait_line(&c, line);
	tcli_close(&c);
}

/* With the ring stuck, messages queue (cpg_mcast_joined still returns
 * CS_OK) until the request socket is full: then CS_ERR_TRY_AGAIN, and the
 * flow control state says so. Everything queued is delivered afterwards. */
static void test_flow_control(struct tring *r)
{
	struct tcli c, d;
	struct cpg_name g = tname("flow"), g2 = tname("flow2");
	static char big[4096];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	cpg_flow_control_state_t fc;
	size_t sent = 0;
	cs_error_t e;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tcli_open(&d, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	tcli_wait_line(&c, "confchg flow");
	CHECK_CS(cpg_flow_control_state_get(c.h, &fc), CS_OK);
	CHECK(fc == CPG_FLOW_CONTROL_DISABLED);
	tring_block(r, true);
	while ((e = cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1)) == CS_OK) {
		sent++;
		CHECK(sent < 100000);
	}
	CHECK_CS(e, CS_ERR_TRY_AGAIN);
	CHECK_CS(cpg_flow_control_state_get(c.h, &fc), CS_OK);
	CHECK(fc == CPG_FLOW_CONTROL_ENABLED);
	/* A handle with nothing queued is answered at once: try again. */
	CHECK_CS(cpg_join(d.h, &g2), CS_ERR_TRY_AGAIN);
	tring_block(r, false);
	tcli_wait(&c, tcli_count_at_least, &sent, 30000, "every queued message");
	CHECK(c.delivered == sent);
	CHECK_CS(cpg_flow_control_state_get(c.h, &fc), CS_OK);
	CHECK(fc == CPG_FLOW_CONTROL_DISABLED);
	printf("flow: %zu messages queued while the ring was stuck\n", sent);
	tcli_close(&d);
	tcli_close(&c);
}

/* Each message carries its number: all arrive, in order, none twice, even
 * though the ring's queue keeps filling up (the sender retries). */
static void test_queue_full_no_loss(void)
{
	struct tcli c;
	struct cpg_name g = tname("burst");
	const size_t total = 20000;
	size_t tries = 0;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	tcli_wait_line(&c, "confchg burst");
	for (size_t i = 0; i < total;) {
		char msg[32];
		struct iovec iov = { .iov_base = msg };
		cs_error_t e;

		iov.iov_len = (size_t)snprintf(msg, sizeof(msg), "%zu", i);
		e = cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1);
		CHECK(e == CS_OK || e == CS_ERR_TRY_AGAIN);
		if (e == CS_OK)
			i++;
		else
			tries++;
		cpg_dispatch(c.h, CS_DISPATCH_ALL);
	}
	tcli_wait(&c, tcli_count_at_least, &total, 60000, "every burst message");
	for (size_t i = 0; i < total; i++) {
		char want[32];

		snprintf(want, sizeof(want), ": %zu", i);
		CHECK(strstr(c.lines[i + 1], want) &&
		      strlen(strstr(c.lines[i + 1], want)) == strlen(want));
	}
	printf("burst: %zu messages, %zu TRY_AGAIN retries\n", total, tries);
	tcli_close(&c);
}

struct shared {
	cpg_handle_t h;
	int id;
};

static void *sender_thread(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < 500; i++) {
		char msg[32];
		struct iovec iov = { .iov_base = msg };

		iov.iov_len = (size_t)snprintf(msg, sizeof(msg), "t%d-%d", s->id, i);
		while (cpg_mcast_joined(s->h, CPG_TYPE_AGREED, &iov, 1) == CS_ERR_TRY_AGAIN)
			;
	}
	return NULL;
}

static void *dispatch_thread(void *arg)
{
	struct shared *s = arg;

	CHECK_CS(cpg_dispatch(s->h, CS_DISPATCH_BLOCKING), CS_OK);
	return NULL;
}

/* Two threads send on one handle while a third dispatches it; finalize
 * from the main thread ends the blocking dispatch. */
static void test_threads(void)
{
	struct tcli c;
	struct cpg_name g = tname("threads");
	struct shared s1, s2, sd;
	pthread_t t1, t2, td;
	char needle[32];
	size_t want = 1000;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	tcli_wait_line(&c, "confchg threads");
	s1 = (struct shared){ c.h, 1 };
	s2 = (struct shared){ c.h, 2 };
	sd = (struct shared){ c.h, 0 };
	pthread_create(&td, NULL, dispatch_thread, &sd);
	pthread_create(&t1, NULL, sender_thread, &s1);
	pthread_create(&t2, NULL, sender_thread, &s2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	for (int spin = 0; spin < 3000 && c.delivered < want; spin++)
		usleep(10000); /* the dispatcher thread owns the callbacks */
	CHECK(c.delivered == want);
	CHECK_CS(cpg_finalize(c.h), CS_OK);
	pthread_join(td, NULL);
	c.finalized = true;
	snprintf(needle, sizeof(needle), "t1-499");
	CHECK(tcli_find(&c, needle, 0) > tcli_find(&c, "t1-0", 0));
	tcli_close(&c);
}

/* Child: joins, then stops reading until told; afterwards it must find its
 * connection gone (CS_ERR_LIBRARY once the queued events are consumed). */
static void sleeper(int rfd, int wfd, const char *group)
{
	cpg_handle_t h;
	struct cpg_name g = tname(group);
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	char go;
	cs_error_t e;
	int n = 0;

	if (cpg_initialize(&h, NULL) != CS_OK || tjoin(h, &g) != CS_OK)
		_exit(2);
	child_tell(wfd, 'R');
	CHECK(read(rfd, &go, 1) == 1);
	while ((e = cpg_dispatch(h, CS_DISPATCH_ALL)) == CS_OK && n++ < 100000)
		;
	child_tell(wfd, e == CS_ERR_LIBRARY && cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1) ==
						       CS_ERR_LIBRARY ?
				'O' :
				'F');
	_exit(0);
}

static bool saw_procdown_of(struct tcli *c, const void *pid)
{
	char s[64];

	snprintf(s, sizeof(s), "left [1:%d/5]", *(const pid_t *)pid);
	return tcli_find(c, s, 0) >= 0;
}

/* A member that stops dispatching is disconnected once its backlog passes
 * the limit; the group sees it leave with PROCDOWN; the sender never
 * blocks on it. */
static void test_slow_client(const char *ipc)
{
	struct tcli c;
	struct cpg_name g = tname("slow");
	static uint8_t big[60000];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	struct child k;
	int sent = 0;

	setenv("COHORT_IPC", ipc, 1);
	CHECK_CS(tcli_open(&c, ipc, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	child_start(&k, sleeper, "slow");
	CHECK(child_read(&k) == 'R');
	tcli_wait(&c, saw_join_of, &k.pid, 10000, "sleeper's join");
	while (!saw_procdown_of(&c, &k.pid)) {
		cs_error_t e = cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1);

		CHECK(e == CS_OK || e == CS_ERR_TRY_AGAIN);
		sent += e == CS_OK;
		CHECK(sent < 4000); /* 240 MB: far beyond any buffer */
		cpg_dispatch(c.h, CS_DISPATCH_ALL);
	}
	printf("slow client dropped after %d messages of %zu bytes\n", sent, sizeof(big));
	child_tell(k.to, 'G');
	CHECK(child_read(&k) == 'O');
	child_end(&k);
	tcli_close(&c);
}

/* A user outside root, the daemon's uid and the allow list: refused. */
static void test_access(void)
{
	struct child k;

	if (geteuid() != 0) {
		printf("access: not root, skipped\n");
		return;
	}
	k.pid = fork();
	CHECK(k.pid >= 0);
	if (k.pid == 0) {
		cpg_handle_t h;

		setenv("COHORT_IPC", ipc1, 1);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		_exit(cpg_initialize(&h, NULL) == CS_ERR_ACCESS ? 0 : 1);
	}
	{
		int st = 0;

		CHECK(waitpid(k.pid, &st, 0) == k.pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static void test_daemon_gone(struct tring *r)
{
	struct tcli c;
	struct cpg_name g = tname("gone");
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	unsigned nodeid;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(tjoin(c.h, &g), CS_OK);
	tring_kill(r, 1);
	CHECK(fd_readable(c.fd, 10000));
	/* Queued events first, then the news. */
	while (cpg_dispatch(c.h, CS_DISPATCH_ONE_NONBLOCKING) == CS_OK)
		;
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
	CHECK_CS(cpg_local_get(c.h, &nodeid), CS_ERR_LIBRARY);
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1), CS_ERR_LIBRARY);
	CHECK_CS(cpg_join(c.h, &g), CS_ERR_LIBRARY);
	CHECK_CS(cpg_finalize(c.h), CS_OK);
	c.finalized = true;
	tcli_close(&c);
	setenv("COHORT_IPC", ipc1, 1);
	CHECK_CS(cpg_initialize(&c.h, NULL), CS_ERR_LIBRARY);
}

int main(void)
{
	struct tring_opts o = { .nodes = 1, .reentrant = false, .queue_limit = 1 };
	char prefix[64];
	struct tring *r;
	uint32_t n1 = 1;

	signal(SIGPIPE, SIG_IGN);
	snprintf(prefix, sizeof(prefix), "test-cpglib2-%d", getpid());
	o.prefix = prefix;
	r = tring_new(&o);
	snprintf(ipc1, sizeof(ipc1), "%s", tring_ipc(r, 1));
	tring_form(r, &n1, 1);
	tring_settle(r);
	test_big(10u << 20, true);
	test_big(64u << 20, false);
	test_procdown("pd-exit");
	test_procdown("pd-finalize");
	test_flow_control(r);
	test_queue_full_no_loss();
	test_threads();
	test_access();
	test_daemon_gone(r);
	tring_free(r);

	snprintf(prefix, sizeof(prefix), "test-cpglib2-slow-%d", getpid());
	o.backlog = 256u << 10;
	r = tring_new(&o);
	tring_form(r, &n1, 1);
	tring_settle(r);
	test_slow_client(tring_ipc(r, 1));
	tring_free(r);
	printf("cpg_lib2: all tests passed\n");
	return 0;
}
