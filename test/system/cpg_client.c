/*
 * A scriptable libcpg client for the CPG system tests (test_cpg.py).
 *
 * usage: cpg_client LOGFILE [-q]
 *
 * Commands come on stdin, one per line; each is answered with one line on stdout, "OK ..."
 * or "ERR <what> <cs_error_t>". Handles are numbered from 0 in the order they were opened.
 *
 *   open K                    open K more handles (COHORT_IPC picks the daemon)
 *   join H GROUP              join, retrying CS_ERR_TRY_AGAIN (ring syncing) for 15 s
 *   joinrange H0 H1 PREFIX    handle h (H0 <= h < H1) joins PREFIX<h, 4 digits>
 *   leave H GROUP
 *   send H N GUAR SIZE [zcb]  queue N multicasts (GUAR: agreed safe fifo unordered mix);
 *                             SIZE is bytes or MIN-MAX; they go out from the main loop, so
 *                             the answer comes at once and sending overlaps everything else
 *   mark H TAG                queue one AGREED message "TAG" after the queued sends
 *   members H GROUP           OK <n> nodeid:pid:reason,...
 *   iter H TYPE [GROUP]       TYPE name|one|all: OK <n> group/nodeid/pid;...
 *   zcbcheck H                zcb alloc/free error paths of a joined handle
 *   local H                   OK <nodeid>
 *   stat                      OK <deliveries> <confchgs> <queued sends> <dead handles> <bad>
 *   fin H | finall | quit
 *
 * Every callback is logged to LOGFILE, one line each, prefixed with the handle number:
 *   <h> C <group> M=<n:p,...> L=<n:p:r,...> J=<n:p:r,...>
 *   <h> D <group> <nodeid>:<pid> <tag> <len>
 *   <h> X <cs_error_t>          the connection failed (dispatch error)
 * A message is "<tag>\0" followed by filler bytes derived from the tag; a delivery whose
 * filler is wrong is logged with the tag BAD. With -q only X lines are written (counts
 * are still kept).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpg_client.h"

struct cli cl[MAX_HANDLES];
int ncl;
FILE *evlog;
static bool quiet;
static unsigned long n_deliver, n_confchg, n_bad;

void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int idx_of(cpg_handle_t h)
{
	void *ctx = NULL;

	if (cpg_context_get(h, &ctx) != CS_OK)
		return -1;
	return (int)(intptr_t)ctx;
}

static void print_group(const struct cpg_name *g)
{
	fprintf(evlog, "%.*s", (int)(g->length > CPG_MAX_NAME_LENGTH ? 0 : g->length), g->value);
}

static void print_addrs(const char *k, const struct cpg_address *a, size_t n, bool reason)
{
	fprintf(evlog, " %s=", k);
	for (size_t i = 0; i < n; i++) {
		fprintf(evlog, "%s%u:%u", i ? "," : "", a[i].nodeid, a[i].pid);
		if (reason)
			fprintf(evlog, ":%u", a[i].reason);
	}
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	const char *m = msg;
	const char *tag = "BAD";
	size_t tl = len ? strnlen(m, len < TAG_MAX ? len : TAG_MAX) : 0;

	n_deliver++;
	if (tl < len && tl < TAG_MAX) {
		tag = m;
		for (size_t i = tl + 1; i < len; i++) {
			if ((uint8_t)m[i] != filler(m, i)) {
				tag = "BAD";
				break;
			}
		}
	}
	if (!strcmp(tag, "BAD"))
		n_bad++;
	if (quiet)
		return;
	fprintf(evlog, "%d D ", idx_of(handle));
	print_group(group);
	fprintf(evlog, " %u:%u %s %zu\n", nodeid, pid, tag, len);
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
		       const struct cpg_address *members, size_t nm, const struct cpg_address *left,
		       size_t nl, const struct cpg_address *joined, size_t nj)
{
	n_confchg++;
	if (quiet)
		return;
	fprintf(evlog, "%d C ", idx_of(handle));
	print_group(group);
	print_addrs("M", members, nm, false);
	print_addrs("L", left, nl, true);
	print_addrs("J", joined, nj, true);
	fputc('\n', evlog);
}

void mark_dead(int i, cs_error_t err)
{
	if (cl[i].dead)
		return;
	cl[i].dead = true;
	fprintf(evlog, "%d X %d\n", i, (int)err);
}

static void dispatch(int i)
{
	cs_error_t err;

	if (!cl[i].open || cl[i].dead)
		return;
	err = cpg_dispatch(cl[i].h, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
		mark_dead(i, err);
}

bool handle_arg(const char *s, int *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;

	if (!s || *end || v < 0 || v >= ncl || !cl[v].open)
		return false;
	*out = (int)v;
	return true;
}

bool name_arg(const char *s, struct cpg_name *n)
{
	size_t len = s ? strlen(s) : 0;

	if (!s || len > CPG_MAX_NAME_LENGTH)
		return false;
	memset(n, 0, sizeof(*n));
	n->length = (uint32_t)len;
	memcpy(n->value, s, len);
	return true;
}

static void cmd_open(const char *arg)
{
	cpg_model_v1_data_t v1 = { .model = CPG_MODEL_V1,
				   .cpg_deliver_fn = on_deliver,
				   .cpg_confchg_fn = on_confchg };
	long k = arg ? strtol(arg, NULL, 10) : 0;

	if (k <= 0 || ncl + k > MAX_HANDLES) {
		reply("ERR open bad-count 0");
		return;
	}
	for (long j = 0; j < k; j++) {
		struct cli *c = &cl[ncl];
		cs_error_t err = cpg_model_initialize(&c->h, CPG_MODEL_V1, (cpg_model_data_t *)&v1,
						      (void *)(intptr_t)ncl);

		if (err == CS_OK)
			err = cpg_fd_get(c->h, &c->fd);
		if (err == CS_OK)
			err = cpg_local_get(c->h, &c->nodeid);
		if (err != CS_OK) {
			reply("ERR open %d %d", ncl, (int)err);
			return;
		}
		c->open = true;
		ncl++;
	}
	reply("OK %d", ncl);
}

/* join/leave, retried while the ring syncs (TRY_AGAIN), bounded. */
static cs_error_t name_call(int i, const struct cpg_name *g, bool join)
{
	int64_t until = now_ms() + 15000;
	cs_error_t err;

	for (;;) {
		err = join ? cpg_join(cl[i].h, g) : cpg_leave(cl[i].h, g);
		if (err != CS_ERR_TRY_AGAIN || now_ms() > until)
			return err;
		dispatch(i);
		usleep(5000);
	}
}

