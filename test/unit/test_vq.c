/* votequorum core: the scenarios of issue 6 simulated in one process, with
 * the notification sequence every node's clients would see. */
#include <string.h>

#include "test_vq_fixture.h"

#define AGREE(t, id) vqt_check_agree((t), (id), __LINE__)

/* Node id's log must be exactly these notes ('S'/'Q' with quorate, 'E'). */
static void expect_log(const struct vqt *t, uint32_t id, const char *want, int line)
{
	char got[VQT_LOG * 3 + 1] = "";
	size_t k = 0;

	for (size_t i = 0; i < t->log_len[id]; i++) {
		const struct vqt_note *n = &t->log[id][i];

		got[k++] = n->kind;
		if (n->kind != 'E')
			got[k++] = n->quorate ? '1' : '0';
		got[k++] = ' ';
	}
	if (k)
		k--;
	got[k] = 0;
	vqt_checks++;
	if (strcmp(got, want) != 0) {
		vqt_failures++;
		fprintf(stderr, "line %d: node %u notes \"%s\", expected \"%s\"\n", line, id, got,
			want);
	}
}
#define EXPECT_LOG(t, id, want) expect_log((t), (id), (want), __LINE__)

static void start_all(struct vqt *t, uint32_t n)
{
	for (uint32_t id = 1; id <= n; id++)
		vqt_start(t, id);
}

static void test_three_nodes(void)
{
	struct vqt t;
	struct vq_status st;

	vqt_init(&t, 3);
	start_all(&t, 3);
	/* Alone at start: one vote of three is not a quorum. */
	CHECK(!vqt_quorate(&t, 1));
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	st = vqt_status(&t, 1);
	CHECK(st.quorate && st.settled);
	CHECK_EQ(st.expected, 3);
	CHECK_EQ(st.highest_expected, 3);
	CHECK_EQ(st.total_votes, 3);
	CHECK_EQ(st.quorum, 2);
	CHECK_EQ(st.flags, VQ_INFO_QUORATE);
	EXPECT_LOG(&t, 1, "S1");
	EXPECT_LOG(&t, 3, "S1");

	/* Kill one: still quorate. */
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1, 2);
	AGREE(&t, 1);
	st = vqt_status(&t, 2);
	CHECK(st.quorate);
	CHECK_EQ(st.total_votes, 2);
	CHECK_EQ(st.quorum, 2);
	CHECK_EQ(st.expected, 3);

	/* The dead node stays in the node list, marked dead. */
	struct vq_node nd;
	CHECK_EQ(vq_get_node(t.node[1], 3, &nd), 0);
	CHECK_EQ(nd.state, VQ_NODE_DEAD);
	CHECK_EQ(vq_get_node(t.node[1], 9, &nd), VQ_E_NOENT);

	/* Kill two: the last one is not quorate, and is told so in order. */
	vqt_stop(&t, 2);
	VQT_FORM(&t, 1);
	CHECK(!vqt_quorate(&t, 1));
	CHECK_EQ(vqt_status(&t, 1).quorum, 2);
	EXPECT_LOG(&t, 1, "S1 S1 S0");

	/* Restart: quorate again, the restarted ones join the running one. */
	vqt_start(&t, 2);
	vqt_start(&t, 3);
	VQT_FORM(&t, 1, 2);
	CHECK(vqt_quorate(&t, 1) && vqt_quorate(&t, 2));
	AGREE(&t, 1);
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 3);
	CHECK(vqt_quorate(&t, 3));
	EXPECT_LOG(&t, 1, "S1 S1 S0 S1 S1");
	EXPECT_LOG(&t, 3, "S1 S1");
	vqt_free(&t);
}

