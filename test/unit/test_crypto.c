/* Packet protection: key files, every mode's round trip, and each way a
 * packet must be refused (wrong key, forged header, replay, too old, ...). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/crypto.h"

static int checks, failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

static const uint32_t peers[] = { 1, 2, 3 };

static struct crypto_key make_key(uint8_t seed)
{
	struct crypto_key k = { .len = 256 };

	for (size_t i = 0; i < k.len; i++)
		k.bytes[i] = (uint8_t)(seed * 31 + i * 7);
	return k;
}

static struct crypto_ctx *ctx(enum crypto_mode mode, const struct crypto_key *k, uint32_t me,
			      const char *cluster, uint64_t counter_start)
{
	struct crypto_params p = { .mode = mode,
				   .key = k,
				   .cluster_name = cluster,
				   .my_nodeid = me,
				   .peers = peers,
				   .peer_count = 3,
				   .counter_start = counter_start };
	struct crypto_ctx *c = NULL;
	char err[200];

	if (crypto_create(&p, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "crypto_create: %s\n", err);
	return c;
}

static void write_key(const char *path, size_t len, mode_t mode)
{
	uint8_t buf[5000];
	int fd;

	memset(buf, 0x5a, sizeof(buf));
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, buf, len) != (ssize_t)len)
			perror("write");
		fchmod(fd, mode);
		close(fd);
	}
}

static void test_key_files(void)
{
	char dir[] = "/tmp/cohort-key-XXXXXX", path[256], err[512];
	struct crypto_key k;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/authkey", dir);
	CHECK(crypto_key_load(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot open key file: No such file or directory") != NULL);
	write_key(path, 256, 0644);
	CHECK(crypto_key_load(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "accessible by group or others (mode 0644)") != NULL);
	write_key(path, 100, 0400);
	CHECK(crypto_key_load(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "key is 100 bytes, it must have 128 to 4096") != NULL);
	write_key(path, 4097, 0400);
	CHECK(crypto_key_load(path, &k, err, sizeof(err)) == -1);
	write_key(path, 256, 0400);
	CHECK(crypto_key_load(path, &k, err, sizeof(err)) == 0 && k.len == 256);
	CHECK(k.bytes[255] == 0x5a);
	CHECK(crypto_key_load(dir, &k, err, sizeof(err)) == -1);
	unlink(path);
	rmdir(dir);
}

static void roundtrip(enum crypto_mode mode)
{
	struct crypto_key k = make_key(1);
	struct crypto_ctx *a = ctx(mode, &k, 1, "c", 0), *b = ctx(mode, &k, 2, "c", 0);
	uint8_t pkt[2048];
	const char msg[] = "hello, ring";
	struct crypto_rx rx;
	size_t len = 0;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK(crypto_seal(a, 7, msg, sizeof(msg), pkt, sizeof(pkt), &len) == CRYPTO_OK);
	CHECK(len == sizeof(msg) + crypto_overhead(a));
	/* ciphertext hides the payload only in AEAD mode */
	CHECK((memcmp(pkt + CRYPTO_HEADER_BYTES, msg, sizeof(msg)) != 0) ==
	      (mode == CRYPTO_MODE_AEAD));
	CHECK(crypto_peek_sender(pkt, len) == 1);
	CHECK(crypto_open(b, pkt, len, &rx) == CRYPTO_OK);
	CHECK(rx.sender == 1 && rx.kind == 7 && rx.len == sizeof(msg));
	CHECK(memcmp(rx.payload, msg, sizeof(msg)) == 0);
	CHECK(crypto_get_stats(b)->opened == 1 && crypto_get_stats(a)->sealed == 1);
	/* empty payloads are fine too */
	CHECK(crypto_seal(a, 1, NULL, 0, pkt, sizeof(pkt), &len) == CRYPTO_OK);
	CHECK(crypto_open(b, pkt, len, &rx) == CRYPTO_OK && rx.len == 0);
	CHECK(crypto_seal(a, 1, msg, sizeof(msg), pkt, 10, &len) == CRYPTO_E_NOSPACE);
out:
	crypto_destroy(a);
	crypto_destroy(b);
}

static enum crypto_status seal_open(struct crypto_ctx *tx, struct crypto_ctx *rx_ctx,
				    void (*mutate)(uint8_t *pkt, size_t *len))
{
	uint8_t pkt[256];
	size_t len = 0;
	struct crypto_rx rx;

	if (crypto_seal(tx, 1, "payload", 8, pkt, sizeof(pkt), &len) != CRYPTO_OK)
		return CRYPTO_E_INTERNAL;
	if (mutate)
		mutate(pkt, &len);
	return crypto_open(rx_ctx, pkt, len, &rx);
}

