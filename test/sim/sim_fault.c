/* The scenario of a run: when nodes start, which faults strike when during
 * the fault phase, and when faults stop. All drawn from the run's seed. */
#include <string.h>

#include "sim_int.h"

static void push_at(struct sim *s, uint64_t t, uint8_t type, uint32_t node, uint32_t gen,
		    uint64_t arg)
{
	struct sim_ev ev = { .t = t, .type = type, .node = (uint8_t)node, .gen = gen };

	ev.u.arg = arg;
	sim_push(s, &ev);
}

static struct sim_fault *fault_add(struct sim *s, uint64_t t, uint8_t kind)
{
	struct sim_fault *f;

	if (s->fault_n >= SIM_FAULTS_MAX)
		return NULL;
	f = &s->fault[s->fault_n];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->t = t;
	push_at(s, t, SIM_EV_FAULT, 0, 0, s->fault_n++);
	return f;
}

static void plan_partitions(struct sim *s, uint64_t phase)
{
	struct sim_rng *r = &s->rng_fault;
	uint32_t k = (uint32_t)sim_rng_range(r, 1, 3);

	while (s->n >= 2 && k--) {
		uint64_t t = sim_rng_below(r, phase);
		uint32_t groups = (uint32_t)sim_rng_range(r, 2, s->n < 3 ? 2 : 3);
		struct sim_fault *f = fault_add(s, t, SIM_F_PARTITION);

		if (!f)
			return;
		for (uint32_t i = 0; i < s->n; i++)
			f->group[i] = (uint8_t)sim_rng_below(r, groups);
		/* a partition may outlast the fault phase: quiet heals it */
		t += sim_rng_range(r, 100000, 1500000);
		if (t < phase)
			fault_add(s, t, SIM_F_HEAL);
	}
}

static void plan_asymmetric(struct sim *s, uint64_t phase)
{
	struct sim_rng *r = &s->rng_fault;
	uint32_t k = (uint32_t)sim_rng_range(r, 1, 4);

	while (s->n >= 2 && k--) {
		uint64_t t = sim_rng_below(r, phase);
		uint32_t a = (uint32_t)sim_rng_below(r, s->n);
		uint32_t b = (a + 1 + (uint32_t)sim_rng_below(r, s->n - 1)) % s->n;
		struct sim_fault *f = fault_add(s, t, SIM_F_BLOCK);

		if (!f)
			return;
		f->a = (uint8_t)a;
		f->b = (uint8_t)b;
		t += sim_rng_range(r, 50000, 1500000);
		if (t < phase && (f = fault_add(s, t, SIM_F_UNBLOCK))) {
			f->a = (uint8_t)a;
			f->b = (uint8_t)b;
		}
	}
}

static void plan_crashes(struct sim *s, uint64_t phase)
{
	struct sim_rng *r = &s->rng_fault;
	uint32_t k = (uint32_t)sim_rng_range(r, 1, s->n < 3 ? s->n : 3);

	while (k--) {
		uint64_t t = sim_rng_below(r, phase);
		struct sim_fault *f =
			fault_add(s, t, sim_rng_chance(r, 0.3) ? SIM_F_LEAVE : SIM_F_CRASH);

		if (!f)
			return;
		f->a = (uint8_t)sim_rng_below(r, s->n);
		f->dur_us = sim_rng_range(r, 20000, 1500000);
	}
}

static void plan_pauses(struct sim *s, uint64_t phase)
{
	struct sim_rng *r = &s->rng_fault;
	uint32_t k = (uint32_t)sim_rng_range(r, 1, 3);
	uint64_t token = s->cfg.token_ms * 1000ull;

	while (k--) {
		uint64_t t = sim_rng_below(r, phase);
		struct sim_fault *f = fault_add(s, t, SIM_F_PAUSE);

		if (!f)
			return;
		f->a = (uint8_t)sim_rng_below(r, s->n);
		/* mostly past the token timeout: the others give the node up
		 * while it still believes in the old ring */
		f->dur_us = sim_rng_chance(r, 0.75) ?
				    sim_rng_range(r, token + token / 5, 5 * token) :
				    sim_rng_range(r, 5000, token);
	}
}

static void plan_ids(struct sim *s)
{
	struct sim_rng *r = &s->rng_fault;
	bool sparse = sim_rng_chance(r, 0.25);
	uint32_t id = 0;

	/* ids ascend with the index; sparse ones exercise representative
	 * choice and lookups that dense 1..n would not */
	for (uint32_t i = 0; i < s->n; i++) {
		id += sparse ? (uint32_t)sim_rng_range(r, 1, 1000) : 1;
		s->node[i].id = id;
	}
}

