/* cohort-core-bench: the Totem core alone, in the simulator, on a lossless
 * network. Throughput is deliveries (counted at every node) per CPU-second
 * of this process under a saturating workload; latency is virtual time from
 * submit to delivery under a light workload, also in token rotations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "sim_payload.h"
#include "wire/wire.h"

#define BENCH_LINK_DELAY_US 50u

#define BENCH_GAPS_MAX (1u << 20)

struct lat {
	uint64_t sum[2], count[2], max[2];
	uint64_t t0, t1;   /* measurement window */
	uint64_t last_tok; /* when the first node last passed the token */
	uint32_t *gaps;	   /* intervals between its token passes */
	uint32_t gaps_n;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t get64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void on_deliver(void *ctx, uint32_t node, uint64_t now, const struct totem_action *a)
{
	struct lat *l = ctx;
	uint64_t submitted, d;
	int g = a->u.deliver.guarantee == TOTEM_SAFE;

	(void)node;
	if (a->u.deliver.len < SIM_PAYLOAD_HDR || now < l->t0 || now > l->t1)
		return;
	/* the workload's payload starts with its submit time at offset 16 */
	submitted = get64le(a->u.deliver.data + 16);
	d = now - submitted;
	l->sum[g] += d;
	l->count[g]++;
	if (d > l->max[g])
		l->max[g] = d;
}

static void on_packet(void *ctx, uint32_t from, uint64_t now, const uint8_t *buf, size_t len)
{
	struct lat *l = ctx;
	struct wire_packet p;

	if (from != 0 || now < l->t0 || now > l->t1)
		return;
	if (wire_decode(buf, len, 0x5eed, &p) != WIRE_OK || p.hdr.type != WIRE_TOKEN)
		return;
	if (l->last_tok && l->gaps_n < BENCH_GAPS_MAX)
		l->gaps[l->gaps_n++] = (uint32_t)(now - l->last_tok);
	l->last_tok = now;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The median interval is one rotation of a moving token; the mean would
 * count the time the token is held on an idle ring. */
static double rotation_us(struct lat *l)
{
	if (!l->gaps_n)
		return 0;
	qsort(l->gaps, l->gaps_n, sizeof(*l->gaps), cmp_u32);
	return l->gaps[l->gaps_n / 2];
}

struct bench {
	struct sim *s;
	double min_cpu; /* CPU seconds a throughput measurement lasts at least */
	bool check;	/* run under the checker: to validate, not to time */
};

static void bench_opts(const struct bench *b, struct sim_opts *o, uint32_t nodes, uint32_t payload,
		       enum sim_workload w, uint64_t duration)
{
	sim_default_opts(o);
	o->nodes = nodes;
	o->check = b->check;
	o->workload = w;
	o->payload_len = payload;
	o->duration_us = duration;
	o->link_delay_us = BENCH_LINK_DELAY_US;
}

struct row {
	uint32_t nodes, payload;
	double dps, vmps, cpu;
	double lat_us[2], lat_rot[2], rot_us;
};

/* Deliveries per CPU-second under saturation; the virtual length grows until
 * the run takes at least min_cpu seconds. */
static void bench_throughput(const struct bench *b, struct row *r)
{
	struct sim_opts o;
	struct sim_result res;
	uint64_t dur = 100000;

	for (;;) {
		double t0, cpu;

		bench_opts(b, &o, r->nodes, r->payload, SIM_WL_SATURATE, dur);
		t0 = cpu_now();
		sim_run(b->s, &o, 42, &res);
		cpu = cpu_now() - t0;
		if (res.violation) {
			fprintf(stderr, "bench: the checker found a violation\n");
			exit(1);
		}
		if (cpu >= b->min_cpu || dur >= 600000000ull) {
			r->cpu = cpu;
			r->dps = (double)res.delivered / cpu;
			r->vmps = (double)res.delivered / r->nodes / ((double)dur / 1e6);
			return;
		}
		dur = cpu < 0.01 ? dur * 10 : (uint64_t)((double)dur * b->min_cpu * 1.2 / cpu);
	}
}

static void bench_latency(const struct bench *b, struct row *r)
{
	struct sim_opts o;
	struct sim_result res;
	struct lat l;

	memset(&l, 0, sizeof(l));
	l.gaps = malloc(BENCH_GAPS_MAX * sizeof(*l.gaps));
	if (!l.gaps)
		abort();
	l.t0 = 500000; /* after the ring has formed */
	l.t1 = 5500000;
	bench_opts(b, &o, r->nodes, r->payload, SIM_WL_PING, 6000000);
	o.hooks.ctx = &l;
	o.hooks.deliver = on_deliver;
	o.hooks.packet = on_packet;
	sim_run(b->s, &o, 7, &res);
	r->rot_us = rotation_us(&l);
	free(l.gaps);
	for (int g = 0; g < 2; g++) {
		r->lat_us[g] = l.count[g] ? (double)l.sum[g] / (double)l.count[g] : 0;
		r->lat_rot[g] = r->rot_us > 0 ? r->lat_us[g] / r->rot_us : 0;
	}
}

int main(int argc, char **argv)
{
	static const uint32_t nodes[] = { 3, 16 }, sizes[] = { 64, 1024 };
	struct bench b = { .s = sim_create(), .min_cpu = argc > 1 ? atof(argv[1]) : 1.0 };
	struct row rows[4];
	int n = 0;

	if (b.min_cpu <= 0)
		b.min_cpu = 1.0;
	b.check = argc > 2 && !strcmp(argv[2], "check");
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			struct row *r = &rows[n++];

			memset(r, 0, sizeof(*r));
			r->nodes = nodes[i];
			r->payload = sizes[j];
			bench_throughput(&b, r);
			bench_latency(&b, r);
			fprintf(stderr, "bench: %u nodes %u B done\n", r->nodes, r->payload);
		}
	printf("cohort-core-bench: Totem core in the simulator, lossless links of %u us, "
	       "token 200 ms, netmtu 1500\n"
	       "throughput: saturated submit queues, deliveries counted at every node; latency: "
	       "each node submits every ~2 ms,\nsubmit to delivery at every node, mean, in us of "
	       "virtual time and in token rotations (median rotation)\n",
	       BENCH_LINK_DELAY_US);
	printf("%5s %7s %14s %14s %10s | %20s %20s %10s\n", "nodes", "payload", "deliv/CPU-s",
	       "msgs/virt-s", "CPU s", "agreed latency", "safe latency", "rotation");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%5u %6uB %14.0f %14.0f %10.2f | %9.0f us %5.2f rot %9.0f us %5.2f rot "
		       "%7.0f us\n",
		       r->nodes, r->payload, r->dps, r->vmps, r->cpu, r->lat_us[0], r->lat_rot[0],
		       r->lat_us[1], r->lat_rot[1], r->rot_us);
	}
	if (b.check)
		printf("check: every run above passed the checker (timings include it)\n");
	else
		printf("target: >= 2000000 deliveries per CPU-second at 3 nodes, 64 B: %s\n",
		       rows[0].dps >= 2e6 ? "met" : "NOT met");
	sim_destroy(b.s);
	return 0;
}
