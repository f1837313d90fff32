/* cohort-cpgdemo: a small CPG client for the demo and for trying a cluster by
 * hand (like Corosync's testcpg, reduced to two verbs).
 *   cohort-cpgdemo listen GROUP COUNT   join, print COUNT messages, leave
 *   cohort-cpgdemo send GROUP TEXT...   join, multicast each TEXT, wait for
 *                                       their own delivery, leave
 * The daemon is chosen by $COHORT_IPC, as for every Cohort client. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cpg.h>

struct demo {
	unsigned want; /* messages still expected */
	bool print;
};

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	struct demo *d = NULL;
	(void)group;

	cpg_context_get(h, (void **)&d);
	if (d->print)
		printf("node %u pid %u: %.*s\n", nodeid, pid, (int)len, (const char *)msg);
	if (d->want)
		d->want--;
	fflush(stdout);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t nm, const struct cpg_address *left,
		       size_t nl, const struct cpg_address *joined, size_t nj)
{
	(void)h;
	(void)group;
	(void)members;
	(void)left;
	(void)nl;
	(void)joined;
	(void)nj;
	(void)nm;
}

static int dispatch_until_done(cpg_handle_t h, struct demo *d, int timeout_ms)
{
	int fd;
	struct pollfd p;

	if (cpg_fd_get(h, &fd) != CS_OK)
		return -1;
	p.fd = fd;
	p.events = POLLIN;
	while (d->want) {
		int r = poll(&p, 1, timeout_ms);
		if (r <= 0)
			return -1; /* timed out: the cluster did not deliver */
		if (cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: cohort-cpgdemo listen GROUP COUNT | send GROUP TEXT... | -h\n"
		   "  listen GROUP COUNT  join GROUP, print COUNT messages (20 s at most), leave\n"
		   "  send GROUP TEXT...  join GROUP, multicast each TEXT, wait until they come\n"
		   "                      back (5 s at most), leave\n"
		   "  -h, --help          this text\n"
		   "The daemon is chosen by $COHORT_IPC (default \"cohort\").\n"
		   "Exit status: 0, 1 error or timeout, 2 usage.\n");
}

int main(int argc, char **argv)
{
	cpg_callbacks_t cb = { .cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg };
	struct demo d = { 0 };
	struct cpg_name name;
	cpg_handle_t h;
	cs_error_t e;
	int rc = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 4 || (strcmp(argv[1], "listen") && strcmp(argv[1], "send")) ||
	    strlen(argv[2]) > CPG_MAX_NAME_LENGTH) {
		usage(stderr);
		return 2;
	}
	name.length = (uint32_t)strlen(argv[2]);
	memcpy(name.value, argv[2], name.length);
	if ((e = cpg_initialize(&h, &cb)) != CS_OK) {
		fprintf(stderr, "cohort-cpgdemo: cpg_initialize: error %d\n", e);
		return 1;
	}
	cpg_context_set(h, &d);
	if ((e = cpg_join(h, &name)) != CS_OK) {
		fprintf(stderr, "cohort-cpgdemo: cpg_join: error %d\n", e);
		return 1;
	}
	if (!strcmp(argv[1], "listen")) {
		d.print = true;
		d.want = (unsigned)atoi(argv[3]);
		printf("listening on %s\n", argv[2]);
		fflush(stdout);
		rc = dispatch_until_done(h, &d, 20000);
	} else {
		for (int i = 3; i < argc; i++) {
			struct iovec iov = { .iov_base = argv[i], .iov_len = strlen(argv[i]) };
			while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) ==
			       CS_ERR_TRY_AGAIN)
				usleep(1000);
			if (e != CS_OK) {
				fprintf(stderr, "cohort-cpgdemo: cpg_mcast_joined: error %d\n", e);
				return 1;
			}
			d.want++;
		}
		rc = dispatch_until_done(h, &d, 5000);
	}
	cpg_leave(h, &name);
	cpg_finalize(h);
	return rc ? 1 : 0;
}
