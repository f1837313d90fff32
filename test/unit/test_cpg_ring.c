/* Fake ring for the CPG tests (see test_cpg_ring.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "services/svc.h"
#include "test_cpg_ring.h"

#define MAX_NODES 8

enum { IT_DELIVER, IT_CONFCHG, IT_FLOW, IT_STOP, IT_SYNC };

struct titem {
	struct titem *next;
	int kind;
	uint32_t sender;
	uint8_t svc;
	enum totem_guarantee g;
	uint8_t *data;
	size_t len;
	enum totem_confchg_type ctype;
	struct totem_ring_id ring;
	uint32_t memb[MAX_NODES], left[MAX_NODES], joined[MAX_NODES];
	size_t nmemb, nleft, njoined;
};

struct tnode {
	struct tring *r;
	uint32_t nodeid;
	pthread_t th;
	bool running;
	struct dloop *loop;
	struct services *svc;
	int efd;
	struct svc_host host;
	char ipc[64];
	/* under r->mu */
	struct titem *head, *tail;
	bool busy;
	uint32_t ring[MAX_NODES];
	size_t nring;
	bool in_ring;
	struct titem *held, *held_tail; /* submit queue while the ring holds */
	/* node thread only */
	bool in_delivery;
};

struct tring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tnode nodes[MAX_NODES];
	unsigned n;
	bool blocked;
	bool hold;
	bool starved;
	bool reentrant;
	size_t limit, pending;
	uint64_t seq, delivered;
};

