/* cohort-quorumtool: show and change quorum, as corosync-quorumtool(8) does,
 * through libquorum and libvotequorum.
 *
 *   -s        status; exit 0 when quorate, 2 when not, 1 on error
 *   -l        members with their votes and names
 *   -p        machine-parsable -s/-l; with -m one line per callback
 *   -m        monitor: print the status (or, with -p, each callback) as it changes
 *   -e N      set expected votes
 *   -v N [-n ID]  set the votes of node ID (default: this node)
 *   -H        node ids in hexadecimal
 *   -o a|n|i  order of the node list (as given, by name, by id)
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/quorum.h>
#include <corosync/votequorum.h>

#include "ipc/ipc_client.h"
#include "services/quorum_ipc.h"
#include "tool_common.h"
#include "util/strnum.h"

#define QT_MAX_NODES 1152
#define QT_NAME_MAX 256

struct qt_name {
	uint32_t nodeid;
	char name[QT_NAME_MAX];
};

enum qt_exit { QT_OK = 0, QT_ERROR = 1, QT_NOT_QUORATE = 2 };

struct qt_opts {
	bool status, list, monitor, parsable, hex;
	char order;
	bool set_expected, set_votes;
	uint32_t expected, votes, nodeid;
};

/* What one look at the cluster shows; filled by the callbacks. */
struct qt {
	struct qt_opts o;
	quorum_handle_t qh;
	votequorum_handle_t vh;
	bool have_vq;
	uint32_t quorum_type;
	bool got_nodelist, got_quorum;
	int quorate;
	struct quorum_ring_id ring;
	uint32_t members[QT_MAX_NODES];
	uint32_t member_count;
	struct qt_name names[QT_MAX_NODES];
	size_t name_count;
};

static void print_ids(const char *label, const uint32_t *ids, uint32_t n)
{
	printf(" %s=", label);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", ids[i]);
}

static void print_ring(uint32_t rep, uint64_t seq)
{
	printf(" ring=%x.%llx", rep, (unsigned long long)seq);
}

/* ---- callbacks -------------------------------------------------------------- */

static struct qt *qt_of(quorum_handle_t h)
{
	const void *ctx = NULL;

	quorum_context_get(h, &ctx);
	return (struct qt *)ctx;
}

static void print_status(struct qt *t);

static void on_quorum(quorum_handle_t h, uint32_t quorate, struct quorum_ring_id ring, uint32_t n,
		      const uint32_t *members)
{
	struct qt *t = qt_of(h);

	t->got_quorum = true;
	t->quorate = (int)quorate;
	t->ring = ring;
	t->member_count = n < QT_MAX_NODES ? n : QT_MAX_NODES;
	memcpy(t->members, members, t->member_count * sizeof(uint32_t));
	if (!t->o.monitor)
		return;
	if (t->o.parsable) {
		printf("QUORUM quorate=%u", quorate);
		print_ring(ring.nodeid, ring.seq);
		print_ids("members", members, n);
		printf("\n");
	} else {
		print_status(t);
	}
	fflush(stdout);
}

static void on_nodelist(quorum_handle_t h, struct quorum_ring_id ring, uint32_t n,
			const uint32_t *members, uint32_t nj, const uint32_t *joined, uint32_t nl,
			const uint32_t *left)
{
	struct qt *t = qt_of(h);

	t->got_nodelist = true;
	t->ring = ring;
	if (!t->o.monitor || !t->o.parsable)
		return;
	printf("NODELIST");
	print_ring(ring.nodeid, ring.seq);
	print_ids("members", members, n);
	print_ids("joined", joined, nj);
	print_ids("left", left, nl);
	printf("\n");
	fflush(stdout);
}

static void on_vq_quorum(votequorum_handle_t h, uint64_t context, uint32_t quorate, uint32_t n,
			 votequorum_node_t nodes[])
{
	(void)h;
	(void)context;
	printf("VQ_QUORUM quorate=%u nodes=", quorate);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%u:%s", i ? "," : "", nodes[i].nodeid,
		       nodes[i].state == VOTEQUORUM_NODESTATE_MEMBER ? "member" :
		       nodes[i].state == VOTEQUORUM_NODESTATE_DEAD   ? "dead" :
								       "leaving");
	printf("\n");
	fflush(stdout);
}

