/* votequorum core: options, expected-votes rules, runtime changes and
 * messages that must be ignored. */
#include <string.h>

#include "test_vq_fixture.h"

#define AGREE(t, id) vqt_check_agree((t), (id), __LINE__)

int test_vq_options_main(void);

static void test_bad_options(void)
{
	struct vq_options o = { .my_nodeid = 1, .my_votes = 1, .expected_votes = 3 };
	struct vq *q = (struct vq *)1;

	CHECK_EQ(vq_create(&o, &q), 0);
	vq_destroy(q);
	o.expected_votes = 0;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL);
	CHECK(q == NULL);
	o.expected_votes = 3;
	o.my_votes = VQ_MAX_VOTES + 1;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL);
	o.my_votes = 1;
	o.my_nodeid = 0;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL);
	o.my_nodeid = 1;
	o.auto_tie_breaker = true;
	o.atb_mode = VQ_ATB_LIST;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL); /* a list needs nodes */
	o.atb_node_count = 1;
	o.atb_nodes[0] = 0;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL);
	o.atb_node_count = VQ_MAX_ATB_NODES + 1;
	CHECK_EQ(vq_create(&o, &q), VQ_E_INVAL);
	CHECK(strcmp(vq_strerror(VQ_E_LOSES_QUORUM),
		     "the quorum needed would be more than the votes present") == 0);
}

static void test_expected_rules(void)
{
	struct vqt t;
	struct vq_status st;

	/* The highest expected votes any member holds wins. */
	vqt_init(&t, 3);
	t.expected[2] = 5;
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	st = vqt_status(&t, 1);
	CHECK_EQ(st.expected, 5);
	CHECK_EQ(st.highest_expected, 5);
	CHECK_EQ(st.quorum, 3);
	CHECK(st.quorate);
	vqt_free(&t);

	/* Expected never stays below the votes present. */
	vqt_init(&t, 2);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	st = vqt_status(&t, 3);
	CHECK_EQ(st.expected, 3);
	CHECK_EQ(st.quorum, 2);
	vqt_free(&t);

	/* Weighted votes: node 1 has 3 of 5. */
	vqt_init(&t, 5);
	t.votes[1] = 3;
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	CHECK_EQ(vqt_status(&t, 2).total_votes, 5);
	VQT_FORM(&t, 1);
	VQT_FORM(&t, 2, 3);
	CHECK(vqt_quorate(&t, 1));
	CHECK(!vqt_quorate(&t, 2));
	vqt_free(&t);

	/* A node with no votes counts as a member but adds nothing. */
	vqt_init(&t, 2);
	t.votes[3] = 0;
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 3);
	CHECK(!vqt_quorate(&t, 1));
	CHECK_EQ(vqt_status(&t, 1).total_votes, 1);
	vqt_free(&t);
}

static void test_setexpected(void)
{
	struct vqt t;

	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	CHECK_EQ(vqt_setexpected(&t, 1, 0), VQ_E_INVAL);
	CHECK_EQ(vqt_setexpected(&t, 1, VQ_MAX_EXPECTED + 1), VQ_E_INVAL);
	/* 7 expected would need 4 votes; only 3 are present. */
	CHECK_EQ(vqt_setexpected(&t, 1, 7), VQ_E_LOSES_QUORUM);
	CHECK_EQ(vqt_setexpected(&t, 1, 5), 0);
	CHECK_EQ(t.last_reconfig_result[1], 0);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 2).expected, 5);
	CHECK_EQ(vqt_status(&t, 2).quorum, 3);
	/* Asking for fewer than present: expected stays at the votes present,
	 * so the quorum stays a majority of them. */
	CHECK_EQ(vqt_setexpected(&t, 2, 1), 0);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 3).expected, 3);
	CHECK_EQ(vqt_status(&t, 3).quorum, 2);
	CHECK_EQ(t.log_len[3], 3); /* S, E (5), E (3) */
	CHECK(t.log[3][1].kind == 'E' && t.log[3][1].value == 5);
	CHECK(t.log[3][2].kind == 'E' && t.log[3][2].value == 3);
	/* The last node alone may lower expected to regain quorum. */
	vqt_stop(&t, 2);
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1);
	CHECK(!vqt_quorate(&t, 1));
	CHECK_EQ(vqt_setexpected(&t, 1, 1), 0);
	CHECK(vqt_quorate(&t, 1));
	CHECK_EQ(vqt_status(&t, 1).quorum, 1);
	/* Nodes coming back adopt the quorate node's value, raised to the
	 * votes present. */
	vqt_start(&t, 2);
	VQT_FORM(&t, 1, 2);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 2).expected, 2);
	CHECK(vqt_quorate(&t, 2));
	vqt_free(&t);
}

static void test_setvotes(void)
{
	struct vqt t;
	struct vq_node nd;

	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	CHECK_EQ(vqt_setvotes(&t, 1, 9, 1), VQ_E_NOENT);
	CHECK_EQ(vqt_setvotes(&t, 1, 2, VQ_MAX_VOTES + 1), VQ_E_INVAL);
	CHECK_EQ(vqt_setvotes(&t, 1, 2, 3), 0);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 3).total_votes, 5);
	CHECK_EQ(vqt_status(&t, 3).expected, 5);
	CHECK_EQ(vq_get_node(t.node[3], 2, &nd), 0);
	CHECK_EQ(nd.votes, 3);
	/* Taking votes away is fine while the quorum stays within reach... */
	CHECK_EQ(vqt_setvotes(&t, 3, 3, 0), 0);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 1).total_votes, 4);
	CHECK_EQ(vqt_status(&t, 1).quorum, 3);
	/* ...and refused when it would put the quorum out of reach. */
	CHECK_EQ(vqt_setvotes(&t, 3, 2, 0), VQ_E_LOSES_QUORUM);
	CHECK_EQ(vqt_status(&t, 1).total_votes, 4);
	CHECK(vqt_quorate(&t, 1));
	/* The new votes are the node's own from now on: after a ring change
	 * node 3 still advertises 0. */
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 1).total_votes, 4);
	vqt_free(&t);
}

