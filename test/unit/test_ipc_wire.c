/* IPC frame and CPG body codecs: round trips and every rejection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc_cpg.h"
#include "ipc/ipc_wire.h"

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static uint8_t buf[1 << 16];

static void test_header(void)
{
	struct ipc_hdr h = { .len = 100, .type = 0x101, .req_id = 0xdeadbeef, .result = -17 }, d;
	uint8_t b[IPC_HDR_LEN];

	ipc_hdr_encode(b, &h);
	/* Explicit little-endian layout. */
	CHECK(b[0] == 100 && b[1] == 0 && b[4] == 0x01 && b[5] == 0x01 && b[8] == 0xef);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, false, &d) == IPC_HDR_OK);
	CHECK(d.len == 100 && d.type == 0x101 && d.req_id == 0xdeadbeef && d.result == -17);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, true, &d) == IPC_HDR_RESULT);
	h.result = 0;
	h.len = IPC_HDR_LEN - 1;
	ipc_hdr_encode(b, &h);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, true, &d) == IPC_HDR_SHORT);
	h.len = IPC_MAX_FRAME + 1;
	ipc_hdr_encode(b, &h);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, true, &d) == IPC_HDR_TOOBIG);
	h.len = IPC_MAX_FRAME;
	ipc_hdr_encode(b, &h);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, true, &d) == IPC_HDR_OK);
	h.flags = 1;
	ipc_hdr_encode(b, &h);
	CHECK(ipc_hdr_decode(b, IPC_MAX_FRAME, true, &d) == IPC_HDR_FLAGS);
	for (int e = 0; e <= IPC_HDR_ERR_COUNT_; e++)
		CHECK(ipc_hdr_err_name(e) != NULL);
}

static void test_hello(void)
{
	struct ipc_hello h = { IPC_PROTO_VERSION, 1, 3, 4242 }, d;
	struct ipc_hello_reply r = { 5, 6, IPC_MAX_ATOMIC, IPC_MAX_FRAME }, dr;
	size_t n = ipc_hello_encode(buf, sizeof(buf), 9, &h);
	struct ipc_hdr hd;

	CHECK(n == IPC_HDR_LEN + 16);
	CHECK(ipc_hdr_decode(buf, IPC_MAX_FRAME, true, &hd) == IPC_HDR_OK);
	CHECK(hd.len == n && hd.type == IPC_T_HELLO && hd.req_id == 9);
	CHECK(ipc_hello_decode(buf + IPC_HDR_LEN, 16, &d) == 0);
	CHECK(d.version == h.version && d.service == 1 && d.flags == 3 && d.pid == 4242);
	CHECK(ipc_hello_decode(buf + IPC_HDR_LEN, 15, &d) == -EPROTO);
	CHECK(ipc_hello_decode(buf + IPC_HDR_LEN, 17, &d) == -EPROTO);
	CHECK(ipc_hello_encode(buf, 31, 9, &h) == 0);
	n = ipc_hello_reply_encode(buf, sizeof(buf), 9, -13, &r);
	CHECK(ipc_hdr_decode(buf, IPC_MAX_FRAME, false, &hd) == IPC_HDR_OK && hd.result == -13);
	CHECK(ipc_hello_reply_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &dr) == 0);
	CHECK(dr.nodeid == 5 && dr.conn_id == 6 && dr.max_atomic == IPC_MAX_ATOMIC);
	CHECK(ipc_hello_reply_decode(buf + IPC_HDR_LEN, 3, &dr) == -EPROTO);
}

