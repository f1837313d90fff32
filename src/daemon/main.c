/* cohortd: command line, then daemon_setup / daemon_run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cohortd [-c FILE] [-f] [-t] [-p] [--nodeid N] [--ipc NAME] [--state-dir DIR]\n"
		"  -c FILE          configuration (default /etc/corosync/corosync.conf,\n"
		"                   then /etc/cohort/cohort.conf)\n"
		"  -f               stay in the foreground, log to stderr\n"
		"  -t               check the configuration and exit\n"
		"  -p               no real-time scheduling or memory locking\n"
		"  --nodeid N       this node's id (skips interface matching)\n"
		"  --ipc NAME       local IPC endpoint name (or env COHORT_IPC)\n"
		"  --state-dir DIR  where the ring id is kept (default /var/lib/cohort)\n");
}

static const char *default_config(void)
{
	if (access("/etc/corosync/corosync.conf", R_OK) == 0)
		return "/etc/corosync/corosync.conf";
	return "/etc/cohort/cohort.conf";
}

static int parse_args(int argc, char **argv, struct daemon_options *o)
{
	static const struct option lo[] = { { "nodeid", required_argument, NULL, 'n' },
					    { "ipc", required_argument, NULL, 'i' },
					    { "state-dir", required_argument, NULL, 's' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "c:ftphv", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
			o->check_only = true;
			o->foreground = true;
			break;
		case 'p':
			o->no_realtime = true;
			break;
		case 'n': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > UINT32_MAX) {
				fprintf(stderr, "cohortd: --nodeid: not a node id: %s\n", optarg);
				return -1;
			}
			o->nodeid = (uint32_t)v;
			break;
		}
		case 'i':
			o->ipc_name = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'v':
			printf("cohortd 0.1\n");
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	if (!o->config_path)
		o->config_path = default_config();
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return 1;
	dlog_init(&d->log);
	if (parse_args(argc, argv, &d->opt))
		return 2;
	if (!d->opt.foreground && daemon(0, 0)) {
		perror("cohortd: daemon");
		return 1;
	}
	rc = daemon_setup(d);
	if (d->opt.check_only) {
		printf(rc ? "configuration has errors\n" : "configuration OK\n");
		daemon_teardown(d);
		free(d);
		return rc ? 1 : 0;
	}
	if (rc == 0)
		rc = daemon_run(d);
	daemon_teardown(d);
	free(d);
	return rc ? 1 : 0;
}
