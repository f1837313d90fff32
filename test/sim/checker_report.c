/* Violation reports and the per-node event traces they print. */
#include "checker_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *chk_prop_name(int prop)
{
	static const char *const names[] = {
		[CHK_OK] = "none",
		[CHK_P_ONCE] = "1 (delivered at most once, only what was sent)",
		[CHK_P_ORDER] = "2 (total order)",
		[CHK_P_VS] = "3 (virtual synchrony)",
		[CHK_P_SENT_IN] = "4 (delivered in the configuration it was sent in)",
		[CHK_P_SAFE] = "5 (safe delivery)",
		[CHK_P_CONF] = "6 (configuration changes)",
		[CHK_P_LIVE] = "7 (liveness)",
		[CHK_P_API] = "API contract of the core",
	};

	return prop >= 0 && prop <= CHK_P_API ? names[prop] : "?";
}

bool chk_fail(struct chk *c, int prop, const char *fmt, ...)
{
	va_list ap;

	if (c->violation)
		return false;
	c->violation = prop;
	if (!c->out)
		return false;
	fprintf(c->out, "VIOLATION of property %s\n  ", chk_prop_name(prop));
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	return true;
}

void chk_log(struct chk *c, uint32_t node, const struct chk_ev *ev)
{
	struct chk_node *n = &c->node[node];

	/* the log grows to its cap before it first wraps, so growing never has
	 * to unwrap it; past the cap it overwrites its oldest events */
	if (n->log_n >= n->log_cap && n->log_cap < c->log_cap_max)
		n->log = chk_grow(n->log, &n->log_cap, n->log_cap + 1, sizeof(*n->log));
	n->log[n->log_n % n->log_cap] = *ev;
	n->log_n++;
}

const char *chk_msg_name(const struct chk *c, uint32_t msg, char *buf, size_t len)
{
	const struct chk_msg *m;

	if (msg >= c->msg_n) {
		snprintf(buf, len, "an unidentified message");
		return buf;
	}
	m = &c->msg[msg];
	snprintf(buf, len, "msg %u/%u/%llu", c->node[m->sender].id, m->inc,
		 (unsigned long long)m->counter);
	return buf;
}

const char *chk_mask_str(const struct chk *c, uint64_t mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < c->n && off + 12 < len; i++)
		if (mask & (1ull << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? " " : "",
						c->node[i].id);
	return buf;
}

static const char *note_name(uint32_t what)
{
	switch (what) {
	case CHK_NOTE_PAUSE:
		return "paused";
	case CHK_NOTE_RESUME:
		return "resumed";
	case CHK_NOTE_LEAVE:
		return "leaves gracefully";
	case CHK_NOTE_PART:
		return "network changed, partition group";
	}
	return "?";
}

static void print_conf(const struct chk *c, const struct chk_ev *ev)
{
	const struct chk_conf_ev *ce = &c->cev[ev->ref];
	char b1[512], b2[512], b3[512];

	fprintf(c->out, "%s ring %u.%llu members [%s] left [%s] joined [%s]",
		ev->kind == CHK_EV_TRANS ? "TRANSITIONAL" : "REGULAR", ev->ring.rep,
		(unsigned long long)ev->ring.seq, chk_mask_str(c, ce->members, b1, sizeof(b1)),
		chk_mask_str(c, ce->left, b2, sizeof(b2)),
		chk_mask_str(c, ce->joined, b3, sizeof(b3)));
}

