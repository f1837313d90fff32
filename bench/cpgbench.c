/*
 * cohort-cpgbench: CPG throughput and latency, through the public cpg.h API only.
 *
 * The same source is built twice: against Cohort's include/corosync and libcpg
 * (cohort-cpgbench) and against Corosync's /usr/include/corosync/cpg.h and libcpg.so.4
 * (cohort-cpgbench-corosync), so that both systems are driven by identical client code.
 *
 * Every process joins one group and waits until the group has --wait-members members, so
 * that processes started on several nodes begin together (the configuration change that
 * completes the group is delivered at the same point of the total order everywhere).
 *
 *   send     multicast AGREED messages of --size bytes for --seconds (or --count
 *            messages), then one END message; counts deliveries of its own and others'
 *            messages during the sending window.
 *   recv     only counts deliveries, until --ends END messages have arrived.
 *   latency  one message at a time: time from cpg_mcast_joined() to its own delivery.
 *   idle     joins, then does not dispatch for --seconds (a client that stopped reading),
 *            then reports whether its daemon cut it off.
 * --rate caps a sender's messages/s (in latency mode it sets the gap between samples);
 * --delay-us makes a receiver slow (a pause per delivered message): the flow-control
 * tests (test/system/test_limits.py) use both. LAT_DUMP=FILE in the environment writes a
 * latency run's samples there, in sending order.
 *
 * One result line per process on stdout, "cpgbench key=value ...", MB = 10^6 bytes.
 * Exit status 0 on success, 1 on an API error or a timeout, 2 on bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#define BENCH_MAGIC 0x43504742u /* "CPGB" */
#define BENCH_DATA 1u
#define BENCH_END 2u
#define BENCH_WARMUP 20

/* Head of every message; the rest of the --size bytes is filler. */
struct bench_hdr {
	uint32_t magic;
	uint32_t kind;
	uint64_t seq;
};

enum bench_mode { MODE_SEND, MODE_RECV, MODE_LATENCY, MODE_IDLE };

struct bench_opts {
	enum bench_mode mode;
	const char *group;
	size_t size;
	double seconds;
	uint64_t count;
	unsigned wait_members;
	unsigned ends;
	double timeout;
	const char *label;
	double rate;	   /* send: messages/s at most, 0 = as fast as possible */
	unsigned delay_us; /* pause per delivered message (a slow receiver) */
};

static unsigned deliver_delay_us;

struct bench_state {
	cpg_handle_t h;
	int fd;
	uint32_t nodeid;
	uint32_t pid;
	size_t members;
	/* deliveries, counted in the callback */
	uint64_t own;
	uint64_t other;
	uint64_t ends_seen;
	uint64_t bad;
	uint64_t next_own_seq;
	int own_end_seen;
	double first_data_t;
	double last_data_t;
};

static struct bench_state st;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct bench_hdr hd;
	int mine = nodeid == st.nodeid && pid == st.pid;

	(void)handle;
	(void)group;
	if (len < sizeof(hd)) {
		st.bad++;
		return;
	}
	memcpy(&hd, msg, sizeof(hd));
	if (deliver_delay_us)
		usleep(deliver_delay_us);
	if (hd.magic != BENCH_MAGIC) {
		st.bad++;
		return;
	}
	if (hd.kind == BENCH_END) {
		st.ends_seen++;
		if (mine)
			st.own_end_seen = 1;
		return;
	}
	st.last_data_t = now_s();
	if (st.first_data_t == 0)
		st.first_data_t = st.last_data_t;
	if (!mine) {
		st.other++;
		return;
	}
	/* AGREED keeps each sender's order: own messages must come back in sequence */
	if (hd.seq != st.next_own_seq)
		st.bad++;
	st.next_own_seq = hd.seq + 1;
	st.own++;
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	(void)handle;
	(void)group;
	(void)members;
	(void)left;
	(void)n_left;
	(void)joined;
	(void)n_joined;
	st.members = n_members;
}

static cpg_callbacks_t callbacks = { .cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg };

