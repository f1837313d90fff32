/* libcpg dispatch: events from the daemon become callbacks; fragments of
 * large messages are put back together first. A partial message is
 * dropped when a membership change of its group arrives before its last
 * fragment: the daemon applies the same rule to tell the sender
 * CS_ERR_INTERRUPT, and every member sees the same events in the same
 * order, so a message is delivered whole everywhere or nowhere. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cpgl.h"

#define CPGL_PARTIALS_MAX 1024u
#define CPGL_STACK_ADDRS 64u

void cpgl_partials_free(struct cpgl_inst *in)
{
	while (in->partials) {
		struct cpgl_partial *p = in->partials;

		in->partials = p->next;
		free(p->buf);
		free(p);
	}
	in->npartials = 0;
}

static void partial_drop(struct cpgl_inst *in, struct cpgl_partial **pp)
{
	struct cpgl_partial *p = *pp;

	*pp = p->next;
	free(p->buf);
	free(p);
	in->npartials--;
}

static struct cpgl_partial **partial_find(struct cpgl_inst *in, uint32_t nodeid, uint32_t stream)
{
	struct cpgl_partial **pp;

	for (pp = &in->partials; *pp; pp = &(*pp)->next)
		if ((*pp)->nodeid == nodeid && (*pp)->stream == stream)
			return pp;
	return NULL;
}

static void drop_group_partials(struct cpgl_inst *in, const struct cpg_ipc_name *g)
{
	struct cpgl_partial **pp = &in->partials;

	while (*pp) {
		if ((*pp)->group.len == g->len && !memcmp((*pp)->group.value, g->value, g->len))
			partial_drop(in, pp);
		else
			pp = &(*pp)->next;
	}
}

static void deliver(struct cpgl_inst *in, const struct cpg_ipc_name *g, uint32_t nodeid,
		    uint32_t pid, void *msg, size_t len)
{
	struct cpg_name name;

	cpgl_name_out(g, &name);
	in->deliver_fn(in->handle, &name, nodeid, pid, msg, len);
}

static void start_partial(struct cpgl_inst *in, const struct cpg_ipc_deliver *d)
{
	struct cpgl_partial **pp = partial_find(in, d->nodeid, d->stream), *p;

	if (pp)
		partial_drop(in, pp);
	if (in->npartials >= CPGL_PARTIALS_MAX)
		return;
	p = calloc(1, sizeof(*p));
	if (p)
		p->buf = malloc(d->total_len ? d->total_len : 1);
	if (!p || !p->buf) {
		free(p);
		return;
	}
	*p = (struct cpgl_partial){ .next = in->partials,
				    .nodeid = d->nodeid,
				    .stream = d->stream,
				    .pid = d->pid,
				    .group = d->group,
				    .buf = p->buf,
				    .total = d->total_len };
	memcpy(p->buf, d->data, d->len);
	p->got = d->len;
	in->partials = p;
	in->npartials++;
}

/* Returns true when a callback ran. */
static bool on_deliver(struct cpgl_inst *in, const struct ipcc_event *ev)
{
	struct cpg_ipc_deliver d;
	struct cpgl_partial **pp, *p;
	bool whole;

	if (cpg_ipc_deliver_decode(ev->body, ev->len, &d))
		return false;
	if (d.frag == CPG_FRAG_WHOLE) {
		if (!in->deliver_fn)
			return false;
		deliver(in, &d.group, d.nodeid, d.pid, (void *)d.data, d.len);
		return true;
	}
	if (d.frag == CPG_FRAG_FIRST) {
		start_partial(in, &d);
		return false;
	}
	pp = partial_find(in, d.nodeid, d.stream);
	if (!pp)
		return false; /* its start was dropped or came before we joined */
	p = *pp;
	if (p->total != d.total_len || d.len > p->total - p->got || p->group.len != d.group.len ||
	    memcmp(p->group.value, d.group.value, d.group.len)) {
		partial_drop(in, pp);
		return false;
	}
	memcpy(p->buf + p->got, d.data, d.len);
	p->got += d.len;
	if (!(d.frag & CPG_FRAG_LAST))
		return false;
	/* Detached first: a callback calling cpg_dispatch again must not see it. */
	*pp = p->next;
	in->npartials--;
	whole = p->got == p->total && in->deliver_fn;
	if (whole)
		deliver(in, &p->group, p->nodeid, p->pid, p->buf, p->total);
	free(p->buf);
	free(p);
	return whole;
}

