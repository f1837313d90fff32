/*
 * fault_client: the CPG client of the fault campaign (test/faults/campaign.py).
 *
 * usage: fault_client LOGFILE RATE GROUP [GROUP...]
 *
 * Opens one handle per group on the daemon named by COHORT_IPC, joins, and multicasts
 * RATE numbered messages per second on each group (every third one SAFE, the others
 * AGREED) until told to stop. Every event goes to LOGFILE, one line each, so that the
 * checker (check_logs.py) can rebuild what this process sent, delivered and saw:
 *
 *   I <ms> <nodeid> <pid> <groups...>              once, first
 *   S <ms> <group> <tag>                           cpg_mcast_joined returned CS_OK
 *   D <ms> <group> <nodeid>:<pid> <tag>            a delivery (tag BAD: content corrupt)
 *   C <ms> <group> M=<n:p,..> L=<n:p:r,..> J=<n:p:r,..>   a configuration change
 *   T <ms> <group> <rep>.<seq> <n,n,..>            a totem configuration (ring) change
 *   E <ms> <group> <what> <cs_error_t>             a call failed (not TRY_AGAIN)
 *   X <ms> <group> <cs_error_t>                    the connection is gone
 *   Q <ms>                                         clean exit after "quit" (last line)
 *
 * A tag is <group>/<nodeid>/<pid>/<seq><A|S>: A for AGREED, S for SAFE. With
 * FAULT_CLIENT_BIG=N in the environment every Nth message of the first group is
 * FC_BIG_LEN bytes, more than one atomic message, so the library sends it in fragments
 * and the daemon answers CS_OK only if no membership change came in between (else
 * CS_ERR_INTERRUPT, logged as E, and the same number is sent again). <ms> is
 * CLOCK_MONOTONIC, the same clock in every network namespace, so the campaign can place
 * events against its faults. Lines are written whole (line buffering) so that a client
 * killed with SIGKILL leaves at most its last line cut.
 *
 * stdin: "stop" stops sending (deliveries go on being logged); "quit" or end of input
 * finalizes and exits 0. When every handle has lost its daemon the client exits 1.
 */
#include <corosync/cpg.h>
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
#include <time.h>
#include <unistd.h>

#define FC_MAX_GROUPS 8
#define FC_TAG_MAX 96
#define FC_MIN_LEN 128
#define FC_BURST 64 /* most messages one handle sends per loop turn */
#define FC_BIG_LEN (1200u << 10)

struct fc_group {
	cpg_handle_t h;
	int fd;
	struct cpg_name name;
	bool dead;
	uint64_t seq; /* next message number */
};

static struct fc_group groups[FC_MAX_GROUPS];
static int ngroups;
static FILE *evlog;
static unsigned my_nodeid;
static int my_pid;
static unsigned long big_every;
static char *msgbuf;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes one whole log line: "<kind> <ms> <group> " then the formatted rest. */
static void logline(char kind, int g, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logline(char kind, int g, const char *fmt, ...)
{
	char line[8192];
	int off;
	va_list ap;

	off = snprintf(line, sizeof(line), "%c %lld %.*s ", kind, (long long)now_ms(),
		       (int)groups[g].name.length, groups[g].name.value);
	va_start(ap, fmt);
	off += vsnprintf(line + off, sizeof(line) - (size_t)off - 1, fmt, ap);
	va_end(ap);
	if (off > (int)sizeof(line) - 2)
		off = (int)sizeof(line) - 2;
	line[off++] = '\n';
	fwrite(line, 1, (size_t)off, evlog);
}

static int group_of(cpg_handle_t h)
{
	void *ctx = NULL;

	if (cpg_context_get(h, &ctx) != CS_OK)
		return 0;
	return (int)(intptr_t)ctx;
}

/* Filler byte k of a message: a function of the tag, so every byte can be checked. */
static uint8_t fc_filler(const char *tag, size_t k)
{
	uint32_t s = 2166136261u;

	for (const char *p = tag; *p; p++)
		s = (s ^ (uint8_t)*p) * 16777619u;
	return (uint8_t)(s + k * 167u);
}

static const char *checked_tag(const char *m, size_t len)
{
	size_t tl = strnlen(m, len < FC_TAG_MAX ? len : FC_TAG_MAX);

	if (tl == 0 || tl >= len || tl >= FC_TAG_MAX)
		return "BAD";
	for (size_t k = tl + 1; k < len; k++)
		if ((uint8_t)m[k] != fc_filler(m, k))
			return "BAD";
	return m;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	(void)group;
	logline('D', group_of(h), "%u:%u %s", nodeid, pid, checked_tag(msg, len));
}

static int addrs(char *out, size_t cap, const char *key, const struct cpg_address *a, size_t n,
		 bool reason)
{
	int off = snprintf(out, cap, " %s=", key);

	for (size_t i = 0; i < n && (size_t)off < cap; i++)
		off += reason ? snprintf(out + off, cap - (size_t)off, "%s%u:%u:%u", i ? "," : "",
					 a[i].nodeid, a[i].pid, a[i].reason) :
				snprintf(out + off, cap - (size_t)off, "%s%u:%u", i ? "," : "",
					 a[i].nodeid, a[i].pid);
	return off;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group, const struct cpg_address *m,
		       size_t nm, const struct cpg_address *l, size_t nl,
		       const struct cpg_address *j, size_t nj)
{
	char buf[7000];
	size_t off = 0;

	(void)group;
	off += (size_t)addrs(buf + off, sizeof(buf) - off, "M", m, nm, false);
	if (off < sizeof(buf))
		off += (size_t)addrs(buf + off, sizeof(buf) - off, "L", l, nl, true);
	if (off < sizeof(buf))
		addrs(buf + off, sizeof(buf) - off, "J", j, nj, true);
	logline('C', group_of(h), "%s", buf + 1);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *ids)
{
	char buf[4096];
	int off = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < n && off < (int)sizeof(buf) - 12; i++)
		off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%s%u", i ? "," : "", ids[i]);
	logline('T', group_of(h), "%u.%llu %s", ring.nodeid, (unsigned long long)ring.seq, buf);
}

