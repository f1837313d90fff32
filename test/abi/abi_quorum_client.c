/*
 * A small quorum and votequorum client built against Corosync's own headers and linked with
 * Corosync's libquorum.so.5 and libvotequorum.so.8: the binary-compatibility probe for those
 * two libraries. Run unchanged with LD_LIBRARY_PATH pointing at Cohort's libraries, against
 * cohortd, it must behave as it does against Corosync (see docs/compatibility.md).
 *
 * It expects a one-node cluster whose quorum section is
 * `quorum { provider: corosync_votequorum expected_votes: 1 }` and checks that every answer
 * fits it: quorate, one vote, one expected vote, the configured node id, and a ring formed by
 * this node (ring id = this node, seq above 0; Corosync takes no quorum client before then).
 *
 *   quorum: quorum_initialize (model V0 callbacks) reporting QUORUM_SET, quorum_getquorate,
 *     quorum_trackstart (CS_TRACK_CURRENT) with the V0 notification, quorum_finalize; then
 *     quorum_model_initialize (model V1 with both callbacks and a context), quorum_context_get
 *     from inside callbacks, quorum_getquorate, quorum_trackstart (CS_TRACK_CURRENT) with the
 *     V1 quorum and nodelist notifications (Corosync 3.1.7 sends both), quorum_finalize.
 *   votequorum: votequorum_initialize (all three callbacks), votequorum_getinfo for the node,
 *     for node 0 (the local node) and for a node that does not exist (CS_ERR_NOT_EXIST),
 *     votequorum_trackstart (CS_TRACK_CURRENT) with the quorum and nodelist notifications
 *     carrying the trackstart context, votequorum_finalize.
 *
 * Each step that fails prints what was expected and what came back, and the program exits 1;
 * success prints OK.
 *
 * usage: abi_quorum_client [nodeid] [timeout-seconds]
 */
#include <corosync/quorum.h>
#include <corosync/votequorum.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "abi_quorum_client"

struct qprobe {
	unsigned int nodeid;
	int64_t deadline;
	bool bad_callback;

	/* quorum, model V0 */
	bool v0_seen;
	/* quorum, model V1 */
	bool v1_seen;
	bool v1_nodelist_seen;
	/* votequorum */
	uint64_t vq_context;
	bool vq_quorum_seen;
	bool vq_nodelist_seen;
	bool vq_expected_seen;
};

/* quorum's V0 callbacks carry no context: the V0 pass finds its probe here. */
static struct qprobe *v0_probe;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *step, cs_error_t err)
{
	fprintf(stderr, PROG ": %s: expected CS_OK (1), got %d\n", step, (int)err);
	return 1;
}

static int wrong(const char *what, unsigned long long expected, unsigned long long got)
{
	fprintf(stderr, PROG ": %s: expected %llu, got %llu\n", what, expected, got);
	return 1;
}

static void bad(struct qprobe *p, const char *what)
{
	fprintf(stderr, PROG ": %s\n", what);
	if (p)
		p->bad_callback = true;
}

#define BAD(p, what)          \
	do {                  \
		bad(p, what); \
		return;       \
	} while (0)

/* A daemon still settling its first ring may answer CS_ERR_TRY_AGAIN: ask again until the
 * deadline. */
#define RETRYING(p, call)                                                               \
	({                                                                              \
		cs_error_t err_;                                                        \
		while ((err_ = (call)) == CS_ERR_TRY_AGAIN && now_ms() < (p)->deadline) \
			usleep(20000);                                                  \
		err_;                                                                   \
	})

static bool lists_only(const uint32_t *list, uint32_t n, unsigned int nodeid)
{
	return n == 1 && list[0] == nodeid;
}

