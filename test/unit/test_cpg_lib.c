/* libcpg against the real CPG service on a one-node fake ring: every
 * function, the errors users rely on, dispatch modes and the pollable fd. */
#include <string.h>
#include <unistd.h>

#include "test_cpg_ring.h"
#include "test_cpg_util.h"

static char ipc1[64];

static void test_init_errors(void)
{
	cpg_handle_t h;
	cpg_model_v1_data_t v1 = { .model = CPG_MODEL_V1 };

	CHECK_CS(cpg_initialize(NULL, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_model_initialize(&h, 7, (cpg_model_data_t *)&v1, NULL), CS_ERR_INVALID_PARAM);
	v1.flags = 0x80;
	CHECK_CS(cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&v1, NULL),
		 CS_ERR_INVALID_PARAM);
	setenv("COHORT_IPC", "no-such-daemon-here", 1);
	CHECK_CS(cpg_initialize(&h, NULL), CS_ERR_LIBRARY);
	setenv("COHORT_IPC", ipc1, 1);
	CHECK_CS(cpg_initialize(&h, NULL), CS_OK);
	CHECK_CS(cpg_finalize(h), CS_OK);
	CHECK_CS(cpg_finalize(h), CS_ERR_BAD_HANDLE);
}

/* Every call on a handle that does not exist (or no more). */
static void test_bad_handle(void)
{
	cpg_handle_t h = 0x1234567890ull;
	struct cpg_name g = tname("g");
	struct cpg_address a[CPG_MEMBERS_MAX];
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	cpg_iteration_handle_t it;
	struct cpg_iteration_description_t d;
	cpg_flow_control_state_t fc;
	unsigned nodeid;
	uint32_t sz;
	void *p;
	int fd, n;

	CHECK_CS(cpg_finalize(h), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_fd_get(h, &fd), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_max_atomic_msgsize_get(h, &sz), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_context_get(h, &p), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_context_set(h, NULL), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_dispatch(h, CS_DISPATCH_ALL), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_join(h, &g), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_leave(h, &g), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_membership_get(h, &g, a, &n), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_local_get(h, &nodeid), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_flow_control_state_get(h, &fc), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_zcb_alloc(h, 10, &p), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_zcb_free(h, &n), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_zcb_mcast_joined(h, CPG_TYPE_AGREED, &n, 1), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_iteration_initialize(h, CPG_ITERATION_ALL, NULL, &it), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_iteration_next(h, &d), CS_ERR_BAD_HANDLE);
	CHECK_CS(cpg_iteration_finalize(h), CS_ERR_BAD_HANDLE);
}

