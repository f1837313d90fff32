/* Fuzz target of the decoders fuzz_ipc does not reach: the quorum and
 * votequorum IPC (services/quorum_ipc.c), votequorum's ring messages
 * (services/vq_msg.c), and the small responses libcpg reads (hello reply,
 * the u32 of LOCAL_GET and FLOW). The first input byte picks what the rest
 * is:
 *   0  a stream of quorum/votequorum request frames, as cohortd reads them
 *   1  a stream of response and event frames, as the client libraries read them
 *   2  one votequorum ring message
 * Whatever decodes must re-encode to the same bytes (the formats have no
 * slack), and counts must agree with the lengths they were decoded from. */
#include <errno.h>
#include <string.h>

#include "fuzz_driver.h"
#include "ipc/ipc_cpg.h"
#include "ipc/ipc_wire.h"
#include "services/quorum_ipc.h"
#include "services/vq_msg.h"

static uint8_t fq_out[QUORUM_IPC_MAX_EVENT + VQ_MSG_MAX_BYTES];
static struct quorum_ipc_event fq_ev;

/* Words in the body of each request type; -1: not a quorum request. */
static int fq_request_words(uint16_t type)
{
	switch (type) {
	case QUORUM_IPC_GETTYPE:
	case QUORUM_IPC_GETQUORATE:
	case QUORUM_IPC_TRACKSTOP:
	case VQ_IPC_TRACKSTOP:
	case VQ_IPC_NODES:
		return 0;
	case QUORUM_IPC_TRACKSTART:
	case VQ_IPC_GETINFO:
	case VQ_IPC_SETEXPECTED:
		return 1;
	case VQ_IPC_SETVOTES:
		return 2;
	case VQ_IPC_TRACKSTART:
		return 3;
	default:
		return -1;
	}
}

static void fq_words(const struct ipc_hdr *h, const uint8_t *b, size_t len, size_t n)
{
	uint32_t v[VQ_IPC_INFO_WORDS];
	size_t out;

	FZ_CHECK(n <= VQ_IPC_INFO_WORDS);
	if (quorum_ipc_words_decode(b, len, v, n) != 0)
		return;
	FZ_CHECK(len == 4 * n);
	out = quorum_ipc_words_encode(fq_out, sizeof(fq_out), h->type, h->req_id, h->result, v, n);
	FZ_CHECK(out == IPC_HDR_LEN + len && memcmp(fq_out + IPC_HDR_LEN, b, len) == 0);
}

static void fq_event(const struct ipc_hdr *h, const uint8_t *b, size_t len)
{
	size_t n;

	if (quorum_ipc_event_decode(h->type, b, len, &fq_ev) != 0)
		return;
	FZ_CHECK(fq_ev.type == h->type);
	FZ_CHECK((size_t)fq_ev.n_memb + fq_ev.n_joined + fq_ev.n_left <= QUORUM_IPC_MAX_IDS);
	n = quorum_ipc_event_encode(fq_out, sizeof(fq_out), &fq_ev);
	FZ_CHECK(n == IPC_HDR_LEN + len && memcmp(fq_out + IPC_HDR_LEN, b, len) == 0);
}

static void fq_nodes(const uint8_t *b, size_t len)
{
	struct quorum_ipc_node node;
	struct ipc_rd r;
	uint32_t count;

	ipc_rd_init(&r, b, len);
	if (quorum_ipc_nodes_count(&r, &count) != 0)
		return;
	for (uint32_t i = 0; i < count; i++) {
		if (quorum_ipc_node_next(&r, &node) != 0)
			return;
		FZ_CHECK(memchr(node.name, 0, sizeof(node.name)) != NULL);
	}
}

