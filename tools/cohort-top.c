/* cohort-top: a one-screen live view of a running cohortd, refreshed every
 * second from the daemon's control socket ("status", "links" and "stats",
 * see src/daemon/ctl.c). Rates are differences between two samples divided
 * by the time between them, so the first screen has none.
 *
 * Plain ANSI escapes (home, clear, hide cursor) when standard output is a
 * terminal; otherwise screens follow each other separated by a blank line,
 * like top -b. No curses: the tool must run on a minimal node.
 *
 * Exit: 0, 1 when cohortd cannot be reached (at start, or at the last
 * sample), 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tool_common.h"
#include "util/strnum.h"

#define TOP_MAX_COUNTERS 128
#define TOP_MAX_LINKS 512
#define TOP_REPLY_MAX 65536

struct top_counter {
	char key[48];
	unsigned long long val;
};

/* One look at the daemon. */
struct top_sample {
	bool ok;
	struct timespec at; /* CLOCK_MONOTONIC */
	time_t wall;
	char nodeid[16], state[32], ring_id[48];
	char members[4096];
	unsigned member_count;
	struct top_counter c[TOP_MAX_COUNTERS];
	size_t nc;
	struct tool_link l[TOP_MAX_LINKS];
	size_t nl;
};

struct top_opts {
	const char *ipc;
	uint32_t count; /* 0: until interrupted */
	bool json;
};

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* ---- reading the control socket ---------------------------------------------- */

static void copy_field(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%.*s", (int)strcspn(src, "\n"), src);
}

static void parse_status(struct top_sample *s, char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *v = strchr(line, ' ');

		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "nodeid"))
			copy_field(s->nodeid, sizeof(s->nodeid), v);
		else if (!strcmp(line, "state"))
			copy_field(s->state, sizeof(s->state), v);
		else if (!strcmp(line, "ring_id"))
			copy_field(s->ring_id, sizeof(s->ring_id), v);
		else if (!strcmp(line, "members"))
			copy_field(s->members, sizeof(s->members), v);
	}
	s->member_count = 0;
	for (const char *p = s->members; *p;) {
		p += strspn(p, " ");
		if (!*p)
			break;
		s->member_count++;
		p += strcspn(p, " ");
	}
}

/* "key value" lines; unknown keys are kept too, for --json. */
static void parse_stats(struct top_sample *s, char *text)
{
	for (char *line = strtok(text, "\n"); line && s->nc < TOP_MAX_COUNTERS;
	     line = strtok(NULL, "\n")) {
		struct top_counter *c = &s->c[s->nc];
		char *v = strchr(line, ' ');
		uint64_t val;

		if (!v)
			continue;
		*v++ = 0;
		if (strlen(line) >= sizeof(c->key) ||
		    util_parse_u64(v, 0, UINT64_MAX, &val) != UTIL_NUM_OK)
			continue;
		snprintf(c->key, sizeof(c->key), "%s", line);
		c->val = val;
		s->nc++;
	}
}

