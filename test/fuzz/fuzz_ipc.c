/* Fuzz target of the local IPC decoders and of the CPG ring message
 * decoder. The first input byte picks what the rest is:
 *   0  a stream of request frames as cohortd reads them from a client
 *   1  a stream of event/response frames as libcpg reads them
 *   2  one CPG ring message (from another node): JOIN, LEAVE, MCAST, JOINLIST, FLOW
 * Every decode must stay inside its input, and whatever decodes must
 * re-encode to exactly the same bytes (the formats have no slack).
 *
 * Built with -DFUZZ_STANDALONE it is also a plain program
 * (fuzz_ipc_replay): a deterministic mutation loop used as the unit test
 * fuzz_ipc_smoke, a replayer of crash files, and the writer of the seed
 * corpus (--write-seeds DIR). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "ipc/ipc_cpg.h"
#include "ipc/ipc_wire.h"
#include "services/cpg_msg.h"

static uint8_t fz_out[IPC_MAX_FRAME + 4096];
static unsigned long fz_ok, fz_bad;

static void fz_inside(const uint8_t *p, size_t n, const uint8_t *b, size_t len)
{
	FZ_CHECK(n == 0 || (p >= b && p + n <= b + len));
}

static void fz_request(const struct ipc_hdr *h, const uint8_t *b, size_t len)
{
	struct cpg_ipc_name name;
	struct cpg_ipc_mcast m;
	struct cpg_ipc_iter_req q;
	struct ipc_hello hello;
	int rc = -EPROTO;
	size_t n;

	switch (h->type) {
	case IPC_T_HELLO:
		rc = ipc_hello_decode(b, len, &hello);
		if (!rc)
			FZ_CHECK(ipc_hello_encode(fz_out, sizeof(fz_out), h->req_id, &hello) ==
				 IPC_HDR_LEN + len);
		break;
	case CPG_IPC_JOIN:
	case CPG_IPC_LEAVE:
	case CPG_IPC_MEMBERSHIP:
		rc = cpg_ipc_name_decode(b, len, &name);
		if (!rc) {
			n = cpg_ipc_name_req_encode(fz_out, sizeof(fz_out), h->type, 0, &name);
			FZ_CHECK(n == IPC_HDR_LEN + len && !memcmp(fz_out + IPC_HDR_LEN, b, len));
		}
		break;
	case CPG_IPC_MCAST:
		rc = cpg_ipc_mcast_decode(b, len, &m);
		if (!rc) {
			fz_inside(m.data, m.len, b, len);
			FZ_CHECK(m.len <= m.total_len && m.total_len <= CPG_IPC_MAX_MSG);
			cpg_ipc_mcast_head_encode(fz_out, sizeof(fz_out), 0, m.guarantee, m.frag,
						  m.total_len, m.len);
			cpg_ipc_mcast_set_flags(fz_out, m.flags);
			FZ_CHECK(!memcmp(fz_out + IPC_HDR_LEN, b, 8) && m.data == b + 8);
		}
		break;
	case CPG_IPC_ITER:
		rc = cpg_ipc_iter_req_decode(b, len, &q);
		if (!rc) {
			n = cpg_ipc_iter_req_encode(fz_out, sizeof(fz_out), 0, &q);
			FZ_CHECK(n == IPC_HDR_LEN + len && !memcmp(fz_out + IPC_HDR_LEN, b, len));
		}
		break;
	default:
		break;
	}
	rc ? fz_bad++ : fz_ok++;
}

static void fz_event(const struct ipc_hdr *h, const uint8_t *b, size_t len)
{
	struct cpg_ipc_deliver d;
	struct cpg_ipc_confchg c;
	struct cpg_ipc_totem t;
	struct cpg_ipc_iter_entry e;
	struct ipc_rd rd;
	const uint8_t *ents;
	uint32_t count;
	bool more;
	size_t n;

	switch (h->type) {
	case CPG_IPC_EV_DELIVER:
		if (cpg_ipc_deliver_decode(b, len, &d))
			break;
		fz_inside(d.data, d.len, b, len);
		n = cpg_ipc_deliver_head_encode(fz_out, sizeof(fz_out), &d, d.len);
		FZ_CHECK(n - IPC_HDR_LEN + d.len == len &&
			 !memcmp(fz_out + IPC_HDR_LEN, b, len - d.len));
		break;
	case CPG_IPC_EV_CONFCHG:
		if (cpg_ipc_confchg_decode(b, len, &c))
			break;
		FZ_CHECK(4 + c.group.len + 12 + ((size_t)c.n_memb + c.n_left + c.n_joined) * 12 ==
			 len);
		break;
	case CPG_IPC_EV_TOTEM:
		if (cpg_ipc_totem_decode(b, len, &t))
			break;
		FZ_CHECK(16 + (size_t)t.count * 4 == len);
		break;
	case CPG_IPC_MEMBERSHIP:
		if (!cpg_ipc_members_decode(b, len, &count, &ents))
			FZ_CHECK(4 + (size_t)count * 12 == len);
		break;
	case CPG_IPC_ITER:
		if (cpg_ipc_iter_page_decode(b, len, &count, &more, &rd))
			break;
		for (uint32_t i = 0; i < count && !cpg_ipc_iter_entry_next(&rd, &e); i++)
			FZ_CHECK(e.group.len <= IPC_NAME_MAX);
		break;
	default:
		break;
	}
}

/* Split a stream into frames the way both sides do. */
static void fz_stream(const uint8_t *p, size_t n, bool requests)
{
	while (n >= IPC_HDR_LEN) {
		struct ipc_hdr h;

		if (ipc_hdr_decode(p, IPC_MAX_FRAME, requests, &h) != IPC_HDR_OK || h.len > n)
			return;
		if (requests)
			fz_request(&h, p + IPC_HDR_LEN, h.len - IPC_HDR_LEN);
		else
			fz_event(&h, p + IPC_HDR_LEN, h.len - IPC_HDR_LEN);
		p += h.len;
		n -= h.len;
	}
}

