/* cohort-cfgtool: show what a running cohortd knows about its ring and links,
 * like corosync-cfgtool -s. Talks to the daemon's control socket. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int ask(const char *ipc, const char *cmd, char *out, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[100];
	size_t len = 0;
	int fd, n = snprintf(name, sizeof(name), "cohort-%s-ctl", ipc);

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1)
		return -1;
	memcpy(sa.sun_path + 1, name, (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	out[len] = 0;
	return len ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cohort-cfgtool [--ipc NAME] [-s | -l | -S]\n"
		   "  -s   ring status: node id, state, ring id, members (default)\n"
		   "  -l   every link to every node, up or down, with packet counts\n"
		   "  -S   counters (packets, rejections, retransmissions, rings)\n"
		   "  --ipc NAME   the daemon's IPC name (default: $COHORT_IPC or \"cohort\")\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "ipc", required_argument, NULL, 'i' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	const char *ipc = getenv("COHORT_IPC") ? getenv("COHORT_IPC") : "cohort";
	const char *cmd = "status";
	static char out[1 << 16];
	int c;

	while ((c = getopt_long(argc, argv, "slSh", lo, NULL)) != -1) {
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
		case 'i':
			ipc = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (ask(ipc, cmd, out, sizeof(out))) {
		fprintf(stderr,
			"cohort-cfgtool: cannot reach cohortd (ipc \"%s\"): is it running?\n", ipc);
		return 1;
	}
	fputs(out, stdout);
	return strncmp(out, "error", 5) ? 0 : 1;
}