/* Wait up to timeout_ms for the library's fd, then run every pending callback. */
static int pump(int timeout_ms)
{
	struct pollfd p = { .fd = st.fd, .events = POLLIN };
	cs_error_t err;
	int r = poll(&p, 1, timeout_ms);

	if (r < 0 && errno != EINTR) {
		perror("cpgbench: poll");
		return -1;
	}
	if (r <= 0)
		return 0;
	err = cpg_dispatch(st.h, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		fprintf(stderr, "cpgbench: cpg_dispatch: error %d\n", err);
		return -1;
	}
	return 0;
}

static int connect_and_join(const struct bench_opts *o)
{
	struct cpg_name name;
	double give_up = now_s() + o->timeout;
	cs_error_t err;

	/* the daemon may still be starting: retry for a while */
	while ((err = cpg_initialize(&st.h, &callbacks)) != CS_OK) {
		if (now_s() > give_up) {
			fprintf(stderr, "cpgbench: cpg_initialize: error %d\n", err);
			return -1;
		}
		usleep(50000);
	}
	if (cpg_fd_get(st.h, &st.fd) != CS_OK || cpg_local_get(st.h, &st.nodeid) != CS_OK) {
		fprintf(stderr, "cpgbench: cpg_fd_get/cpg_local_get failed\n");
		return -1;
	}
	st.pid = (uint32_t)getpid();
	name.length = (uint32_t)strlen(o->group);
	memcpy(name.value, o->group, name.length);
	while ((err = cpg_join(st.h, &name)) == CS_ERR_TRY_AGAIN && now_s() < give_up)
		usleep(10000);
	if (err != CS_OK) {
		fprintf(stderr, "cpgbench: cpg_join: error %d\n", err);
		return -1;
	}
	while (st.members < o->wait_members) {
		if (now_s() > give_up) {
			fprintf(stderr, "cpgbench: %zu of %u members after %.0f s\n", st.members,
				o->wait_members, o->timeout);
			return -1;
		}
		if (pump(100) < 0)
			return -1;
	}
	return 0;
}

/* Multicast one message, dispatching while the daemon says try again. */
static int send_one(char *buf, size_t size, uint32_t kind, uint64_t seq, uint64_t *again,
		    double give_up)
{
	struct bench_hdr hd = { .magic = BENCH_MAGIC, .kind = kind, .seq = seq };
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	cs_error_t err;

	memcpy(buf, &hd, sizeof(hd));
	for (;;) {
		err = cpg_mcast_joined(st.h, CPG_TYPE_AGREED, &iov, 1);
		if (err == CS_OK)
			return 0;
		if (err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpgbench: cpg_mcast_joined: error %d\n", err);
			return -1;
		}
		(*again)++;
		if (now_s() > give_up)
			return 1;
		if (pump(1) < 0)
			return -1;
	}
}

/* Dispatch until cond() holds or the deadline passes; 0 when it held. */
static int wait_until(int (*cond)(const struct bench_opts *), const struct bench_opts *o,
		      double deadline)
{
	while (!cond(o)) {
		if (now_s() > deadline)
			return 1;
		if (pump(10) < 0)
			return -1;
	}
	return 0;
}

static int drained(const struct bench_opts *o)
{
	return st.own_end_seen && st.ends_seen >= o->ends;
}

static int all_ends(const struct bench_opts *o)
{
	return st.ends_seen >= o->ends;
}

static void print_head(const struct bench_opts *o, const char *mode)
{
	printf("cpgbench label=%s mode=%s size=%zu nodeid=%" PRIu32 " members=%zu", o->label, mode,
	       o->size, st.nodeid, st.members);
}

