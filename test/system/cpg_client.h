/* cpg_client (the CPG system tests' scriptable client): state shared by its parts.
 * cpg_client.c: callbacks, connections, the command loop; cpg_client_send.c: queued
 * multicasts; cpg_client_query.c: membership, iteration and zero-copy checks. */
#ifndef COHORT_TEST_CPG_CLIENT_H
#define COHORT_TEST_CPG_CLIENT_H

#include <corosync/cpg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_HANDLES 4096
#define TAG_MAX 64

enum job_kind { JOB_MCAST, JOB_ZCB, JOB_MARK };

/* Messages queued on a handle, sent from the main loop. */
struct job {
	struct job *next;
	enum job_kind kind;
	unsigned long left;
	int guar; /* -1: alternate AGREED and SAFE */
	size_t min, max;
	char tag[TAG_MAX];
};

struct cli {
	cpg_handle_t h;
	int fd;
	bool open, dead;
	unsigned nodeid;
	unsigned long seq;
	struct job *jobs, *last;
	void *zbuf; /* reused zero-copy buffer */
	size_t zsize;
};

extern struct cli cl[MAX_HANDLES];
extern int ncl;
extern FILE *evlog;

/* One answer line on stdout. */
void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mark_dead(int i, cs_error_t err);
bool handle_arg(const char *s, int *out);
bool name_arg(const char *s, struct cpg_name *n);

/* cpg_client_send.c */
uint8_t filler(const char *tag, size_t i);
void cmd_send(char *a, char *n, char *guar, char *size, char *mode);
void cmd_mark(char *a, char *tag);
void drop_jobs(int i);
/* One round of sending for every handle with queued work; true if any is still queued. */
bool send_round(void);

/* cpg_client_query.c */
void cmd_members(char *a, char *b);
void cmd_iter(char *a, char *type, char *group);
void cmd_zcbcheck(char *a);

#endif