static void fake_log(void *ctx, int level, const char *subsys, const char *fmt, ...)
{
	struct tnode *n = ctx;
	va_list ap;

	if (level > 1 && !getenv("TEST_VERBOSE"))
		return;
	fprintf(stderr, "[node %u %s] ", n->nodeid, subsys);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* r->mu held. */
static void push(struct tnode *n, struct titem *it)
{
	uint64_t one = 1;
	ssize_t w;

	it->next = NULL;
	if (n->tail)
		n->tail->next = it;
	else
		n->head = it;
	n->tail = it;
	w = write(n->efd, &one, sizeof(one));
	(void)w;
}

static struct titem *item(int kind)
{
	struct titem *it = calloc(1, sizeof(*it));

	if (!it)
		abort();
	it->kind = kind;
	return it;
}

/* r->mu held: a copy of the message to every node of the sender's ring. */
static void to_ring(struct tring *r, struct tnode *n, uint8_t svc, enum totem_guarantee g,
		    const uint8_t *data, size_t total, bool skip_self)
{
	for (size_t i = 0; i < n->nring; i++) {
		struct tnode *m = &r->nodes[n->ring[i] - 1];
		struct titem *it;

		/* A stopped node's queue has been freed: a leave sent for a client
		 * that another node drops while the ring is torn down must not
		 * land there (it leaked under LeakSanitizer, now and then). */
		if ((m == n && skip_self) || !m->running)
			continue;
		it = item(IT_DELIVER);
		it->sender = n->nodeid;
		it->svc = svc;
		it->g = g;
		it->len = total;
		it->data = malloc(total ? total : 1);
		memcpy(it->data, data, total);
		r->pending++;
		push(m, it);
	}
}

static int fake_mcast(void *ctx, uint8_t svc, enum totem_guarantee g, const struct iovec *iov,
		      unsigned iovcnt)
{
	struct tnode *n = ctx;
	struct tring *r = n->r;
	size_t total = 0, off = 0;
	uint8_t *data;
	bool sync;

	for (unsigned i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > n->host.max_msg_bytes)
		return -EMSGSIZE;
	pthread_mutex_lock(&r->mu);
	if (r->blocked || !n->in_ring || (r->limit && r->pending >= r->limit)) {
		if (r->limit && r->pending >= r->limit)
			r->starved = true;
		pthread_mutex_unlock(&r->mu);
		return -EAGAIN;
	}
	data = malloc(total ? total : 1);
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (r->hold) {
		struct titem *it = item(IT_DELIVER);

		it->sender = n->nodeid;
		it->svc = svc;
		it->g = g;
		it->len = total;
		it->data = data;
		if (n->held_tail)
			n->held_tail->next = it;
		else
			n->held = it;
		n->held_tail = it;
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	sync = r->reentrant && !n->in_delivery && !n->head;
	to_ring(r, n, svc, g, data, total, sync);
	pthread_mutex_unlock(&r->mu);
	if (sync) {
		/* As cohortd does when it is not already draining: the sender
		 * gets its own message back before mcast returns. */
		n->in_delivery = true;
		services_on_deliver(n->svc, svc, n->nodeid, g, data, total);
		n->in_delivery = false;
		pthread_mutex_lock(&r->mu);
		r->delivered++;
		pthread_mutex_unlock(&r->mu);
	}
	free(data);
	return 0;
}

static void process(struct tnode *n, struct titem *it)
{
	switch (it->kind) {
	case IT_DELIVER:
		services_on_deliver(n->svc, it->svc, it->sender, it->g, it->data, it->len);
		break;
	case IT_CONFCHG:
		services_on_confchg(n->svc, it->ctype, it->ring, it->memb, it->nmemb, it->left,
				    it->nleft, it->joined, it->njoined);
		break;
	case IT_FLOW:
		services_on_flow(n->svc);
		break;
	case IT_STOP:
		dloop_stop(n->loop);
		break;
	default:
		break;
	}
}

static void inbox_cb(void *arg, int fd, uint32_t events)
{
	struct tnode *n = arg;
	struct tring *r = n->r;
	uint64_t v;
	ssize_t rd = read(fd, &v, sizeof(v));

	(void)rd;
	(void)events;
	for (;;) {
		struct titem *it;
		bool flow = false;

		pthread_mutex_lock(&r->mu);
		it = n->head;
		if (it) {
			n->head = it->next;
			if (!n->head)
				n->tail = NULL;
			n->busy = true;
		}
		pthread_mutex_unlock(&r->mu);
		if (!it)
			break;
		n->in_delivery = true;
		process(n, it);
		n->in_delivery = false;
		pthread_mutex_lock(&r->mu);
		n->busy = false;
		if (it->kind == IT_DELIVER) {
			r->pending--;
			r->delivered++;
			if (r->starved && r->pending <= r->limit / 2) {
				r->starved = false;
				flow = true;
			}
		}
		for (unsigned i = 0; flow && i < r->n; i++)
			if (r->nodes[i].running)
				push(&r->nodes[i], item(IT_FLOW));
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		free(it->data);
		free(it);
	}
}

static void *node_main(void *arg)
{
	struct tnode *n = arg;

	dloop_run(n->loop);
	return NULL;
}

static void node_start(struct tring *r, struct tnode *n, const struct tring_opts *o)
{
	struct services_config sc = { .ipc_name = n->ipc, .client_buffer_max_bytes = o->backlog };

	n->r = r;
	snprintf(n->ipc, sizeof(n->ipc), "%s-%u", o->prefix, n->nodeid);
	n->host = (struct svc_host){ .ctx = n,
				     .my_nodeid = n->nodeid,
				     .mcast = fake_mcast,
				     .max_msg_bytes = (2u << 20) - 1,
				     .log = fake_log };
	n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->efd < 0 || dloop_create(&n->loop))
		abort();
	n->host.loop = n->loop;
	if (dloop_add_fd(n->loop, n->efd, EPOLLIN, inbox_cb, n) ||
	    services_create(&n->host, &sc, &n->svc)) {
		fprintf(stderr, "tring: cannot start node %u\n", n->nodeid);
		abort();
	}
	n->running = true;
	pthread_create(&n->th, NULL, node_main, n);
}

struct tring *tring_new(const struct tring_opts *o)
{
	struct tring *r = calloc(1, sizeof(*r));

	if (!r || o->nodes > MAX_NODES)
		abort();
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->n = o->nodes;
	r->reentrant = o->reentrant;
	r->limit = o->queue_limit;
	for (unsigned i = 0; i < r->n; i++) {
		r->nodes[i].nodeid = i + 1;
		node_start(r, &r->nodes[i], o);
	}
	return r;
}

static void node_stop(struct tring *r, struct tnode *n)
{
	if (!n->running)
		return;
	pthread_mutex_lock(&r->mu);
	push(n, item(IT_STOP));
	pthread_mutex_unlock(&r->mu);
	pthread_join(n->th, NULL);
	pthread_mutex_lock(&r->mu);
	n->running = false;
	n->in_ring = false;
	while (n->head) {
		struct titem *it = n->head;

		n->head = it->next;
		if (it->kind == IT_DELIVER)
			r->pending--;
		free(it->data);
		free(it);
	}
	n->tail = NULL;
	while (n->held) {
		struct titem *it = n->held;

		n->held = it->next;
		free(it->data);
		free(it);
	}
	n->held_tail = NULL;
	pthread_mutex_unlock(&r->mu);
	services_destroy(n->svc);
	dloop_del_fd(n->loop, n->efd);
	close(n->efd);
	dloop_destroy(n->loop);
}

void tring_kill(struct tring *r, uint32_t nodeid)
{
	node_stop(r, &r->nodes[nodeid - 1]);
}

void tring_free(struct tring *r)
{
	for (unsigned i = 0; i < r->n; i++)
		node_stop(r, &r->nodes[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

static bool has(const uint32_t *l, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == id)
			return true;
	return false;
}

void tring_form(struct tring *r, const uint32_t *nodes, size_t n)
{
	struct totem_ring_id ring = { .rep = nodes[0], .seq = 0 };

	pthread_mutex_lock(&r->mu);
	ring.seq = ++r->seq * 4;
	for (size_t i = 0; i < n; i++)
		if (nodes[i] < ring.rep)
			ring.rep = nodes[i];
	for (size_t i = 0; i < n; i++) {
		struct tnode *m = &r->nodes[nodes[i] - 1];
		struct titem *t = item(IT_CONFCHG), *g = item(IT_CONFCHG);

		t->ctype = TOTEM_CONF_TRANSITIONAL;
		g->ctype = TOTEM_CONF_REGULAR;
		t->ring = g->ring = ring;
		for (size_t k = 0; k < m->nring; k++) {
			if (has(nodes, n, m->ring[k]))
				t->memb[t->nmemb++] = m->ring[k];
			else
				t->left[t->nleft++] = m->ring[k];
		}
		if (!m->in_ring)
			t->memb[t->nmemb++] = m->nodeid;
		for (size_t k = 0; k < n; k++) {
			g->memb[g->nmemb++] = nodes[k];
			if (!has(m->ring, m->nring, nodes[k]))
				g->joined[g->njoined++] = nodes[k];
		}
		push(m, t);
		push(m, g);
		memcpy(m->ring, nodes, n * sizeof(*nodes));
		m->nring = n;
		m->in_ring = true;
	}
	pthread_mutex_unlock(&r->mu);
}

void tring_block(struct tring *r, bool blocked)
{
	pthread_mutex_lock(&r->mu);
	r->blocked = blocked;
	for (unsigned i = 0; !blocked && i < r->n; i++)
		if (r->nodes[i].running)
			push(&r->nodes[i], item(IT_FLOW));
	pthread_mutex_unlock(&r->mu);
}

void tring_hold(struct tring *r, bool hold)
{
	pthread_mutex_lock(&r->mu);
	r->hold = hold;
	for (unsigned i = 0; !hold && i < r->n; i++) {
		struct tnode *n = &r->nodes[i];

		while (n->held) {
			struct titem *it = n->held;

			n->held = it->next;
			if (n->running && n->in_ring)
				to_ring(r, n, it->svc, it->g, it->data, it->len, false);
			free(it->data);
			free(it);
		}
		n->held_tail = NULL;
	}
	pthread_mutex_unlock(&r->mu);
}

void tring_settle(struct tring *r)
{
	pthread_mutex_lock(&r->mu);
	for (;;) {
		bool idle = true;

		for (unsigned i = 0; i < r->n; i++)
			if (r->nodes[i].running && (r->nodes[i].head || r->nodes[i].busy))
				idle = false;
		if (idle)
			break;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}

const char *tring_ipc(const struct tring *r, uint32_t nodeid)
{
	return r->nodes[nodeid - 1].ipc;
}

uint64_t tring_delivered(struct tring *r)
{
	uint64_t d;

	pthread_mutex_lock(&r->mu);
	d = r->delivered;
	pthread_mutex_unlock(&r->mu);
	return d;
}