static void on_vq_nodelist(votequorum_handle_t h, uint64_t context, votequorum_ring_id_t ring,
			   uint32_t n, uint32_t ids[])
{
	(void)h;
	(void)context;
	printf("VQ_NODELIST");
	print_ring(ring.nodeid, ring.seq);
	print_ids("members", ids, n);
	printf("\n");
	fflush(stdout);
}

static void on_vq_expected(votequorum_handle_t h, uint64_t context, uint32_t expected)
{
	(void)h;
	(void)context;
	printf("VQ_EXPECTED expected=%u\n", expected);
	fflush(stdout);
}

/* ---- looking at the cluster ----------------------------------------------------- */

static int connect_all(struct qt *t)
{
	quorum_model_v1_data_t md = { QUORUM_MODEL_V1, on_quorum, on_nodelist };
	votequorum_callbacks_t vcb = { on_vq_quorum, on_vq_expected, on_vq_nodelist };
	cs_error_t e;

	e = quorum_model_initialize(&t->qh, QUORUM_MODEL_V1, (quorum_model_data_t *)&md,
				    &t->quorum_type, t);
	if (e != CS_OK) {
		fprintf(stderr, "Cannot initialize QUORUM service: %s\n", tool_cs_name(e));
		return -1;
	}
	if (t->quorum_type != QUORUM_SET)
		return 0;
	/* The parsable monitor prints votequorum's callbacks too; otherwise
	 * votequorum is only asked. */
	e = votequorum_initialize(&t->vh, t->o.monitor && t->o.parsable ? &vcb : NULL);
	if (e != CS_OK) {
		fprintf(stderr, "Cannot initialize VOTEQUORUM service: %s\n", tool_cs_name(e));
		return -1;
	}
	t->have_vq = true;
	return 0;
}

/* Node names come from cohortd's nodelist through a Cohort request on the
 * votequorum endpoint (Corosync's tool reads them from cmap). Without
 * names the lists still show ids and votes. */
static size_t names_fetch(struct qt_name *out, size_t max)
{
	struct ipc_hello hello = { IPC_PROTO_VERSION, VQ_IPC_SERVICE_ID, 0, (uint32_t)getpid() };
	const char *ipc = getenv("COHORT_IPC");
	struct ipc_hello_reply reply;
	uint8_t head[IPC_HDR_LEN];
	struct ipcc_resp r = { 0 };
	struct quorum_ipc_node n;
	struct ipcc *c = NULL;
	struct ipc_rd rd;
	uint32_t count = 0;
	size_t got = 0;

	if (ipcc_connect(ipc && ipc[0] ? ipc : "cohort", VQ_IPC_SERVICE_NAME, &hello, &reply, &c))
		return 0;
	quorum_ipc_words_encode(head, sizeof(head), VQ_IPC_NODES, 0, 0, NULL, 0);
	if (!ipcc_call(c, head, sizeof(head), NULL, 0, &r) && !r.result) {
		ipc_rd_init(&rd, r.body, r.len);
		if (quorum_ipc_nodes_count(&rd, &count))
			count = 0;
		for (uint32_t i = 0; i < count && got < max; i++) {
			if (quorum_ipc_node_next(&rd, &n))
				break;
			out[got].nodeid = n.nodeid;
			snprintf(out[got].name, sizeof(out[got].name), "%s", n.name);
			got++;
		}
	}
	free(r.body);
	ipcc_free(c);
	return got;
}

