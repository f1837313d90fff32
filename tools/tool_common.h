/* Helpers shared by the command-line tools: the daemon's IPC name, the
 * control socket, names of cs_error_t values and JSON strings. */
#ifndef COHORT_TOOL_COMMON_H
#define COHORT_TOOL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <corosync/corotypes.h>

/* Exit codes every tool uses (cohort-quorumtool -s keeps Corosync's
 * meaning of 2, "not quorate", and reports usage errors with 1). */
enum tool_exit { TOOL_OK = 0, TOOL_ERROR = 1, TOOL_USAGE = 2 };

/* $COHORT_IPC when set and not empty, else "cohort": the same rule as the
 * client libraries, so a tool and a library in one shell reach one daemon. */
const char *tool_ipc_name(void);

/* Send one command to "cohort-<ipc>-ctl" and read the whole reply into out
 * (NUL terminated). 0 on success, -1 when the daemon cannot be reached or
 * answered nothing. */
int tool_ctl_ask(const char *ipc, const char *cmd, char *out, size_t cap);

/* "CS_ERR_TRY_AGAIN" and so on; "CS_ERR_UNKNOWN" for values it does not know. */
const char *tool_cs_name(cs_error_t e);

/* s[0..len) as a JSON string, quotes included. */
void tool_json_string(FILE *f, const char *s, size_t len);

/* One line of the control socket's "links" reply: "node N link L ADDR up|down
 * rx P tx P", then named fields added later (changes, rtt_us, rtt_min_us,
 * rtt_max_us), found by name so that an older daemon reads as "not known". */
struct tool_link {
	unsigned node, link;
	char addr[80];
	bool up;
	unsigned long long rx, tx, changes;
	bool has_rtt;
	unsigned long long rtt_us, rtt_min_us, rtt_max_us;
};
/* Parses the line at line (up to '\n' or the end); 0, or -1 if it is not a
 * link line. */
int tool_parse_link(const char *line, struct tool_link *out);

#endif /* COHORT_TOOL_COMMON_H */