static int run_send(const struct bench_opts *o, char *buf)
{
	uint64_t sent = 0, again = 0, own0, other0, own1, other1;
	size_t unread = 0;
	double t0, t1, end;
	int rc;

	own0 = st.own;
	other0 = st.other;
	t0 = now_s();
	end = t0 + o->seconds;
	while ((o->count == 0 || sent < o->count) && (o->seconds <= 0 || now_s() < end)) {
		/* paced: dispatch until the next message is due */
		while (o->rate > 0 && now_s() < t0 + (double)sent / o->rate)
			if (pump(1) < 0)
				return -1;
		rc = send_one(buf, o->size, BENCH_DATA, sent, &again, t0 + o->timeout);
		if (rc)
			return rc < 0 ? -1 : 1;
		sent++;
		/*
		 * Read deliveries as they come (every 8 messages or 256 KiB sent, whichever is
		 * first), so that our backlog in the daemon stays small.
		 */
		unread += o->size;
		if (((sent & 7) == 0 || unread >= 256 * 1024) && pump(0) < 0)
			return -1;
		if ((sent & 7) == 0 || unread >= 256 * 1024)
			unread = 0;
	}
	t1 = now_s();
	own1 = st.own;
	other1 = st.other;
	rc = send_one(buf, sizeof(struct bench_hdr), BENCH_END, sent, &again, t1 + o->timeout);
	if (rc >= 0)
		rc = wait_until(drained, o, t1 + o->timeout);
	print_head(o, "send");
	printf(" seconds=%.4f sent=%" PRIu64 " own=%" PRIu64 " other=%" PRIu64
	       " msgs_s=%.1f own_msgs_s=%.1f mb_s=%.3f try_again=%" PRIu64 " total_own=%" PRIu64
	       " total_other=%" PRIu64 " drained=%d bad=%" PRIu64 "\n",
	       t1 - t0, sent, own1 - own0, other1 - other0,
	       (double)(own1 - own0 + other1 - other0) / (t1 - t0),
	       (double)(own1 - own0) / (t1 - t0),
	       (double)(own1 - own0 + other1 - other0) * (double)o->size / (t1 - t0) / 1e6, again,
	       st.own, st.other, rc == 0, st.bad);
	return rc < 0 ? -1 : (rc > 0 || st.own != sent || st.bad);
}