static void test_order_independent(void)
{
	struct vqt t;

	/* The same scenario delivering each round in reverse order must end
	 * with the same answers: settle does not depend on who spoke first. */
	vqt_init(&t, 3);
	t.reverse = true;
	start_all(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	CHECK(vqt_quorate(&t, 2));
	vqt_stop(&t, 1);
	VQT_FORM(&t, 2, 3);
	AGREE(&t, 2);
	CHECK(vqt_quorate(&t, 3));
	CHECK_EQ(vqt_status(&t, 3).expected, 3);
	vqt_free(&t);
}

static void test_two_node(void)
{
	struct vqt t;
	struct vq_status st;

	vqt_init(&t, 2);
	t.base.two_node = true;
	t.base.wait_for_all = true; /* implied by two_node in the configuration */
	start_all(&t, 2);
	/* Cold start with one node: wait_for_all holds it back. */
	VQT_FORM(&t, 1);
	CHECK(!vqt_quorate(&t, 1));
	CHECK(vqt_status(&t, 1).waiting);
	VQT_FORM(&t, 1, 2);
	AGREE(&t, 1);
	st = vqt_status(&t, 1);
	CHECK(st.quorate);
	CHECK_EQ(st.quorum, 1);
	CHECK_EQ(st.flags, VQ_INFO_TWONODE | VQ_INFO_QUORATE | VQ_INFO_WAIT_FOR_ALL);
	/* One survivor stays quorate. */
	vqt_stop(&t, 2);
	VQT_FORM(&t, 1);
	CHECK(vqt_quorate(&t, 1));
	CHECK_EQ(vqt_status(&t, 1).total_votes, 1);
	EXPECT_LOG(&t, 1, "S0 S1 S1");
	/* The restarted peer joins the running survivor without waiting. */
	vqt_start(&t, 2);
	VQT_FORM(&t, 1, 2);
	CHECK(vqt_quorate(&t, 2));
	vqt_free(&t);

	/* Without wait_for_all a lone two_node node is quorate at once. */
	vqt_init(&t, 2);
	t.base.two_node = true;
	vqt_start(&t, 1);
	CHECK(vqt_quorate(&t, 1));
	vqt_free(&t);

	/* A third node turns two_node off: quorum is a majority again. */
	vqt_init(&t, 3);
	t.base.two_node = true;
	start_all(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	CHECK_EQ(vqt_status(&t, 1).quorum, 2);
	vqt_free(&t);
}

static void test_wait_for_all(void)
{
	struct vqt t;

	vqt_init(&t, 3);
	t.base.wait_for_all = true;
	start_all(&t, 3);
	/* Two of three are a majority, but not everyone has been seen yet. */
	VQT_FORM(&t, 1, 2);
	AGREE(&t, 1);
	CHECK(!vqt_quorate(&t, 1) && !vqt_quorate(&t, 2));
	CHECK(vqt_status(&t, 1).waiting);
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	CHECK(vqt_quorate(&t, 3));
	CHECK(!vqt_status(&t, 3).waiting);
	/* Once everyone was seen, losing one keeps quorum. */
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1, 2);
	CHECK(vqt_quorate(&t, 1));
	/* A restarted node joins a running cluster without waiting. */
	vqt_start(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	CHECK(vqt_quorate(&t, 3));
	AGREE(&t, 3);
	/* Losing quorum re-arms the wait: two of three are not enough to
	 * resume once the cluster fell apart. */
	vqt_stop(&t, 2);
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1);
	CHECK(!vqt_quorate(&t, 1));
	vqt_start(&t, 2);
	VQT_FORM(&t, 1, 2);
	CHECK(!vqt_quorate(&t, 1));
	vqt_start(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	CHECK(vqt_quorate(&t, 1));
	EXPECT_LOG(&t, 1, "S0 S1 S1 S1 S0 S0 S1");
	vqt_free(&t);
}

static void split_4(struct vqt *t)
{
	start_all(t, 4);
	VQT_FORM(t, 1, 2, 3, 4);
	CHECK(vqt_quorate(t, 1));
	VQT_FORM(t, 1, 2);
	VQT_FORM(t, 3, 4);
	AGREE(t, 1);
	AGREE(t, 3);
}

static void test_atb(void)
{
	struct vqt t;

	/* Without the tie-breaker neither half of 2/2 is quorate. */
	vqt_init(&t, 4);
	split_4(&t);
	CHECK(!vqt_quorate(&t, 1) && !vqt_quorate(&t, 3));
	vqt_free(&t);

	/* lowest: exactly the half with node 1. */
	vqt_init(&t, 4);
	t.base.auto_tie_breaker = true;
	split_4(&t);
	CHECK(vqt_quorate(&t, 1) && vqt_quorate(&t, 2));
	CHECK(!vqt_quorate(&t, 3) && !vqt_quorate(&t, 4));
	CHECK_EQ(vqt_status(&t, 1).flags & VQ_INFO_AUTO_TIE_BREAKER, VQ_INFO_AUTO_TIE_BREAKER);
	EXPECT_LOG(&t, 1, "S1 S1");
	EXPECT_LOG(&t, 4, "S1 S0");
	/* The losing half re-forming among itself stays inquorate. */
	VQT_FORM(&t, 3, 4);
	CHECK(!vqt_quorate(&t, 3));
	/* Healing the split: all quorate by votes again. */
	VQT_FORM(&t, 1, 2, 3, 4);
	AGREE(&t, 1);
	CHECK(vqt_quorate(&t, 4));
	vqt_free(&t);

	/* highest: the half with node 4. */
	vqt_init(&t, 4);
	t.base.auto_tie_breaker = true;
	t.base.atb_mode = VQ_ATB_HIGHEST;
	split_4(&t);
	CHECK(!vqt_quorate(&t, 1) && vqt_quorate(&t, 3));
	vqt_free(&t);

	/* list "5 3 1": 5 was never in the cluster, so 3 decides. */
	vqt_init(&t, 4);
	t.base.auto_tie_breaker = true;
	t.base.atb_mode = VQ_ATB_LIST;
	t.base.atb_nodes[0] = 5;
	t.base.atb_nodes[1] = 3;
	t.base.atb_nodes[2] = 1;
	t.base.atb_node_count = 3;
	split_4(&t);
	CHECK(!vqt_quorate(&t, 1) && vqt_quorate(&t, 3) && vqt_quorate(&t, 4));
	vqt_free(&t);
}

/* The tie-breaker must never make two halves quorate. */
static void test_atb_safety(void)
{
	struct vqt t;

	/* A node that restarts into the losing half does not tip it over:
	 * the reference ring is shared through NODEINFO. */
	vqt_init(&t, 4);
	t.base.auto_tie_breaker = true;
	split_4(&t);
	vqt_start(&t, 3);
	VQT_FORM(&t, 3, 4);
	AGREE(&t, 3);
	CHECK(!vqt_quorate(&t, 3));
	vqt_free(&t);

	/* Cold start of half the cluster: no reference yet, no tie-break. */
	vqt_init(&t, 4);
	t.base.auto_tie_breaker = true;
	start_all(&t, 4);
	VQT_FORM(&t, 1, 2);
	CHECK(!vqt_quorate(&t, 1));
	vqt_free(&t);

	/* Odd expected votes (5, one dead) split 2/2: not an exact half, so no
	 * half is made quorate (the fifth node could join the other one). */
	vqt_init(&t, 5);
	t.base.auto_tie_breaker = true;
	start_all(&t, 4);
	VQT_FORM(&t, 1, 2, 3, 4);
	CHECK(vqt_quorate(&t, 1));
	VQT_FORM(&t, 1, 2);
	VQT_FORM(&t, 3, 4);
	CHECK(!vqt_quorate(&t, 1) && !vqt_quorate(&t, 3));
	vqt_free(&t);
}

static void test_lms(void)
{
	struct vqt t;
	struct vq_status st;

	vqt_init(&t, 5);
	t.base.last_man_standing = true;
	start_all(&t, 5);
	VQT_FORM(&t, 1, 2, 3, 4, 5);
	CHECK_EQ(vq_lms_deadline(t.node[1]), UINT64_MAX);
	/* 5 -> 3: quorate, the window starts. */
	vqt_stop(&t, 4);
	vqt_stop(&t, 5);
	VQT_FORM(&t, 1, 2, 3);
	CHECK(vqt_quorate(&t, 1));
	CHECK_EQ(vqt_status(&t, 1).quorum, 3);
	CHECK_EQ(vq_lms_deadline(t.node[1]), t.now_ms + 10000);
	vqt_advance(&t, 9999);
	CHECK_EQ(vqt_status(&t, 1).expected, 5);
	vqt_advance(&t, 1);
	AGREE(&t, 1);
	st = vqt_status(&t, 2);
	CHECK_EQ(st.expected, 3);
	CHECK_EQ(st.quorum, 2);
	CHECK_EQ(st.flags, VQ_INFO_QUORATE | VQ_INFO_LAST_MAN_STANDING);
	/* 3 -> 2 */
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1, 2);
	CHECK(vqt_quorate(&t, 1));
	vqt_advance(&t, 10000);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 1).expected, 2);
	CHECK_EQ(vqt_status(&t, 1).quorum, 2);
	EXPECT_LOG(&t, 1, "S1 S1 E S1 E");
	/* 2 -> 1 without the tie-breaker: the last one is not quorate. */
	vqt_stop(&t, 2);
	VQT_FORM(&t, 1);
	CHECK(!vqt_quorate(&t, 1));
	/* Nodes configured for 5 join the inquorate survivor: with no quorate
	 * member to keep the lowered value, the highest expected wins again. */
	vqt_start(&t, 2);
	vqt_start(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	AGREE(&t, 1);
	CHECK(vqt_quorate(&t, 3));
	CHECK_EQ(vqt_status(&t, 3).expected, 5);
	CHECK_EQ(vqt_status(&t, 3).quorum, 3);
	/* Joining a quorate LMS-shrunk cluster instead keeps its value,
	 * raised to the votes present. */
	vqt_stop(&t, 3);
	vqt_stop(&t, 2);
	VQT_FORM(&t, 1);
	vqt_setexpected(&t, 1, 1);
	CHECK(vqt_quorate(&t, 1));
	vqt_start(&t, 2);
	VQT_FORM(&t, 1, 2);
	AGREE(&t, 1);
	CHECK_EQ(vqt_status(&t, 2).expected, 2);
	CHECK(vqt_quorate(&t, 2));
	vqt_free(&t);
}

