/* The event queue: a binary heap ordered by virtual time, then by the order
 * in which events were scheduled, so that equal times replay identically. */
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

static bool ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void sim_push(struct sim *s, const struct sim_ev *ev)
{
	uint32_t i;

	if (s->heap_n == s->heap_cap) {
		uint32_t cap = s->heap_cap ? s->heap_cap * 2 : 4096;
		struct sim_ev *h = realloc(s->heap, cap * sizeof(*h));

		if (!h) {
			fprintf(stderr, "sim: out of memory\n");
			abort();
		}
		s->heap = h;
		s->heap_cap = cap;
	}
	i = s->heap_n++;
	s->heap[i] = *ev;
	s->heap[i].seq = s->ev_seq++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		struct sim_ev tmp;

		if (!ev_before(&s->heap[i], &s->heap[p]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[p];
		s->heap[p] = tmp;
		i = p;
	}
}

bool sim_pop(struct sim *s, struct sim_ev *ev)
{
	uint32_t i = 0;
	struct sim_ev last;

	if (!s->heap_n)
		return false;
	*ev = s->heap[0];
	last = s->heap[--s->heap_n];
	/* sift the last element down from the root */
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= s->heap_n)
			break;
		if (r < s->heap_n && ev_before(&s->heap[r], &s->heap[l]))
			m = r;
		if (!ev_before(&s->heap[m], &last))
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->heap_n)
		s->heap[i] = last;
	return true;
}

void sim_heap_clear(struct sim *s)
{
	struct sim_ev ev;

	while (sim_pop(s, &ev))
		if (ev.type == SIM_EV_PACKET)
			sim_pkt_put(ev.u.pkt);
	s->ev_seq = 0;
}

struct sim_pkt *sim_pkt_new(const uint8_t *data, size_t len, uint32_t from)
{
	struct sim_pkt *p = malloc(sizeof(*p) + len);

	if (!p) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	p->refs = 0;
	p->len = (uint32_t)len;
	p->from = from;
	memcpy(p->data, data, len);
	return p;
}

void sim_pkt_put(struct sim_pkt *p)
{
	if (p && --p->refs == 0)
		free(p);
}
