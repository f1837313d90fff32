/* cohort-cfgtool: show what a running cohortd knows about its ring and links,
 * like corosync-cfgtool -s, and ask it to reload (-R) or leave (-H). Talks
 * to the daemon's control socket, one command per connection. Unlike
 * Corosync's -R, the reload concerns this node only. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_common.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: cohort-cfgtool [--ipc NAME] [-s | -n | -l | -S | -R | -H] [-h]\n"
		   "  -s   ring status: node id, state, ring id, members (default)\n"
		   "  -n   every node and link: state and round-trip time, for people\n"
		   "  -l   every link to every node as key/value lines: state, packet\n"
		   "       counts, transitions, round-trip time in us (for scripts)\n"
		   "  -S   counters (packets, rejections, retransmissions, rings)\n"
		   "  -R   reload the configuration file (logging applies at once)\n"
		   "  -H   leave the cluster cleanly and stop this node's cohortd\n"
		   "  --ipc NAME   the daemon's IPC name (default: $COHORT_IPC or \"cohort\")\n"
		   "  -h, --help   this text\n"
		   "Exit status: 0, 1 cohortd not reachable or it reported an error, 2 usage.\n");
}

/* -n: the "links" reply as a table. Fields after "tx" are found by name, so
 * a daemon without round-trip times shows "-". */
static void print_nodes(const char *links)
{
	printf("%-8s %-4s %-28s %-5s %10s %10s %10s %8s\n", "nodeid", "link", "address", "state",
	       "rtt ms", "min ms", "max ms", "changes");
	for (const char *p = links; *p;) {
		const char *eol = p + strcspn(p, "\n");
		struct tool_link l;

		if (tool_parse_link(p, &l) == 0) {
			printf("%-8u %-4u %-28s %-5s", l.node, l.link, l.addr,
			       l.up ? "up" : "down");
			if (l.has_rtt)
				printf(" %10.3f %10.3f %10.3f", (double)l.rtt_us / 1e3,
				       (double)l.rtt_min_us / 1e3, (double)l.rtt_max_us / 1e3);
			else
				printf(" %10s %10s %10s", "-", "-", "-");
			printf(" %8llu\n", l.changes);
		}
		p = *eol ? eol + 1 : eol;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "ipc", required_argument, NULL, 'i' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	const char *ipc = tool_ipc_name();
	const char *cmd = "status";
	static char out[1 << 16];
	bool table = false;
	int c;

	while ((c = getopt_long(argc, argv, "snlSRHh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			cmd = "status";
			break;
		case 'n':
			cmd = "links";
			table = true;
			break;
		case 'l':
			cmd = "links";
			break;
		case 'S':
			cmd = "stats";
			break;
		case 'R':
			cmd = "reload";
			break;
		case 'H':
			cmd = "shutdown";
			break;
		case 'i':
			ipc = optarg;
			break;
		case 'h':
			usage(stdout);
			return TOOL_OK;
		default:
			usage(stderr);
			return TOOL_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cohort-cfgtool: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return TOOL_USAGE;
	}
	if (tool_ctl_ask(ipc, cmd, out, sizeof(out))) {
		fprintf(stderr,
			"cohort-cfgtool: cannot reach cohortd (ipc \"%s\"): is it running?\n", ipc);
		return TOOL_ERROR;
	}
	if (table && strncmp(out, "error", 5))
		print_nodes(out);
	else
		fputs(out, stdout);
	return strncmp(out, "error", 5) ? TOOL_OK : TOOL_ERROR;
}
