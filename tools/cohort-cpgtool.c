/* cohort-cpgtool: list the closed process groups of the cluster and their
 * members, as corosync-cpgtool(8) does, through libcpg's cpg_iteration_*
 * calls. The listing is one snapshot taken by cpg_iteration_initialize; it
 * comes sorted by (group name, node id, pid), so a group's members follow
 * each other and a change of name starts a new group.
 *
 *   (default)  "Group Name / PID / Node ID" table
 *   -d DELIM   one line per member: name DELIM pid DELIM nodeid
 *   -n         group names only
 *   -e         print names as they are (default: unprintable bytes as \xHH)
 *   --json     one JSON object
 * Exit: 0 listed, 1 cohortd not reachable or the listing failed, 2 usage. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/cpg.h>

#include "tool_common.h"

struct cpgtool_opts {
	bool escape, names_only, json;
	const char *delim; /* NULL: the table */
	const char *ipc;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: cohort-cpgtool [-e] [-n] [-d DELIM] [--json] [--ipc NAME] [-h]\n"
		   "List the CPG groups known to the cluster and their members.\n"
		   "  -d DELIM     one line per member: name, pid and node id separated by DELIM\n"
		   "  -e           do not escape unprintable characters in group names\n"
		   "  -n           group names only\n"
		   "  --json       print one JSON object\n"
		   "  --ipc NAME   the daemon's IPC name (default: $COHORT_IPC or \"cohort\")\n"
		   "  -h, --help   this text\n"
		   "Exit status: 0 listed, 1 cohortd not reachable or listing failed, 2 usage.\n");
}

static int parse_args(int argc, char **argv, struct cpgtool_opts *o)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					    { "ipc", required_argument, NULL, 'i' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int c;

	o->escape = true;
	o->ipc = tool_ipc_name();
	while ((c = getopt_long(argc, argv, "ed:nh", lo, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->escape = false;
			break;
		case 'd':
			o->delim = optarg;
			break;
		case 'n':
			o->names_only = true;
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
		fprintf(stderr, "cohort-cpgtool: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* A byte the reader could not see or could confuse with the layout: control
 * characters, bytes above 0x7e, the backslash that starts an escape, and any
 * byte of the delimiter. */
static bool needs_escape(unsigned char c, const char *delim)
{
	return c < 0x20 || c > 0x7e || c == '\\' || (delim && c && strchr(delim, c));
}

static void print_name(const struct cpg_name *g, const struct cpgtool_opts *o)
{
	for (uint32_t i = 0; i < g->length && i < CPG_MAX_NAME_LENGTH; i++) {
		unsigned char c = (unsigned char)g->value[i];

		if (o->escape && needs_escape(c, o->delim))
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static bool same_group(const struct cpg_name *a, const struct cpg_name *b)
{
	return a->length == b->length && !memcmp(a->value, b->value, a->length);
}

/* Text output, one entry at a time; first tells whether a group starts. */
static void print_entry(const struct cpg_iteration_description_t *d, bool first,
			const struct cpgtool_opts *o)
{
	if (o->names_only) {
		print_name(&d->group, o);
		putchar('\n');
	} else if (o->delim) {
		print_name(&d->group, o);
		printf("%s%u%s%u\n", o->delim, d->pid, o->delim, d->nodeid);
	} else {
		if (first) {
			print_name(&d->group, o);
			putchar('\n');
		}
		printf("\t\t%10u\t%10u\n", d->pid, d->nodeid);
	}
}

static void json_entry(const struct cpg_iteration_description_t *d, bool first, bool any)
{
	if (first) {
		printf("%s\n    {\"name\": ", any ? "\n    ]}," : "");
		tool_json_string(stdout, d->group.value, d->group.length);
		printf(", \"members\": [\n");
	} else {
		printf(",\n");
	}
	printf("        {\"nodeid\": %u, \"pid\": %u}", d->nodeid, d->pid);
}

static void json_names_entry(const struct cpg_iteration_description_t *d, bool any)
{
	printf("%s\n    {\"name\": ", any ? "," : "");
	tool_json_string(stdout, d->group.value, d->group.length);
	printf("}");
}

/* Walks the snapshot; returns CS_OK once it is exhausted. */
static cs_error_t walk(cpg_iteration_handle_t it, const struct cpgtool_opts *o)
{
	struct cpg_iteration_description_t d, prev;
	bool any = false;
	cs_error_t e;

	if (o->json)
		printf("{\"groups\": [");
	else if (o->delim && !o->names_only)
		printf("GRP_NAME%sPID%sNODEID\n", o->delim, o->delim);
	else if (!o->names_only)
		printf("Group Name\t%10s\t%10s\n", "PID", "Node ID");
	while ((e = cpg_iteration_next(it, &d)) == CS_OK) {
		bool first = !any || !same_group(&d.group, &prev.group);

		if (o->json && o->names_only)
			json_names_entry(&d, any);
		else if (o->json)
			json_entry(&d, first, any);
		else
			print_entry(&d, first, o);
		prev = d;
		any = true;
	}
	if (o->json)
		printf("%s]}\n", !any ? "" : o->names_only ? "\n" : "\n    ]}\n");
	return e == CS_ERR_NO_SECTIONS ? CS_OK : e;
}

int main(int argc, char **argv)
{
	struct cpgtool_opts o = { 0 };
	cpg_callbacks_t cb = { NULL, NULL };
	cpg_iteration_handle_t it;
	cpg_handle_t h;
	cs_error_t e;

	if (parse_args(argc, argv, &o))
		return TOOL_USAGE;
	/* libcpg finds its daemon through COHORT_IPC; --ipc only sets it. */
	if (setenv("COHORT_IPC", o.ipc, 1)) {
		perror("cohort-cpgtool: setenv");
		return TOOL_ERROR;
	}
	e = cpg_initialize(&h, &cb);
	if (e != CS_OK) {
		fprintf(stderr, "cohort-cpgtool: cannot connect to cohortd (ipc \"%s\"): %s\n",
			o.ipc, tool_cs_name(e));
		return TOOL_ERROR;
	}
	e = cpg_iteration_initialize(h, o.names_only ? CPG_ITERATION_NAME_ONLY : CPG_ITERATION_ALL,
				     NULL, &it);
	if (e == CS_OK) {
		e = walk(it, &o);
		cpg_iteration_finalize(it);
	}
	cpg_finalize(h);
	if (e != CS_OK) {
		fflush(stdout);
		fprintf(stderr, "cohort-cpgtool: cannot list the groups: %s\n", tool_cs_name(e));
		return TOOL_ERROR;
	}
	return TOOL_OK;
}