static void cmd_join(char *a, char *b, bool join)
{
	struct cpg_name g;
	int i;
	cs_error_t err;

	if (!handle_arg(a, &i) || !name_arg(b, &g)) {
		reply("ERR args 0");
		return;
	}
	err = name_call(i, &g, join);
	if (err == CS_OK)
		reply("OK");
	else
		reply("ERR %s %d", join ? "join" : "leave", (int)err);
}

static void cmd_joinrange(char *a, char *b, char *prefix)
{
	int h0, h1;
	char name[CPG_MAX_NAME_LENGTH + 1];
	struct cpg_name g;

	if (!handle_arg(a, &h0) || !b || !prefix || strlen(prefix) > 100) {
		reply("ERR args 0");
		return;
	}
	h1 = atoi(b);
	if (h1 < h0 || h1 > ncl) {
		reply("ERR args 0");
		return;
	}
	for (int i = h0; i < h1; i++) {
		cs_error_t err;

		snprintf(name, sizeof(name), "%s%04d", prefix, i);
		name_arg(name, &g);
		err = name_call(i, &g, true);
		if (err != CS_OK) {
			reply("ERR join %d", (int)err);
			return;
		}
	}
	reply("OK");
}

static void cmd_fin(int i)
{
	cs_error_t err;

	drop_jobs(i);
	err = cpg_finalize(cl[i].h);
	cl[i].open = false;
	cl[i].zbuf = NULL;
	if (err != CS_OK)
		reply("ERR fin %d", (int)err);
	else
		reply("OK");
}