static void fq_response(const struct ipc_hdr *h, const uint8_t *b, size_t len)
{
	struct ipc_hello_reply hr;
	uint32_t u;

	switch (h->type) {
	case IPC_T_HELLO:
		if (ipc_hello_reply_decode(b, len, &hr) == 0)
			FZ_CHECK(ipc_hello_reply_encode(fq_out, sizeof(fq_out), h->req_id,
							h->result, &hr) == IPC_HDR_LEN + len);
		break;
	case CPG_IPC_LOCAL_GET:
	case CPG_IPC_FLOW:
		if (cpg_ipc_u32_decode(b, len, &u) == 0)
			FZ_CHECK(len == 4 && u == ipc_get_u32(b));
		break;
	case QUORUM_IPC_EV_QUORUM:
	case QUORUM_IPC_EV_NODELIST:
	case VQ_IPC_EV_QUORUM:
	case VQ_IPC_EV_NODELIST:
	case VQ_IPC_EV_EXPECTED:
		fq_event(h, b, len);
		break;
	case VQ_IPC_NODES:
		fq_nodes(b, len);
		break;
	case VQ_IPC_GETINFO:
		fq_words(h, b, len, VQ_IPC_INFO_WORDS);
		break;
	default:
		fq_words(h, b, len, 1);
		break;
	}
}

/* Split a stream into frames the way both sides do. */
static void fq_stream(const uint8_t *p, size_t n, bool requests)
{
	while (n >= IPC_HDR_LEN) {
		struct ipc_hdr h;
		int words;

		if (ipc_hdr_decode(p, IPC_MAX_FRAME, requests, &h) != IPC_HDR_OK || h.len > n)
			return;
		if (!requests)
			fq_response(&h, p + IPC_HDR_LEN, h.len - IPC_HDR_LEN);
		else if ((words = fq_request_words(h.type)) >= 0)
			fq_words(&h, p + IPC_HDR_LEN, h.len - IPC_HDR_LEN, (size_t)words);
		p += h.len;
		n -= h.len;
	}
}

