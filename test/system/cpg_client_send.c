/* cpg_client: multicasts queued by "send" and "mark", sent from the main loop so that
 * sending overlaps everything else. A message is "<tag>\0" and filler bytes derived from
 * the tag, so that receivers can check every byte. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpg_client.h"

#define BATCH 32 /* messages per handle and round */

static char *msgbuf;
static size_t msgcap;

uint8_t filler(const char *tag, size_t i)
{
	uint32_t s = 2166136261u;

	for (const char *p = tag; *p; p++)
		s = (s ^ (uint8_t)*p) * 16777619u;
	return (uint8_t)(s + i * 131u);
}

static void queue_job(int i, struct job *j)
{
	if (cl[i].last)
		cl[i].last->next = j;
	else
		cl[i].jobs = j;
	cl[i].last = j;
}

void cmd_send(char *a, char *n, char *guar, char *size, char *mode)
{
	static const char *const names[] = { "unordered", "fifo", "agreed", "safe" };
	struct job *j;
	int i;
	char *dash;

	if (!handle_arg(a, &i) || !n || !guar || !size) {
		reply("ERR args 0");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->kind = mode && !strcmp(mode, "zcb") ? JOB_ZCB : JOB_MCAST;
	j->left = strtoul(n, NULL, 10);
	j->guar = -2;
	for (int k = 0; k < 4; k++)
		if (!strcmp(guar, names[k]))
			j->guar = k;
	if (!strcmp(guar, "mix"))
		j->guar = -1;
	j->min = strtoul(size, &dash, 10);
	j->max = *dash == '-' ? strtoul(dash + 1, NULL, 10) : j->min;
	if (j->guar == -2 || j->max < j->min || j->min < TAG_MAX || j->max > 200u << 20) {
		free(j);
		reply("ERR args 0");
		return;
	}
	queue_job(i, j);
	reply("OK");
}

void cmd_mark(char *a, char *tag)
{
	struct job *j;
	int i;

	if (!handle_arg(a, &i) || !tag || strlen(tag) >= TAG_MAX) {
		reply("ERR args 0");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->kind = JOB_MARK;
	j->left = 1;
	j->guar = CPG_TYPE_AGREED;
	j->min = j->max = TAG_MAX;
	snprintf(j->tag, sizeof(j->tag), "%s", tag);
	queue_job(i, j);
	reply("OK");
}

static void *buffer(size_t len)
{
	if (len > msgcap) {
		free(msgbuf);
		msgbuf = malloc(len);
		if (!msgbuf)
			abort();
		msgcap = len;
	}
	return msgbuf;
}

static void fill(char *m, const char *tag, size_t len)
{
	size_t tl = strlen(tag);

	memcpy(m, tag, tl + 1);
	for (size_t k = tl + 1; k < len; k++)
		m[k] = (char)filler(tag, k);
}

/* Sends the next message of handle i's first job; CS_OK when it went. */
static cs_error_t send_one(int i)
{
	struct cli *c = &cl[i];
	struct job *j = c->jobs;
	char tag[TAG_MAX];
	size_t len = j->min;
	int g = j->guar >= 0 ? j->guar : (c->seq % 2 ? CPG_TYPE_SAFE : CPG_TYPE_AGREED);
	cs_error_t err;

	if (j->max > j->min)
		len += (c->seq * 2654435761u) % (j->max - j->min + 1);
	if (j->kind == JOB_MARK)
		snprintf(tag, sizeof(tag), "%s", j->tag);
	else
		snprintf(tag, sizeof(tag), "n%up%dh%d#%lu%c", c->nodeid, (int)getpid(), i, c->seq,
			 g == CPG_TYPE_SAFE ? 'S' : 'A');
	if (j->kind == JOB_ZCB) {
		if (!c->zbuf || c->zsize < len) {
			if (c->zbuf && cpg_zcb_free(c->h, c->zbuf) != CS_OK)
				return CS_ERR_LIBRARY;
			c->zbuf = NULL;
			err = cpg_zcb_alloc(c->h, len, &c->zbuf);
			if (err != CS_OK)
				return err;
			c->zsize = len;
		}
		fill(c->zbuf, tag, len);
		err = cpg_zcb_mcast_joined(c->h, g, c->zbuf, len);
	} else {
		struct iovec iov[2];
		char *m = buffer(len);

		fill(m, tag, len);
		/* Two pieces, so the library's gathering is exercised too. */
		iov[0] = (struct iovec){ m, len / 3 };
		iov[1] = (struct iovec){ m + len / 3, len - len / 3 };
		err = cpg_mcast_joined(c->h, g, iov, 2);
	}
	if (err != CS_OK)
		return err;
	if (j->kind != JOB_MARK)
		c->seq++;
	if (--j->left == 0) {
		c->jobs = j->next;
		if (!c->jobs)
			c->last = NULL;
		free(j);
	}
	return CS_OK;
}

void drop_jobs(int i)
{
	while (cl[i].jobs) {
		struct job *j = cl[i].jobs;

		cl[i].jobs = j->next;
		free(j);
	}
	cl[i].last = NULL;
}

bool send_round(void)
{
	bool pending = false;

	for (int i = 0; i < ncl; i++) {
		for (int k = 0; k < BATCH && cl[i].open && !cl[i].dead && cl[i].jobs; k++) {
			cs_error_t err = send_one(i);

			if (err == CS_ERR_TRY_AGAIN)
				break;
			if (err != CS_OK) {
				fprintf(evlog, "%d E send %d\n", i, (int)err);
				drop_jobs(i);
				mark_dead(i, err);
			}
		}
		if (cl[i].open && !cl[i].dead && cl[i].jobs)
			pending = true;
	}
	return pending;
}