/* Dispatch until *flag is set; a dispatch error, a bad callback or the deadline fails. */
static int wait_for(struct qprobe *p, int fd, cs_error_t (*dispatch)(uint64_t, cs_dispatch_flags_t),
		    uint64_t handle, const bool *flag, const char *what)
{
	while (!*flag && !p->bad_callback) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = p->deadline - now_ms();
		cs_error_t err;

		if (left <= 0) {
			fprintf(stderr, PROG ": timed out waiting for %s\n", what);
			return 1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			perror(PROG ": poll");
			return 1;
		}
		err = dispatch(handle, CS_DISPATCH_ALL);
		if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
			return fail("dispatch", err);
	}
	return p->bad_callback ? 1 : 0;
}

/* Right after start the daemon may not yet have counted its own vote: wait for quorate. */
static int expect_quorate(struct qprobe *p, quorum_handle_t h, const char *step)
{
	int quorate = -1;
	cs_error_t err;

	for (;;) {
		err = RETRYING(p, quorum_getquorate(h, &quorate));
		if (err != CS_OK)
			return fail(step, err);
		if (quorate == 1 || now_ms() >= p->deadline)
			break;
		usleep(50000);
	}
	return quorate == 1 ? 0 : wrong(step, 1, (unsigned long long)quorate);
}

/* ---- quorum, model V0 ---- */

static void on_v0_quorum(quorum_handle_t handle, uint32_t quorate, uint64_t ring_seq,
			 uint32_t view_list_entries, uint32_t *view_list)
{
	struct qprobe *p = v0_probe;

	(void)handle;
	if (!p)
		return;
	fprintf(stderr, PROG ": V0 notification: quorate %u, ring seq %" PRIu64 ", %u node(s)\n",
		quorate, ring_seq, view_list_entries);
	if (quorate != 1)
		BAD(p, "V0 notification: not quorate");
	if (ring_seq == 0)
		BAD(p,
		    "V0 notification: ring seq 0, a ring that was never formed (Corosync answers "
		    "only once its first ring has formed, with a seq above 0)");
	if (!lists_only(view_list, view_list_entries, p->nodeid))
		BAD(p, "V0 notification: the view list is not exactly this node");
	p->v0_seen = true;
}

static int quorum_v0(struct qprobe *p)
{
	quorum_callbacks_t callbacks = { .quorum_notify_fn = on_v0_quorum };
	uint32_t type = 0xffffffffu;
	quorum_handle_t h;
	cs_error_t err;
	int fd = -1;
	int rc;

	err = quorum_initialize(&h, &callbacks, &type);
	if (err != CS_OK)
		return fail("quorum_initialize", err);
	v0_probe = p;
	if (type != QUORUM_SET) {
		rc = wrong("quorum_initialize: quorum type (QUORUM_SET)", QUORUM_SET, type);
	} else if ((rc = expect_quorate(p, h, "quorum_getquorate (V0 handle)")) == 0) {
		if ((err = quorum_fd_get(h, &fd)) != CS_OK)
			rc = fail("quorum_fd_get (V0 handle)", err);
		else if ((err = RETRYING(p, quorum_trackstart(h, CS_TRACK_CURRENT))) != CS_OK)
			rc = fail("quorum_trackstart (V0 handle)", err);
		else
			rc = wait_for(p, fd, quorum_dispatch, h, &p->v0_seen,
				      "the V0 quorum notification");
	}
	err = quorum_finalize(h);
	v0_probe = NULL;
	if (rc == 0 && err != CS_OK)
		rc = fail("quorum_finalize (V0 handle)", err);
	return rc;
}

/* ---- quorum, model V1 ---- */

static struct qprobe *v1_probe_of(quorum_handle_t handle)
{
	const void *ctx = NULL;

	if (quorum_context_get(handle, &ctx) != CS_OK)
		return NULL;
	return (struct qprobe *)ctx;
}

