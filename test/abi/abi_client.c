/*
 * A small CPG client built against Corosync's own headers and linked with Corosync's
 * libcpg.so.4. It is the binary-compatibility probe: run unchanged with LD_LIBRARY_PATH
 * pointing at Cohort's libcpg, against cohortd, it must behave exactly as it does against
 * Corosync (see docs/compatibility.md for how it is run).
 *
 * It walks the life of an ordinary client: model V1 initialisation with a context, local
 * node id, join, the confchg that shows the join, an own multicast coming back, membership,
 * flow control, leave, the confchg that shows the leave, finalize. Each step that fails
 * prints what was expected and what came back, and the program exits 1; success prints OK.
 *
 * usage: abi_client [group-name] [timeout-seconds]
 */
#include <corosync/cpg.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct probe {
	cpg_handle_t handle;
	struct cpg_name group;
	unsigned int nodeid;
	uint32_t pid;
	char token[96];
	size_t token_len;
	bool saw_ring;
	bool saw_join;
	bool saw_own_message;
	bool saw_leave;
	bool bad_callback;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *step, cs_error_t err)
{
	fprintf(stderr, "abi_client: %s: expected CS_OK (1), got %d\n", step, (int)err);
	return 1;
}

static bool same_group(const struct probe *p, const struct cpg_name *name)
{
	return name->length == p->group.length &&
	       memcmp(name->value, p->group.value, p->group.length) == 0;
}

static bool is_me(const struct probe *p, const struct cpg_address *a)
{
	return a->nodeid == p->nodeid && a->pid == p->pid;
}

/* The library must hand back the pointer given at initialisation, from inside callbacks too. */
static struct probe *probe_of(cpg_handle_t handle)
{
	void *ctx = NULL;

