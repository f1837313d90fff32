/* cpg_client: the commands that look at groups (membership, iteration) and the rules of
 * zero-copy buffers. */
#include <stdlib.h>
#include <string.h>

#include "cpg_client.h"

void cmd_members(char *a, char *b)
{
	struct cpg_address m[CPG_MEMBERS_MAX];
	struct cpg_name g;
	int i, n = 0;
	cs_error_t err;

	if (!handle_arg(a, &i) || !name_arg(b, &g)) {
		reply("ERR args 0");
		return;
	}
	err = cpg_membership_get(cl[i].h, &g, m, &n);
	if (err != CS_OK) {
		reply("ERR members %d", (int)err);
		return;
	}
	printf("OK %d ", n);
	for (int k = 0; k < n; k++)
		printf("%s%u:%u:%u", k ? "," : "", m[k].nodeid, m[k].pid, m[k].reason);
	reply("%s", ""); /* ends the line */
}

void cmd_iter(char *a, char *type, char *group)
{
	struct cpg_iteration_description_t d;
	cpg_iteration_handle_t it;
	struct cpg_name g;
	cpg_iteration_type_t t;
	cs_error_t err;
	int i, n = 0;
	char *out = NULL;
	size_t outlen = 0;
	FILE *o;

	if (!handle_arg(a, &i) || !type || (group && !name_arg(group, &g))) {
		reply("ERR args 0");
		return;
	}
	t = !strcmp(type, "name") ? CPG_ITERATION_NAME_ONLY :
	    !strcmp(type, "one")  ? CPG_ITERATION_ONE_GROUP :
	    !strcmp(type, "all")  ? CPG_ITERATION_ALL :
				    (cpg_iteration_type_t)0;
	err = cpg_iteration_initialize(cl[i].h, t, group ? &g : NULL, &it);
	if (err != CS_OK) {
		reply("ERR iter_init %d", (int)err);
		return;
	}
	o = open_memstream(&out, &outlen);
	if (!o)
		abort();
	while ((err = cpg_iteration_next(it, &d)) == CS_OK) {
		fprintf(o, "%s%.*s/%u/%u", n ? ";" : "", (int)d.group.length, d.group.value,
			d.nodeid, d.pid);
		n++;
	}
	fclose(o);
	if (err != CS_ERR_NO_SECTIONS)
		reply("ERR iter_next %d", (int)err);
	else if ((err = cpg_iteration_finalize(it)) != CS_OK)
		reply("ERR iter_fin %d", (int)err);
	else
		reply("OK %d %s", n, out);
	free(out);
}

#define EXPECT(call, want)                                                  \
	do {                                                                \
		cs_error_t e_ = (call);                                     \
		if (e_ != (want)) {                                         \
			reply("ERR %s:%d %d", #call, (int)(want), (int)e_); \
			return;                                             \
		}                                                           \
	} while (0)

/* The zero-copy buffer's rules on a joined handle. */
void cmd_zcbcheck(char *a)
{
	void *b1 = NULL, *b2 = NULL;
	char local[TAG_MAX];
	uint32_t atomic = 0;
	int i;

	if (!handle_arg(a, &i)) {
		reply("ERR args 0");
		return;
	}
	EXPECT(cpg_zcb_alloc(cl[i].h, 100, NULL), CS_ERR_INVALID_PARAM);
	EXPECT(cpg_zcb_alloc(cl[i].h, 100, &b1), CS_OK);
	EXPECT(cpg_zcb_alloc(cl[i].h, 0, &b2), CS_OK);
	EXPECT(cpg_zcb_free(cl[i].h, b2), CS_OK);
	EXPECT(cpg_zcb_free(cl[i].h, b2), CS_ERR_INVALID_PARAM);
	EXPECT(cpg_zcb_free(cl[i].h, local), CS_ERR_INVALID_PARAM);
	EXPECT(cpg_zcb_mcast_joined(cl[i].h, CPG_TYPE_AGREED, local, 10), CS_ERR_INVALID_PARAM);
	EXPECT(cpg_zcb_mcast_joined(cl[i].h, CPG_TYPE_AGREED, b1, 101), CS_ERR_INVALID_PARAM);
	EXPECT(cpg_zcb_mcast_joined(cl[i].h, (cpg_guarantee_t)7, b1, 10), CS_ERR_INVALID_PARAM);
	/* Too big for any message: refused before anything is allocated. */
	EXPECT(cpg_zcb_alloc(cl[i].h, (size_t)1 << 40, &b2), CS_ERR_TOO_BIG);
	EXPECT(cpg_max_atomic_msgsize_get(cl[i].h, &atomic), CS_OK);
	EXPECT(cpg_zcb_free(cl[i].h, b1), CS_OK);
	reply("OK %u", atomic);
}