static void on_v1_quorum(quorum_handle_t handle, uint32_t quorate, struct quorum_ring_id ring_id,
			 uint32_t member_list_entries, const uint32_t *member_list)
{
	struct qprobe *p = v1_probe_of(handle);

	if (!p)
		BAD(NULL, "V1 quorum notification: quorum_context_get gave no context");
	fprintf(stderr,
		PROG ": V1 quorum notification: quorate %u, ring %x.%" PRIx64 ", %u node(s)\n",
		quorate, ring_id.nodeid, ring_id.seq, member_list_entries);
	if (quorate != 1)
		BAD(p, "V1 quorum notification: not quorate");
	if (ring_id.nodeid != p->nodeid || ring_id.seq == 0)
		BAD(p, "V1 quorum notification: the ring id is not a ring formed by this node "
		       "(expected this node's id and a seq above 0)");
	if (!lists_only(member_list, member_list_entries, p->nodeid))
		BAD(p, "V1 quorum notification: the member list is not exactly this node");
	p->v1_seen = true;
}

/* Corosync 3.1.7 sends this on CS_TRACK_CURRENT too, before the quorum notification. */
static void on_v1_nodelist(quorum_handle_t handle, struct quorum_ring_id ring_id,
			   uint32_t member_list_entries, const uint32_t *member_list,
			   uint32_t joined_list_entries, const uint32_t *joined_list,
			   uint32_t left_list_entries, const uint32_t *left_list)
{
	struct qprobe *p = v1_probe_of(handle);

	(void)joined_list;
	(void)left_list;
	if (!p)
		BAD(NULL, "V1 nodelist notification: quorum_context_get gave no context");
	fprintf(stderr,
		PROG ": V1 nodelist notification: ring %x.%" PRIx64
		     ", %u member(s), %u joined, %u left\n",
		ring_id.nodeid, ring_id.seq, member_list_entries, joined_list_entries,
		left_list_entries);
	if (ring_id.nodeid != p->nodeid || ring_id.seq == 0 ||
	    !lists_only(member_list, member_list_entries, p->nodeid) || left_list_entries != 0)
		BAD(p, "V1 nodelist notification: the lists do not fit a one-node cluster");
	p->v1_nodelist_seen = true;
}

static int quorum_v1(struct qprobe *p)
{
	quorum_model_v1_data_t model = {
		.model = QUORUM_MODEL_V1,
		.quorum_notify_fn = on_v1_quorum,
		.nodelist_notify_fn = on_v1_nodelist,
	};
	uint32_t type = 0xffffffffu;
	quorum_handle_t h;
	cs_error_t err;
	int fd = -1;
	int rc;

	err = quorum_model_initialize(&h, QUORUM_MODEL_V1, (quorum_model_data_t *)&model, &type, p);
	if (err != CS_OK)
		return fail("quorum_model_initialize", err);
	if (type != QUORUM_SET)
		rc = wrong("quorum_model_initialize: quorum type (QUORUM_SET)", QUORUM_SET, type);
	else if (v1_probe_of(h) != p)
		rc = wrong("quorum_context_get: the initialize context", (uintptr_t)p,
			   (uintptr_t)v1_probe_of(h));
	else if ((rc = expect_quorate(p, h, "quorum_getquorate (V1 handle)")) == 0 &&
		 (err = quorum_fd_get(h, &fd)) != CS_OK)
		rc = fail("quorum_fd_get (V1 handle)", err);
	else if (rc == 0 && (err = RETRYING(p, quorum_trackstart(h, CS_TRACK_CURRENT))) != CS_OK)
		rc = fail("quorum_trackstart (V1 handle)", err);
	else if (rc == 0)
		rc = wait_for(p, fd, quorum_dispatch, h, &p->v1_seen, "the V1 quorum notification");
	if (rc == 0)
		rc = wait_for(p, fd, quorum_dispatch, h, &p->v1_nodelist_seen,
			      "the V1 nodelist notification");
	err = quorum_finalize(h);
	if (rc == 0 && err != CS_OK)
		rc = fail("quorum_finalize (V1 handle)", err);
	return rc;
}