static int run_recv(const struct bench_opts *o)
{
	int rc = wait_until(all_ends, o, now_s() + o->timeout);
	double t = st.last_data_t - st.first_data_t;
	print_head(o, "recv");
	printf(" seconds=%.4f other=%" PRIu64 " msgs_s=%.1f mb_s=%.3f ends=%" PRIu64
	       " complete=%d bad=%" PRIu64 "\n",
	       t, st.other, t > 0 ? (double)st.other / t : 0.0,
	       t > 0 ? (double)st.other * (double)o->size / t / 1e6 : 0.0, st.ends_seen, rc == 0,
	       st.bad);
	return rc != 0 || st.bad;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

/* own deliveries the latency loop is waiting for */
static uint64_t lat_want;

static int own_seq_back(const struct bench_opts *o)
{
	(void)o;
	return st.own >= lat_want;
}

static int run_latency(const struct bench_opts *o, char *buf)
{
	uint64_t n = o->count ? o->count : 1000000, seq, again = 0, k = 0;
	double *lat = calloc(n, sizeof(*lat)), t_stop = now_s() + o->seconds, t = 0, sum = 0;
	int rc = 0;

	if (!lat)
		return -1;
	for (seq = 0; seq < n + BENCH_WARMUP && rc == 0; seq++) {
		if (seq >= BENCH_WARMUP && o->seconds > 0 && now_s() > t_stop)
			break;
		/* --rate: an idle gap between samples (an idle ring may hold its token) */
		while (o->rate > 0 && seq > 0 && now_s() < t + 1.0 / o->rate)
			if (pump(1) < 0)
				return -1;
		lat_want = seq + 1;
		t = now_s();
		rc = send_one(buf, o->size, BENCH_DATA, seq, &again, t + o->timeout);
		if (rc == 0)
			rc = wait_until(own_seq_back, o, t + o->timeout);
		if (rc == 0 && seq >= BENCH_WARMUP) {
			lat[k] = now_s() - t;
			sum += lat[k++];
		}
	}
	if (rc == 0)
		rc = send_one(buf, sizeof(struct bench_hdr), BENCH_END, seq, &again,
			      now_s() + o->timeout);
	if (rc == 0)
		rc = wait_until(drained, o, now_s() + o->timeout);
	if (getenv("LAT_DUMP")) {
		FILE *f = fopen(getenv("LAT_DUMP"), "w");
		for (uint64_t i = 0; f && i < k; i++)
			fprintf(f, "%.1f\n", lat[i] * 1e6);
		if (f)
			fclose(f);
	}
	qsort(lat, k, sizeof(*lat), cmp_double);
	print_head(o, "latency");
	if (k > 0)
		printf(" samples=%" PRIu64 " p50_us=%.1f p99_us=%.1f min_us=%.1f mean_us=%.1f "
		       "max_us=%.1f try_again=%" PRIu64 " ok=%d bad=%" PRIu64 "\n",
		       k, quantile(lat, k, 0.5) * 1e6, quantile(lat, k, 0.99) * 1e6, lat[0] * 1e6,
		       sum / (double)k * 1e6, lat[k - 1] * 1e6, again, rc == 0, st.bad);
	else
		printf(" samples=0 ok=0\n");
	free(lat);
	return rc != 0 || k == 0 || st.bad;
}

/* Stop reading for --seconds, then see whether the connection survived. */
static int run_idle(const struct bench_opts *o)
{
	cs_error_t err;

	usleep((useconds_t)(o->seconds * 1e6));
	err = cpg_dispatch(st.h, CS_DISPATCH_ALL);
	print_head(o, "idle");
	printf(" seconds=%.1f delivered=%" PRIu64 " cut=%d\n", o->seconds, st.own + st.other,
	       err != CS_OK && err != CS_ERR_TRY_AGAIN);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cohort-cpgbench [--mode send|recv|latency|idle] [--size BYTES] [--seconds S]\n"
		"                       [--count N] [--group NAME] [--wait-members N] [--ends N]\n"
		"                       [--timeout S] [--label TEXT] [--rate MSGS_S] [--delay-us US]\n"
		"  send: multicast AGREED messages for S seconds (default 3) or N messages\n"
		"  recv: count deliveries until N END messages (--ends, default 1)\n"
		"  latency: one message at a time, N samples (default 2000) or S seconds\n"
		"  idle: join, do not dispatch for S seconds, report whether it was cut off\n"
		"  --wait-members: start once the group has that many members (default 1)\n"
		"  --timeout: limit for connecting, draining and each wait (default 30 s)\n"
		"One line per result: cpgbench key=value ... (MB = 10^6 bytes)\n");
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = { { "mode", required_argument, NULL, 'm' },
						  { "size", required_argument, NULL, 's' },
						  { "seconds", required_argument, NULL, 't' },
						  { "count", required_argument, NULL, 'n' },
						  { "group", required_argument, NULL, 'g' },
						  { "wait-members", required_argument, NULL, 'w' },
						  { "ends", required_argument, NULL, 'e' },
						  { "timeout", required_argument, NULL, 'T' },
						  { "label", required_argument, NULL, 'l' },
						  { "rate", required_argument, NULL, 'r' },
						  { "delay-us", required_argument, NULL, 'd' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "m:s:t:n:g:w:e:T:l:r:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "send"))
				o->mode = MODE_SEND;
			else if (!strcmp(optarg, "recv"))
				o->mode = MODE_RECV;
			else if (!strcmp(optarg, "latency"))
				o->mode = MODE_LATENCY;
			else if (!strcmp(optarg, "idle"))
				o->mode = MODE_IDLE;
			else
				return -1;
			break;
		case 's':
			o->size = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'n':
			o->count = strtoull(optarg, NULL, 0);
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'w':
			o->wait_members = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'e':
			o->ends = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'T':
			o->timeout = strtod(optarg, NULL);
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'r':
			o->rate = strtod(optarg, NULL);
			break;
		case 'd':
			o->delay_us = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || o->size < sizeof(struct bench_hdr) || strlen(o->group) == 0 ||
	    strlen(o->group) > CPG_MAX_NAME_LENGTH || o->timeout <= 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .mode = MODE_SEND,
				.group = "cohort-cpgbench",
				.size = 1024,
				.seconds = -1,
				.wait_members = 1,
				.ends = 1,
				.timeout = 30,
				.label = "-" };
	char *buf;
	int rc;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.seconds < 0)
		o.seconds = o.mode == MODE_SEND && o.count == 0 ? 3 : 0;
	if (o.mode == MODE_LATENCY && o.count == 0 && o.seconds <= 0)
		o.count = 2000;
	buf = calloc(1, o.size);
	if (!buf || connect_and_join(&o) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	deliver_delay_us = o.delay_us;
	if (o.mode == MODE_IDLE)
		rc = run_idle(&o);
	else if (o.mode == MODE_SEND)
		rc = run_send(&o, buf);
	else if (o.mode == MODE_RECV)
		rc = run_recv(&o);
	else
		rc = run_latency(&o, buf);
	cpg_finalize(st.h);
	free(buf);
	return rc ? 1 : 0;
}