	if (cpg_context_get(handle, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group_name, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t msg_len)
{
	struct probe *p = probe_of(handle);

	if (!p || !same_group(p, group_name)) {
		fprintf(stderr, "abi_client: deliver: wrong context or group\n");
		if (p)
			p->bad_callback = true;
		return;
	}
	if (nodeid == p->nodeid && pid == p->pid && msg_len == p->token_len &&
	    memcmp(msg, p->token, msg_len) == 0)
		p->saw_own_message = true;
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group_name,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct probe *p = probe_of(handle);
	bool member = false;
	size_t i;

	if (!p || !same_group(p, group_name)) {
		fprintf(stderr, "abi_client: confchg: wrong context or group\n");
		if (p)
			p->bad_callback = true;
		return;
	}
	for (i = 0; i < n_members; i++)
		member |= is_me(p, &members[i]);
	for (i = 0; i < n_joined; i++) {
		if (is_me(p, &joined[i]) && joined[i].reason == CPG_REASON_JOIN && member)
			p->saw_join = true;
	}
	for (i = 0; i < n_left; i++) {
		if (is_me(p, &left[i]) && left[i].reason == CPG_REASON_LEAVE && !member)
			p->saw_leave = true;
	}
}

static void on_ring(cpg_handle_t handle, struct cpg_ring_id ring_id, uint32_t n_members,
		    const uint32_t *members)
{
	struct probe *p = probe_of(handle);
	uint32_t i;

	if (!p)
		return;
	for (i = 0; i < n_members; i++) {
		if (members[i] == p->nodeid)
			p->saw_ring = true;
	}
	fprintf(stderr, "abi_client: ring %x.%llx, %u node(s)\n", ring_id.nodeid,
		(unsigned long long)ring_id.seq, n_members);
}

/* Dispatch until *flag is set; a dispatch error or the deadline is a failure. */
static int wait_for(struct probe *p, int fd, const bool *flag, const char *what, int64_t deadline)
{
	while (!*flag && !p->bad_callback) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		cs_error_t err;

		if (left <= 0) {
			fprintf(stderr, "abi_client: timed out waiting for %s\n", what);
			return 1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			perror("abi_client: poll");
			return 1;
		}
		err = cpg_dispatch(p->handle, CS_DISPATCH_ALL);
		if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
			return fail("cpg_dispatch", err);
	}
	return p->bad_callback ? 1 : 0;
}

static cs_error_t join_retrying(struct probe *p, int64_t deadline)
{
	cs_error_t err;

	while ((err = cpg_join(p->handle, &p->group)) == CS_ERR_TRY_AGAIN && now_ms() < deadline)
		usleep(10000);
	return err;
}

/* Two iovec parts, so the library's gathering of a message is exercised as well. */
static cs_error_t mcast_retrying(struct probe *p, int64_t deadline)
{
	size_t half = p->token_len / 2;
	struct iovec iov[2] = {
		{ .iov_base = p->token, .iov_len = half },
		{ .iov_base = p->token + half, .iov_len = p->token_len - half },
	};
	cs_error_t err;

	while ((err = cpg_mcast_joined(p->handle, CPG_TYPE_AGREED, iov, 2)) == CS_ERR_TRY_AGAIN &&
	       now_ms() < deadline)
		usleep(10000);
	return err;
}

static int check_membership(struct probe *p)
{
	struct cpg_address members[CPG_MEMBERS_MAX];
	int n = CPG_MEMBERS_MAX;
	cs_error_t err;
	int i;

	err = cpg_membership_get(p->handle, &p->group, members, &n);
	if (err != CS_OK)
		return fail("cpg_membership_get", err);
	for (i = 0; i < n; i++) {
		if (is_me(p, &members[i]))
			return 0;
	}
	fprintf(stderr, "abi_client: cpg_membership_get: %d member(s), none is node %u pid %u\n", n,
		p->nodeid, p->pid);
	return 1;
}

static int run(struct probe *p, int64_t deadline)
{
	cpg_flow_control_state_t flow;
	uint32_t max_msg = 0;
	cs_error_t err;
	int fd = -1;

	if ((err = cpg_local_get(p->handle, &p->nodeid)) != CS_OK)
		return fail("cpg_local_get", err);
	if ((err = cpg_fd_get(p->handle, &fd)) != CS_OK)
		return fail("cpg_fd_get", err);
	if ((err = cpg_max_atomic_msgsize_get(p->handle, &max_msg)) != CS_OK)
		return fail("cpg_max_atomic_msgsize_get", err);
	fprintf(stderr, "abi_client: node %u pid %u, atomic message limit %u bytes\n", p->nodeid,
		p->pid, max_msg);

	if ((err = join_retrying(p, deadline)) != CS_OK)
		return fail("cpg_join", err);
	if (wait_for(p, fd, &p->saw_join, "the confchg showing our join", deadline))
		return 1;
	if ((err = mcast_retrying(p, deadline)) != CS_OK)
		return fail("cpg_mcast_joined", err);
	if (wait_for(p, fd, &p->saw_own_message, "our own message", deadline))
		return 1;
	if (check_membership(p))
		return 1;
	if ((err = cpg_flow_control_state_get(p->handle, &flow)) != CS_OK)
		return fail("cpg_flow_control_state_get", err);
	if ((err = cpg_leave(p->handle, &p->group)) != CS_OK)
		return fail("cpg_leave", err);
	if (wait_for(p, fd, &p->saw_leave, "the confchg showing our leave", deadline))
		return 1;
	if (!p->saw_ring)
		fprintf(stderr, "abi_client: note: no ring membership callback listed this node\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "cohort-abi-client";
	int timeout_s = argc > 2 ? atoi(argv[2]) : 10;
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_ring,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	struct probe p = { .pid = (uint32_t)getpid() };
	cs_error_t err;
	int rc;

	if (strlen(group) > CPG_MAX_NAME_LENGTH || timeout_s <= 0) {
		fprintf(stderr, "usage: abi_client [group-name (max %d bytes)] [timeout-seconds]\n",
			CPG_MAX_NAME_LENGTH);
		return 2;
	}
	p.group.length = (uint32_t)strlen(group);
	memcpy(p.group.value, group, p.group.length);
	p.token_len = (size_t)snprintf(p.token, sizeof(p.token), "abi_client pid %u at %lld", p.pid,
				       (long long)now_ms());

	err = cpg_model_initialize(&p.handle, CPG_MODEL_V1, (cpg_model_data_t *)&model, &p);
	if (err != CS_OK)
		return fail("cpg_model_initialize", err);
	if (probe_of(p.handle) != &p) {
		fprintf(stderr,
			"abi_client: cpg_context_get did not return the initialize context\n");
		cpg_finalize(p.handle);
		return 1;
	}
	rc = run(&p, now_ms() + (int64_t)timeout_s * 1000);
	err = cpg_finalize(p.handle);
	if (rc == 0 && err != CS_OK)
		rc = fail("cpg_finalize", err);
	if (rc == 0)
		printf("OK\n");
	return rc;
}