static void test_lms_window_restarts(void)
{
	struct vqt t;

	vqt_init(&t, 5);
	t.base.last_man_standing = true;
	start_all(&t, 5);
	VQT_FORM(&t, 1, 2, 3, 4, 5);
	vqt_stop(&t, 5);
	VQT_FORM(&t, 1, 2, 3, 4);
	vqt_advance(&t, 6000);
	/* Another loss within the window starts it again. */
	vqt_stop(&t, 4);
	VQT_FORM(&t, 1, 2, 3);
	vqt_advance(&t, 6000);
	CHECK_EQ(vqt_status(&t, 1).expected, 5);
	vqt_advance(&t, 4000);
	CHECK_EQ(vqt_status(&t, 1).expected, 3);
	AGREE(&t, 1);
	vqt_free(&t);

	/* A loss seen through a short-lived inquorate ring ({1,2} on the way
	 * from 5 to 4 members) still starts the window. */
	vqt_init(&t, 5);
	t.base.last_man_standing = true;
	start_all(&t, 5);
	VQT_FORM(&t, 1, 2, 3, 4, 5);
	vqt_stop(&t, 5);
	VQT_FORM(&t, 1, 2);
	VQT_FORM(&t, 3, 4);
	CHECK(!vqt_quorate(&t, 1));
	VQT_FORM(&t, 1, 2, 3, 4);
	CHECK(vqt_quorate(&t, 1));
	vqt_advance(&t, 10000);
	CHECK_EQ(vqt_status(&t, 1).expected, 4);
	AGREE(&t, 1);
	vqt_free(&t);
}

