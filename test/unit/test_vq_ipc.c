/* Quorum/votequorum IPC bodies: round trips of every event type and of the
 * node list, and malformed bodies refused without reading past them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/quorum_ipc.h"

static int checks, failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

static struct quorum_ipc_event ev, back;
static uint8_t buf[QUORUM_IPC_MAX_EVENT];

/* Decode from an exact-size heap copy so that ASan sees any overread. */
static int decode_copy(uint16_t type, const uint8_t *b, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	memcpy(p, b, len);
	rc = quorum_ipc_event_decode(type, p, len, &back);
	free(p);
	return rc;
}

static size_t encode_and_check(void)
{
	size_t len = quorum_ipc_event_encode(buf, sizeof(buf), &ev);
	struct ipc_hdr h;

	CHECK(len > IPC_HDR_LEN);
	CHECK(ipc_hdr_decode(buf, len, false, &h) == IPC_HDR_OK);
	CHECK(h.len == len && h.type == ev.type && h.req_id == 0 && h.result == 0);
	CHECK(decode_copy(ev.type, buf + IPC_HDR_LEN, len - IPC_HDR_LEN) == 0);
	/* Every truncation and one byte more are refused. */
	for (size_t l = IPC_HDR_LEN; l < len; l++)
		CHECK(decode_copy(ev.type, buf + IPC_HDR_LEN, l - IPC_HDR_LEN) == -EPROTO);
	buf[len] = 0;
	CHECK(decode_copy(ev.type, buf + IPC_HDR_LEN, len + 1 - IPC_HDR_LEN) == -EPROTO);
	return len;
}

static void test_events(void)
{
	memset(&ev, 0, sizeof(ev));
	ev.type = QUORUM_IPC_EV_QUORUM;
	ev.quorate = 1;
	ev.rep = 2;
	ev.seq = 0x0102030405060708ull;
	ev.n_memb = 3;
	ev.ids[0] = 2;
	ev.ids[1] = 3;
	ev.ids[2] = 9;
	encode_and_check();
	CHECK(back.quorate == 1 && back.rep == 2 && back.seq == ev.seq && back.n_memb == 3);
	CHECK(back.ids[2] == 9);

	ev.type = QUORUM_IPC_EV_NODELIST;
	ev.n_memb = 2;
	ev.n_joined = 1;
	ev.n_left = 1;
	encode_and_check();
	CHECK(back.n_memb == 2 && back.n_joined == 1 && back.n_left == 1 && back.ids[3] == 0);
	CHECK(back.ids[2] == 9);

	memset(&ev, 0, sizeof(ev));
	ev.type = VQ_IPC_EV_QUORUM;
	ev.context = 0xdeadbeefcafef00dull;
	ev.quorate = 0;
	ev.n_memb = 2;
	ev.ids[0] = 1;
	ev.states[0] = 1;
	ev.ids[1] = 4;
	ev.states[1] = 2;
	encode_and_check();
	CHECK(back.context == ev.context && back.n_memb == 2);
	CHECK(back.ids[1] == 4 && back.states[1] == 2);

	ev.type = VQ_IPC_EV_NODELIST;
	ev.rep = 1;
	ev.seq = 44;
	encode_and_check();
	CHECK(back.context == ev.context && back.seq == 44 && back.ids[1] == 4);

	ev.type = VQ_IPC_EV_EXPECTED;
	ev.expected = 7;
	CHECK(encode_and_check() == IPC_HDR_LEN + 12);
	CHECK(back.expected == 7 && back.context == ev.context && back.n_memb == 0);

	/* Unknown types, counts over the limit, a too small buffer. */
	CHECK(quorum_ipc_event_decode(0x399, buf, 0, &back) == -EPROTO);
	ev.type = 0x399;
	CHECK(quorum_ipc_event_encode(buf, sizeof(buf), &ev) == 0);
	ev.type = QUORUM_IPC_EV_NODELIST;
	ev.n_memb = QUORUM_IPC_MAX_IDS;
	ev.n_joined = 1;
	CHECK(quorum_ipc_event_encode(buf, sizeof(buf), &ev) == 0);
	ev.n_memb = 1;
	ev.n_joined = 0;
	ev.n_left = 0;
	CHECK(quorum_ipc_event_encode(buf, IPC_HDR_LEN + 4, &ev) == 0);
	/* Counts whose sum would wrap 32 bits. */
	uint8_t b[20] = { 0 };
	ipc_put_u32(b + 12, 0x80000000u);
	ipc_put_u32(b + 16, 0x80000000u);
	CHECK(quorum_ipc_event_decode(QUORUM_IPC_EV_NODELIST, b, sizeof(b), &back) == -EPROTO);
}

static void test_words_and_nodes(void)
{
	uint32_t v[3] = { 1, 2, 3 }, out[3];
	uint8_t body[256];
	struct quorum_ipc_node n = { 3, 1, 2, 5, "node-three" }, got;
	struct ipc_wr w;
	struct ipc_rd r;
	uint32_t count;
	size_t len;

	len = quorum_ipc_words_encode(buf, sizeof(buf), VQ_IPC_SETVOTES, 7, -22, v, 2);
	CHECK(len == IPC_HDR_LEN + 8);
	CHECK(quorum_ipc_words_decode(buf + IPC_HDR_LEN, 8, out, 2) == 0 && out[1] == 2);
	CHECK(quorum_ipc_words_decode(buf + IPC_HDR_LEN, 8, out, 3) == -EPROTO);
	CHECK(quorum_ipc_words_decode(buf + IPC_HDR_LEN, 8, out, 1) == -EPROTO);
	CHECK(quorum_ipc_words_encode(buf, IPC_HDR_LEN + 7, 1, 1, 0, v, 2) == 0);

	ipc_wr_init(&w, body, sizeof(body));
	quorum_ipc_nodes_put_count(&w, 2);
	quorum_ipc_node_put(&w, &n);
	n.nodeid = 4;
	n.name[0] = 0;
	quorum_ipc_node_put(&w, &n);
	CHECK(!w.bad);
	ipc_rd_init(&r, body, w.off);
	CHECK(quorum_ipc_nodes_count(&r, &count) == 0 && count == 2);
	CHECK(quorum_ipc_node_next(&r, &got) == 0);
	CHECK(got.nodeid == 3 && got.votes == 2 && strcmp(got.name, "node-three") == 0);
	CHECK(quorum_ipc_node_next(&r, &got) == 0);
	CHECK(got.nodeid == 4 && got.name[0] == 0);
	CHECK(ipc_rd_done(&r));
	CHECK(quorum_ipc_node_next(&r, &got) == -EPROTO);
	/* A count the body cannot hold, a name longer than allowed. */
	ipc_put_u32(body, 1000);
	ipc_rd_init(&r, body, w.off);
	CHECK(quorum_ipc_nodes_count(&r, &count) == -EPROTO);
	ipc_put_u32(body + 20, 300);
	ipc_rd_init(&r, body + 4, w.off - 4);
	CHECK(quorum_ipc_node_next(&r, &got) == -EPROTO);
}

int main(void)
{
	test_events();
	test_words_and_nodes();
	if (failures) {
		fprintf(stderr, "test_vq_ipc: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("test_vq_ipc: %d checks passed\n", checks);
	return 0;
}
