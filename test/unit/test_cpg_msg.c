/* CPG ring message codec: round trips and every rejection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/cpg_msg.h"

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static const struct cpg_ipc_name G = { 5, "group" };

static void test_joinleave(void)
{
	uint8_t b[256];
	struct cpg_msg m;
	size_t n = cpg_msg_joinleave_encode(b, sizeof(b), CPG_MSG_JOIN, 9, 0x01020304, 77, &G);

	CHECK(n == 12 + 1 + 5);
	CHECK(b[4] == 1 && b[7] == 4); /* big-endian */
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK);
	CHECK(m.type == CPG_MSG_JOIN && m.pid == 0x01020304 && m.conn == 77 && m.group.len == 5);
	CHECK(cpg_msg_decode(b, n - 1, &m) == CPG_MSG_ERR_SHORT);
	CHECK(cpg_msg_decode(b, 3, &m) == CPG_MSG_ERR_SHORT);
	b[n] = 0;
	CHECK(cpg_msg_decode(b, n + 1, &m) == CPG_MSG_ERR_FIELD); /* trailing */
	b[1] = 1;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* join has no reason */
	n = cpg_msg_joinleave_encode(b, sizeof(b), CPG_MSG_LEAVE, 5, 1, 2, &G);
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK && m.reason == 5);
	b[1] = 3;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* only LEAVE or PROCDOWN */
	b[1] = 2;
	b[3] = 1;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* reserved */
	b[3] = 0;
	b[12] = 129; /* name over 128 */
	memset(b + 13, 'x', 129);
	CHECK(cpg_msg_decode(b, 13 + 129, &m) == CPG_MSG_ERR_FIELD);
	b[0] = 9;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_TYPE);
	CHECK(cpg_msg_joinleave_encode(b, 10, CPG_MSG_JOIN, 0, 1, 2, &G) == 0);
	for (int e = 0; e <= CPG_MSG_ERR_COUNT_; e++)
		CHECK(cpg_msg_err_name(e));
}

static void test_mcast(void)
{
	uint8_t b[256];
	struct cpg_msg m;
	size_t n = cpg_msg_mcast_head_encode(b, sizeof(b), 3, CPG_FRAG_WHOLE, 1, 2, 4, &G);

	memcpy(b + n, "data", 4);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_OK);
	CHECK(m.guarantee == 3 && m.frag == CPG_FRAG_WHOLE && m.len == 4 && m.data == b + n);
	CHECK(cpg_msg_decode(b, n + 3, &m) == CPG_MSG_ERR_FIELD); /* whole != total */
	n = cpg_msg_mcast_head_encode(b, sizeof(b), 3, CPG_FRAG_FIRST, 1, 2, 100, &G);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_OK && m.total_len == 100);
	n = cpg_msg_mcast_head_encode(b, sizeof(b), 3, CPG_FRAG_FIRST, 1, 2, 2, &G);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_ERR_FIELD); /* part > total */
	n = cpg_msg_mcast_head_encode(b, sizeof(b), 4, CPG_FRAG_FIRST, 1, 2, 100, &G);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_ERR_FIELD); /* guarantee */
	n = cpg_msg_mcast_head_encode(b, sizeof(b), 3, 4, 1, 2, 100, &G);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_ERR_FIELD); /* frag */
	n = cpg_msg_mcast_head_encode(b, sizeof(b), 3, 0, 1, 2, CPG_IPC_MAX_MSG + 1, &G);
	CHECK(cpg_msg_decode(b, n + 4, &m) == CPG_MSG_ERR_FIELD); /* total */
	CHECK(cpg_msg_decode(b, 15, &m) == CPG_MSG_ERR_SHORT);
}

static void test_joinlist(void)
{
	uint8_t b[1024];
	struct cpg_jl_entry e = { .pid = 3, .conn = 4, .group = G }, d;
	struct cpg_msg m;
	size_t n = cpg_msg_jl_head_encode(b, sizeof(b), CPG_JL_LAST, 7, 0x1122334455ull, 2),
	       off = 0;

	n += cpg_msg_jl_entry_encode(b + n, sizeof(b) - n, &e);
	e.pid = 8;
	n += cpg_msg_jl_entry_encode(b + n, sizeof(b) - n, &e);
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK);
	CHECK(m.jl_flags == CPG_JL_LAST && m.ring_rep == 7 && m.ring_seq == 0x1122334455ull &&
	      m.jl_count == 2);
	cpg_msg_jl_next(&m, &off, &d);
	CHECK(d.pid == 3 && d.conn == 4 && d.group.len == 5);
	cpg_msg_jl_next(&m, &off, &d);
	CHECK(d.pid == 8 && off == m.len);
	CHECK(cpg_msg_decode(b, n - 1, &m) == CPG_MSG_ERR_SHORT);
	b[n] = 1;
	CHECK(cpg_msg_decode(b, n + 1, &m) == CPG_MSG_ERR_FIELD);
	b[1] = 2;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* unknown flag */
	b[1] = CPG_JL_LAST;
	b[19] = 200; /* count far beyond the bytes */
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD);
	n = cpg_msg_jl_head_encode(b, sizeof(b), 0, 1, 1, 0);
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK && m.jl_count == 0);
	CHECK(cpg_msg_jl_head_encode(b, 10, 0, 1, 1, 0) == 0);
	CHECK(cpg_msg_jl_entry_encode(b, 10, &e) == 0);
}

/* FLOW: 4 bytes, one known flag, nothing after. */
static void test_flow(void)
{
	uint8_t b[8];
	struct cpg_msg m;
	size_t n = cpg_msg_flow_encode(b, sizeof(b), CPG_FLOW_CONGESTED);

	CHECK(n == CPG_MSG_FLOW_LEN && b[0] == CPG_MSG_FLOW);
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK && m.flow_flags == CPG_FLOW_CONGESTED);
	n = cpg_msg_flow_encode(b, sizeof(b), 0);
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_OK && m.flow_flags == 0);
	CHECK(cpg_msg_decode(b, n - 1, &m) == CPG_MSG_ERR_SHORT);
	b[4] = 0;
	CHECK(cpg_msg_decode(b, n + 1, &m) == CPG_MSG_ERR_FIELD); /* trailing */
	b[1] = 2;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* unknown flag */
	b[1] = 0;
	b[3] = 1;
	CHECK(cpg_msg_decode(b, n, &m) == CPG_MSG_ERR_FIELD); /* reserved */
	CHECK(cpg_msg_flow_encode(b, 3, 0) == 0);
}

int main(void)
{
	test_joinleave();
	test_flow();
	test_mcast();
	test_joinlist();
	printf("cpg_msg: all tests passed\n");
	return 0;
}