static void to_addrs(const uint8_t *e, size_t from, size_t n, struct cpg_address *out)
{
	for (size_t i = 0; i < n; i++) {
		struct cpg_ipc_addr a = cpg_ipc_addr_at(e, from + i);

		out[i] = (struct cpg_address){ a.nodeid, a.pid, a.reason };
	}
}

static bool on_confchg(struct cpgl_inst *in, const struct ipcc_event *ev)
{
	struct cpg_address stack[CPGL_STACK_ADDRS], *a = stack;
	struct cpg_ipc_confchg c;
	struct cpg_name name;
	size_t n;

	if (cpg_ipc_confchg_decode(ev->body, ev->len, &c))
		return false;
	drop_group_partials(in, &c.group);
	if (!in->confchg_fn)
		return false;
	n = (size_t)c.n_memb + c.n_left + c.n_joined;
	if (n > CPGL_STACK_ADDRS && !(a = calloc(n, sizeof(*a))))
		return false;
	to_addrs(c.entries, 0, n, a);
	cpgl_name_out(&c.group, &name);
	in->confchg_fn(in->handle, &name, a, c.n_memb, a + c.n_memb, c.n_left,
		       a + c.n_memb + c.n_left, c.n_joined);
	if (a != stack)
		free(a);
	return true;
}

static bool on_totem(struct cpgl_inst *in, const struct ipcc_event *ev)
{
	uint32_t stack[CPGL_STACK_ADDRS], *ids = stack;
	struct cpg_ipc_totem t;
	struct cpg_ring_id ring;

	if (cpg_ipc_totem_decode(ev->body, ev->len, &t) || !in->totem_fn)
		return false;
	if (t.count > CPGL_STACK_ADDRS && !(ids = calloc(t.count, sizeof(*ids))))
		return false;
	for (uint32_t i = 0; i < t.count; i++)
		ids[i] = ipc_get_u32(t.ids + 4 * i);
	ring.nodeid = t.rep;
	ring.seq = t.seq;
	in->totem_fn(in->handle, ring, t.count, ids);
	if (ids != stack)
		free(ids);
	return true;
}

static bool handle_event(struct cpgl_inst *in, const struct ipcc_event *ev)
{
	switch (ev->h.type) {
	case CPG_IPC_EV_DELIVER:
		return on_deliver(in, ev);
	case CPG_IPC_EV_CONFCHG:
		return on_confchg(in, ev);
	case CPG_IPC_EV_TOTEM:
		return on_totem(in, ev);
	default:
		return false; /* an event type from a newer daemon */
	}
}

static bool dispatch_event(void *arg, const struct ipcc_event *ev)
{
	return handle_event(arg, ev);
}

CS_EXPORT cs_error_t cpg_dispatch(cpg_handle_t handle, cs_dispatch_flags_t dispatch_types)
{
	struct cpgl_inst *in = cslib_h_get(&cpgl_handles, handle);
	cs_error_t err;

	if (!in || atomic_load(&in->finalized)) {
		if (in)
			cpgl_put(in);
		return CS_ERR_BAD_HANDLE;
	}
	if (dispatch_types < CS_DISPATCH_ONE || dispatch_types > CS_DISPATCH_ONE_NONBLOCKING) {
		cpgl_put(in);
		return CS_ERR_INVALID_PARAM;
	}
	pthread_mutex_lock(&in->disp_lock);
	err = cslib_dispatch(in->conn, &in->finalized, dispatch_types, dispatch_event, in);
	pthread_mutex_unlock(&in->disp_lock);
	cpgl_put(in);
	return err;
}
