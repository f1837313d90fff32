/* cohort-sim: runs the simulator over a range of seeds and reports the first
 * violation with the command that replays it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#ifndef SIM_PLANTED
#define SIM_PLANTED 0
#endif

struct cli {
	struct sim_opts o;
	uint64_t seed, runs;
	const char *loss, *dup, *reorder; /* as typed, so a replay parses the same */
	bool planted;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cohort-sim [--nodes N | --nodes-range A-B] [--runs K] [--seed S]\n"
		"                  [--loss P] [--dup P] [--reorder P] [--partitions] [--crashes]\n"
		"                  [--pauses] [--asymmetric] [--all-faults] [--planted] [-v|-vv]\n"
		"                  [--dump-node ID]  (print that node's whole trace after the run)\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return s[0] && !*end && !errno;
}

static bool parse_prob(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return s[0] && !*end && *out >= 0 && *out <= 1;
}

static bool parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	unsigned a, b;
	char extra;

	if (sscanf(s, "%u-%u%c", &a, &b, &extra) != 2 || a < 1 || b < a || b > SIM_NODES_MAX)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

static bool parse_flag(struct cli *c, const char *a)
{
	if (!strcmp(a, "--partitions"))
		c->o.partitions = true;
	else if (!strcmp(a, "--crashes"))
		c->o.crashes = true;
	else if (!strcmp(a, "--pauses"))
		c->o.pauses = true;
	else if (!strcmp(a, "--asymmetric"))
		c->o.asymmetric = true;
	else if (!strcmp(a, "--planted"))
		c->planted = true;
	else if (!strcmp(a, "-v"))
		c->o.verbose++;
	else if (!strcmp(a, "-vv"))
		c->o.verbose += 2;
	else if (!strcmp(a, "--all-faults"))
		c->o.partitions = c->o.crashes = c->o.pauses = c->o.asymmetric = true;
	else
		return false;
	return true;
}

static bool parse_value(struct cli *c, const char *a, const char *v)
{
	uint64_t x;

	if (!strcmp(a, "--nodes")) {
		if (!parse_u64(v, &x) || x < 1 || x > SIM_NODES_MAX)
			return false;
		c->o.nodes = (uint32_t)x;
		c->o.nodes_min = c->o.nodes_max = 0;
	} else if (!strcmp(a, "--nodes-range")) {
		return parse_range(v, &c->o.nodes_min, &c->o.nodes_max);
	} else if (!strcmp(a, "--dump-node")) {
		if (!parse_u64(v, &x) || !x || x > UINT32_MAX)
			return false;
		c->o.dump_node = (uint32_t)x;
	} else if (!strcmp(a, "--runs")) {
		return parse_u64(v, &c->runs) && c->runs > 0;
	} else if (!strcmp(a, "--seed")) {
		return parse_u64(v, &c->seed);
	} else if (!strcmp(a, "--loss")) {
		c->loss = v;
		return parse_prob(v, &c->o.loss);
	} else if (!strcmp(a, "--dup")) {
		c->dup = v;
		return parse_prob(v, &c->o.dup);
	} else if (!strcmp(a, "--reorder")) {
		c->reorder = v;
		return parse_prob(v, &c->o.reorder);
	} else {
		return false;
	}
	return true;
}

static int parse(struct cli *c, int argc, char **argv)
{
	bool all = false;

	memset(c, 0, sizeof(*c));
	sim_default_opts(&c->o);
	c->runs = 1;
	c->seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		all |= !strcmp(a, "--all-faults");
		if (parse_flag(c, a))
			continue;
		if (i + 1 < argc && parse_value(c, a, argv[i + 1])) {
			i++;
			continue;
		}
		fprintf(stderr, "cohort-sim: bad argument '%s'%s%s\n", a, i + 1 < argc ? " " : "",
			i + 1 < argc ? argv[i + 1] : "");
		usage(stderr);
		return -1;
	}
	/* --all-faults brings network damage too, unless given explicitly */
	if (all && !c->loss && parse_prob("0.05", &c->o.loss))
		c->loss = "0.05";
	if (all && !c->dup && parse_prob("0.02", &c->o.dup))
		c->dup = "0.02";
	if (all && !c->reorder && parse_prob("0.05", &c->o.reorder))
		c->reorder = "0.05";
	return 0;
}