static void fz_ring(const uint8_t *b, size_t len)
{
	struct cpg_msg m;
	struct cpg_jl_entry e;
	size_t n = 0, off = 0;
	enum cpg_msg_err err = cpg_msg_decode(b, len, &m);

	FZ_CHECK((unsigned)err < CPG_MSG_ERR_COUNT_ && cpg_msg_err_name(err));
	if (err != CPG_MSG_OK)
		return;
	switch (m.type) {
	case CPG_MSG_JOIN:
	case CPG_MSG_LEAVE:
		n = cpg_msg_joinleave_encode(fz_out, sizeof(fz_out), m.type, m.reason, m.pid,
					     m.conn, &m.group);
		FZ_CHECK(n == len && !memcmp(fz_out, b, len));
		break;
	case CPG_MSG_MCAST:
		fz_inside(m.data, m.len, b, len);
		n = cpg_msg_mcast_head_encode(fz_out, sizeof(fz_out), m.guarantee, m.frag, m.pid,
					      m.conn, m.total_len, &m.group);
		FZ_CHECK(n + m.len == len && !memcmp(fz_out, b, n));
		break;
	case CPG_MSG_JOINLIST:
		n = cpg_msg_jl_head_encode(fz_out, sizeof(fz_out), m.jl_flags, m.ring_rep,
					   m.ring_seq, m.jl_count);
		for (uint32_t i = 0; i < m.jl_count; i++) {
			cpg_msg_jl_next(&m, &off, &e);
			n += cpg_msg_jl_entry_encode(fz_out + n, sizeof(fz_out) - n, &e);
		}
		FZ_CHECK(n == len && !memcmp(fz_out, b, len) && off == m.len);
		break;
	case CPG_MSG_FLOW:
		n = cpg_msg_flow_encode(fz_out, sizeof(fz_out), m.flow_flags);
		FZ_CHECK(n == len && !memcmp(fz_out, b, len));
		break;
	default: /* a new type: give it a round trip above */
		FZ_CHECK(!"cpg_msg_decode accepted a type the fuzzer does not know");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > IPC_MAX_FRAME)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fz_stream(data + 1, size - 1, true);
		break;
	case 1:
		fz_stream(data + 1, size - 1, false);
		break;
	default:
		fz_ring(data + 1, size - 1);
		break;
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
/* ------------------------------------------------------------------------
 * Standalone driver: no libFuzzer needed, same result on every run. */

#define FZ_MAX_SEEDS 16
#define FZ_CAP 8192u

static struct {
	const char *name;
	uint8_t b[FZ_CAP];
	size_t len;
} fz_seeds[FZ_MAX_SEEDS];
static unsigned fz_nseeds;
static uint64_t fz_rng = 0x2545F4914F6CDD1Dull; /* fixed: runs must repeat */

static uint64_t fz_rand(void)
{
	fz_rng ^= fz_rng << 13;
	fz_rng ^= fz_rng >> 7;
	fz_rng ^= fz_rng << 17;
	return fz_rng;
}

static size_t fz_below(size_t n)
{
	return n ? (size_t)(fz_rand() % n) : 0;
}

/* A new seed: kind byte, then what add() appends. */
static uint8_t *fz_seed(const char *name, uint8_t kind)
{
	FZ_CHECK(fz_nseeds < FZ_MAX_SEEDS);
	fz_seeds[fz_nseeds].name = name;
	fz_seeds[fz_nseeds].b[0] = kind;
	fz_seeds[fz_nseeds].len = 1;
	return fz_seeds[fz_nseeds++].b;
}

static void fz_add(size_t n)
{
	fz_seeds[fz_nseeds - 1].len += n;
	FZ_CHECK(fz_seeds[fz_nseeds - 1].len <= FZ_CAP);
}

static uint8_t *fz_end(void)
{
	return fz_seeds[fz_nseeds - 1].b + fz_seeds[fz_nseeds - 1].len;
}

static void fz_requests(void)
{
	struct ipc_hello hello = { IPC_PROTO_VERSION, 1, 3, 99 };
	struct cpg_ipc_name g = { 5, "group" };
	struct cpg_ipc_iter_req q = { .type = 3, .group = g, .has_cursor = true, .cur_group = g };
	uint8_t *p;

	fz_seed("requests", 0);
	fz_add(ipc_hello_encode(fz_end(), 64, 1, &hello));
	fz_add(cpg_ipc_name_req_encode(fz_end(), 256, CPG_IPC_JOIN, 2, &g));
	p = fz_end();
	fz_add(cpg_ipc_mcast_head_encode(p, 64, 3, 2, CPG_FRAG_WHOLE, 10, 10));
	memcpy(fz_end(), "0123456789", 10);
	fz_add(10);
	fz_add(cpg_ipc_mcast_head_encode(fz_end(), 64, 4, 3, CPG_FRAG_FIRST, 4000, 3));
	memcpy(fz_end(), "abc", 3);
	fz_add(3);
	fz_add(cpg_ipc_iter_req_encode(fz_end(), 512, 5, &q));
	fz_add(cpg_ipc_name_req_encode(fz_end(), 256, CPG_IPC_MEMBERSHIP, 6, &g));
	fz_add(cpg_ipc_name_req_encode(fz_end(), 256, CPG_IPC_LEAVE, 7, &g));
}

static void fz_events(void)
{
	struct cpg_ipc_addr a[3] = { { 1, 10, 0 }, { 2, 20, 2 }, { 3, 30, 1 } };
	struct cpg_ipc_name g = { 3, "grp" };
	struct cpg_ipc_deliver d = { .group = g,
				     .nodeid = 1,
				     .pid = 2,
				     .stream = 3,
				     .frag = CPG_FRAG_WHOLE,
				     .guarantee = 2,
				     .total_len = 4 };
	struct cpg_ipc_iter_entry e = { .group = g, .nodeid = 1, .pid = 2 };
	uint32_t ids[3] = { 1, 2, 3 };
	struct ipc_wr w;
	uint8_t *p;

	fz_seed("events", 1);
	fz_add(cpg_ipc_deliver_head_encode(fz_end(), 256, &d, 4));
	memcpy(fz_end(), "data", 4);
	fz_add(4);
	fz_add(cpg_ipc_confchg_encode(fz_end(), 512, &g, a, 1, a + 1, 1, a + 2, 1));
	fz_add(cpg_ipc_totem_encode(fz_end(), 256, 1, 40, ids, 3));
	p = fz_end();
	ipc_wr_init(&w, p + IPC_HDR_LEN, 256);
	cpg_ipc_members_put(&w, a, 3);
	ipc_resp_head_encode(p, CPG_IPC_MEMBERSHIP, 9, 0, w.off);
	fz_add(IPC_HDR_LEN + w.off);
	p = fz_end();
	ipc_wr_init(&w, p + IPC_HDR_LEN, 512);
	ipc_wr_u32(&w, 2);
	ipc_wr_u8(&w, 0);
	cpg_ipc_iter_entry_put(&w, &e);
	cpg_ipc_iter_entry_put(&w, &e);
	ipc_resp_head_encode(p, CPG_IPC_ITER, 10, 0, w.off);
	fz_add(IPC_HDR_LEN + w.off);
}

static void fz_ring_seeds(void)
{
	struct cpg_ipc_name g = { 4, "ring" };
	struct cpg_jl_entry e = { .pid = 5, .conn = 6, .group = g };

	fz_seed("ring-join", 2);
	fz_add(cpg_msg_joinleave_encode(fz_end(), 256, CPG_MSG_JOIN, 0, 5, 6, &g));
	fz_seed("ring-leave", 2);
	fz_add(cpg_msg_joinleave_encode(fz_end(), 256, CPG_MSG_LEAVE, 5, 5, 6, &g));
	fz_seed("ring-mcast", 2);
	fz_add(cpg_msg_mcast_head_encode(fz_end(), 256, 3, CPG_FRAG_FIRST, 5, 6, 100, &g));
	memcpy(fz_end(), "payload", 7);
	fz_add(7);
	fz_seed("ring-joinlist", 2);
	fz_add(cpg_msg_jl_head_encode(fz_end(), 256, CPG_JL_LAST, 1, 12, 3));
	for (int i = 0; i < 3; i++)
		fz_add(cpg_msg_jl_entry_encode(fz_end(), 256, &e));
	fz_seed("ring-flow", 2);
	fz_add(cpg_msg_flow_encode(fz_end(), 256, CPG_FLOW_CONGESTED));
}

static const uint32_t fz_interesting[] = {
	0,   1,	  15,	      16,	   17,		127,	       128,
	129, 255, 0x7fffffff, 0x80000000u, 0xffffffffu, IPC_MAX_FRAME, IPC_MAX_FRAME + 1
};

static void fz_mutate(uint8_t *b, size_t *len)
{
	size_t n = *len;

	switch (fz_below(6)) {
	case 0: /* flip a bit */
		if (n > 1)
			b[1 + fz_below(n - 1)] ^= (uint8_t)(1u << fz_below(8));
		break;
	case 1: /* a random byte */
		if (n > 1)
			b[1 + fz_below(n - 1)] = (uint8_t)fz_rand();
		break;
	case 2: /* an interesting 32-bit value, either byte order */
		if (n > 5) {
			uint32_t v = fz_interesting[fz_below(sizeof(fz_interesting) / 4)];
			size_t at = 1 + fz_below(n - 4);

			if (fz_below(2))
				ipc_put_u32(b + at, v);
			else
				for (int i = 0; i < 4; i++)
					b[at + i] = (uint8_t)(v >> (24 - 8 * i));
		}
		break;
	case 3: /* truncate */
		*len = 1 + fz_below(n);
		break;
	case 4: /* grow with random bytes */
		for (size_t k = fz_below(64); k && *len < FZ_CAP; k--)
			b[(*len)++] = (uint8_t)fz_rand();
		break;
	default: /* duplicate a slice at the end */
		if (n > 2) {
			size_t from = 1 + fz_below(n - 1), cnt = fz_below(n - from) + 1;

			if (*len + cnt <= FZ_CAP) {
				memmove(b + *len, b + from, cnt);
				*len += cnt;
			}
		}
		break;
	}
}

static int fz_write_seeds(const char *dir)
{
	for (unsigned i = 0; i < fz_nseeds; i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, fz_seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(fz_seeds[i].b, 1, fz_seeds[i].len, f) != fz_seeds[i].len)
			return 1;
		fclose(f);
	}
	return 0;
}

