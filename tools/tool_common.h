/* Helpers shared by the command-line tools: the daemon's IPC name, the
 * control socket, names of cs_error_t values and JSON strings. */
#ifndef COHORT_TOOL_COMMON_H
#define COHORT_TOOL_COMMON_H

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

#endif /* COHORT_TOOL_COMMON_H */