static void test_name(void)
{
	struct cpg_ipc_name n = { .len = 5, .value = "group" }, d;
	size_t len = cpg_ipc_name_req_encode(buf, sizeof(buf), CPG_IPC_JOIN, 1, &n);
	uint8_t raw[4 + 200];

	CHECK(len == IPC_HDR_LEN + 4 + 5);
	CHECK(cpg_ipc_name_decode(buf + IPC_HDR_LEN, 9, &d) == 0);
	CHECK(d.len == 5 && !memcmp(d.value, "group", 5));
	CHECK(cpg_ipc_name_decode(buf + IPC_HDR_LEN, 8, &d) == -EPROTO); /* truncated */
	CHECK(cpg_ipc_name_decode(buf + IPC_HDR_LEN, 3, &d) == -EPROTO); /* no length */
	memcpy(raw, buf + IPC_HDR_LEN, 9);
	raw[9] = 'x';
	CHECK(cpg_ipc_name_decode(raw, 10, &d) == -EPROTO); /* trailing byte */
	memset(raw, 'a', sizeof(raw));
	ipc_put_u32(raw, 129);
	CHECK(cpg_ipc_name_decode(raw, 4 + 129, &d) == -ENAMETOOLONG);
	ipc_put_u32(raw, 128);
	CHECK(cpg_ipc_name_decode(raw, 4 + 128, &d) == 0 && d.len == 128);
	ipc_put_u32(raw, 0xffffffffu);
	CHECK(cpg_ipc_name_decode(raw, sizeof(raw), &d) == -EPROTO);
	CHECK(cpg_ipc_name_req_encode(buf, 10, CPG_IPC_JOIN, 1, &n) == 0);
	CHECK(cpg_ipc_name_req_encode(buf, sizeof(buf), CPG_IPC_LOCAL_GET, 1, NULL) == IPC_HDR_LEN);
}

static int mcast_body(uint8_t g, uint8_t frag, uint16_t rsv, uint32_t total, size_t len,
		      struct cpg_ipc_mcast *m)
{
	size_t n = cpg_ipc_mcast_head_encode(buf, sizeof(buf), 1, g, frag, total, len);

	CHECK(n == CPG_IPC_MCAST_HEAD);
	ipc_put_u16(buf + IPC_HDR_LEN + 2, rsv);
	memset(buf + n, 'p', len);
	return cpg_ipc_mcast_decode(buf + IPC_HDR_LEN, 8 + len, m);
}

static void test_mcast(void)
{
	struct cpg_ipc_mcast m;
	struct ipc_hdr h;

	CHECK(mcast_body(2, CPG_FRAG_WHOLE, 0, 10, 10, &m) == 0);
	CHECK(ipc_hdr_decode(buf, IPC_MAX_FRAME, true, &h) == IPC_HDR_OK && h.len == 24 + 10);
	CHECK(m.guarantee == 2 && m.frag == CPG_FRAG_WHOLE && m.len == 10 && m.data[9] == 'p');
	CHECK(mcast_body(3, CPG_FRAG_FIRST, 0, 1000, 10, &m) == 0);
	CHECK(mcast_body(3, 0, 0, 1000, 10, &m) == 0);
	CHECK(mcast_body(3, CPG_FRAG_LAST, 0, 1000, 10, &m) == 0);
	CHECK(mcast_body(0, CPG_FRAG_WHOLE, 0, 0, 0, &m) == 0 && m.len == 0);
	CHECK(mcast_body(4, CPG_FRAG_WHOLE, 0, 10, 10, &m) == -EPROTO); /* guarantee */
	CHECK(mcast_body(2, 4, 0, 10, 10, &m) == -EPROTO);		/* frag bits */
	CHECK(mcast_body(2, CPG_FRAG_WHOLE, 1, 10, 10, &m) == 0 && m.flags == CPG_MCAST_ASYNC);
	CHECK(mcast_body(2, CPG_FRAG_WHOLE, 2, 10, 10, &m) == -EPROTO); /* unknown flag */
	CHECK(mcast_body(2, CPG_FRAG_FIRST, 1, 20, 10, &m) == -EPROTO); /* async fragment */
	CHECK(mcast_body(2, CPG_FRAG_WHOLE, 0, 11, 10, &m) == -EPROTO); /* whole != total */
	CHECK(mcast_body(2, CPG_FRAG_FIRST, 0, 5, 10, &m) == -EPROTO);	/* part > total */
	CHECK(mcast_body(2, CPG_FRAG_FIRST, 0, CPG_IPC_MAX_MSG + 1, 10, &m) == -EPROTO);
	CHECK(cpg_ipc_mcast_decode(buf + IPC_HDR_LEN, 7, &m) == -EPROTO); /* truncated */
}