static void parse_links(struct top_sample *s, const char *text)
{
	for (const char *p = text; *p && s->nl < TOP_MAX_LINKS;) {
		if (tool_parse_link(p, &s->l[s->nl]) == 0)
			s->nl++;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
}

static int sample_take(const char *ipc, struct top_sample *s)
{
	static char buf[TOP_REPLY_MAX];

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	s->wall = time(NULL);
	if (tool_ctl_ask(ipc, "status", buf, sizeof(buf)) || !strncmp(buf, "error", 5))
		return -1;
	parse_status(s, buf);
	/* A daemon too old for one of the commands still shows the rest. */
	if (!tool_ctl_ask(ipc, "stats", buf, sizeof(buf)) && strncmp(buf, "error", 5))
		parse_stats(s, buf);
	if (!tool_ctl_ask(ipc, "links", buf, sizeof(buf)) && strncmp(buf, "error", 5))
		parse_links(s, buf);
	s->ok = true;
	return 0;
}

static const unsigned long long *counter(const struct top_sample *s, const char *key)
{
	for (size_t i = 0; i < s->nc; i++)
		if (!strcmp(s->c[i].key, key))
			return &s->c[i].val;
	return NULL;
}

static double seconds_between(const struct top_sample *a, const struct top_sample *b)
{
	return (double)(b->at.tv_sec - a->at.tv_sec) +
	       (double)(b->at.tv_nsec - a->at.tv_nsec) / 1e9;
}

/* Rate of key from prev to cur; false when either lacks it, there is no
 * previous sample, or the counter went back (the daemon restarted). */
static bool rate(const struct top_sample *prev, const struct top_sample *cur, const char *key,
		 double *out)
{
	const unsigned long long *a, *b;
	double dt;

	if (!prev || !prev->ok)
		return false;
	a = counter(prev, key);
	b = counter(cur, key);
	dt = seconds_between(prev, cur);
	if (!a || !b || *b < *a || dt <= 0)
		return false;
	*out = (double)(*b - *a) / dt;
	return true;
}

static const struct tool_link *link_find(const struct top_sample *s, uint32_t node, uint32_t link)
{
	for (size_t i = 0; s && i < s->nl; i++)
		if (s->l[i].node == node && s->l[i].link == link)
			return &s->l[i];
	return NULL;
}

/* ---- the screen ------------------------------------------------------------------- */

static unsigned long long counter_or(const struct top_sample *s, const char *key,
				     unsigned long long dflt)
{
	const unsigned long long *v = counter(s, key);

	return v ? *v : dflt;
}

/* One line: quorum, local clients and groups, the ring's send backlog. */
static void print_services(const struct top_sample *s)
{
	if (!counter(s, "quorum.quorate")) {
		printf("\n");
		return; /* a daemon from before these counters */
	}
	if (counter_or(s, "quorum.provider", 0))
		printf("Quorate: %-4s votes %llu/%llu, needs %llu",
		       counter_or(s, "quorum.quorate", 0) ? "yes" : "no",
		       counter_or(s, "quorum.total_votes", 0),
		       counter_or(s, "quorum.expected_votes", 0),
		       counter_or(s, "quorum.quorum", 0));
	else
		printf("Quorum: no provider");
	printf("   Clients: %llu   Groups: %llu   Up: %llus\n", counter_or(s, "ipc.connections", 0),
	       counter_or(s, "cpg.groups", 0), counter_or(s, "daemon.uptime_s", 0));
	printf("Token rotation: %.3f ms (last %.3f ms)   Send backlog: %llu B\n\n",
	       (double)counter_or(s, "totem.token_rotation_us", 0) / 1e3,
	       (double)counter_or(s, "totem.token_rotation_last_us", 0) / 1e3,
	       counter_or(s, "daemon.pending_bytes", 0));
}

struct top_row {
	const char *label, *key;
};

static const struct top_row ring_rows[] = {
	{ "messages delivered", "totem.delivered" },
	{ "retransmits", "totem.retransmits" },
	{ "token retransmits", "totem.token_retransmits" },
	{ "token losses", "totem.token_losses" },
	{ "rings formed", "totem.rings_formed" },
	{ "merge backoffs", "totem.merge_backoffs" },
	{ "bytes received", "net.rx_bytes" },
	{ "bytes sent", "net.tx_bytes" },
};

/* Dropped packets, by the reason the daemon counts them under. The crypto
 * lines are part of net.rx_rejected (the rarer crypto reasons are in
 * --json); the last two are clients, not packets. */
static const struct top_row drop_rows[] = {
	{ "net.rx_rejected", "net.rx_rejected" },
	{ "  crypto auth failed", "crypto.rejected.auth_failed" },
	{ "  crypto replay", "crypto.rejected.replay" },
	{ "  crypto too old", "crypto.rejected.too_old" },
	{ "net.rx_oneway", "net.rx_oneway" },
	{ "net.rx_unknown_source", "net.rx_unknown_source" },
	{ "net.rx_spoofed", "net.rx_spoofed" },
	{ "net.rx_truncated", "net.rx_truncated" },
	{ "totem.rx_rejected", "totem.rx_rejected" },
	{ "totem.rx_backoff", "totem.rx_backoff" },
	{ "ipc.bad_frames", "ipc.bad_frames" },
	{ "ipc.backlog_drops", "ipc.backlog_drops" },
};

static void print_rows(const char *title, const struct top_row *rows, size_t n,
		       const struct top_sample *prev, const struct top_sample *cur)
{
	printf("%-26s %14s %12s\n", title, "total", "per second");
	for (size_t i = 0; i < n; i++) {
		const unsigned long long *v = counter(cur, rows[i].key);
		double r;

		printf("  %-24s ", rows[i].label);
		if (v)
			printf("%14llu", *v);
		else
			printf("%14s", "n/a");
		if (rate(prev, cur, rows[i].key, &r))
			printf(" %12.1f\n", r);
		else
			printf(" %12s\n", "-");
	}
}

static void print_link_rate(const struct tool_link *p, const struct tool_link *l, double dt,
			    bool rx)
{
	unsigned long long a = p ? (rx ? p->rx : p->tx) : 0, b = rx ? l->rx : l->tx;

	if (p && dt > 0 && b >= a)
		printf(" %10.1f", (double)(b - a) / dt);
	else
		printf(" %10s", "-");
}

static void print_links(const struct top_sample *prev, const struct top_sample *cur, int room)
{
	double dt = prev && prev->ok ? seconds_between(prev, cur) : 0;
	size_t up = 0, shown = 0;

	for (size_t i = 0; i < cur->nl; i++)
		up += cur->l[i].up;
	printf("Links: %zu up, %zu down\n", up, cur->nl - up);
	if (!cur->nl)
		return;
	printf("  %10s %4s  %-28s %-5s %10s %10s %9s\n", "node", "link", "address", "state", "rx/s",
	       "tx/s", "rtt ms");
	for (size_t i = 0; i < cur->nl; i++) {
		const struct tool_link *l = &cur->l[i];

		/* On a terminal keep to one screen; say what was left out. */
		if (room >= 0 && (int)shown >= room && shown + 1 < cur->nl) {
			printf("  ... %zu more links\n", cur->nl - shown);
			break;
		}
		printf("  %10u %4u  %-28s %-5s", l->node, l->link, l->addr, l->up ? "up" : "down");
		print_link_rate(link_find(prev && prev->ok ? prev : NULL, l->node, l->link), l, dt,
				true);
		print_link_rate(link_find(prev && prev->ok ? prev : NULL, l->node, l->link), l, dt,
				false);
		if (l->has_rtt)
			printf(" %9.3f\n", (double)l->rtt_us / 1000.0);
		else
			printf(" %9s\n", "-");
		shown++;
	}
}

static int screen_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row == 0)
		return 24;
	return ws.ws_row;
}

