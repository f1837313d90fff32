/* Fuzz target of the packet protection layer's receive path (net/crypto.c):
 * crypto_open() with a fixed key, fed the input as received datagrams.
 *
 * Input: byte 0 picks the mode (none, auth, aead) of the receiver, node 1.
 * Then a program of operations:
 *   raw      the next bytes, as they are, are one datagram
 *   seal     node 2 or 3 (same key) seals input bytes; the packet is kept
 *   tamper   flip a byte of a kept packet, then open it
 *   reopen   open a kept packet again (replays, reordering)
 *   restart  a sender restarts with a counter start taken from the input
 * Checked: no crash or sanitizer report; an accepted packet's payload lies
 * inside it, has the length the header and tag leave, and comes from a peer;
 * a sealed packet opens, the first time, to exactly what was sealed (unless
 * its counter is behind the window); no packet is accepted twice; a tampered
 * packet is never accepted when the mode authenticates; the statistics count
 * every open exactly once. */
#include <stdbool.h>
#include <string.h>

#include "fuzz_driver.h"
#include "net/crypto.h"

#define FCR_KEEP 8u
#define FCR_MAX 2048u
#define FCR_MAX_OPS 256u

struct fcr_kept {
	uint8_t pkt[FCR_MAX + CRYPTO_MAX_OVERHEAD_BYTES];
	size_t len;
	uint8_t payload[FCR_MAX];
	size_t plen;
	uint8_t kind;
	uint32_t sender;
	bool opened; /* accepted once already */
};

static struct {
	const uint8_t *in;
	size_t left;
	struct crypto_key key;
	struct crypto_ctx *rx, *tx[2];
	enum crypto_mode mode;
	struct fcr_kept kept[FCR_KEEP];
	unsigned nkept;
	uint64_t opens;
	uint8_t buf[FCR_MAX + CRYPTO_MAX_OVERHEAD_BYTES];
} fcr;

static const uint32_t fcr_peers[] = { 1, 2, 3 };

static uint8_t fcr_byte(void)
{
	if (fcr.left == 0)
		return 0;
	fcr.left--;
	return *fcr.in++;
}

static struct crypto_ctx *fcr_ctx(uint32_t nodeid, uint64_t counter_start)
{
	struct crypto_params p = { .mode = fcr.mode,
				   .key = &fcr.key,
				   .cluster_name = "fuzz",
				   .my_nodeid = nodeid,
				   .peers = fcr_peers,
				   .peer_count = 3,
				   .epoch = 0x5eed0000u + nodeid,
				   .counter_start = counter_start };
	struct crypto_ctx *c = NULL;
	char err[256];

	FZ_CHECK(crypto_create(&p, &c, err, sizeof(err)) == 0 && c != NULL);
	return c;
}

/* Opens an exactly sized heap copy (crypto_open works in place, and ASan
 * must see a read past the end). */
static enum crypto_status fcr_open(const uint8_t *pkt, size_t len, struct crypto_rx *rx,
				   uint8_t *plain, size_t *plain_len)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum crypto_status st;

	FZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, pkt, len);
	memset(rx, 0, sizeof(*rx));
	st = crypto_open(fcr.rx, copy, len, rx);
	fcr.opens++;
	FZ_CHECK((unsigned)st < CRYPTO_STATUS_COUNT && crypto_status_name(st));
	FZ_CHECK(st != CRYPTO_E_NOSPACE && st != CRYPTO_E_INTERNAL);
	if (st == CRYPTO_OK) {
		FZ_CHECK(rx->payload == copy + CRYPTO_HEADER_BYTES);
		FZ_CHECK(rx->len + crypto_overhead(fcr.rx) == len);
		FZ_CHECK(rx->sender >= 1 && rx->sender <= 3 && rx->kind == pkt[1]);
		FZ_CHECK(crypto_peek_sender(pkt, len) == rx->sender);
		if (plain) {
			memcpy(plain, rx->payload, rx->len);
			*plain_len = rx->len;
		}
	}
	free(copy);
	rx->payload = NULL;
	return st;
}

static void fcr_raw(void)
{
	size_t n = (size_t)fcr_byte() << 8 | fcr_byte();
	struct crypto_rx rx;

	n = n < fcr.left ? n : fcr.left;
	fcr_open(fcr.in, n, &rx, NULL, NULL);
	fcr.in += n;
	fcr.left -= n;
}

static void fcr_seal(uint8_t op)
{
	struct fcr_kept *k = &fcr.kept[fcr.nkept < FCR_KEEP ? fcr.nkept++ : fcr_byte() % FCR_KEEP];
	unsigned who = (op >> 3) & 1u;
	size_t n = (size_t)fcr_byte() * 8u;

	n = n < fcr.left ? n : fcr.left;
	memcpy(k->payload, fcr.in, n);
	fcr.in += n;
	fcr.left -= n;
	k->plen = n;
	k->kind = fcr_byte();
	k->sender = who + 2;
	k->opened = false;
	FZ_CHECK(crypto_seal(fcr.tx[who], k->kind, k->payload, n, k->pkt, sizeof(k->pkt),
			     &k->len) == CRYPTO_OK);
	FZ_CHECK(k->len == n + crypto_overhead(fcr.tx[who]));
	FZ_CHECK(crypto_seal(fcr.tx[who], 0, k->payload, n, fcr.buf, k->len - 1, &n) ==
		 CRYPTO_E_NOSPACE);
}

