/* IPC client event queue: chunks of received event frames (see
 * ipc_client_int.h for the invariants). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc_client_int.h"

#define IPCC_CHUNK (256u << 10)
#define IPCC_MIN_ROOM 4096u
/* One drained chunk up to this size is kept for the next: with 1 MiB
 * messages a malloc and free per event made the heap grow and shrink each
 * time, and the page faults of every regrowth slowed receivers enough to
 * hold the senders back (flow control). */
#define IPCC_SPARE_MAX (4u << 20)

static void chunk_free(struct ipcc *c, struct ipcc_chunk *k)
{
	if (k->cap <= IPCC_SPARE_MAX && (!c->spare || c->spare->cap < k->cap)) {
		free(c->spare);
		c->spare = k;
		return;
	}
	free(k);
}

static struct ipcc_chunk *chunk_new(struct ipcc *c, size_t cap)
{
	struct ipcc_chunk *k = c->spare;

	if (k && k->cap >= cap) {
		c->spare = NULL;
		return k;
	}
	k = malloc(sizeof(*k) + cap);
	if (k)
		k->cap = cap;
	return k;
}

/* A chunk with every frame handed out and given back is dropped; the tail
 * is kept for reuse instead. */
static void chunk_release(struct ipcc *c, struct ipcc_chunk *k)
{
	struct ipcc_chunk **pp;

	if (k->refs || k->off != k->len)
		return;
	if (k == c->tail) {
		k->len = k->off = k->scan = 0;
		return;
	}
	for (pp = &c->head; *pp && *pp != k; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = k->next;
	chunk_free(c, k);
}

/* Frames are validated as they arrive: after this, every frame between a
 * chunk's off and its scan mark is complete and has a sane header. */
static size_t scan_end(struct ipcc *c, struct ipcc_chunk *k, size_t *need)
{
	size_t p = k->scan > k->off ? k->scan : k->off;

	while (k->len - p >= IPC_HDR_LEN) {
		struct ipc_hdr h;

		if (ipc_hdr_decode(k->data + p, IPC_MAX_FRAME, false, &h) != IPC_HDR_OK) {
			c->ev_bad = true;
			break;
		}
		if (k->len - p < h.len) {
			*need = h.len;
			break;
		}
		p += h.len;
	}
	k->scan = p;
	return p;
}

/* A chunk with room for the next read; moves a trailing partial frame to a
 * new chunk when it would not fit in the tail. */
static struct ipcc_chunk *room(struct ipcc *c)
{
	struct ipcc_chunk *t = c->tail, *k;
	size_t need = IPC_HDR_LEN, p = 0, part = 0, cap;

	if (t) {
		p = scan_end(c, t, &need);
		part = t->len - p;
		if (t->cap - p >= need && t->cap - t->len >= IPCC_MIN_ROOM)
			return t;
		if (t->cap - p >= need && t->len < t->cap && need - part < IPCC_MIN_ROOM)
			return t;
	}
	cap = need > IPCC_CHUNK ? need : IPCC_CHUNK;
	k = chunk_new(c, cap);
	if (!k)
		return NULL;
	k->next = NULL;
	k->len = part;
	k->off = k->scan = 0;
	k->refs = 0;
	if (t) {
		memcpy(k->data, t->data + p, part);
		t->len = p;
		t->next = k;
	} else {
		c->head = k;
	}
	c->tail = k;
	if (t)
		chunk_release(c, t);
	return k;
}

int ipcc_ev_read(struct ipcc *c)
{
	struct ipcc_chunk *k;
	ssize_t r;

	if (c->ev_bad)
		return -EPROTO;
	if (c->ev_eof)
		return -ECONNRESET;
	k = room(c);
	if (!k)
		return -ENOMEM;
	do
		r = recv(c->evfd, k->data + k->len, k->cap - k->len, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r == 0 || (r < 0 && errno != EAGAIN)) {
		c->ev_eof = true;
		return -ECONNRESET;
	}
	if (r < 0)
		return 0;
	k->len += (size_t)r;
	c->queued += (size_t)r;
	return (int)(r > INT32_MAX ? INT32_MAX : r);
}

/* The first chunk that still has frames to hand out. */
static struct ipcc_chunk *first_pending(struct ipcc *c)
{
	struct ipcc_chunk *k = c->head;

	while (k && k->off == k->len)
		k = k->next;
	return k;
}

static bool frame_ready(struct ipcc *c, struct ipcc_chunk *k, struct ipc_hdr *h)
{
	if (!k || k->len - k->off < IPC_HDR_LEN)
		return false;
	if (ipc_hdr_decode(k->data + k->off, IPC_MAX_FRAME, false, h) != IPC_HDR_OK) {
		c->ev_bad = true;
		return false;
	}
	return k->len - k->off >= h->len;
}

void ipcc_ev_signal(struct ipcc *c)
{
	struct ipc_hdr h;
	bool pending = frame_ready(c, first_pending(c), &h);
	uint64_t v = 1;
	ssize_t r = 0;

	if (pending && !c->efd_set)
		r = write(c->efd, &v, sizeof(v));
	else if (!pending && c->efd_set)
		r = read(c->efd, &v, sizeof(v));
	else
		return;
	(void)r;
	c->efd_set = pending;
}

void ipcc_ev_free_all(struct ipcc *c)
{
	while (c->head) {
		struct ipcc_chunk *k = c->head;

		c->head = k->next;
		free(k);
	}
	free(c->spare);
	c->spare = NULL;
	c->tail = NULL;
	c->queued = 0;
}

int ipcc_event_next(struct ipcc *c, struct ipcc_event *ev)
{
	int rc = 0;

	if (atomic_load(&c->shut))
		return -ESHUTDOWN;
	pthread_mutex_lock(&c->ev_lock);
	for (int tries = 0; tries < 2; tries++) {
		struct ipcc_chunk *k = first_pending(c);
		struct ipc_hdr h;

		if (frame_ready(c, k, &h)) {
			ev->h = h;
			ev->body = k->data + k->off + IPC_HDR_LEN;
			ev->len = h.len - IPC_HDR_LEN;
			ev->chunk = k;
			k->off += h.len;
			k->refs++;
			c->queued -= h.len;
			rc = 1;
			break;
		}
		if (c->ev_bad) {
			rc = -EPROTO;
			break;
		}
		rc = ipcc_ev_read(c);
		if (rc <= 0)
			break;
		rc = 0;
	}
	if (rc < 0 && rc != -ECONNRESET && rc != -EPROTO)
		rc = 0; /* -ENOMEM: try again later */
	if (rc < 0)
		atomic_store(&c->dead, true);
	ipcc_ev_signal(c);
	pthread_mutex_unlock(&c->ev_lock);
	return rc;
}

void ipcc_event_done(struct ipcc *c, struct ipcc_event *ev)
{
	struct ipcc_chunk *k = ev->chunk;

	if (!k)
		return;
	pthread_mutex_lock(&c->ev_lock);
	k->refs--;
	chunk_release(c, k);
	pthread_mutex_unlock(&c->ev_lock);
	ev->chunk = NULL;
}

int ipcc_event_wait(struct ipcc *c, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = c->evfd, .events = POLLIN },
			       { .fd = c->efd, .events = POLLIN } };

	if (atomic_load(&c->shut))
		return -ESHUTDOWN;
	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return atomic_load(&c->shut) ? -ESHUTDOWN : 0;
}