static void print_screen(const struct top_opts *o, const struct top_sample *prev,
			 const struct top_sample *cur, bool tty)
{
	char when[32];
	/* Header, ring and drop tables with their titles and blank lines. */
	int fixed = 8 + 1 + (int)(sizeof(ring_rows) / sizeof(ring_rows[0])) + 2 +
		    (int)(sizeof(drop_rows) / sizeof(drop_rows[0])) + 3;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&cur->wall));
	printf("cohort-top - ipc \"%s\" - %s\n", o->ipc, when);
	if (!cur->ok) {
		printf("\ncohortd is not answering on its control socket.\n");
		return;
	}
	printf("Node ID: %-10s State: %-14s Ring ID: %s\n", cur->nodeid, cur->state, cur->ring_id);
	printf("Members (%u): %s\n", cur->member_count, cur->members);
	print_services(cur);
	print_rows("Ring", ring_rows, sizeof(ring_rows) / sizeof(ring_rows[0]), prev, cur);
	printf("\n");
	print_rows("Dropped packets", drop_rows, sizeof(drop_rows) / sizeof(drop_rows[0]), prev,
		   cur);
	printf("\n");
	print_links(prev, cur, tty ? screen_rows() - fixed : -1);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void print_json(const struct top_opts *o, const struct top_sample *prev,
		       const struct top_sample *cur)
{
	const char *sep = "";
	double r;

	printf("{\"ipc\": ");
	tool_json_string(stdout, o->ipc, strlen(o->ipc));
	printf(", \"time\": %lld, \"reachable\": %s, \"nodeid\": %s, \"state\": ",
	       (long long)cur->wall, cur->ok ? "true" : "false",
	       cur->nodeid[0] ? cur->nodeid : "null");
	tool_json_string(stdout, cur->state, strlen(cur->state));
	printf(", \"ring_id\": ");
	tool_json_string(stdout, cur->ring_id, strlen(cur->ring_id));
	printf(", \"members\": [");
	for (const char *p = cur->members; *p;) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n)
			printf("%s%.*s", sep, (int)n, p);
		sep = ", ";
		p += n;
	}
	printf("], \"counters\": {");
	for (size_t i = 0; i < cur->nc; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", cur->c[i].key, cur->c[i].val);
	printf("}, \"rates\": {");
	sep = "";
	for (size_t i = 0; i < cur->nc; i++) {
		if (rate(prev, cur, cur->c[i].key, &r)) {
			printf("%s\"%s\": %.3f", sep, cur->c[i].key, r);
			sep = ", ";
		}
	}
	printf("}, \"links\": [");
	for (size_t i = 0; i < cur->nl; i++) {
		const struct tool_link *l = &cur->l[i];

		printf("%s{\"node\": %u, \"link\": %u, \"address\": ", i ? ", " : "", l->node,
		       l->link);
		tool_json_string(stdout, l->addr, strlen(l->addr));
		printf(", \"state\": \"%s\", \"rx\": %llu, \"tx\": %llu", l->up ? "up" : "down",
		       l->rx, l->tx);
		if (l->has_rtt)
			printf(", \"rtt_us\": %llu", l->rtt_us);
		printf("}");
	}
	printf("]}\n");
}