static void test_reconfig_races(void)
{
	struct vqt t;
	struct vq_reconfig rc = {
		.origin = 1, .req_id = 1, .param = VQ_RECONFIG_EXPECTED, .value = 3
	};
	uint8_t buf[64];
	size_t len;

	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	/* Asked in ring A, delivered after ring B formed: refused as AGAIN
	 * on every member, the origin's client learns it. */
	rc.ring = vqt_status(&t, 1).ring;
	VQT_FORM(&t, 1, 2, 3);
	len = vq_msg_encode_reconfig(&rc, buf, sizeof(buf));
	t.last_reconfig_result[1] = 1;
	CHECK_EQ(vqt_inject(&t, 1, 1, buf, len), 0);
	CHECK_EQ(t.last_reconfig_result[1], VQ_E_AGAIN);
	/* A node cannot speak for another. */
	rc.ring = vqt_status(&t, 1).ring;
	len = vq_msg_encode_reconfig(&rc, buf, sizeof(buf));
	t.last_reconfig_result[1] = 1;
	CHECK_EQ(vqt_inject(&t, 1, 2, buf, len), 0);
	CHECK_EQ(t.last_reconfig_result[1], 1);
	/* Before the ring settles, runtime changes are refused for now. */
	vq_confchg(t.node[1], (struct vq_ring){ 1, 999 }, (uint32_t[]){ 1, 2 }, 2);
	CHECK_EQ(vq_check_setexpected(t.node[1], 3), VQ_E_AGAIN);
	CHECK_EQ(vq_check_setvotes(t.node[1], 1, 1), VQ_E_AGAIN);
	vqt_free(&t);
}

static void test_allow_downscale(void)
{
	struct vqt t;

	vqt_init(&t, 3);
	t.base.allow_downscale = true;
	for (uint32_t id = 1; id <= 5; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3, 4, 5);
	CHECK_EQ(vqt_status(&t, 1).expected, 5);
	CHECK_EQ(vqt_status(&t, 1).flags & VQ_INFO_ALLOW_DOWNSCALE, VQ_INFO_ALLOW_DOWNSCALE);
	vqt_leave(&t, 5);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 1).expected, 4);
	struct vq_node nd;
	CHECK_EQ(vq_get_node(t.node[1], 5, &nd), 0);
	CHECK_EQ(nd.state, VQ_NODE_LEAVING);
	vqt_stop(&t, 5);
	VQT_FORM(&t, 1, 2, 3, 4);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 1).expected, 4);
	CHECK(vqt_quorate(&t, 1));
	vqt_leave(&t, 4);
	vqt_stop(&t, 4);
	VQT_FORM(&t, 1, 2, 3);
	vqt_leave(&t, 3);
	/* Never below the configured expected votes. */
	CHECK_EQ(vqt_status(&t, 1).expected, 3);
	CHECK_EQ(vqt_status(&t, 1).quorum, 2);
	CHECK(vqt_quorate(&t, 1));
	vqt_free(&t);

	/* Without allow_downscale a clean leave changes nothing. */
	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2, 3);
	vqt_leave(&t, 3);
	CHECK_EQ(vqt_status(&t, 1).expected, 3);
	vqt_free(&t);
}

static void test_stale_messages(void)
{
	struct vqt t;
	struct vq_nodeinfo ni;
	uint8_t buf[VQ_MSG_MAX_BYTES];
	size_t len;

	vqt_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++)
		vqt_start(&t, id);
	VQT_FORM(&t, 1, 2);
	/* A NODEINFO naming another node, from a non-member, or for an old
	 * ring is ignored. */
	vq_my_nodeinfo(t.node[2], &ni);
	CHECK_EQ(vq_on_nodeinfo(t.node[1], 3, &ni, 0), VQ_E_STALE);
	ni.nodeid = 3;
	CHECK_EQ(vq_on_nodeinfo(t.node[1], 3, &ni, 0), VQ_E_STALE);
	vq_my_nodeinfo(t.node[2], &ni);
	ni.ring.seq--;
	CHECK_EQ(vq_on_nodeinfo(t.node[1], 2, &ni, 0), VQ_E_STALE);
	CHECK_EQ(vq_on_lms(t.node[1], 3, vqt_status(&t, 1).ring), VQ_E_STALE);
	/* A second NODEINFO after the settle cannot change votes. */
	vq_my_nodeinfo(t.node[2], &ni);
	ni.votes = 50;
	len = vq_msg_encode_nodeinfo(&ni, buf, sizeof(buf));
	CHECK_EQ(vqt_inject(&t, 1, 2, buf, len), 0);
	CHECK_EQ(vqt_status(&t, 1).total_votes, 2);
	/* A forged tie-breaker reference with an oversized count is refused
	 * by the codec before the core sees it. */
	buf[VQ_MSG_NODEINFO_FIXED - 4] = 0xff;
	CHECK(vqt_inject(&t, 1, 2, buf, len) < 0);
	vqt_free(&t);
}

int test_vq_options_main(void)
{
	test_bad_options();
	test_expected_rules();
	test_setexpected();
	test_setvotes();
	test_reconfig_races();
	test_allow_downscale();
	test_stale_messages();
	return 0;
}