/* Every option spelled out, so that the line replays the run whatever the
 * defaults of a later version. */
static void print_replay(const struct cli *c, uint64_t seed, FILE *f)
{
	fprintf(f, "replay: cohort-sim%s --seed %llu --runs 1", c->planted ? " --planted" : "",
		(unsigned long long)seed);
	if (c->o.nodes_min)
		fprintf(f, " --nodes-range %u-%u", c->o.nodes_min, c->o.nodes_max);
	else
		fprintf(f, " --nodes %u", c->o.nodes);
	if (c->loss)
		fprintf(f, " --loss %s", c->loss);
	if (c->dup)
		fprintf(f, " --dup %s", c->dup);
	if (c->reorder)
		fprintf(f, " --reorder %s", c->reorder);
	fprintf(f, "%s%s%s%s\n", c->o.partitions ? " --partitions" : "",
		c->o.crashes ? " --crashes" : "", c->o.pauses ? " --pauses" : "",
		c->o.asymmetric ? " --asymmetric" : "");
}

/* The planted fault lives in a second build of the core; the plain binary
 * hands --planted over to its sibling. */
static void exec_planted(char **argv)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);

	if (n <= 0) {
		fprintf(stderr, "cohort-sim: cannot find cohort-sim-planted\n");
		exit(2);
	}
	self[n] = 0;
	slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "cohort-sim-planted");
	execv(self, argv);
	fprintf(stderr, "cohort-sim: cannot run %s: %s\n", self, strerror(errno));
	exit(2);
}

static void print_config(const struct sim_opts *o)
{
	struct totem_config c;

	sim_totem_config(&c, o);
	printf("sim: token %u ms, token_retransmit %u ms, hold %u ms, join %u ms, consensus %u "
	       "ms, merge %u ms, netmtu %u%s; liveness bound %llu ms after faults stop\n",
	       c.token_ms, c.token_retransmit_ms, c.hold_ms, c.join_ms, c.consensus_ms, c.merge_ms,
	       c.netmtu, SIM_PLANTED ? "; PLANTED ordering fault in the core" : "",
	       (unsigned long long)(sim_liveness_bound_us(&c) / 1000));
}

int main(int argc, char **argv)
{
	struct cli c;
	struct sim *s;
	struct sim_result r;
	uint64_t delivered = 0, done = 0, violations = 0;
	uint64_t every;

	if (parse(&c, argc, argv))
		return 2;
	if (c.planted && !SIM_PLANTED)
		exec_planted(argv);
	c.planted = SIM_PLANTED;
	print_config(&c.o);
	s = sim_create();
	every = c.runs >= 10000 ? c.runs / 10 : 1000;
	for (uint64_t i = 0; i < c.runs; i++) {
		uint64_t seed = c.seed + i;

		sim_run(s, &c.o, seed, &r);
		done++;
		delivered += r.delivered;
		if (c.o.verbose)
			printf("run seed=%llu nodes=%u submitted=%llu delivered=%llu rings=%llu "
			       "events=%llu packets=%llu settled=%llums holds=%llu cancels=%llu\n",
			       (unsigned long long)seed, r.nodes, (unsigned long long)r.submitted,
			       (unsigned long long)r.delivered, (unsigned long long)r.rings,
			       (unsigned long long)r.events, (unsigned long long)r.packets,
			       (unsigned long long)(r.settled_us / 1000),
			       (unsigned long long)r.batch_holds,
			       (unsigned long long)r.hold_cancels);
		if (r.violation) {
			violations++;
			printf("sim: violation in the run with seed %llu (%u nodes)\n",
			       (unsigned long long)seed, r.nodes);
			print_replay(&c, seed, stdout);
			break;
		}
		if (done % every == 0 && done < c.runs)
			fprintf(stderr, "sim: %llu/%llu runs\n", (unsigned long long)done,
				(unsigned long long)c.runs);
	}
	sim_destroy(s);
	printf("sim: runs=%llu violations=%llu delivered=%llu\n", (unsigned long long)done,
	       (unsigned long long)violations, (unsigned long long)delivered);
	return violations ? 1 : 0;
}
