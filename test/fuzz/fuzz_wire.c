/* Fuzz target of the wire decoder. Every input is decoded twice: once with a
 * fixed cluster id, and once with the id taken from the input itself so that
 * random bytes get past the cluster check and into the body decoders. A
 * successful decode must re-encode to exactly the input bytes (the format has
 * no slack: no padding, no ignored bits) and decode again to the same fields.
 *
 * Built with -DFUZZ_STANDALONE it is also a plain program (fuzz_wire_replay):
 * a deterministic mutation loop used as a unit test, a replayer of crash
 * files, and the writer of the libFuzzer seed corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "wire/wire.h"

#define FUZZ_CLUSTER 0x11223344u

/* Static: a wire_packet is ~18 KiB, and two of them are needed. */
static struct wire_packet fz_a, fz_b;
static uint8_t fz_enc[WIRE_MAX_PACKET];
/* Decode results of the fixed-cluster pass, by reason and, for OK, by type. */
static unsigned long fz_by_err[WIRE_ERR_COUNT_];
static unsigned long fz_by_type[8];

static int fz_ring_eq(const struct wire_ring_id *a, const struct wire_ring_id *b)
{
	return a->rep == b->rep && a->seq == b->seq;
}

static size_t fz_encode_mcast(const struct wire_packet *p, uint8_t *out, size_t cap)
{
	const struct wire_mcast *m = &p->u.mcast;
	struct wire_mcast_builder b;
	struct wire_item it;
	uint32_t off = 0;

	if (!wire_mcast_begin(&b, out, cap, &p->hdr, &m->ring_id, m->seq))
		return 0;
	if (m->flags & WIRE_MCAST_ENCAP)
		return wire_mcast_add_raw(&b, m->payload, m->payload_len) ? wire_mcast_finish(&b) :
									    0;
	while (wire_item_next(m, &off, &it))
		if (!wire_mcast_add_frag(&b, it.guarantee, it.frag, it.frag_pos, it.data, it.len))
			return 0;
	return wire_mcast_finish(&b);
}

static size_t fz_encode(const struct wire_packet *p, uint8_t *out, size_t cap)
{
	switch (p->hdr.type) {
	case WIRE_MCAST:
		return fz_encode_mcast(p, out, cap);
	case WIRE_TOKEN:
		return wire_encode_token(out, cap, &p->hdr, &p->u.token);
	case WIRE_JOIN:
		return wire_encode_join(out, cap, &p->hdr, &p->u.join);
	case WIRE_COMMIT:
		return wire_encode_commit(out, cap, &p->hdr, &p->u.commit);
	case WIRE_MERGE_DETECT:
		return wire_encode_merge_detect(out, cap, &p->hdr, &p->u.merge);
	case WIRE_LEAVE:
		return wire_encode_leave(out, cap, &p->hdr, &p->u.leave);
	case WIRE_HOLD_CANCEL:
		return wire_encode_hold_cancel(out, cap, &p->hdr, &p->u.hold_cancel);
	}
	FZ_CHECK(!"decoded an unknown type");
	return 0;
}

/* Walks the items of a decoded MCAST: exactly item_count of them, each inside
 * the payload, together covering it. */
static void fz_check_items(const struct wire_mcast *m)
{
	struct wire_item it;
	uint32_t off = 0;
	unsigned n = 0;

	while (wire_item_next(m, &off, &it)) {
		FZ_CHECK(it.guarantee <= 1 && (it.frag & ~3u) == 0);
		FZ_CHECK(it.data >= m->payload && it.data + it.len <= m->payload + m->payload_len);
		n++;
	}
	if (m->flags & WIRE_MCAST_ENCAP) {
		FZ_CHECK(n == 0 && m->item_count == 0 && m->payload_len > 0);
		return;
	}
	FZ_CHECK(n == m->item_count && off == m->payload_len);
}