/* The current ring and members: a CS_TRACK_CURRENT snapshot. */
static int snapshot(struct qt *t)
{
	cs_error_t e;
	int q = 0;

	e = quorum_getquorate(t->qh, &q);
	if (e != CS_OK) {
		fprintf(stderr, "Cannot get quorate status: %s\n", tool_cs_name(e));
		return -1;
	}
	t->quorate = q;
	if (t->quorum_type != QUORUM_SET)
		return 0;
	t->got_quorum = t->got_nodelist = false;
	e = quorum_trackstart(t->qh, CS_TRACK_CURRENT);
	while (e == CS_OK && !t->got_quorum)
		e = quorum_dispatch(t->qh, CS_DISPATCH_ONE);
	if (e != CS_OK) {
		fprintf(stderr, "Cannot get the membership: %s\n", tool_cs_name(e));
		return -1;
	}
	t->name_count = names_fetch(t->names, QT_MAX_NODES);
	return 0;
}

static const char *name_of(const struct qt *t, uint32_t id)
{
	for (size_t i = 0; i < t->name_count; i++) {
		if (t->names[i].nodeid == id)
			return t->names[i].name;
	}
	return "";
}

struct qt_row {
	uint32_t id;
	const char *name;
};

static int by_id(const void *a, const void *b)
{
	uint32_t x = ((const struct qt_row *)a)->id, y = ((const struct qt_row *)b)->id;

	return x < y ? -1 : x > y;
}

static int by_name(const void *a, const void *b)
{
	int c = strcmp(((const struct qt_row *)a)->name, ((const struct qt_row *)b)->name);

	return c ? c : by_id(a, b);
}

static void print_members(struct qt *t, uint32_t local)
{
	static struct qt_row rows[QT_MAX_NODES];
	uint32_t n = t->member_count;

	for (uint32_t i = 0; i < n; i++)
		rows[i] = (struct qt_row){ t->members[i], name_of(t, t->members[i]) };
	if (t->o.order == 'i')
		qsort(rows, n, sizeof(rows[0]), by_id);
	else if (t->o.order == 'n')
		qsort(rows, n, sizeof(rows[0]), by_name);
	printf("\nMembership information\n----------------------\n");
	printf("    Nodeid      Votes%s Name\n", t->o.parsable ? "    Qdevice" : "");
	for (uint32_t i = 0; i < n; i++) {
		struct votequorum_info vi = { 0 };

		if (t->have_vq)
			votequorum_getinfo(t->vh, rows[i].id, &vi);
		if (t->o.hex)
			printf("0x%08x ", rows[i].id);
		else
			printf("%10u ", rows[i].id);
		printf("%10u", vi.node_votes);
		if (t->o.parsable)
			printf(" %10s", "NR");
		printf(" %s%s\n", rows[i].name, rows[i].id == local ? " (local)" : "");
	}
}

static void print_flags(uint32_t f)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {
		{ VOTEQUORUM_INFO_TWONODE, "2Node" },
		{ VOTEQUORUM_INFO_QUORATE, "Quorate" },
		{ VOTEQUORUM_INFO_WAIT_FOR_ALL, "WaitForAll" },
		{ VOTEQUORUM_INFO_LAST_MAN_STANDING, "LastManStanding" },
		{ VOTEQUORUM_INFO_AUTO_TIE_BREAKER, "AutoTieBreaker" },
		{ VOTEQUORUM_INFO_ALLOW_DOWNSCALE, "AllowDownscale" },
	};

	printf("Flags:            ");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (f & flags[i].bit)
			printf("%s ", flags[i].name);
	}
	printf("\n");
}

static void print_status(struct qt *t)
{
	struct votequorum_info vi = { 0 };
	time_t now = time(NULL);
	char date[64];

	if (t->have_vq)
		votequorum_getinfo(t->vh, 0, &vi);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", localtime(&now));
	printf("Quorum information\n------------------\n");
	printf("Date:             %s\n", date);
	printf("Quorum provider:  %s\n",
	       t->quorum_type == QUORUM_SET ? "corosync_votequorum" : "none");
	if (t->quorum_type == QUORUM_SET) {
		printf("Nodes:            %u\n", t->member_count);
		printf("Node ID:          %u\n", vi.node_id);
		printf("Ring ID:          %x.%llx\n", t->ring.nodeid,
		       (unsigned long long)t->ring.seq);
	}
	printf("Quorate:          %s\n", t->quorate ? "Yes" : "No");
	if (!t->have_vq)
		return;
	printf("\nVotequorum information\n----------------------\n");
	printf("Expected votes:   %u\n", vi.node_expected_votes);
	printf("Highest expected: %u\n", vi.highest_expected);
	printf("Total votes:      %u\n", vi.total_votes);
	printf("Quorum:           %u %s\n", vi.quorum,
	       (vi.flags & VOTEQUORUM_INFO_QUORATE) ? " " : "Activity blocked");
	print_flags(vi.flags);
	print_members(t, vi.node_id);
}

