/* Handle tables of the client libraries (see cslib.h). A handle is
 * (generation << 32 | slot + 1) xor the table's tag: a stale or foreign
 * handle does not match a live slot. */
#include <errno.h>
#include <stdlib.h>

#include "lib/cslib.h"

#define SLOTS_MAX (1u << 20)

static struct cslib_hslot *slot_of(struct cslib_htab *t, uint64_t handle)
{
	uint64_t h = handle ^ t->tag;
	uint32_t idx = (uint32_t)h;
	struct cslib_hslot *s;

	if (idx == 0 || idx > t->n)
		return NULL;
	s = &t->slots[idx - 1];
	if (!s->obj || s->gen != (uint32_t)(h >> 32))
		return NULL;
	return s;
}

int cslib_h_add(struct cslib_htab *t, void *obj, uint64_t *handle)
{
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n && t->slots[i].obj; i++)
		;
	if (i == t->n) {
		size_t n = t->n ? t->n * 2 : 16;
		struct cslib_hslot *s = n <= SLOTS_MAX ? realloc(t->slots, n * sizeof(*s)) : NULL;

		if (!s) {
			pthread_mutex_unlock(&t->lock);
			return -ENOMEM;
		}
		for (size_t k = t->n; k < n; k++)
			s[k] = (struct cslib_hslot){ .gen = 1 };
		t->slots = s;
		t->n = n;
	}
	t->slots[i].obj = obj;
	t->slots[i].refs = 1;
	t->slots[i].dead = false;
	*handle = ((uint64_t)t->slots[i].gen << 32 | (i + 1)) ^ t->tag;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void *cslib_h_get(struct cslib_htab *t, uint64_t handle)
{
	struct cslib_hslot *s;
	void *obj = NULL;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, handle);
	if (s && !s->dead) {
		s->refs++;
		obj = s->obj;
	}
	pthread_mutex_unlock(&t->lock);
	return obj;
}

/* t->lock held. */
static void *drop(struct cslib_hslot *s)
{
	void *obj = s->obj;

	if (--s->refs)
		return NULL;
	s->obj = NULL;
	s->gen = s->gen + 1 ? s->gen + 1 : 1;
	return obj;
}

void *cslib_h_put(struct cslib_htab *t, uint64_t handle)
{
	struct cslib_hslot *s;
	void *obj = NULL;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, handle);
	if (s)
		obj = drop(s);
	pthread_mutex_unlock(&t->lock);
	return obj;
}

int cslib_h_remove(struct cslib_htab *t, uint64_t handle, void **last)
{
	struct cslib_hslot *s;

	*last = NULL;
	pthread_mutex_lock(&t->lock);
	s = slot_of(t, handle);
	if (!s || s->dead) {
		pthread_mutex_unlock(&t->lock);
		return -EBADF;
	}
	s->dead = true;
	*last = drop(s);
	pthread_mutex_unlock(&t->lock);
	return 0;
}