static void lost(int g, cs_error_t err)
{
	if (groups[g].dead)
		return;
	groups[g].dead = true;
	logline('X', g, "%d", (int)err);
}

/* Opens and joins group g; joins are refused (TRY_AGAIN) while the ring syncs. */
static bool fc_open(int g, const char *name)
{
	cpg_model_v1_data_t v1 = { .model = CPG_MODEL_V1,
				   .cpg_deliver_fn = on_deliver,
				   .cpg_confchg_fn = on_confchg,
				   .cpg_totem_confchg_fn = on_totem,
				   .flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF };
	struct fc_group *fg = &groups[g];
	int64_t until = now_ms() + 15000;
	cs_error_t err;

	fg->name.length = (uint32_t)strlen(name);
	memcpy(fg->name.value, name, fg->name.length);
	err = cpg_model_initialize(&fg->h, CPG_MODEL_V1, (cpg_model_data_t *)&v1,
				   (void *)(intptr_t)g);
	if (err == CS_OK)
		err = cpg_fd_get(fg->h, &fg->fd);
	if (err == CS_OK && g == 0)
		err = cpg_local_get(fg->h, &my_nodeid);
	while (err == CS_OK) {
		err = cpg_join(fg->h, &fg->name);
		if (err != CS_ERR_TRY_AGAIN || now_ms() > until)
			break;
		cpg_dispatch(fg->h, CS_DISPATCH_ALL);
		usleep(5000);
		err = CS_OK;
	}
	if (err != CS_OK) {
		fprintf(stderr, "fault_client: open/join %s: error %d\n", name, (int)err);
		return false;
	}
	return true;
}

/* Sends group g's next message; CS_OK when it went (and was logged). */
static cs_error_t send_next(int g)
{
	struct fc_group *fg = &groups[g];
	bool safe = fg->seq % 3 == 2;
	bool big = g == 0 && big_every && fg->seq % big_every == big_every - 1;
	size_t len = big ? FC_BIG_LEN : FC_MIN_LEN + (size_t)(fg->seq * 37 % 900);
	char *m = msgbuf;
	struct iovec iov[2];
	size_t tl;
	cs_error_t err;

	snprintf(m, FC_TAG_MAX, "%.*s/%u/%d/%llu%c", (int)fg->name.length, fg->name.value,
		 my_nodeid, my_pid, (unsigned long long)fg->seq, safe ? 'S' : 'A');
	tl = strlen(m);
	for (size_t k = tl + 1; k < len; k++)
		m[k] = (char)fc_filler(m, k);
	iov[0] = (struct iovec){ m, len / 2 };
	iov[1] = (struct iovec){ m + len / 2, len - len / 2 };
	err = cpg_mcast_joined(fg->h, safe ? CPG_TYPE_SAFE : CPG_TYPE_AGREED, iov, 2);
	if (err != CS_OK)
		return err;
	fg->seq++;
	logline('S', g, "%s", m);
	return CS_OK;
}

