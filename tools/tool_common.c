/* Helpers shared by the command-line tools (see tool_common.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tool_common.h"

/* The value after " name " within [p, eol), if the field is there. */
static bool named_field(const char *p, const char *eol, const char *name, unsigned long long *v)
{
	char key[32];
	const char *f;

	snprintf(key, sizeof(key), " %s ", name);
	f = strstr(p, key);
	return f && f < eol && sscanf(f + strlen(key), "%llu", v) == 1;
}

int tool_parse_link(const char *line, struct tool_link *out)
{
	const char *eol = line + strcspn(line, "\n");
	char state[8];

	memset(out, 0, sizeof(*out));
	if (sscanf(line, "node %u link %u %79s %7s rx %llu tx %llu", &out->node, &out->link,
		   out->addr, state, &out->rx, &out->tx) != 6)
		return -1;
	out->up = !strcmp(state, "up");
	named_field(line, eol, "changes", &out->changes);
	out->has_rtt = named_field(line, eol, "rtt_us", &out->rtt_us) &&
		       named_field(line, eol, "rtt_min_us", &out->rtt_min_us) &&
		       named_field(line, eol, "rtt_max_us", &out->rtt_max_us);
	return 0;
}

const char *tool_ipc_name(void)
{
	const char *n = getenv("COHORT_IPC");

	return n && n[0] ? n : "cohort";
}

int tool_ctl_ask(const char *ipc, const char *cmd, char *out, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char name[100];
	size_t len = 0;
	int fd, n = snprintf(name, sizeof(name), "cohort-%s-ctl", ipc);

	if (cap < 2 || n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1)
		return -1;
	/* Abstract namespace: a leading NUL, and the length says where it ends. */
	memcpy(sa.sun_path + 1, name, (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	/* The daemon answers one command per connection and then closes it. */
	while (len < cap - 1) {
		ssize_t r = recv(fd, out + len, cap - 1 - len, 0);

		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	out[len] = 0;
	return len ? 0 : -1;
}

const char *tool_cs_name(cs_error_t e)
{
	static const char *const names[] = {
		[CS_OK] = "CS_OK",
		[CS_ERR_LIBRARY] = "CS_ERR_LIBRARY",
		[CS_ERR_VERSION] = "CS_ERR_VERSION",
		[CS_ERR_INIT] = "CS_ERR_INIT",
		[CS_ERR_TIMEOUT] = "CS_ERR_TIMEOUT",
		[CS_ERR_TRY_AGAIN] = "CS_ERR_TRY_AGAIN",
		[CS_ERR_INVALID_PARAM] = "CS_ERR_INVALID_PARAM",
		[CS_ERR_NO_MEMORY] = "CS_ERR_NO_MEMORY",
		[CS_ERR_BAD_HANDLE] = "CS_ERR_BAD_HANDLE",
		[CS_ERR_BUSY] = "CS_ERR_BUSY",
		[CS_ERR_ACCESS] = "CS_ERR_ACCESS",
		[CS_ERR_NOT_EXIST] = "CS_ERR_NOT_EXIST",
		[CS_ERR_NAME_TOO_LONG] = "CS_ERR_NAME_TOO_LONG",
		[CS_ERR_EXIST] = "CS_ERR_EXIST",
		[CS_ERR_NO_SPACE] = "CS_ERR_NO_SPACE",
		[CS_ERR_INTERRUPT] = "CS_ERR_INTERRUPT",
		[CS_ERR_NAME_NOT_FOUND] = "CS_ERR_NAME_NOT_FOUND",
		[CS_ERR_NO_RESOURCES] = "CS_ERR_NO_RESOURCES",
		[CS_ERR_NOT_SUPPORTED] = "CS_ERR_NOT_SUPPORTED",
		[CS_ERR_BAD_OPERATION] = "CS_ERR_BAD_OPERATION",
		[CS_ERR_FAILED_OPERATION] = "CS_ERR_FAILED_OPERATION",
		[CS_ERR_MESSAGE_ERROR] = "CS_ERR_MESSAGE_ERROR",
		[CS_ERR_QUEUE_FULL] = "CS_ERR_QUEUE_FULL",
		[CS_ERR_QUEUE_NOT_AVAILABLE] = "CS_ERR_QUEUE_NOT_AVAILABLE",
		[CS_ERR_BAD_FLAGS] = "CS_ERR_BAD_FLAGS",
		[CS_ERR_TOO_BIG] = "CS_ERR_TOO_BIG",
		[CS_ERR_NO_SECTIONS] = "CS_ERR_NO_SECTIONS",
		[CS_ERR_CONTEXT_NOT_FOUND] = "CS_ERR_CONTEXT_NOT_FOUND",
		[CS_ERR_TOO_MANY_GROUPS] = "CS_ERR_TOO_MANY_GROUPS",
	};

	if (e == CS_ERR_SECURITY)
		return "CS_ERR_SECURITY";
	if ((size_t)e < sizeof(names) / sizeof(names[0]) && names[e])
		return names[e];
	return "CS_ERR_UNKNOWN";
}

void tool_json_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c,
			      f); /* bytes above 0x7f pass through: names are meant to be UTF-8 */
	}
	fputc('"', f);
}