static void test_iter(void)
{
	struct cpg_ipc_iter_req q = { .type = 3,
				      .group = { 1, "a" },
				      .has_cursor = true,
				      .cur_group = { 2, "bc" },
				      .cur_nodeid = 7,
				      .cur_pid = 8 },
				d;
	size_t n = cpg_ipc_iter_req_encode(buf, sizeof(buf), 1, &q);
	struct cpg_ipc_iter_entry e = { .group = { 3, "xyz" }, .nodeid = 1, .pid = 2 }, de;
	uint32_t count;
	bool more;
	struct ipc_rd rd;
	struct ipc_wr w;

	CHECK(cpg_ipc_iter_req_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &d) == 0);
	CHECK(d.type == 3 && d.has_cursor && d.cur_group.len == 2 && d.cur_nodeid == 7 &&
	      d.cur_pid == 8);
	buf[IPC_HDR_LEN + 4 + 4 + 1] = 2; /* has_cursor must be 0 or 1 */
	CHECK(cpg_ipc_iter_req_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &d) == -EPROTO);
	CHECK(cpg_ipc_iter_req_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN - 1, &d) == -EPROTO);
	ipc_wr_init(&w, buf, sizeof(buf));
	ipc_wr_u32(&w, 2);
	ipc_wr_u8(&w, 1);
	cpg_ipc_iter_entry_put(&w, &e);
	cpg_ipc_iter_entry_put(&w, &e);
	CHECK(cpg_ipc_iter_page_decode(buf, w.off, &count, &more, &rd) == 0 && count == 2 && more);
	CHECK(cpg_ipc_iter_entry_next(&rd, &de) == 0 && de.group.len == 3 && de.pid == 2);
	CHECK(cpg_ipc_iter_entry_next(&rd, &de) == 0 && ipc_rd_done(&rd));
	CHECK(cpg_ipc_iter_entry_next(&rd, &de) == -EPROTO);
	buf[4] = 7;
	CHECK(cpg_ipc_iter_page_decode(buf, w.off, &count, &more, &rd) == -EPROTO);
	CHECK(cpg_ipc_iter_page_decode(buf, 3, &count, &more, &rd) == -EPROTO);
}

static void test_members_confchg_totem(void)
{
	struct cpg_ipc_addr a[3] = { { 1, 10, 0 }, { 2, 20, 3 }, { 3, 30, 4 } }, x;
	struct cpg_ipc_name g = { 2, "gg" };
	struct cpg_ipc_confchg c;
	struct cpg_ipc_totem t;
	const uint8_t *e;
	uint32_t ids[3] = { 4, 5, 6 }, count;
	struct ipc_wr w;
	size_t n;

	ipc_wr_init(&w, buf, sizeof(buf));
	cpg_ipc_members_put(&w, a, 3);
	CHECK(cpg_ipc_members_decode(buf, w.off, &count, &e) == 0 && count == 3);
	x = cpg_ipc_addr_at(e, 1);
	CHECK(x.nodeid == 2 && x.pid == 20 && x.reason == 3);
	CHECK(cpg_ipc_members_decode(buf, w.off - 1, &count, &e) == -EPROTO);
	ipc_put_u32(buf, 0x40000000u);
	CHECK(cpg_ipc_members_decode(buf, w.off, &count, &e) == -EPROTO);

	n = cpg_ipc_confchg_encode(buf, sizeof(buf), &g, a, 1, a + 1, 1, a + 2, 1);
	CHECK(n > 0 && n <= cpg_ipc_confchg_size(3));
	CHECK(cpg_ipc_confchg_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &c) == 0);
	CHECK(c.n_memb == 1 && c.n_left == 1 && c.n_joined == 1 && c.group.len == 2);
	CHECK(cpg_ipc_addr_at(c.entries, 2).pid == 30);
	CHECK(cpg_ipc_confchg_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN - 1, &c) == -EPROTO);
	/* Counts whose sum wraps 32 bits must not pass. */
	ipc_put_u32(buf + IPC_HDR_LEN + 6, 0xffffffffu);
	ipc_put_u32(buf + IPC_HDR_LEN + 10, 2);
	CHECK(cpg_ipc_confchg_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &c) == -EPROTO);
	CHECK(cpg_ipc_confchg_encode(buf, 40, &g, a, 1, a + 1, 1, a + 2, 1) == 0);

	n = cpg_ipc_totem_encode(buf, sizeof(buf), 9, 0x123456789ull, ids, 3);
	CHECK(cpg_ipc_totem_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &t) == 0);
	CHECK(t.rep == 9 && t.seq == 0x123456789ull && t.count == 3 && ipc_get_u32(t.ids + 8) == 6);
	CHECK(cpg_ipc_totem_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN + 1, &t) == -EPROTO);
	ipc_put_u32(buf + IPC_HDR_LEN + 12, 4);
	CHECK(cpg_ipc_totem_decode(buf + IPC_HDR_LEN, n - IPC_HDR_LEN, &t) == -EPROTO);
}