static int fz_replay(int argc, char **argv)
{
	static uint8_t b[IPC_MAX_FRAME];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (!f)
			return 1;
		n = fread(b, 1, sizeof(b), f);
		fclose(f);
		LLVMFuzzerTestOneInput(b, n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long iters =
		getenv("FUZZ_ITERS") ? strtoul(getenv("FUZZ_ITERS"), NULL, 10) : 2000000;
	static uint8_t b[FZ_CAP];

	fz_requests();
	fz_events();
	fz_ring_seeds();
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return fz_write_seeds(argv[2]);
	if (argc > 1)
		return fz_replay(argc, argv);
	for (unsigned i = 0; i < fz_nseeds; i++)
		LLVMFuzzerTestOneInput(fz_seeds[i].b, fz_seeds[i].len);
	FZ_CHECK(fz_ok >= 6 && fz_bad == 0); /* every valid request seed decodes */
	for (unsigned long it = 0; it < iters; it++) {
		unsigned s = (unsigned)fz_below(fz_nseeds);
		size_t len = fz_seeds[s].len;

		memcpy(b, fz_seeds[s].b, len);
		for (size_t k = 1 + fz_below(4); k; k--)
			fz_mutate(b, &len);
		LLVMFuzzerTestOneInput(b, len);
	}
	printf("fuzz_ipc: %lu inputs, %lu requests decoded, %lu refused\n", iters, fz_ok, fz_bad);
	return 0;
}
#endif