/* ---- changes --------------------------------------------------------------------- */

/* votequorum answers INVALID_PARAM for every refusal; say which one. */
static void explain(const struct votequorum_info *vi, uint32_t expected, uint32_t total)
{
	uint32_t quorum = (expected > total ? expected : total) / 2 + 1;

	if (quorum > total && !(vi->flags & VOTEQUORUM_INFO_TWONODE))
		fprintf(stderr, ": the quorum would be %u votes but only %u are present", quorum,
			total);
}

static int change(struct qt *t)
{
	struct votequorum_info vi = { 0 }, node = { 0 };
	uint32_t id = t->o.nodeid, total;
	cs_error_t e;

	votequorum_getinfo(t->vh, 0, &vi);
	total = vi.total_votes;
	if (t->o.set_expected) {
		e = votequorum_setexpected(t->vh, t->o.expected);
		if (e == CS_OK)
			return QT_OK;
		fprintf(stderr, "Unable to set expected votes to %u: %s", t->o.expected,
			tool_cs_name(e));
		if (e == CS_ERR_INVALID_PARAM)
			explain(&vi, t->o.expected, total);
	} else {
		id = id ? id : vi.node_id;
		if (votequorum_getinfo(t->vh, id, &node) != CS_OK) {
			fprintf(stderr, "Unable to set votes %u for nodeid %u: no such node\n",
				t->o.votes, id);
			return QT_ERROR;
		}
		e = votequorum_setvotes(t->vh, id, t->o.votes);
		if (e == CS_OK)
			return QT_OK;
		if (node.node_state == VOTEQUORUM_NODESTATE_MEMBER)
			total = total - node.node_votes + t->o.votes;
		fprintf(stderr, "Unable to set votes %u for nodeid %u: %s", t->o.votes, id,
			tool_cs_name(e));
		if (e == CS_ERR_INVALID_PARAM)
			explain(&vi, vi.highest_expected, total);
	}
	fprintf(stderr, "\n");
	return QT_ERROR;
}

/* ---- monitor ------------------------------------------------------------------------ */

static int monitor(struct qt *t)
{
	struct pollfd p[2] = { { -1, POLLIN, 0 }, { -1, POLLIN, 0 } };
	cs_error_t e;

	if (quorum_fd_get(t->qh, &p[0].fd) != CS_OK)
		return QT_ERROR;
	e = quorum_trackstart(t->qh, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
	if (e == CS_OK && t->have_vq && t->o.parsable) {
		if (votequorum_fd_get(t->vh, &p[1].fd) == CS_OK)
			e = votequorum_trackstart(t->vh, 0, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
	}
	if (e != CS_OK) {
		fprintf(stderr, "Unable to start tracking: %s\n", tool_cs_name(e));
		return QT_ERROR;
	}
	t->name_count = names_fetch(t->names, QT_MAX_NODES);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return QT_ERROR;
		}
		if (p[0].revents && quorum_dispatch(t->qh, CS_DISPATCH_ALL) != CS_OK)
			break;
		if (p[1].revents && votequorum_dispatch(t->vh, CS_DISPATCH_ALL) != CS_OK)
			break;
	}
	fprintf(stderr, "Lost the connection to cohortd\n");
	return QT_ERROR;
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cohort-quorumtool [-s] [-m] [-l] [-p] [-v votes] [-n nodeid] "
		"[-e expected] [-H] [-o a|n|i] [-h] [-V]\n"
		"  -s           quorum status (the default)\n"
		"  -m           monitor: print the status again on every change\n"
		"  -l           members with their votes and names\n"
		"  -p           machine-parsable output (with -m: one line per callback)\n"
		"  -e N         set expected votes\n"
		"  -v N         set the votes of node -n ID (default: this node)\n"
		"  -H           node ids in hexadecimal\n"
		"  -o a|n|i     order of -l: as given, by name, by id\n"
		"  -i, -a       accepted for compatibility; names only, no addresses\n"
		"  -h, --help   this text\n"
		"  -V           version\n"
		"Exit status: 0 (with -s: quorate), 1 error or usage, 2 (with -s) not quorate.\n");
}