static void test_basics(void)
{
	struct tcli c;
	uint32_t sz = 0;
	unsigned nodeid = 0;
	void *ctx = NULL;
	cpg_flow_control_state_t fc = CPG_FLOW_CONTROL_ENABLED;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK(c.fd >= 0);
	CHECK_CS(cpg_fd_get(c.h, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_max_atomic_msgsize_get(c.h, &sz), CS_OK);
	CHECK(sz >= 1047552);
	CHECK_CS(cpg_max_atomic_msgsize_get(c.h, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_local_get(c.h, &nodeid), CS_OK);
	CHECK(nodeid == 1);
	CHECK_CS(cpg_local_get(c.h, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_context_get(c.h, &ctx), CS_OK);
	CHECK(ctx == &c);
	CHECK_CS(cpg_context_set(c.h, (void *)0x42), CS_OK);
	CHECK_CS(cpg_context_get(c.h, &ctx), CS_OK);
	CHECK(ctx == (void *)0x42);
	CHECK_CS(cpg_context_set(c.h, &c), CS_OK);
	CHECK_CS(cpg_context_get(c.h, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_flow_control_state_get(c.h, &fc), CS_OK);
	CHECK(fc == CPG_FLOW_CONTROL_DISABLED);
	CHECK_CS(cpg_dispatch(c.h, 0), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ALL), CS_OK);
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ONE_NONBLOCKING), CS_ERR_TRY_AGAIN);
	CHECK(!fd_readable(c.fd, 0));
	tcli_close(&c);
}

static void test_join_leave_errors(void)
{
	struct tcli c, d;
	struct cpg_name g = tname("errs"), other = tname("other");
	struct cpg_name longname = { .length = 129 };
	struct iovec iov = { .iov_base = "hello", .iov_len = 5 };
	char line[256];

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(cpg_join(c.h, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_join(c.h, &longname), CS_ERR_NAME_TOO_LONG);
	CHECK_CS(cpg_leave(c.h, &longname), CS_ERR_NAME_TOO_LONG);
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1), CS_ERR_NOT_EXIST);
	CHECK_CS(cpg_leave(c.h, &g), CS_ERR_NOT_EXIST);
	CHECK_CS(cpg_join(c.h, &g), CS_OK);
	CHECK_CS(cpg_join(c.h, &g), CS_ERR_EXIST);
	CHECK_CS(cpg_join(c.h, &other), CS_ERR_EXIST);
	CHECK_CS(cpg_mcast_joined(c.h, 9, &iov, 1), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, NULL, 1), CS_ERR_INVALID_PARAM);
	snprintf(line, sizeof(line), "confchg errs members [1:%d/0] left [] joined [1:%d/1]",
		 getpid(), getpid());
	tcli_wait_line(&c, line);
	/* The same process cannot be in a group twice (members are nodeid:pid). */
	CHECK_CS(tcli_open(&d, ipc1, false, false), CS_OK);
	CHECK_CS(cpg_join(d.h, &g), CS_ERR_EXIST);
	tcli_close(&d);
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1), CS_OK);
	snprintf(line, sizeof(line), "deliver errs from 1:%d len 5: hello", getpid());
	tcli_wait_line(&c, line);
	CHECK_CS(cpg_leave(c.h, &other), CS_ERR_NOT_EXIST);
	CHECK_CS(cpg_leave(c.h, &g), CS_OK);
	CHECK_CS(cpg_leave(c.h, &g), CS_ERR_NOT_EXIST);
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1), CS_ERR_NOT_EXIST);
	snprintf(line, sizeof(line), "confchg errs members [] left [1:%d/2] joined []", getpid());
	tcli_wait_line(&c, line);
	/* Leave then join again on the same handle works (broken in Corosync). */
	CHECK_CS(cpg_join(c.h, &other), CS_OK);
	CHECK_CS(cpg_leave(c.h, &other), CS_OK);
	CHECK_CS(cpg_join(c.h, &g), CS_OK);
	iov.iov_base = "again";
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_SAFE, &iov, 1), CS_OK);
	snprintf(line, sizeof(line), "deliver errs from 1:%d len 5: again", getpid());
	tcli_wait_line(&c, line);
	CHECK(tcli_find(&c, "confchg other members [] left", 0) >= 0);
	tcli_close(&c);
}

static bool seen_n(struct tcli *c, const void *n)
{
	return c->n >= *(const size_t *)n;
}

/* The fd is readable exactly while callbacks are pending; ONE dispatches one. */
static void test_dispatch_modes(void)
{
	struct tcli c;
	struct cpg_name g = tname("modes");
	struct iovec iov = { .iov_base = "m", .iov_len = 1 };
	size_t want = 1;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(cpg_join(c.h, &g), CS_OK);
	tcli_wait(&c, seen_n, &want, 10000, "own join");
	for (int i = 0; i < 3; i++)
		CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_FIFO, &iov, 1), CS_OK);
	/* Answered after the queued multicasts: they are delivered by now. */
	CHECK_CS(cpg_local_get(c.h, &(unsigned){ 0 }), CS_OK);
	CHECK(fd_readable(c.fd, 10000));
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ONE), CS_OK);
	CHECK(c.delivered == 1);
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ONE_NONBLOCKING), CS_OK);
	CHECK(c.delivered == 2);
	CHECK(fd_readable(c.fd, 10000));
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ALL), CS_OK);
	CHECK(c.delivered == 3);
	CHECK(!fd_readable(c.fd, 0));
	/* BLOCKING returns once a callback finalized the handle. */
	CHECK_CS(cpg_mcast_joined(c.h, CPG_TYPE_AGREED, &iov, 1), CS_OK);
	c.finalize_in_cb = true;
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_BLOCKING), CS_OK);
	CHECK(c.finalized && c.delivered == 4);
	CHECK_CS(cpg_dispatch(c.h, CS_DISPATCH_ALL), CS_ERR_BAD_HANDLE);
	tcli_close(&c);
}