/* Sends what is due by now at `rate` per second since `t0`; true if behind. */
static bool send_due(long rate, int64_t t0)
{
	uint64_t due = (uint64_t)((now_ms() - t0) * rate / 1000);
	bool behind = false;

	for (int g = 0; g < ngroups; g++) {
		for (int k = 0; k < FC_BURST && !groups[g].dead && groups[g].seq < due; k++) {
			cs_error_t err = send_next(g);

			if (err == CS_ERR_TRY_AGAIN)
				break;
			if (err != CS_OK) {
				logline('E', g, "mcast %d", (int)err);
				if (err == CS_ERR_LIBRARY || err == CS_ERR_BAD_HANDLE)
					lost(g, err);
				break;
			}
		}
		behind |= !groups[g].dead && groups[g].seq < due;
	}
	return behind;
}

/* Reads stdin; returns 0 to go on, 1 on "stop", 2 on "quit"/end of input. */
static int read_command(void)
{
	char buf[256];
	ssize_t r = read(0, buf, sizeof(buf) - 1);

	if (r <= 0)
		return 2;
	buf[r] = 0;
	if (strstr(buf, "quit"))
		return 2;
	return strstr(buf, "stop") ? 1 : 0;
}

static int run(long rate)
{
	struct pollfd pfd[FC_MAX_GROUPS + 1];
	int64_t t0 = now_ms();
	bool sending = rate > 0;

	for (;;) {
		bool behind = sending && send_due(rate, t0);
		int live = 0;

		pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
		for (int g = 0; g < ngroups; g++) {
			pfd[g + 1] = (struct pollfd){ .fd = groups[g].dead ? -1 : groups[g].fd,
						      .events = POLLIN };
			live += !groups[g].dead;
		}
		if (!live)
			return 1;
		if (poll(pfd, (nfds_t)ngroups + 1, behind ? 1 : 5) < 0 && errno != EINTR)
			return 1;
		for (int g = 0; g < ngroups; g++) {
			cs_error_t err;

			if (groups[g].dead || !pfd[g + 1].revents)
				continue;
			err = cpg_dispatch(groups[g].h, CS_DISPATCH_ALL);
			if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
				lost(g, err);
		}
		if (pfd[0].revents) {
			int c = read_command();

			if (c == 2)
				return 0;
			if (c == 1)
				sending = false;
		}
	}
}

int main(int argc, char **argv)
{
	char head[1024];
	int off = 0, rc;

	if (argc < 4 || argc - 3 > FC_MAX_GROUPS) {
		fprintf(stderr, "usage: fault_client LOGFILE RATE GROUP [GROUP...]\n");
		return 2;
	}
	/* Never outlive the campaign that drives us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 2;
	evlog = fopen(argv[1], "w");
	if (!evlog) {
		perror(argv[1]);
		return 2;
	}
	setvbuf(evlog, NULL, _IOLBF, 1 << 16);
	my_pid = (int)getpid();
	big_every = getenv("FAULT_CLIENT_BIG") ? strtoul(getenv("FAULT_CLIENT_BIG"), NULL, 10) : 0;
	msgbuf = malloc(FC_BIG_LEN);
	if (!msgbuf)
		return 2;
	ngroups = argc - 3;
	for (int g = 0; g < ngroups; g++) {
		if (strlen(argv[3 + g]) > 32 || strchr(argv[3 + g], '/')) {
			fprintf(stderr, "fault_client: bad group name %s\n", argv[3 + g]);
			return 2;
		}
		/* The header first: callbacks of the first handle may come during the next join. */
		if (!fc_open(g, argv[3 + g]))
			return 3;
		if (g == 0)
			off = snprintf(head, sizeof(head), "I %lld %u %d", (long long)now_ms(),
				       my_nodeid, my_pid);
	}
	for (int g = 0; g < ngroups && off < (int)sizeof(head) - 40; g++)
		off += snprintf(head + off, sizeof(head) - (size_t)off, " %s", argv[3 + g]);
	fprintf(evlog, "%s\n", head);
	rc = run(strtol(argv[2], NULL, 10));
	for (int g = 0; g < ngroups; g++)
		if (!groups[g].dead)
			cpg_finalize(groups[g].h);
	if (rc == 0)
		fprintf(evlog, "Q %lld\n", (long long)now_ms());
	fclose(evlog);
	return rc;
}