static void fq_ring(const uint8_t *b, size_t len)
{
	static struct vq_msg m;
	enum vq_msg_err e = vq_msg_decode(b, len, &m);
	size_t n = 0;

	FZ_CHECK((unsigned)e < VQ_MSG_E_COUNT && vq_msg_strerror(e) != NULL);
	if (e != VQ_MSG_OK)
		return;
	switch (m.type) {
	case VQ_MSG_NODEINFO:
		FZ_CHECK(m.u.nodeinfo.tb_count <= VQ_MAX_NODES);
		n = vq_msg_encode_nodeinfo(&m.u.nodeinfo, fq_out, sizeof(fq_out));
		break;
	case VQ_MSG_RECONFIG:
		n = vq_msg_encode_reconfig(&m.u.reconfig, fq_out, sizeof(fq_out));
		break;
	case VQ_MSG_LMS:
		n = vq_msg_encode_lms(m.ring, fq_out, sizeof(fq_out));
		break;
	default:
		FZ_CHECK(!"decoded an unknown type");
	}
	FZ_CHECK(n == len && memcmp(fq_out, b, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > IPC_MAX_FRAME)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fq_stream(data + 1, size - 1, true);
		break;
	case 1:
		fq_stream(data + 1, size - 1, false);
		break;
	default:
		fq_ring(data + 1, size - 1);
		break;
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "fuzz_quorum";
const unsigned long fuzz_target_iterations = 200000;

static uint8_t fq_seed[8192];
static size_t fq_len;

static void fq_begin(uint8_t kind)
{
	fq_seed[0] = kind;
	fq_len = 1;
}

static void fq_words_frame(uint16_t type, const uint32_t *v, size_t n)
{
	fq_len += quorum_ipc_words_encode(fq_seed + fq_len, sizeof(fq_seed) - fq_len, type, 7, 0, v,
					  n);
}

static void fq_seed_requests(void)
{
	static const uint32_t v[3] = { 1, 2, 3 };
	static const uint16_t types[] = { QUORUM_IPC_GETTYPE,	 QUORUM_IPC_GETQUORATE,
					  QUORUM_IPC_TRACKSTART, QUORUM_IPC_TRACKSTOP,
					  VQ_IPC_GETINFO,	 VQ_IPC_SETEXPECTED,
					  VQ_IPC_SETVOTES,	 VQ_IPC_TRACKSTART,
					  VQ_IPC_TRACKSTOP,	 VQ_IPC_NODES };

	fq_begin(0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		fq_words_frame(types[i], v, (size_t)fq_request_words(types[i]));
	fuzz_seed_add("requests", fq_seed, fq_len);
}

static void fq_seed_events(void)
{
	static const uint16_t types[] = { QUORUM_IPC_EV_QUORUM, QUORUM_IPC_EV_NODELIST,
					  VQ_IPC_EV_QUORUM, VQ_IPC_EV_NODELIST,
					  VQ_IPC_EV_EXPECTED };
	struct quorum_ipc_node node = { .nodeid = 2, .state = 1, .votes = 1, .expected = 3 };
	struct ipc_hello_reply hr = { 1, 2, IPC_MAX_ATOMIC, IPC_MAX_FRAME };
	uint32_t info[VQ_IPC_INFO_WORDS] = { 1, 1, 3, 3, 2, 1, 0, 0, 0 };
	struct ipc_wr w;
	uint8_t *p;

	fq_begin(1);
	fq_len += ipc_hello_reply_encode(fq_seed + fq_len, 64, 1, 0, &hr);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&fq_ev, 0, sizeof(fq_ev));
		fq_ev = (struct quorum_ipc_event){ .type = types[i],
						   .context = 0x1122334455667788ull,
						   .quorate = 1,
						   .expected = 3,
						   .rep = 1,
						   .seq = 44,
						   .n_memb = 3,
						   .n_joined = 1,
						   .n_left = 1 };
		for (uint32_t k = 0; k < 5; k++)
			fq_ev.ids[k] = k + 1;
		fq_len +=
			quorum_ipc_event_encode(fq_seed + fq_len, sizeof(fq_seed) - fq_len, &fq_ev);
	}
	fq_words_frame(VQ_IPC_GETINFO, info, VQ_IPC_INFO_WORDS);
	fq_words_frame(QUORUM_IPC_GETQUORATE, info, 1);
	p = fq_seed + fq_len;
	ipc_wr_init(&w, p + IPC_HDR_LEN, 1024);
	quorum_ipc_nodes_put_count(&w, 2);
	quorum_ipc_node_put(&w, &node);
	memcpy(node.name, "beta", 5);
	quorum_ipc_node_put(&w, &node);
	ipc_resp_head_encode(p, VQ_IPC_NODES, 9, 0, w.off);
	fq_len += IPC_HDR_LEN + w.off;
	fuzz_seed_add("events", fq_seed, fq_len);
}

static void fq_seed_ring(void)
{
	static struct vq_nodeinfo ni = { .ring = { 1, 8 },
					 .nodeid = 2,
					 .votes = 1,
					 .expected = 3,
					 .tb = { 1, 4 },
					 .tb_count = 3,
					 .tb_members = { 1, 2, 3 } };
	struct vq_reconfig rc = { .ring = { 1, 8 },
				  .origin = 1,
				  .req_id = 5,
				  .param = VQ_RECONFIG_VOTES,
				  .nodeid = 2,
				  .value = 2 };

	fq_begin(2);
	fq_len += vq_msg_encode_nodeinfo(&ni, fq_seed + 1, sizeof(fq_seed) - 1);
	fuzz_seed_add("ring-nodeinfo", fq_seed, fq_len);
	fq_begin(2);
	fq_len += vq_msg_encode_reconfig(&rc, fq_seed + 1, sizeof(fq_seed) - 1);
	fuzz_seed_add("ring-reconfig", fq_seed, fq_len);
	fq_begin(2);
	fq_len += vq_msg_encode_lms(ni.ring, fq_seed + 1, sizeof(fq_seed) - 1);
	fuzz_seed_add("ring-lms", fq_seed, fq_len);
}

void fuzz_target_seeds(void)
{
	fq_seed_requests();
	fq_seed_events();
	fq_seed_ring();
}
#endif
