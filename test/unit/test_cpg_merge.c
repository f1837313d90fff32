/* A merge that brings a node more groups than it had: the CPG sync must
 * list the groups again after adding them (it once wrote the longer list
 * into an array sized for the old count: a heap overflow that the
 * sanitizer build catches, and a crash of cohortd in the 1000-group system
 * test). Node 2 joins eight groups while node 1 is alone and has none;
 * after the merge node 1 lists all eight with their member. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_cpg_ring.h"
#include "test_cpg_util.h"

#define NGROUPS 8

static size_t listed(cpg_handle_t h)
{
	struct cpg_iteration_description_t d;
	cpg_iteration_handle_t it;
	size_t n = 0;
	cs_error_t err;

	CHECK_CS(cpg_iteration_initialize(h, CPG_ITERATION_ALL, NULL, &it), CS_OK);
	while ((err = cpg_iteration_next(it, &d)) == CS_OK) {
		CHECK(d.nodeid == 2 && d.pid == (uint32_t)getpid());
		CHECK(d.group.length == 2 && d.group.value[0] == 'm');
		n++;
	}
	CHECK_CS(err, CS_ERR_NO_SECTIONS);
	CHECK_CS(cpg_iteration_finalize(it), CS_OK);
	return n;
}

int main(void)
{
	struct tring_opts o = { .nodes = 2, .reentrant = true };
	const uint32_t n1[] = { 1 }, n2[] = { 2 }, n12[] = { 1, 2 };
	struct tcli watcher, c[NGROUPS];
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "test-cpgmerge-%d", (int)getpid());
	o.prefix = prefix;
	struct tring *ring = tring_new(&o);

	tring_form(ring, n12, 2);
	tring_settle(ring);
	CHECK_CS(tcli_open(&watcher, tring_ipc(ring, 1), false, false), CS_OK);
	tring_form(ring, n1, 1);
	tring_form(ring, n2, 1);
	tring_settle(ring);
	for (int i = 0; i < NGROUPS; i++) {
		char name[8];
		struct cpg_name g;

		snprintf(name, sizeof(name), "m%d", i);
		g = tname(name);
		CHECK_CS(tcli_open(&c[i], tring_ipc(ring, 2), false, false), CS_OK);
		CHECK_CS(tjoin(c[i].h, &g), CS_OK);
	}
	tring_settle(ring);
	CHECK(listed(watcher.h) == 0);
	tring_form(ring, n12, 2);
	tring_settle(ring);
	for (int tries = 0; listed(watcher.h) != NGROUPS; tries++) {
		CHECK(tries < 500);
		usleep(10000);
	}
	for (int i = 0; i < NGROUPS; i++)
		tcli_close(&c[i]);
	tcli_close(&watcher);
	tring_free(ring);
	printf("cpg_merge: all tests passed\n");
	return 0;
}