static void flip_payload(uint8_t *p, size_t *len)
{
	(void)len;
	p[CRYPTO_HEADER_BYTES] ^= 1;
}

static void claim_node3(uint8_t *p, size_t *len)
{
	(void)len;
	p[7] = 3;
}

static void bad_magic(uint8_t *p, size_t *len)
{
	(void)len;
	p[0] ^= 0xff;
}

static void cut(uint8_t *p, size_t *len)
{
	(void)p;
	*len = CRYPTO_HEADER_BYTES + 3;
}

static void stranger(uint8_t *p, size_t *len)
{
	(void)len;
	p[7] = 99;
}

static void test_rejections(void)
{
	struct crypto_key k = make_key(1), other = make_key(2);
	struct crypto_ctx *a = ctx(CRYPTO_MODE_AEAD, &k, 1, "c", 0);
	struct crypto_ctx *b = ctx(CRYPTO_MODE_AEAD, &k, 2, "c", 0);
	struct crypto_ctx *wrong_key = ctx(CRYPTO_MODE_AEAD, &other, 2, "c", 0);
	struct crypto_ctx *wrong_cluster = ctx(CRYPTO_MODE_AEAD, &k, 2, "d", 0);
	struct crypto_ctx *plain = ctx(CRYPTO_MODE_NONE, NULL, 2, "c", 0);
	struct crypto_ctx *auth = ctx(CRYPTO_MODE_AUTH, &k, 1, "c", 0);
	struct crypto_ctx *auth_rx = ctx(CRYPTO_MODE_AUTH, &k, 2, "c", 0);

	CHECK(a && b && wrong_key && wrong_cluster && plain && auth && auth_rx);
	if (!(a && b && wrong_key && wrong_cluster && plain && auth && auth_rx))
		goto out;
	CHECK(seal_open(a, wrong_key, NULL) == CRYPTO_E_AUTH);
	CHECK(seal_open(a, wrong_cluster, NULL) == CRYPTO_E_AUTH);
	CHECK(seal_open(a, b, flip_payload) == CRYPTO_E_AUTH);
	CHECK(seal_open(a, b, claim_node3) == CRYPTO_E_AUTH);
	CHECK(seal_open(a, b, bad_magic) == CRYPTO_E_BAD_HEADER);
	CHECK(seal_open(a, b, cut) == CRYPTO_E_TRUNCATED);
	CHECK(seal_open(a, b, stranger) == CRYPTO_E_UNKNOWN_SENDER);
	CHECK(seal_open(a, plain, NULL) == CRYPTO_E_MODE);
	CHECK(seal_open(auth, auth_rx, flip_payload) == CRYPTO_E_AUTH);
	CHECK(seal_open(auth, auth_rx, NULL) == CRYPTO_OK);
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_AUTH] == 2);
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_UNKNOWN_SENDER] == 1);
	/* a good packet still passes after all that */
	CHECK(seal_open(a, b, NULL) == CRYPTO_OK);
out:
	crypto_destroy(a);
	crypto_destroy(b);
	crypto_destroy(wrong_key);
	crypto_destroy(wrong_cluster);
	crypto_destroy(plain);
	crypto_destroy(auth);
	crypto_destroy(auth_rx);
}

static void test_replay_window(void)
{
	enum { N = 3000 };
	struct crypto_key k = make_key(3);
	struct crypto_ctx *a = ctx(CRYPTO_MODE_AEAD, &k, 1, "c", 1000);
	struct crypto_ctx *b = ctx(CRYPTO_MODE_AEAD, &k, 2, "c", 0);
	static uint8_t pkts[N][64];
	size_t lens[N];
	struct crypto_rx rx;
	uint8_t copy[64];
	int ok = 0;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	for (int i = 0; i < N; i++)
		crypto_seal(a, 1, &i, sizeof(i), pkts[i], sizeof(pkts[i]), &lens[i]);
	/* Deliver in a scrambled order that stays within the window. */
	for (int base = 0; base < N; base += 500) {
		for (int j = 499; j >= 0; j--)
			ok += crypto_open(b, pkts[base + j], lens[base + j], &rx) == CRYPTO_OK;
	}
	CHECK(ok == N);
	/* A copy kept before opening (opening decrypts in place) is a replay. */
	crypto_seal(a, 1, "x", 1, pkts[0], sizeof(pkts[0]), &lens[0]);
	memcpy(copy, pkts[0], sizeof(copy));
	CHECK(crypto_open(b, pkts[0], lens[0], &rx) == CRYPTO_OK);
	CHECK(crypto_open(b, copy, lens[0], &rx) == CRYPTO_E_REPLAY);
	/* Out of order inside the window: held back, then accepted once. */
	crypto_seal(a, 1, "h", 1, pkts[1], sizeof(pkts[1]), &lens[1]);
	for (int i = 0; i < 100; i++) {
		crypto_seal(a, 1, "n", 1, pkts[2], sizeof(pkts[2]), &lens[2]);
		ok = crypto_open(b, pkts[2], lens[2], &rx) == CRYPTO_OK;
	}
	CHECK(ok);
	memcpy(copy, pkts[1], sizeof(copy));
	CHECK(crypto_open(b, pkts[1], lens[1], &rx) == CRYPTO_OK);
	CHECK(crypto_open(b, copy, lens[1], &rx) == CRYPTO_E_REPLAY);
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_REPLAY] == 2);
	/* a packet far below the window */
	{
		struct crypto_ctx *old = ctx(CRYPTO_MODE_AEAD, &k, 1, "c", 500);
		uint8_t p[64];
		size_t l;

		crypto_seal(old, 1, "y", 1, p, sizeof(p), &l);
		CHECK(crypto_open(b, p, l, &rx) == CRYPTO_E_TOO_OLD);
		crypto_destroy(old);
	}
	/* the sender restarts: new process, counter from a later clock */
	{
		struct crypto_ctx *again = ctx(CRYPTO_MODE_AEAD, &k, 1, "c", 0);
		uint8_t p[64];
		size_t l;

		crypto_seal(again, 1, "z", 1, p, sizeof(p), &l);
		CHECK(crypto_open(b, p, l, &rx) == CRYPTO_OK);
		crypto_destroy(again);
	}
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_TOO_OLD] == 1);
out:
	crypto_destroy(a);
	crypto_destroy(b);
}