static void test_deliver(void)
{
	struct cpg_ipc_deliver d = { .group = { 3, "grp" },
				     .nodeid = 1,
				     .pid = 2,
				     .stream = 3,
				     .frag = CPG_FRAG_WHOLE,
				     .guarantee = 3,
				     .total_len = 5 },
			       x;
	size_t n = cpg_ipc_deliver_head_encode(buf, sizeof(buf), &d, 5);
	struct ipc_hdr h;

	memcpy(buf + n, "hello", 5);
	CHECK(ipc_hdr_decode(buf, IPC_MAX_FRAME, false, &h) == IPC_HDR_OK && h.len == n + 5);
	CHECK(cpg_ipc_deliver_decode(buf + IPC_HDR_LEN, h.len - IPC_HDR_LEN, &x) == 0);
	CHECK(x.nodeid == 1 && x.pid == 2 && x.stream == 3 && x.len == 5 &&
	      !memcmp(x.data, "hello", 5));
	CHECK(cpg_ipc_deliver_decode(buf + IPC_HDR_LEN, h.len - IPC_HDR_LEN - 1, &x) == -EPROTO);
	d.frag = 7;
	cpg_ipc_deliver_head_encode(buf, sizeof(buf), &d, 5);
	CHECK(cpg_ipc_deliver_decode(buf + IPC_HDR_LEN, h.len - IPC_HDR_LEN, &x) == -EPROTO);
	d.frag = CPG_FRAG_FIRST;
	d.total_len = 4;
	cpg_ipc_deliver_head_encode(buf, sizeof(buf), &d, 5);
	CHECK(cpg_ipc_deliver_decode(buf + IPC_HDR_LEN, h.len - IPC_HDR_LEN, &x) == -EPROTO);
	CHECK(cpg_ipc_deliver_head_encode(buf, 20, &d, 5) == 0);
}

static void test_rw(void)
{
	struct ipc_rd r;
	struct ipc_wr w;
	uint8_t b[3];
	char name[120];

	ipc_wr_init(&w, b, 3);
	ipc_wr_u16(&w, 0x0102);
	CHECK(!w.bad && w.off == 2 && b[0] == 2 && b[1] == 1);
	ipc_wr_u32(&w, 1);
	CHECK(w.bad && w.off == 2);
	ipc_rd_init(&r, b, 2);
	CHECK(ipc_rd_u16(&r) == 0x0102 && ipc_rd_done(&r));
	CHECK(ipc_rd_u8(&r) == 0 && r.bad && !ipc_rd_done(&r) && ipc_rd_left(&r) == 0);
	CHECK(ipc_rd_u64(&r) == 0 && ipc_rd_bytes(&r, 0) == NULL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK(ipc_socket_name("x", "cpg", name, sizeof(name)) == 0 &&
	      !strcmp(name, "cohort-x-cpg"));
	memset(name, 'n', 110);
	name[110] = 0;
	{
		char out[200];

		CHECK(ipc_socket_name(name, "cpg", out, sizeof(out)) == -ENAMETOOLONG);
	}
}

int main(void)
{
	test_header();
	test_hello();
	test_name();
	test_mcast();
	test_iter();
	test_members_confchg_totem();
	test_deliver();
	test_rw();
	printf("ipc_wire: all tests passed\n");
	return 0;
}