static void fz_same_token(const struct wire_token *a, const struct wire_token *b)
{
	FZ_CHECK(fz_ring_eq(&a->ring_id, &b->ring_id) && a->token_seq == b->token_seq);
	FZ_CHECK(a->seq == b->seq && a->aru == b->aru && a->aru_id == b->aru_id);
	FZ_CHECK(a->backlog == b->backlog && a->fcc == b->fcc);
	FZ_CHECK(a->retrans_flg == b->retrans_flg && a->rtr_count == b->rtr_count);
	for (unsigned i = 0; i < a->rtr_count; i++)
		FZ_CHECK(a->rtr[i] == b->rtr[i]);
}

static void fz_same_join(const struct wire_join *a, const struct wire_join *b)
{
	FZ_CHECK(a->ring_seq == b->ring_seq);
	FZ_CHECK(a->proc_count == b->proc_count && a->fail_count == b->fail_count);
	for (unsigned i = 0; i < a->proc_count; i++)
		FZ_CHECK(a->proc[i] == b->proc[i] && a->proc[i] != 0);
	for (unsigned i = 0; i < a->fail_count; i++)
		FZ_CHECK(a->fail[i] == b->fail[i] && a->fail[i] != 0);
}

static void fz_same_commit(const struct wire_commit *a, const struct wire_commit *b)
{
	FZ_CHECK(fz_ring_eq(&a->ring_id, &b->ring_id) && a->token_seq == b->token_seq);
	FZ_CHECK(a->memb_count == b->memb_count && a->memb_index == b->memb_index);
	for (unsigned i = 0; i < a->memb_count; i++) {
		const struct wire_commit_memb *x = &a->memb[i], *y = &b->memb[i];

		FZ_CHECK(x->nodeid == y->nodeid && fz_ring_eq(&x->old_ring_id, &y->old_ring_id));
		FZ_CHECK(x->my_aru == y->my_aru && x->high_seq == y->high_seq);
		FZ_CHECK(x->received_flg == y->received_flg);
	}
}

static void fz_same_mcast(const struct wire_mcast *a, const struct wire_mcast *b)
{
	FZ_CHECK(fz_ring_eq(&a->ring_id, &b->ring_id) && a->seq == b->seq);
	FZ_CHECK(a->flags == b->flags && a->item_count == b->item_count);
	FZ_CHECK(a->payload_len == b->payload_len);
	FZ_CHECK(memcmp(a->payload, b->payload, a->payload_len) == 0);
}

static void fz_same(const struct wire_packet *a, const struct wire_packet *b)
{
	FZ_CHECK(a->hdr.type == b->hdr.type && a->hdr.cluster_id == b->hdr.cluster_id);
	FZ_CHECK(a->hdr.sender == b->hdr.sender);
	switch (a->hdr.type) {
	case WIRE_MCAST:
		fz_same_mcast(&a->u.mcast, &b->u.mcast);
		break;
	case WIRE_TOKEN:
		fz_same_token(&a->u.token, &b->u.token);
		break;
	case WIRE_JOIN:
		fz_same_join(&a->u.join, &b->u.join);
		break;
	case WIRE_COMMIT:
		fz_same_commit(&a->u.commit, &b->u.commit);
		break;
	case WIRE_MERGE_DETECT:
		FZ_CHECK(fz_ring_eq(&a->u.merge.ring_id, &b->u.merge.ring_id));
		break;
	case WIRE_LEAVE:
		FZ_CHECK(fz_ring_eq(&a->u.leave.ring_id, &b->u.leave.ring_id));
		break;
	}
}

/* The set_seq patch must move the seq field and nothing else. */
static void fz_check_set_seq(size_t n, uint32_t cluster)
{
	uint64_t seq = ~fz_a.u.mcast.seq;

	wire_mcast_set_seq(fz_enc, seq);
	FZ_CHECK(wire_decode(fz_enc, n, cluster, &fz_b) == WIRE_OK);
	FZ_CHECK(fz_b.u.mcast.seq == seq);
	fz_b.u.mcast.seq = fz_a.u.mcast.seq;
	fz_same(&fz_a, &fz_b);
}