static int parse_u32(const char *s, uint32_t max, const char *what, uint32_t *out)
{
	enum util_num_err e = util_parse_u32(s, 0, max, out);

	if (e == UTIL_NUM_OK)
		return 0;
	fprintf(stderr, "%s '%s' %s (0 to %u)\n", what, s, util_num_strerror(e), max);
	return -1;
}

/* One option with a value; -1 after saying what is wrong with it. */
static int parse_value(int c, const char *arg, struct qt_opts *o)
{
	switch (c) {
	case 'v':
		o->set_votes = true;
		return parse_u32(arg, 65535, "votes", &o->votes);
	case 'n':
		return parse_u32(arg, UINT32_MAX, "nodeid", &o->nodeid);
	case 'e':
		o->set_expected = true;
		if (parse_u32(arg, UINT32_MAX, "expected votes", &o->expected))
			return -1;
		if (o->expected)
			return 0;
		fprintf(stderr, "expected votes must be at least 1\n");
		return -1;
	default: /* 'o' */
		if (strlen(arg) == 1 && strchr("ani", arg[0])) {
			o->order = arg[0];
			return 0;
		}
		fprintf(stderr, "-o takes a, n or i\n");
		return -1;
	}
}

static int parse_args(int argc, char **argv, struct qt_opts *o)
{
	static const char switches[] = "smlpH";
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	bool *flag[] = { &o->status, &o->monitor, &o->list, &o->parsable, &o->hex };
	int c;

	o->order = 'a';
	while ((c = getopt_long(argc, argv, "smlpv:n:e:Hio:afhV", lo, NULL)) != -1) {
		if (c != '?' && strchr(switches, c)) {
			*flag[strchr(switches, c) - switches] = true;
		} else if (c == 'v' || c == 'n' || c == 'e' || c == 'o') {
			if (parse_value(c, optarg, o))
				return -1;
		} else if (c == 'f') {
			fprintf(stderr, "quorum devices are not supported\n");
			return -1;
		} else if (c == 'V' || c == 'h') {
			if (c == 'V')
				printf("cohort-quorumtool (Cohort)\n");
			else
				usage(stdout);
			exit(QT_OK);
		} else if (c != 'i' && c != 'a') { /* -i, -a: names only, no addresses */
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc || (o->nodeid && !o->set_votes)) {
		usage(stderr);
		return -1;
	}
	if (!o->list && !o->monitor && !o->set_expected && !o->set_votes)
		o->status = true;
	return 0;
}

int main(int argc, char **argv)
{
	static struct qt t;
	int rc = QT_OK;

	if (parse_args(argc, argv, &t.o))
		return QT_ERROR;
	if (connect_all(&t))
		return QT_ERROR;
	if ((t.o.set_expected || t.o.set_votes) && !t.have_vq) {
		fprintf(stderr, "votequorum is not the quorum provider\n");
		return QT_ERROR;
	}
	if (t.o.monitor)
		return monitor(&t);
	if (t.o.set_expected || t.o.set_votes)
		rc = change(&t);
	if (rc == QT_OK && (t.o.status || t.o.list)) {
		if (snapshot(&t))
			return QT_ERROR;
		if (t.o.status) {
			print_status(&t);
			rc = t.quorate ? QT_OK : QT_NOT_QUORATE;
		} else if (t.have_vq) {
			struct votequorum_info vi = { 0 };

			votequorum_getinfo(t.vh, 0, &vi);
			print_members(&t, vi.node_id);
		}
	}
	if (t.have_vq)
		votequorum_finalize(t.vh);
	quorum_finalize(t.qh);
	return rc;
}