static void cmd_stat(void)
{
	unsigned long queued = 0;
	int dead = 0;

	for (int i = 0; i < ncl; i++) {
		for (struct job *j = cl[i].jobs; j; j = j->next)
			queued += j->left;
		dead += cl[i].open && cl[i].dead;
	}
	reply("OK %lu %lu %lu %d %lu", n_deliver, n_confchg, queued, dead, n_bad);
}

static bool command(char *line)
{
	char *save = NULL;
	char *cmd = strtok_r(line, " \t", &save);
	char *a[5];
	int i;

	for (int k = 0; k < 5; k++)
		a[k] = cmd ? strtok_r(NULL, " \t", &save) : NULL;
	if (!cmd)
		reply("ERR empty 0");
	else if (!strcmp(cmd, "open"))
		cmd_open(a[0]);
	else if (!strcmp(cmd, "join") || !strcmp(cmd, "leave"))
		cmd_join(a[0], a[1], !strcmp(cmd, "join"));
	else if (!strcmp(cmd, "joinrange"))
		cmd_joinrange(a[0], a[1], a[2]);
	else if (!strcmp(cmd, "send"))
		cmd_send(a[0], a[1], a[2], a[3], a[4]);
	else if (!strcmp(cmd, "mark"))
		cmd_mark(a[0], a[1]);
	else if (!strcmp(cmd, "members"))
		cmd_members(a[0], a[1]);
	else if (!strcmp(cmd, "iter"))
		cmd_iter(a[0], a[1], a[2]);
	else if (!strcmp(cmd, "zcbcheck"))
		cmd_zcbcheck(a[0]);
	else if (!strcmp(cmd, "local") && handle_arg(a[0], &i))
		reply("OK %u", cl[i].nodeid);
	else if (!strcmp(cmd, "stat"))
		cmd_stat();
	else if (!strcmp(cmd, "fin") && handle_arg(a[0], &i))
		cmd_fin(i);
	else if (!strcmp(cmd, "finall")) {
		for (i = 0; i < ncl; i++)
			if (cl[i].open)
				cpg_finalize(cl[i].h);
		for (i = 0; i < ncl; i++)
			cl[i].open = false;
		reply("OK");
	} else if (!strcmp(cmd, "quit"))
		return false;
	else
		reply("ERR unknown 0");
	return true;
}

/* Reads what stdin has; runs complete lines. False at end of input or quit. */
static bool read_commands(void)
{
	static char buf[8192];
	static size_t have;
	ssize_t r = read(0, buf + have, sizeof(buf) - 1 - have);
	char *start = buf, *nl;

	if (r <= 0)
		return false;
	have += (size_t)r;
	buf[have] = 0;
	while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
		*nl = 0;
		if (!command(start))
			return false;
		start = nl + 1;
	}
	have -= (size_t)(start - buf);
	memmove(buf, start, have);
	if (have == sizeof(buf) - 1)
		have = 0; /* an overlong line is dropped */
	return true;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_HANDLES + 1];
	static int who[MAX_HANDLES + 1];
	bool running = true;

	if (argc < 2) {
		fprintf(stderr, "usage: cpg_client LOGFILE [-q]\n");
		return 2;
	}
	quiet = argc > 2 && !strcmp(argv[2], "-q");
	evlog = fopen(argv[1], "w");
	if (!evlog) {
		perror(argv[1]);
		return 2;
	}
	setvbuf(evlog, NULL, _IOLBF, 0);
	raise_fd_limit();
	/* Bounded tests: never outlive the script that drives us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 2;
	while (running) {
		bool pending = send_round();
		int n = 1;

		pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
		for (int i = 0; i < ncl; i++) {
			if (!cl[i].open || cl[i].dead)
				continue;
			pfd[n] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
			who[n++] = i;
		}
		/* While sends are queued, come back soon: TRY_AGAIN clears as the daemon reads. */
		if (poll(pfd, (nfds_t)n, pending ? 1 : 1000) < 0 && errno != EINTR)
			break;
		for (int k = 1; k < n; k++)
			if (pfd[k].revents)
				dispatch(who[k]);
		if (pfd[0].revents)
			running = read_commands();
	}
	for (int i = 0; i < ncl; i++)
		if (cl[i].open)
			cpg_finalize(cl[i].h);
	fclose(evlog);
	return 0;
}
