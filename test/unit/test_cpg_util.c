/* Recording libcpg clients for the tests (see test_cpg_util.h). */
#include <poll.h>
#include <string.h>
#include <time.h>

#include "test_cpg_util.h"

static void add_line(struct tcli *c, const char *s)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->lines = realloc(c->lines, c->cap * sizeof(*c->lines));
		CHECK(c->lines);
	}
	c->lines[c->n++] = strdup(s);
}

static size_t fmt_addrs(char *out, size_t cap, const struct cpg_address *a, size_t n)
{
	size_t off = 0;

	off += (size_t)snprintf(out + off, cap - off, "[");
	for (size_t i = 0; i < n && off < cap - 32; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%u:%u/%u", i ? " " : "",
					a[i].nodeid, a[i].pid, a[i].reason);
	off += (size_t)snprintf(out + off, cap - off, "]");
	return off;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	struct tcli *c = NULL;
	char line[512];

	cpg_context_get(h, (void **)&c);
	snprintf(line, sizeof(line), "deliver %.*s from %u:%u len %zu: %.*s", (int)g->length,
		 g->value, nodeid, pid, len, len < 64 ? (int)len : 64, (const char *)msg);
	add_line(c, line);
	free(c->last_msg);
	c->last_msg = malloc(len ? len : 1);
	memcpy(c->last_msg, msg, len);
	c->last_len = len;
	c->delivered++;
	if (c->finalize_in_cb) {
		CHECK(cpg_finalize(h) == CS_OK);
		c->finalized = true;
	}
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m,
		       size_t nm, const struct cpg_address *l, size_t nl,
		       const struct cpg_address *j, size_t nj)
{
	struct tcli *c = NULL;
	char line[8192];
	size_t off;

	cpg_context_get(h, (void **)&c);
	off = (size_t)snprintf(line, sizeof(line), "confchg %.*s members ", (int)g->length,
			       g->value);
	off += fmt_addrs(line + off, sizeof(line) - off, m, nm);
	off += (size_t)snprintf(line + off, sizeof(line) - off, " left ");
	off += fmt_addrs(line + off, sizeof(line) - off, l, nl);
	off += (size_t)snprintf(line + off, sizeof(line) - off, " joined ");
	fmt_addrs(line + off, sizeof(line) - off, j, nj);
	add_line(c, line);
	c->confchgs++;
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *m)
{
	struct tcli *c = NULL;
	char line[1024];
	size_t off;

	cpg_context_get(h, (void **)&c);
	off = (size_t)snprintf(line, sizeof(line), "totem %u.%llu [", ring.nodeid,
			       (unsigned long long)ring.seq);
	for (uint32_t i = 0; i < n && off < sizeof(line) - 16; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%u", i ? " " : "", m[i]);
	snprintf(line + off, sizeof(line) - off, "]");
	add_line(c, line);
	c->totems++;
}

cs_error_t tcli_open(struct tcli *c, const char *ipc, bool totem, bool initial)
{
	cpg_model_v1_data_t v1 = { .model = CPG_MODEL_V1,
				   .cpg_deliver_fn = on_deliver,
				   .cpg_confchg_fn = on_confchg,
				   .cpg_totem_confchg_fn = totem ? on_totem : NULL,
				   .flags = initial ? CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF : 0 };
	cs_error_t err;

	memset(c, 0, sizeof(*c));
	setenv("COHORT_IPC", ipc, 1);
	err = cpg_model_initialize(&c->h, CPG_MODEL_V1, (cpg_model_data_t *)&v1, c);
	if (err == CS_OK)
		CHECK(cpg_fd_get(c->h, &c->fd) == CS_OK);
	return err;
}

void tcli_close(struct tcli *c)
{
	if (!c->finalized)
		cpg_finalize(c->h);
	for (size_t i = 0; i < c->n; i++)
		free(c->lines[i]);
	free(c->lines);
	free(c->last_msg);
	memset(c, 0, sizeof(*c));
}

struct cpg_name tname(const char *s)
{
	struct cpg_name n = { .length = (uint32_t)strlen(s) };

	memcpy(n.value, s, n.length);
	return n;
}

bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) > 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void tcli_dump(const struct tcli *c, const char *title)
{
	fprintf(stderr, "--- %s (%zu lines)\n", title, c->n);
	for (size_t i = 0; i < c->n; i++)
		fprintf(stderr, "  %s\n", c->lines[i]);
}

void tcli_wait(struct tcli *c, bool (*pred)(struct tcli *, const void *), const void *arg,
	       int timeout_ms, const char *what)
{
	long end = now_ms() + timeout_ms;

	while (!pred(c, arg)) {
		long left = end - now_ms();

		if (left <= 0) {
			tcli_dump(c, "client log");
			fprintf(stderr, "timed out waiting for: %s\n", what);
			exit(1);
		}
		if (fd_readable(c->fd, (int)left)) {
			cs_error_t e = cpg_dispatch(c->h, CS_DISPATCH_ALL);

			if (e != CS_OK) {
				fprintf(stderr, "dispatch failed (%d) waiting for: %s\n", e, what);
				exit(1);
			}
		}
	}
}

long tcli_find(const struct tcli *c, const char *needle, size_t from)
{
	for (size_t i = from; i < c->n; i++)
		if (strstr(c->lines[i], needle))
			return (long)i;
	return -1;
}

bool tcli_has_line(struct tcli *c, const void *needle)
{
	return tcli_find(c, needle, 0) >= 0;
}

bool tcli_count_at_least(struct tcli *c, const void *n)
{
	return c->delivered >= *(const size_t *)n;
}

void tcli_wait_line(struct tcli *c, const char *needle)
{
	tcli_wait(c, tcli_has_line, needle, 10000, needle);
}

cs_error_t tjoin(cpg_handle_t h, const struct cpg_name *g)
{
	cs_error_t e;

	for (int i = 0; i < 10000; i++) {
		e = cpg_join(h, g);
		if (e != CS_ERR_TRY_AGAIN)
			return e;
		poll(NULL, 0, 1); /* back off, as a client would */
	}
	return e;
}