static void test_lms_with_atb(void)
{
	struct vqt t;

	/* votequorum(5): going from 2 to 1 needs the tie-breaker. */
	vqt_init(&t, 3);
	t.base.last_man_standing = true;
	t.base.auto_tie_breaker = true;
	start_all(&t, 3);
	VQT_FORM(&t, 1, 2, 3);
	vqt_stop(&t, 3);
	VQT_FORM(&t, 1, 2);
	vqt_advance(&t, 10000);
	CHECK_EQ(vqt_status(&t, 1).expected, 2);
	vqt_stop(&t, 2);
	VQT_FORM(&t, 1);
	CHECK(vqt_quorate(&t, 1));
	vqt_advance(&t, 10000);
	CHECK_EQ(vqt_status(&t, 1).expected, 1);
	CHECK_EQ(vqt_status(&t, 1).quorum, 1);
	CHECK(vqt_quorate(&t, 1));
	vqt_free(&t);

	/* ...and the node that is not the tie-breaker loses. */
	vqt_init(&t, 2);
	t.base.last_man_standing = true;
	t.base.auto_tie_breaker = true;
	start_all(&t, 2);
	VQT_FORM(&t, 1, 2);
	vqt_stop(&t, 1);
	VQT_FORM(&t, 2);
	CHECK(!vqt_quorate(&t, 2));
	vqt_advance(&t, 20000);
	CHECK(!vqt_quorate(&t, 2));
	CHECK_EQ(vqt_status(&t, 2).expected, 2);
	vqt_free(&t);
}

int test_vq_options_main(void);
int test_vq_msg_main(void);

int main(void)
{
	test_three_nodes();
	test_order_independent();
	test_two_node();
	test_wait_for_all();
	test_atb();
	test_atb_safety();
	test_lms();
	test_lms_window_restarts();
	test_lms_with_atb();
	test_vq_options_main();
	test_vq_msg_main();
	if (vqt_failures) {
		fprintf(stderr, "test_vq: %d of %d checks failed\n", vqt_failures, vqt_checks);
		return 1;
	}
	printf("test_vq: %d checks passed\n", vqt_checks);
	return 0;
}