/* ---- votequorum ---- */

static struct qprobe *vq_probe_of(uint64_t context)
{
	return (struct qprobe *)(uintptr_t)context;
}

static void on_vq_quorum(votequorum_handle_t handle, uint64_t context, uint32_t quorate,
			 uint32_t node_list_entries, votequorum_node_t node_list[])
{
	struct qprobe *p = vq_probe_of(context);

	(void)handle;
	fprintf(stderr, PROG ": votequorum quorum notification: quorate %u, %u node(s)\n", quorate,
		node_list_entries);
	if (!p || context != p->vq_context)
		BAD(NULL, "votequorum quorum notification: not the trackstart context");
	if (quorate != 1)
		BAD(p, "votequorum quorum notification: not quorate");
	if (node_list_entries != 1 || node_list[0].nodeid != p->nodeid ||
	    node_list[0].state != VOTEQUORUM_NODESTATE_MEMBER)
		BAD(p, "votequorum quorum notification: the node list is not exactly this "
		       "node as a member");
	p->vq_quorum_seen = true;
}

static void on_vq_expected(votequorum_handle_t handle, uint64_t context, uint32_t expected_votes)
{
	struct qprobe *p = vq_probe_of(context);

	(void)handle;
	fprintf(stderr, PROG ": votequorum expected votes notification: %u\n", expected_votes);
	if (!p || context != p->vq_context)
		BAD(NULL, "votequorum expected votes notification: not the trackstart context");
	if (expected_votes != 1)
		BAD(p, "votequorum expected votes notification: expected votes is not 1");
	p->vq_expected_seen = true;
}

static void on_vq_nodelist(votequorum_handle_t handle, uint64_t context,
			   votequorum_ring_id_t ring_id, uint32_t node_list_entries,
			   uint32_t node_list[])
{
	struct qprobe *p = vq_probe_of(context);

	(void)handle;
	fprintf(stderr,
		PROG ": votequorum nodelist notification: ring %x.%" PRIx64 ", %u node(s)\n",
		ring_id.nodeid, ring_id.seq, node_list_entries);
	if (!p || context != p->vq_context)
		BAD(NULL, "votequorum nodelist notification: not the trackstart context");
	if (ring_id.nodeid != p->nodeid || ring_id.seq == 0 ||
	    !lists_only(node_list, node_list_entries, p->nodeid))
		BAD(p, "votequorum nodelist notification: not this node's one-node ring");
	p->vq_nodelist_seen = true;
}