static void fcr_reopen(struct fcr_kept *k)
{
	struct crypto_rx rx;
	size_t plen = 0;
	enum crypto_status st = fcr_open(k->pkt, k->len, &rx, fcr.buf, &plen);

	if (k->opened) {
		FZ_CHECK(st == CRYPTO_E_REPLAY || st == CRYPTO_E_TOO_OLD);
		return;
	}
	/* A later packet of the same sender may have pushed it out of the
	 * window, or a restarted sender reused its counter: only those. */
	FZ_CHECK(st == CRYPTO_OK || st == CRYPTO_E_TOO_OLD || st == CRYPTO_E_REPLAY);
	if (st != CRYPTO_OK)
		return;
	k->opened = true;
	FZ_CHECK(rx.sender == k->sender && rx.kind == k->kind);
	FZ_CHECK(plen == k->plen && memcmp(fcr.buf, k->payload, plen) == 0);
}

static void fcr_tamper(struct fcr_kept *k)
{
	static uint8_t pkt[sizeof(k->pkt)];
	size_t pos = ((size_t)fcr_byte() << 8 | fcr_byte()) % k->len;
	uint8_t x = fcr_byte() | 1u;
	struct crypto_rx rx;
	enum crypto_status st;

	memcpy(pkt, k->pkt, k->len);
	pkt[pos] ^= x;
	st = fcr_open(pkt, k->len, &rx, NULL, NULL);
	if (fcr.mode != CRYPTO_MODE_NONE)
		FZ_CHECK(st != CRYPTO_OK);
}

static void fcr_op(uint8_t op)
{
	switch (op % 5) {
	case 0:
		fcr_raw();
		break;
	case 1:
		fcr_seal(op);
		break;
	case 2:
		if (fcr.nkept)
			fcr_tamper(&fcr.kept[fcr_byte() % fcr.nkept]);
		break;
	case 3:
		if (fcr.nkept)
			fcr_reopen(&fcr.kept[fcr_byte() % fcr.nkept]);
		break;
	default: {
		unsigned who = (op >> 3) & 1u;
		uint64_t start = 0;

		for (int i = 0; i < 8; i++)
			start = start << 8 | fcr_byte();
		crypto_destroy(fcr.tx[who]);
		fcr.tx[who] = fcr_ctx(who + 2, start | 1u);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct crypto_stats *st;
	uint64_t counted;

	if (size < 1)
		return 0;
	fcr.in = data + 1;
	fcr.left = size - 1;
	fcr.mode = (enum crypto_mode)(data[0] % 3);
	fcr.key.len = CRYPTO_KEY_MIN_BYTES;
	for (size_t i = 0; i < fcr.key.len; i++)
		fcr.key.bytes[i] = (uint8_t)(i * 13u + 7u);
	fcr.nkept = 0;
	fcr.opens = 0;
	fcr.rx = fcr_ctx(1, 1000);
	fcr.tx[0] = fcr_ctx(2, 5000);
	fcr.tx[1] = fcr_ctx(3, 1u << 20);
	for (unsigned n = 0; fcr.left > 0 && n < FCR_MAX_OPS; n++)
		fcr_op(fcr_byte());
	st = crypto_get_stats(fcr.rx);
	counted = st->opened;
	for (unsigned i = 0; i < CRYPTO_STATUS_COUNT; i++)
		counted += st->rejected[i];
	FZ_CHECK(counted == fcr.opens);
	crypto_destroy(fcr.rx);
	crypto_destroy(fcr.tx[0]);
	crypto_destroy(fcr.tx[1]);
	return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "fuzz_crypto";
const unsigned long fuzz_target_iterations = 10000;

void fuzz_target_seeds(void)
{
	/* seal (2), seal (3), open both, replay one, tamper, restart 2 low, seal */
	static const uint8_t prog[] = { 1,   2,	  'h', 'e', 'l', 'l', 'o', '!', '!', '!', 0,
					'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 7,   9,	  2,
					'x', 'y', 'z', 'w', 'v', 'u', 't', 's', 3,   3,	  0,
					3,   1,	  3,   0,   2,	 0,   0,   5,	1,   4,	  0,
					0,   0,	  0,   0,   0,	 0,   1,   1,	1,   'q', 'q',
					'q', 'q', 'q', 'q', 'q', 'q', 1,   3,	3,   2 };
	static const uint8_t raw[] = { 2,   0,	 0,   40, 0xc5, 1, 2, 0, 0, 0, 0,   2,	 0,   0,
				       0,   1,	 0,   0,  0,	0, 0, 0, 0, 9, 'p', 'a', 'y', 'l',
				       'o', 'a', 'd', 0,  0,	0, 0, 0, 0, 0, 0,   0 };
	uint8_t b[sizeof(prog)];

	for (uint8_t mode = 0; mode < 3; mode++) {
		static const char *names[] = { "prog-none", "prog-auth", "prog-aead" };

		memcpy(b, prog, sizeof(prog));
		b[0] = mode;
		fuzz_seed_add(names[mode], b, sizeof(b));
	}
	fuzz_seed_add("raw-aead", raw, sizeof(raw));
}
#endif