static void print_ev(const struct chk *c, const struct chk_ev *ev)
{
	char nm[64];

	fprintf(c->out, "    %llu.%06llu ", (unsigned long long)(ev->t / 1000000),
		(unsigned long long)(ev->t % 1000000));
	switch (ev->kind) {
	case CHK_EV_SUBMIT:
		fprintf(c->out, "submit  %s %s %u bytes", chk_msg_name(c, ev->ref, nm, sizeof(nm)),
			ev->g == TOTEM_SAFE ? "safe" : "agreed",
			ev->ref < c->msg_n ? c->msg[ev->ref].len : 0);
		break;
	case CHK_EV_DELIVER:
		fprintf(c->out, "deliver %s %s ring %u.%llu seq %llu%s",
			chk_msg_name(c, ev->ref, nm, sizeof(nm)),
			ev->g == TOTEM_SAFE ? "safe" : "agreed", ev->ring.rep,
			(unsigned long long)ev->ring.seq, (unsigned long long)ev->seq,
			ev->in_trans ? " (in transitional)" : "");
		break;
	case CHK_EV_TRANS:
	case CHK_EV_REGULAR:
		print_conf(c, ev);
		break;
	case CHK_EV_PERSIST:
		fprintf(c->out, "persist ring seq %llu", (unsigned long long)ev->seq);
		break;
	case CHK_EV_START:
		fprintf(c->out, "START incarnation %llu", (unsigned long long)ev->seq);
		break;
	case CHK_EV_CRASH:
		fprintf(c->out, "CRASH");
		break;
	case CHK_EV_NOTE:
		fprintf(c->out, "(%s %llu)", note_name(ev->ref), (unsigned long long)ev->seq);
		break;
	}
	fputc('\n', c->out);
}

/* A long run of deliveries can push the configuration changes that matter
 * out of the window: show the node's last two before it. */
static void trace_earlier_confs(const struct chk *c, const struct chk_node *n, uint64_t oldest,
				uint64_t from)
{
	uint64_t found[2];
	uint32_t k = 0;

	for (uint64_t i = from; i-- > oldest && k < 2;) {
		uint8_t kind = n->log[i % n->log_cap].kind;

		if (kind == CHK_EV_TRANS || kind == CHK_EV_REGULAR)
			found[k++] = i;
	}
	while (k-- > 0) {
		fprintf(c->out, "   [#%llu]", (unsigned long long)found[k]);
		print_ev(c, &n->log[found[k] % n->log_cap]);
	}
	if (from > oldest)
		fprintf(c->out, "    ...\n");
}

static void chk_trace_range(struct chk *c, uint32_t node, uint64_t from, uint64_t upto)
{
	const struct chk_node *n = &c->node[node];
	uint64_t oldest = n->log_n > n->log_cap ? n->log_n - n->log_cap : 0;

	if (from < oldest)
		from = oldest;
	fprintf(c->out, "  events of node %u (index %u), #%llu..#%llu of %llu:\n", n->id, node,
		(unsigned long long)from, (unsigned long long)upto, (unsigned long long)n->log_n);
	trace_earlier_confs(c, n, oldest, from);
	for (uint64_t i = from; i <= upto; i++)
		print_ev(c, &n->log[i % n->log_cap]);
}

void chk_trace(struct chk *c, uint32_t node, uint64_t upto)
{
	const struct chk_node *n = &c->node[node];
	uint64_t from;

	if (!c->out || !n->log_n)
		return;
	if (upto >= n->log_n)
		upto = n->log_n - 1;
	from = upto + 1 > CHK_TAIL ? upto + 1 - CHK_TAIL : 0;
	chk_trace_range(c, node, from, upto);
}

void chk_dump(struct chk *c, uint32_t node, FILE *out)
{
	FILE *saved = c->out;
	const struct chk_node *n = &c->node[node];

	c->out = out;
	if (n->log_n)
		chk_trace_range(c, node, 0, n->log_n - 1);
	c->out = saved;
}

uint64_t chk_find_delivery(const struct chk *c, uint32_t node, uint32_t msg)
{
	const struct chk_node *n = &c->node[node];
	uint64_t oldest = n->log_n > n->log_cap ? n->log_n - n->log_cap : 0;

	for (uint64_t i = n->log_n; i-- > oldest;) {
		const struct chk_ev *ev = &n->log[i % n->log_cap];

		if (ev->kind == CHK_EV_DELIVER && ev->ref == msg)
			return i;
	}
	return n->log_n ? n->log_n - 1 : 0;
}