/* Random order with duplicates against a model of the window's rule. */
static void test_window_model(void)
{
	enum { N = 6000, OPS = 40000 };
	struct crypto_key k = make_key(4);
	struct crypto_ctx *a = ctx(CRYPTO_MODE_AUTH, &k, 1, "c", 1);
	struct crypto_ctx *b = ctx(CRYPTO_MODE_AUTH, &k, 2, "c", 0);
	static uint8_t pkts[N][48], seen[N];
	size_t len = 0;
	uint64_t top = 0, rng = 12345;
	bool any = false;
	int mismatches = 0;

	CHECK(a && b);
	if (!a || !b)
		goto out;
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < N; i++)
		crypto_seal(a, 1, "w", 1, pkts[i], sizeof(pkts[i]), &len);
	for (int op = 0; op < OPS; op++) {
		uint8_t copy[48];
		struct crypto_rx rx;
		int64_t base = any ? (int64_t)top : 0, i;
		bool want;

		rng = rng * 6364136223846793005u + 1442695040888963407u;
		i = base + (int64_t)((rng >> 33) % 1400) - 1150; /* mostly behind the top */
		if ((rng >> 20) % 16 == 0)
			i = base + (int64_t)((rng >> 40) % 3000); /* now and then far ahead */
		if (i < 0 || i >= N)
			continue;
		/* counter of packet i is i + 1 (counter_start 1) */
		want = !seen[i] && (!any || (uint64_t)i + 1 > top ||
				    top - ((uint64_t)i + 1) < CRYPTO_REPLAY_WINDOW);
		memcpy(copy, pkts[i], sizeof(copy));
		if ((crypto_open(b, copy, len, &rx) == CRYPTO_OK) != want)
			mismatches++;
		if (want) {
			seen[i] = 1;
			if (!any || (uint64_t)i + 1 > top)
				top = (uint64_t)i + 1;
			any = true;
		}
	}
	CHECK(mismatches == 0);
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_REPLAY] > 0);
	CHECK(crypto_get_stats(b)->rejected[CRYPTO_E_TOO_OLD] > 0);
out:
	crypto_destroy(a);
	crypto_destroy(b);
}

static void test_params(void)
{
	struct crypto_key short_key = { .len = 16 };
	struct crypto_params p = { .mode = CRYPTO_MODE_AEAD,
				   .key = &short_key,
				   .my_nodeid = 1,
				   .peers = peers,
				   .peer_count = 3 };
	struct crypto_ctx *c = NULL;
	char err[200];

	CHECK(crypto_create(&p, &c, err, sizeof(err)) == -1 && !c);
	CHECK(strstr(err, "128 to 4096") != NULL);
	CHECK(strcmp(crypto_status_name(CRYPTO_E_REPLAY), "replay") == 0);
	CHECK(strcmp(crypto_mode_name(CRYPTO_MODE_AEAD), "aes256-gcm") == 0);
}

int main(void)
{
	test_key_files();
	roundtrip(CRYPTO_MODE_NONE);
	roundtrip(CRYPTO_MODE_AUTH);
	roundtrip(CRYPTO_MODE_AEAD);
	test_rejections();
	test_replay_window();
	test_window_model();
	test_params();
	printf("test_crypto: %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