static void test_membership_iteration(void)
{
	struct tcli a, b;
	struct cpg_name ga = tname("iter-a"), gb = tname("iter-b"), none = tname("nobody");
	struct cpg_address m[CPG_MEMBERS_MAX];
	struct cpg_iteration_description_t d;
	cpg_iteration_handle_t it;
	int n = -1, count = 0;

	CHECK_CS(tcli_open(&a, ipc1, false, false), CS_OK);
	CHECK_CS(tcli_open(&b, ipc1, false, false), CS_OK);
	CHECK_CS(cpg_join(a.h, &ga), CS_OK);
	CHECK_CS(cpg_join(b.h, &gb), CS_OK);
	tcli_wait_line(&a, "confchg iter-a");
	tcli_wait_line(&b, "confchg iter-b");
	CHECK_CS(cpg_membership_get(a.h, &ga, m, &n), CS_OK);
	CHECK(n == 1 && m[0].nodeid == 1 && m[0].pid == (uint32_t)getpid());
	CHECK_CS(cpg_membership_get(a.h, &none, m, &n), CS_OK);
	CHECK(n == 0);
	CHECK_CS(cpg_membership_get(a.h, NULL, m, &n), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_membership_get(a.h, &ga, m, NULL), CS_ERR_INVALID_PARAM);

	CHECK_CS(cpg_iteration_initialize(a.h, CPG_ITERATION_ONE_GROUP, NULL, &it),
		 CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_iteration_initialize(a.h, CPG_ITERATION_ALL, &ga, &it), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_iteration_initialize(a.h, 9, NULL, &it), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_iteration_initialize(a.h, CPG_ITERATION_ALL, NULL, NULL),
		 CS_ERR_INVALID_PARAM);

	CHECK_CS(cpg_iteration_initialize(a.h, CPG_ITERATION_NAME_ONLY, NULL, &it), CS_OK);
	CHECK_CS(cpg_iteration_next(it, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_iteration_next(it, &d), CS_OK);
	CHECK(d.group.length == 6 && !memcmp(d.group.value, "iter-a", 6) && d.nodeid == 0);
	CHECK_CS(cpg_iteration_next(it, &d), CS_OK);
	CHECK(d.group.length == 6 && !memcmp(d.group.value, "iter-b", 6));
	CHECK_CS(cpg_iteration_next(it, &d), CS_ERR_NO_SECTIONS);
	CHECK_CS(cpg_iteration_finalize(it), CS_OK);
	CHECK_CS(cpg_iteration_finalize(it), CS_ERR_BAD_HANDLE);

	CHECK_CS(cpg_iteration_initialize(a.h, CPG_ITERATION_ONE_GROUP, &gb, &it), CS_OK);
	CHECK_CS(cpg_iteration_next(it, &d), CS_OK);
	CHECK(d.nodeid == 1 && d.pid == (uint32_t)getpid() && d.group.length == 6);
	CHECK_CS(cpg_iteration_next(it, &d), CS_ERR_NO_SECTIONS);
	CHECK_CS(cpg_iteration_finalize(it), CS_OK);

	CHECK_CS(cpg_iteration_initialize(b.h, CPG_ITERATION_ALL, NULL, &it), CS_OK);
	while (cpg_iteration_next(it, &d) == CS_OK)
		count++;
	CHECK(count == 2);
	/* Iterations end with their handle. */
	tcli_close(&b);
	CHECK_CS(cpg_iteration_next(it, &d), CS_ERR_BAD_HANDLE);
	tcli_close(&a);
}

static void test_zcb(void)
{
	struct tcli c;
	struct cpg_name g = tname("zcb");
	void *buf = NULL, *buf2 = NULL;
	char line[128];
	int local = 0;

	CHECK_CS(tcli_open(&c, ipc1, false, false), CS_OK);
	CHECK_CS(cpg_zcb_alloc(c.h, 64, NULL), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_zcb_alloc(c.h, 64, &buf), CS_OK);
	CHECK(buf && ((uintptr_t)buf & 15) == 0);
	memcpy(buf, "zero copy", 9);
	CHECK_CS(cpg_zcb_mcast_joined(c.h, CPG_TYPE_AGREED, buf, 9), CS_ERR_NOT_EXIST);
	CHECK_CS(cpg_join(c.h, &g), CS_OK);
	CHECK_CS(cpg_zcb_mcast_joined(c.h, CPG_TYPE_AGREED, buf, 9), CS_OK);
	snprintf(line, sizeof(line), "deliver zcb from 1:%d len 9: zero copy", getpid());
	tcli_wait_line(&c, line);
	CHECK_CS(cpg_zcb_mcast_joined(c.h, CPG_TYPE_AGREED, buf, 65), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_zcb_mcast_joined(c.h, CPG_TYPE_AGREED, &local, 1), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_zcb_free(c.h, &local), CS_ERR_INVALID_PARAM);
	CHECK_CS(cpg_zcb_alloc(c.h, 3u << 20, &buf2), CS_OK);
	memset(buf2, 'z', 3u << 20);
	CHECK_CS(cpg_zcb_mcast_joined(c.h, CPG_TYPE_AGREED, buf2, 3u << 20), CS_OK);
	tcli_wait_line(&c, "len 3145728: zzzz");
	CHECK_CS(cpg_zcb_free(c.h, buf), CS_OK);
	CHECK_CS(cpg_zcb_free(c.h, buf), CS_ERR_INVALID_PARAM);
	tcli_close(&c); /* frees buf2 */
}

static void test_totem_confchg(void)
{
	struct tcli c, d;
	size_t one = 1;

	CHECK_CS(tcli_open(&c, ipc1, true, true), CS_OK);
	tcli_wait_line(&c, "totem 1.");
	CHECK(tcli_find(&c, "[1]", 0) == 0);
	/* Without the flag, nothing until the ring changes. */
	CHECK_CS(tcli_open(&d, ipc1, true, false), CS_OK);
	CHECK_CS(cpg_dispatch(d.h, CS_DISPATCH_ALL), CS_OK);
	CHECK(d.totems == 0);
	(void)one;
	tcli_close(&d);
	tcli_close(&c);
}

/* A callback may call anything: here a multicast, a membership query and a
 * nested dispatch from inside a delivery. */
static int nested_depth, nested_seen;

static void nested_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
			   void *msg, size_t len)
{
	struct cpg_address m[CPG_MEMBERS_MAX];
	struct iovec iov = { .iov_base = "second", .iov_len = 6 };
	int n = 0;

	(void)nodeid;
	(void)pid;
	nested_seen++;
	if (len != 5 || memcmp(msg, "first", 5))
		return;
	CHECK_CS(cpg_membership_get(h, (struct cpg_name *)g, m, &n), CS_OK);
	CHECK(n == 1);
	CHECK_CS(cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1), CS_OK);
	CHECK_CS(cpg_local_get(h, &(unsigned){ 0 }), CS_OK); /* "second" is out */
	nested_depth++;
	CHECK_CS(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
	nested_depth--;
	CHECK(nested_seen == 2);
}