/* Returns the decode result. ENCAP payloads are checked in turn, as the core
 * would decode them, by looping rather than recursing: nesting is bounded only
 * by the packet length. */
static enum wire_err fz_one(const uint8_t *data, size_t size, uint32_t cluster)
{
	enum wire_err first = WIRE_OK;

	for (int depth = 0;; depth++) {
		enum wire_err e = wire_decode(data, size, cluster, &fz_a);

		FZ_CHECK((unsigned)e < WIRE_ERR_COUNT_ && wire_err_name(e) != NULL);
		if (depth == 0)
			first = e;
		if (e != WIRE_OK) {
			FZ_CHECK(fz_a.hdr.type == 0);
			return first;
		}
		FZ_CHECK(fz_a.hdr.cluster_id == cluster && size <= WIRE_MAX_PACKET);
		if (fz_a.hdr.type == WIRE_MCAST) {
			FZ_CHECK(fz_a.u.mcast.payload == data + WIRE_MCAST_FIXED_LEN);
			fz_check_items(&fz_a.u.mcast);
		}
		size_t n = fz_encode(&fz_a, fz_enc, sizeof(fz_enc));

		FZ_CHECK(n == size && memcmp(fz_enc, data, size) == 0);
		FZ_CHECK(wire_decode(fz_enc, n, cluster, &fz_b) == WIRE_OK);
		fz_same(&fz_a, &fz_b);
		if (fz_a.hdr.type != WIRE_MCAST)
			return first;
		fz_check_set_seq(n, cluster);
		if (!(fz_a.u.mcast.flags & WIRE_MCAST_ENCAP))
			return first;
		data = fz_a.u.mcast.payload;
		size = fz_a.u.mcast.payload_len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum wire_err e = fz_one(data, size, FUZZ_CLUSTER);

	fz_by_err[e]++;
	if (e == WIRE_OK)
		fz_by_type[data[3] & 7]++;
	if (size >= 8) {
		uint32_t c = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
			     (uint32_t)data[6] << 8 | data[7];

		if (c != FUZZ_CLUSTER)
			fz_one(data, size, c);
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
/* ------------------------------------------------------------------------
 * Standalone driver: no libFuzzer needed, same result on every run. */

#define FZ_MAX_SEEDS 16
#define FZ_CAP (WIRE_MAX_PACKET + 64u)

static struct {
	const char *name;
	uint8_t *bytes;
	size_t len;
} fz_seeds[FZ_MAX_SEEDS];
static unsigned fz_nseeds;
static uint64_t fz_rng = 0x9E3779B97F4A7C15ull; /* fixed: runs must repeat */

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

static void fz_put(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = width; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t fz_get(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v = v << 8 | p[i];
	return v;
}

static void fz_add_seed(const char *name, const uint8_t *bytes, size_t len)
{
	FZ_CHECK(len > 0 && fz_nseeds < FZ_MAX_SEEDS);
	fz_seeds[fz_nseeds].name = name;
	fz_seeds[fz_nseeds].bytes = malloc(len);
	FZ_CHECK(fz_seeds[fz_nseeds].bytes != NULL);
	memcpy(fz_seeds[fz_nseeds].bytes, bytes, len);
	fz_seeds[fz_nseeds++].len = len;
}

static size_t fz_mcast(uint8_t *b, size_t cap, unsigned items, unsigned item_len, uint64_t seq)
{
	static const uint8_t fill[4096];
	struct wire_hdr h = { .cluster_id = FUZZ_CLUSTER, .sender = 3 };
	struct wire_ring_id r = { .rep = 1, .seq = 8 };
	struct wire_mcast_builder mb;

	wire_mcast_begin(&mb, b, cap, &h, &r, seq);
	for (unsigned i = 0; i < items; i++)
		wire_mcast_add_item(&mb, i & 1, (uint8_t)(i % 4), fill, item_len);
	return wire_mcast_finish(&mb);
}

static size_t fz_encap(uint8_t *b, size_t cap, const uint8_t *inner, size_t inner_len)
{
	struct wire_hdr h = { .cluster_id = FUZZ_CLUSTER, .sender = 3 };
	struct wire_ring_id r = { .rep = 1, .seq = 12 };
	struct wire_mcast_builder mb;

	wire_mcast_begin(&mb, b, cap, &h, &r, 100);
	wire_mcast_add_raw(&mb, inner, (uint32_t)inner_len);
	return wire_mcast_finish(&mb);
}

static void fz_mcast_seeds(uint8_t *b, uint8_t *inner)
{
	size_t n;

	fz_add_seed("mcast", b, fz_mcast(b, FZ_CAP, 5, 7, 20));
	fz_add_seed("mcast-empty-item", b, fz_mcast(b, FZ_CAP, 1, 0, 21));
	fz_add_seed("mcast-big", b, fz_mcast(b, FZ_CAP, 3, 4000, 22));
	n = fz_mcast(inner, FZ_CAP, 2, 3, 5);
	n = fz_encap(b, FZ_CAP, inner, n);
	fz_add_seed("mcast-encap", b, n);
	fz_add_seed("mcast-encap2", inner, fz_encap(inner, FZ_CAP, b, n));
}

static size_t fz_commit_max(uint8_t *b, const struct wire_hdr *h)
{
	static struct wire_commit c = { .ring_id = { 4, 16 },
					.memb_count = WIRE_MAX_NODES,
					.memb_index = WIRE_MAX_NODES };

	for (unsigned i = 0; i < WIRE_MAX_NODES; i++)
		c.memb[i] = (struct wire_commit_memb){ .nodeid = i + 1,
						       .old_ring_id = { 1, i },
						       .received_flg = 1 };
	return wire_encode_commit(b, FZ_CAP, h, &c);
}

static void fz_build_seeds(void)
{
	static uint8_t b[FZ_CAP], inner[FZ_CAP];
	static struct wire_token t = { .ring_id = { 1, 8 },
				       .token_seq = 4,
				       .seq = 30,
				       .aru = 25,
				       .aru_id = 2,
				       .backlog = 9,
				       .fcc = 1,
				       .retrans_flg = 1 };
	static struct wire_join j = { .ring_seq = 8,
				      .proc_count = 3,
				      .fail_count = 2,
				      .proc = { 1, 2, 3 },
				      .fail = { 4, 5 } };
	static struct wire_commit c = {
		.ring_id = { 1, 12 }, .token_seq = 1, .memb_count = 4, .memb_index = 2
	};
	struct wire_hdr h = { .cluster_id = FUZZ_CLUSTER, .sender = 1 };
	struct wire_merge_detect md = { .ring_id = { 1, 8 } };
	struct wire_leave lv = { .ring_id = { 2, 8 } };

	fz_mcast_seeds(b, inner);
	fz_add_seed("token", b, wire_encode_token(b, FZ_CAP, &h, &t));
	t.rtr_count = 5;
	for (unsigned i = 0; i < 5; i++)
		t.rtr[i] = 26 + i;
	fz_add_seed("token-rtr", b, wire_encode_token(b, FZ_CAP, &h, &t));
	fz_add_seed("join", b, wire_encode_join(b, FZ_CAP, &h, &j));
	for (unsigned i = 0; i < 4; i++)
		c.memb[i] = (struct wire_commit_memb){ .nodeid = i + 1,
						       .old_ring_id = { 1, 8 },
						       .my_aru = 25,
						       .high_seq = 30,
						       .received_flg = i < 2 };
	fz_add_seed("commit", b, wire_encode_commit(b, FZ_CAP, &h, &c));
	fz_add_seed("commit-max", b, fz_commit_max(b, &h));
	t.rtr_count = WIRE_RTR_MAX;
	fz_add_seed("token-max", b, wire_encode_token(b, FZ_CAP, &h, &t));
	j.proc_count = j.fail_count = WIRE_MAX_NODES;
	for (unsigned i = 0; i < WIRE_MAX_NODES; i++)
		j.proc[i] = j.fail[i] = i + 1;
	fz_add_seed("join-max", b, wire_encode_join(b, FZ_CAP, &h, &j));
	fz_add_seed("merge", b, wire_encode_merge_detect(b, FZ_CAP, &h, &md));
	fz_add_seed("leave", b, wire_encode_leave(b, FZ_CAP, &h, &lv));
	struct wire_hold_cancel hc = { .ring_id = lv.ring_id };
	fz_add_seed("hold-cancel", b, wire_encode_hold_cancel(b, FZ_CAP, &h, &hc));
}

struct fz_count {
	size_t off;	   /* 0: the packet has no such field */
	unsigned width;	   /* bytes */
	size_t tail_start; /* where the array it counts starts, if it ends the packet */
	size_t elem;	   /* bytes per entry of that array; 0 when it is not the tail */
};

/* A count or length field of the packet in b, chosen at random among those
 * its type has. */
static struct fz_count fz_pick_count(const uint8_t *b, size_t len)
{
	struct fz_count c = { .width = 2 };

	switch (len > 3 ? b[3] : 0) {
	case WIRE_MCAST:
		if (fz_below(2)) {
			c.off = len >= 35 ? 33 : 0;
			return c;
		}
		c.off = 35;
		for (size_t k = fz_below(4); k > 0 && c.off + 6 <= len; k--)
			c.off += 6 + fz_get(b + c.off + 2, 4);
		c.width = 4;
		c.off = c.off + 6 <= len ? c.off + 2 : 0;
		return c;
	case WIRE_TOKEN:
		c = (struct fz_count){ len >= 63 ? 61 : 0, 2, 63, 8 };
		return c;
	case WIRE_JOIN:
		if (fz_below(2)) {
			c.off = len >= 22 ? 20 : 0;
			return c;
		}
		c.off = 22 + 4 * (len >= 22 ? fz_get(b + 20, 2) : 0);
		c = (struct fz_count){ c.off + 2 <= len ? c.off : 0, 2, c.off + 2, 4 };
		return c;
	case WIRE_COMMIT:
		c = (struct fz_count){ len >= 36 ? 32 : 0, 2, 36, 33 };
		if (c.off && fz_below(2)) { /* memb_index: no array of its own */
			c.off = 34;
			c.elem = 0;
		}
		return c;
	}
	return c;
}

/* Sets a count to a neighbour of its value, a limit, or noise; half the time
 * the packet is then resized to match, so that counts just over a maximum
 * are seen with all their bytes present. */
static size_t fz_corrupt_count(uint8_t *b, size_t len)
{
	static const uint64_t interesting[] = { 0,   1,	  255,	  256,	   257,	       383,
						384, 385, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF };
	struct fz_count c = fz_pick_count(b, len);
	uint64_t v, want;

	if (c.off == 0)
		return len;
	v = fz_get(b + c.off, c.width);
	switch (fz_below(4)) {
	case 0:
		v++;
		break;
	case 1:
		v--;
		break;
	case 2:
		v = interesting[fz_below(sizeof(interesting) / sizeof(interesting[0]))];
		break;
	default:
		v = fz_rand();
		break;
	}
	fz_put(b + c.off, c.width, v);
	v = fz_get(b + c.off, c.width);
	if (c.elem == 0 || fz_below(2))
		return len;
	want = c.tail_start + v * c.elem;
	if (want > FZ_CAP)
		return len;
	if (want > len)
		memset(b + len, (int)fz_below(3), want - len);
	return want;
}

static size_t fz_mutate(uint8_t *b, size_t len)
{
	size_t pos = fz_below(len + 1), k = 1 + fz_below(16);

	switch (fz_below(9)) {
	case 0: /* bit flip */
		if (len)
			b[fz_below(len)] ^= (uint8_t)(1u << fz_below(8));
		return len;
	case 1: /* random byte */
		if (len)
			b[fz_below(len)] = (uint8_t)fz_rand();
		return len;
	case 2: /* truncation */
		return fz_below(len + 1);
	case 3: /* insertion of random bytes */
		if (len + k > FZ_CAP)
			return len;
		memmove(b + pos + k, b + pos, len - pos);
		for (size_t i = 0; i < k; i++)
			b[pos + i] = (uint8_t)fz_rand();
		return len + k;
	case 4: /* deletion */
		k = k < len - pos ? k : len - pos;
		memmove(b + pos, b + pos + k, len - pos - k);
		return len - k;
	case 5:
	case 6: /* count and length fields, where the interesting bugs hide */
		return fz_corrupt_count(b, len);
	case 7: /* another type with the same body */
		if (len > 3)
			b[3] = (uint8_t)fz_below(8);
		return len;
	default: /* trailing bytes */
		if (len + k > FZ_CAP)
			return len;
		memset(b + len, (int)fz_below(256), k);
		return len + k;
	}
}

/* Feeds an exactly sized heap copy, so ASan sees a read one byte too far. */
static void fz_run(const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	FZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, b, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static int fz_write_seeds(const char *dir)
{
	char path[4096];

	for (unsigned i = 0; i < fz_nseeds; i++) {
		snprintf(path, sizeof(path), "%s/seed-%s", dir, fz_seeds[i].name);
		FILE *f = fopen(path, "wb");

		if (!f || fwrite(fz_seeds[i].bytes, 1, fz_seeds[i].len, f) != fz_seeds[i].len ||
		    fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	printf("fuzz_wire: wrote %u seeds to %s\n", fz_nseeds, dir);
	return 0;
}

static int fz_replay(int n, char **files)
{
	static uint8_t b[FZ_CAP + 1];

	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");

		if (!f) {
			perror(files[i]);
			return 1;
		}
		size_t len = fread(b, 1, sizeof(b), f);

		fclose(f);
		fz_run(b, len);
	}
	printf("fuzz_wire: replayed %d inputs\n", n);
	return 0;
}

static int fz_report(unsigned long iters)
{
	int bad = 0;

	printf("fuzz_wire: %lu mutated inputs;", iters);
	for (unsigned e = 0; e < WIRE_ERR_COUNT_; e++)
		printf(" %s=%lu", wire_err_name((enum wire_err)e), fz_by_err[e]);
	printf("\nfuzz_wire: decoded by type:");
	for (unsigned t = WIRE_MCAST; t <= WIRE_LEAVE; t++)
		printf(" %u=%lu", t, fz_by_type[t]);
	printf("\n");
	/* A harness that stopped reaching a reason or a type tests nothing there. */
	for (unsigned e = 0; e < WIRE_ERR_COUNT_; e++)
		bad |= fz_by_err[e] == 0;
	for (unsigned t = WIRE_MCAST; t <= WIRE_LEAVE; t++)
		bad |= fz_by_type[t] < 2;
	if (bad)
		fprintf(stderr, "fuzz_wire: some reason or type was never reached\n");
	return bad;
}

int main(int argc, char **argv)
{
	static uint8_t b[FZ_CAP];
	unsigned long iters = 500000;

	fz_build_seeds();
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return fz_write_seeds(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--iterations") == 0)
		iters = strtoul(argv[2], NULL, 10);
	else if (argc >= 2)
		return fz_replay(argc - 1, argv + 1);

	for (unsigned i = 0; i < fz_nseeds; i++)
		FZ_CHECK(fz_one(fz_seeds[i].bytes, fz_seeds[i].len, FUZZ_CLUSTER) == WIRE_OK);
	for (unsigned long it = 0; it < iters; it++) {
		unsigned s = (unsigned)fz_below(fz_nseeds);
		size_t len = fz_seeds[s].len;

		memcpy(b, fz_seeds[s].bytes, len);
		for (size_t r = 1 + fz_below(4); r > 0; r--)
			len = fz_mutate(b, len);
		if (fz_below(1000) == 0) { /* past the size cap */
			memset(b + len, 0, FZ_CAP - len);
			len = WIRE_MAX_PACKET + 1 + fz_below(FZ_CAP - WIRE_MAX_PACKET - 1);
		}
		fz_run(b, len);
	}
	return fz_report(iters);
}
#endif