/* ---- main -------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "Usage: cohort-top [-n COUNT] [--once] [--json] [--ipc NAME] [-h]\n"
		   "Live view of a running cohortd, refreshed every second.\n"
		   "  -n COUNT     show COUNT screens, then exit (default: until interrupted)\n"
		   "  --once       one screen, then exit (same as -n 1)\n"
		   "  --json       one JSON snapshot (with -n, one JSON line per second)\n"
		   "  --ipc NAME   the daemon's IPC name (default: $COHORT_IPC or \"cohort\")\n"
		   "  -h, --help   this text\n"
		   "Exit status: 0, 1 cohortd not reachable, 2 usage.\n");
}

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	static const struct option lo[] = { { "once", no_argument, NULL, '1' },
					    { "json", no_argument, NULL, 'j' },
					    { "ipc", required_argument, NULL, 'i' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	bool count_given = false;
	int c;

	o->ipc = tool_ipc_name();
	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (util_parse_u32(optarg, 1, UINT32_MAX, &o->count) != UTIL_NUM_OK) {
				fprintf(stderr,
					"cohort-top: -n %s: expected a count of 1 or more\n",
					optarg);
				return -1;
			}
			count_given = true;
			break;
		case '1':
			o->count = 1;
			count_given = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'i':
			o->ipc = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(TOOL_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cohort-top: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (o->json && !count_given)
		o->count = 1;
	return 0;
}

/* Sleeps until start + n seconds, so the screens keep a one-second pace
 * however long a sample took. False when interrupted by a stop signal. */
static bool wait_tick(const struct timespec *start, uint32_t n)
{
	struct timespec t = { start->tv_sec + (time_t)n, start->tv_nsec };

	while (!top_stop) {
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);

		if (!e)
			return true;
		if (e != EINTR)
			return false;
	}
	return false;
}

int main(int argc, char **argv)
{
	static struct top_sample samples[2];
	struct top_opts o = { 0 };
	struct top_sample *prev = NULL, *cur;
	struct sigaction sa = { 0 };
	struct timespec start;
	bool tty, live;

	if (parse_args(argc, argv, &o))
		return TOOL_USAGE;
	if (sample_take(o.ipc, &samples[0])) {
		fprintf(stderr, "cohort-top: cannot reach cohortd (ipc \"%s\"): is it running?\n",
			o.ipc);
		return TOOL_ERROR;
	}
	cur = &samples[0];
	start = cur->at;
	tty = isatty(STDOUT_FILENO);
	live = tty && !o.json && o.count != 1;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (live)
		printf("\033[?25l"); /* hide the cursor while the screen is redrawn */
	for (uint32_t i = 1;; i++) {
		if (o.json)
			print_json(&o, prev, cur);
		else if (live)
			printf("\033[H\033[J");
		else if (i > 1)
			printf("\n");
		if (!o.json)
			print_screen(&o, prev, cur, live);
		fflush(stdout);
		if ((o.count && i >= o.count) || !wait_tick(&start, i))
			break;
		prev = cur;
		cur = &samples[i % 2];
		sample_take(o.ipc, cur);
	}
	if (live)
		printf("\033[?25h\n");
	fflush(stdout);
	return cur->ok ? TOOL_OK : TOOL_ERROR;
}