static void test_api_from_callbacks(void)
{
	cpg_callbacks_t cb = { .cpg_deliver_fn = nested_deliver };
	struct cpg_name g = tname("nested");
	struct iovec iov = { .iov_base = "first", .iov_len = 5 };
	cpg_handle_t h;
	int fd;

	setenv("COHORT_IPC", ipc1, 1);
	CHECK_CS(cpg_initialize(&h, &cb), CS_OK);
	CHECK_CS(cpg_fd_get(h, &fd), CS_OK);
	CHECK_CS(cpg_join(h, &g), CS_OK);
	CHECK_CS(cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1), CS_OK);
	while (nested_seen < 2) {
		CHECK(fd_readable(fd, 10000));
		CHECK_CS(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
	}
	CHECK(nested_depth == 0);
	CHECK_CS(cpg_finalize(h), CS_OK);
}

int main(void)
{
	struct tring_opts o = { .nodes = 1, .reentrant = true };
	char prefix[64];
	struct tring *r;
	uint32_t n1 = 1;

	snprintf(prefix, sizeof(prefix), "test-cpglib-%d", getpid());
	o.prefix = prefix;
	r = tring_new(&o);
	snprintf(ipc1, sizeof(ipc1), "%s", tring_ipc(r, 1));
	tring_form(r, &n1, 1);
	tring_settle(r);
	test_init_errors();
	test_bad_handle();
	test_basics();
	test_join_leave_errors();
	test_dispatch_modes();
	test_membership_iteration();
	test_zcb();
	test_totem_confchg();
	test_api_from_callbacks();
	tring_free(r);
	printf("cpg_lib: all tests passed\n");
	return 0;
}