static int check_info(const struct qprobe *p, const struct votequorum_info *info, const char *step)
{
	char what[160];

#define EXPECT(field, value)                                                            \
	do {                                                                            \
		if ((unsigned long long)(info->field) != (unsigned long long)(value)) { \
			snprintf(what, sizeof(what), "%s: " #field, step);              \
			return wrong(what, (unsigned long long)(value),                 \
				     (unsigned long long)(info->field));                \
		}                                                                       \
	} while (0)
	EXPECT(node_id, p->nodeid);
	EXPECT(node_state, VOTEQUORUM_NODESTATE_MEMBER);
	EXPECT(node_votes, 1);
	EXPECT(node_expected_votes, 1);
	EXPECT(highest_expected, 1);
	EXPECT(total_votes, 1);
	EXPECT(quorum, 1);
	EXPECT(flags & VOTEQUORUM_INFO_QUORATE, VOTEQUORUM_INFO_QUORATE);
	EXPECT(flags & VOTEQUORUM_INFO_QDEVICE_REGISTERED, 0);
	EXPECT(qdevice_votes, 0);
#undef EXPECT
	return 0;
}

static int votequorum_checks(struct qprobe *p, votequorum_handle_t h)
{
	struct votequorum_info info;
	cs_error_t err;
	int fd = -1;

	/* Quorate comes a moment after the first ring; the flag is checked with the rest. */
	for (;;) {
		memset(&info, 0, sizeof(info));
		err = RETRYING(p, votequorum_getinfo(h, p->nodeid, &info));
		if (err != CS_OK)
			return fail("votequorum_getinfo (this node)", err);
		if ((info.flags & VOTEQUORUM_INFO_QUORATE) || now_ms() >= p->deadline)
			break;
		usleep(50000);
	}
	fprintf(stderr,
		PROG ": votequorum_getinfo: node %u state %u votes %u expected %u highest %u "
		     "total %u quorum %u flags 0x%x\n",
		info.node_id, info.node_state, info.node_votes, info.node_expected_votes,
		info.highest_expected, info.total_votes, info.quorum, info.flags);
	if (check_info(p, &info, "votequorum_getinfo (this node)"))
		return 1;

	memset(&info, 0, sizeof(info));
	err = RETRYING(p, votequorum_getinfo(h, 0, &info));
	if (err != CS_OK)
		return fail("votequorum_getinfo (node 0, the local node)", err);
	if (check_info(p, &info, "votequorum_getinfo (node 0, the local node)"))
		return 1;

	err = RETRYING(p, votequorum_getinfo(h, p->nodeid + 1000, &info));
	if (err != CS_ERR_NOT_EXIST)
		return wrong("votequorum_getinfo (a node not in the cluster): error code "
			     "(CS_ERR_NOT_EXIST)",
			     CS_ERR_NOT_EXIST, err);

	if ((err = votequorum_fd_get(h, &fd)) != CS_OK)
		return fail("votequorum_fd_get", err);
	err = RETRYING(p, votequorum_trackstart(h, p->vq_context, CS_TRACK_CURRENT));
	if (err != CS_OK)
		return fail("votequorum_trackstart", err);
	if (wait_for(p, fd, votequorum_dispatch, h, &p->vq_quorum_seen,
		     "the votequorum quorum notification"))
		return 1;
	return wait_for(p, fd, votequorum_dispatch, h, &p->vq_nodelist_seen,
			"the votequorum nodelist notification");
}

static int votequorum_pass(struct qprobe *p)
{
	votequorum_callbacks_t callbacks = {
		.votequorum_quorum_notify_fn = on_vq_quorum,
		.votequorum_expectedvotes_notify_fn = on_vq_expected,
		.votequorum_nodelist_notify_fn = on_vq_nodelist,
	};
	votequorum_handle_t h;
	cs_error_t err;
	int rc;

	p->vq_context = (uint64_t)(uintptr_t)p;
	err = votequorum_initialize(&h, &callbacks);
	if (err != CS_OK)
		return fail("votequorum_initialize", err);
	rc = votequorum_checks(p, h);
	err = votequorum_finalize(h);
	if (rc == 0 && err != CS_OK)
		rc = fail("votequorum_finalize", err);
	return rc;
}

int main(int argc, char **argv)
{
	long nodeid = argc > 1 ? strtol(argv[1], NULL, 0) : 1;
	int timeout_s = argc > 2 ? atoi(argv[2]) : 10;
	struct qprobe p = { 0 };
	int rc;

	if (nodeid <= 0 || nodeid > (long)UINT32_MAX - 1000 || timeout_s <= 0) {
		fprintf(stderr, "usage: " PROG " [nodeid] [timeout-seconds]\n");
		return 2;
	}
	p.nodeid = (unsigned int)nodeid;
	p.deadline = now_ms() + (int64_t)timeout_s * 1000;

	rc = quorum_v0(&p);
	if (rc == 0)
		rc = quorum_v1(&p);
	if (rc == 0)
		rc = votequorum_pass(&p);
	if (rc == 0) {
		fprintf(stderr,
			PROG ": votequorum expected votes notification on trackstart: %s "
			     "(Corosync 3.1.7: no)\n",
			p.vq_expected_seen ? "yes" : "no");
		printf("OK\n");
	}
	return rc;
}