void sim_faults_plan(struct sim *s)
{
	const struct sim_opts *o = s->o;
	struct sim_rng *r = &s->rng_fault;
	bool any = o->partitions || o->crashes || o->pauses || o->asymmetric || o->loss > 0 ||
		   o->dup > 0 || o->reorder > 0;
	uint64_t phase =
		any ? sim_rng_range(r, 1000000, 3000000) : sim_rng_range(r, 300000, 800000);
	bool together = sim_rng_chance(r, 0.3) || o->duration_us;

	s->fault_n = 0;
	plan_ids(s);
	for (uint32_t i = 0; i < s->n; i++)
		push_at(s, together ? 0 : sim_rng_below(r, 300000), SIM_EV_START, i, 0, 0);
	if (o->duration_us) {
		s->quiet_at = 0;
		s->work_end = s->end_at = o->duration_us;
		return;
	}
	if (o->partitions)
		plan_partitions(s, phase);
	if (o->asymmetric)
		plan_asymmetric(s, phase);
	if (o->crashes)
		plan_crashes(s, phase);
	if (o->pauses)
		plan_pauses(s, phase);
	s->quiet_at = phase;
	push_at(s, phase, SIM_EV_QUIET, 0, 0, 0);
	/* the workload goes on while the ring re-forms and for a while after,
	 * then stops so that every queue drains before the end */
	s->work_end = phase + s->bound_us + 300000;
	s->end_at = s->work_end + 1500000;
}

static void apply_groups(struct sim *s, const uint8_t *group)
{
	for (uint32_t i = 0; i < s->n; i++) {
		s->node[i].group = group ? group[i] : 0;
		if (s->chk)
			chk_note(s->chk, s->now, i, CHK_NOTE_PART, s->node[i].group);
	}
}

void sim_fault_apply(struct sim *s, uint32_t idx)
{
	const struct sim_fault *f = &s->fault[idx];
	struct sim_node *n = &s->node[f->a];

	switch (f->kind) {
	case SIM_F_PARTITION:
		apply_groups(s, f->group);
		break;
	case SIM_F_HEAL:
		apply_groups(s, NULL);
		break;
	case SIM_F_BLOCK:
		s->blocked[f->a][f->b] = true;
		break;
	case SIM_F_UNBLOCK:
		s->blocked[f->a][f->b] = false;
		break;
	case SIM_F_CRASH:
	case SIM_F_LEAVE:
		if (!n->up)
			break;
		sim_node_stop(s, f->a, f->kind == SIM_F_LEAVE);
		push_at(s, s->now + f->dur_us, SIM_EV_START, f->a, n->start_gen, 0);
		break;
	case SIM_F_PAUSE:
		sim_node_pause(s, f->a, f->dur_us);
		break;
	}
}

static const char *fault_name(uint8_t kind)
{
	static const char *const names[] = { "?",	"partition", "heal",  "block",
					     "unblock", "crash",     "leave", "pause" };

	return kind <= SIM_F_PAUSE ? names[kind] : "?";
}

static void describe_node(struct sim *s, uint32_t i)
{
	const struct sim_node *n = &s->node[i];
	const struct totem_stats *st;
	struct totem_ring_id r;

	if (!n->t) {
		fprintf(s->out, "  node %u: down\n", n->id);
		return;
	}
	st = totem_get_stats(n->t);
	r = totem_get_ring_id(n->t);
	fprintf(s->out,
		"  node %u: %s%s ring %u.%llu, deadline %lld us, submit space %zu, rx %llu tx %llu "
		"token losses %llu rings %llu\n",
		n->id, totem_state_name(totem_get_state(n->t)), n->paused ? " (paused)" : "", r.rep,
		(unsigned long long)r.seq,
		n->deadline == TOTEM_NO_DEADLINE ? -1LL : (long long)n->deadline,
		totem_submit_space(n->t), (unsigned long long)st->rx_packets,
		(unsigned long long)st->tx_packets, (unsigned long long)st->token_losses,
		(unsigned long long)st->rings_formed);
}

/* The scenario, for a violation report. */
void sim_describe(struct sim *s)
{
	FILE *out = s->out;
	uint8_t order[SIM_FAULTS_MAX];

	fprintf(out, "scenario: %u nodes, ids", s->n);
	for (uint32_t i = 0; i < s->n; i++)
		fprintf(out, " %u", s->node[i].id);
	fprintf(out, "; faults stop at %llu us, workload ends %llu us, run ends %llu us\n",
		(unsigned long long)s->quiet_at, (unsigned long long)s->work_end,
		(unsigned long long)s->end_at);
	for (uint32_t i = 0; i < s->fault_n; i++)
		order[i] = (uint8_t)i;
	/* by time; insertion sort, there are few */
	for (uint32_t i = 1; i < s->fault_n; i++)
		for (uint32_t j = i; j > 0 && s->fault[order[j]].t < s->fault[order[j - 1]].t;
		     j--) {
			uint8_t x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (uint32_t i = 0; i < s->fault_n; i++) {
		const struct sim_fault *f = &s->fault[order[i]];

		fprintf(out, "  %llu us: %s", (unsigned long long)f->t, fault_name(f->kind));
		if (f->kind == SIM_F_PARTITION) {
			fprintf(out, " groups");
			for (uint32_t j = 0; j < s->n; j++)
				fprintf(out, " %u:%u", s->node[j].id, f->group[j]);
		} else if (f->kind == SIM_F_BLOCK || f->kind == SIM_F_UNBLOCK) {
			fprintf(out, " %u -> %u", s->node[f->a].id, s->node[f->b].id);
		} else if (f->kind != SIM_F_HEAL) {
			fprintf(out, " node %u for %llu us", s->node[f->a].id,
				(unsigned long long)f->dur_us);
		}
		fputc('\n', out);
	}
	for (uint32_t i = 0; i < s->n; i++)
		describe_node(s, i);
}
