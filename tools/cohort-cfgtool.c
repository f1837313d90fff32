/* cohort-cfgtool: show what a running cohortd knows about its ring and links,
 * like corosync-cfgtool -s, and ask it to reload (-R) or leave (-H). Talks
 * to the daemon's control socket, one command per connection. Unlike
 * Corosync's -R, the reload concerns this node only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_common.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: cohort-cfgtool [--ipc NAME] [-s | -l | -S | -R | -H] [-h]\n"
		   "  -s   ring status: node id, state, ring id, members (default)\n"
		   "  -l   every link to every node, up or down, with packet counts\n"
		   "  -S   counters (packets, rejections, retransmissions, rings)\n"
		   "  -R   reload the configuration file (logging applies at once)\n"
		   "  -H   leave the cluster cleanly and stop this node's cohortd\n"
		   "  --ipc NAME   the daemon's IPC name (default: $COHORT_IPC or \"cohort\")\n"
		   "  -h, --help   this text\n"
		   "Exit status: 0, 1 cohortd not reachable or it reported an error, 2 usage.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "ipc", required_argument, NULL, 'i' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	const char *ipc = tool_ipc_name();
	const char *cmd = "status";
	static char out[1 << 16];
	int c;

	while ((c = getopt_long(argc, argv, "slSRHh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			cmd = "status";
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
	fputs(out, stdout);
	return strncmp(out, "error", 5) ? TOOL_OK : TOOL_ERROR;
}
