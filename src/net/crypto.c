#include "net/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_BYTES 32u
#define IV_BYTES 12u
#define IV_OFFSET 8u /* the nonce is the header's epoch and counter fields */

struct crypto_peer {
	uint32_t nodeid;
	bool seen;
	uint64_t top;				  /* highest counter accepted */
	uint64_t bits[CRYPTO_REPLAY_WINDOW / 64]; /* bit i: counter top - i seen */
	EVP_CIPHER_CTX *ctx;			  /* keyed with this sender's key */
};

struct crypto_ctx {
	enum crypto_mode mode;
	uint32_t my_nodeid;
	uint32_t epoch;
	uint64_t counter;
	EVP_CIPHER_CTX *tx;
	struct crypto_peer *peers; /* sorted by node id */
	size_t peer_count;
	struct crypto_stats stats;
};

/* ---- byte order helpers: the header is decoded field by field ----------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ---- key file ------------------------------------------------------------------ */

int crypto_key_load(const char *path, struct crypto_key *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open key file: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (create one with cohort-keygen)" : "");
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: key file is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: key file is accessible by group or others (mode %04o): "
			 "run chmod 0400 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_size < (off_t)CRYPTO_KEY_MIN_BYTES || st.st_size > (off_t)CRYPTO_KEY_MAX_BYTES) {
		snprintf(err, errlen,
			 "%s: key is %lld bytes, it must have %u to %u (cohort-keygen "
			 "writes 256)",
			 path, (long long)st.st_size, CRYPTO_KEY_MIN_BYTES, CRYPTO_KEY_MAX_BYTES);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, out->bytes + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: cannot read key file: %s", path,
				 n < 0 ? strerror(errno) : "file shrank while reading");
			goto fail;
		}
		got += (size_t)n;
	}
	out->len = got;
	close(fd);
	return 0;
fail:
	close(fd);
	crypto_key_wipe(out);
	return -1;
}

void crypto_key_wipe(struct crypto_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* ---- key derivation ------------------------------------------------------------- */

/* HKDF-SHA256(ikm = authkey, salt = "cohort-v1/" cluster_name,
 *             info = "cohort-v1 packet key" mode sender_id). The mode is in
 * the info so an authenticate-only cluster never shares keys with an
 * encrypting one; the sender id gives each node its own nonce space. */
static int derive_key(const struct crypto_params *p, uint32_t sender, uint8_t key[KEY_BYTES])
{
	static const char label[] = "cohort-v1 packet key";
	uint8_t info[sizeof(label) - 1 + 5];
	char salt[300];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	int salt_len = snprintf(salt, sizeof(salt), "cohort-v1/%s",
				p->cluster_name ? p->cluster_name : "");
	int rc = -1;

	memcpy(info, label, sizeof(label) - 1);
	info[sizeof(label) - 1] = (uint8_t)p->mode;
	put_be32(info + sizeof(label), sender);
	if (salt_len < 0 || (size_t)salt_len >= sizeof(salt))
		salt_len = (int)sizeof(salt) - 1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)p->key->bytes,
						      p->key->len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, (size_t)salt_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[4] = OSSL_PARAM_construct_end();
	if (kctx && EVP_KDF_derive(kctx, key, KEY_BYTES, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

static EVP_CIPHER_CTX *keyed_ctx(const struct crypto_params *p, uint32_t sender, bool encrypt)
{
	uint8_t key[KEY_BYTES];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok;

	if (!ctx || derive_key(p, sender, key) != 0) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	/* Key schedule once here; each packet then only sets its nonce. */
	ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) :
		       EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	if (ok != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- context ------------------------------------------------------------------- */

static int cmp_peer(const void *a, const void *b)
{
	uint32_t x = ((const struct crypto_peer *)a)->nodeid;
	uint32_t y = ((const struct crypto_peer *)b)->nodeid;

	return x < y ? -1 : x > y;
}

static uint64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int setup_peers(struct crypto_ctx *c, const struct crypto_params *p)
{
	c->peers = calloc(p->peer_count ? p->peer_count : 1, sizeof(*c->peers));
	if (!c->peers)
		return -1;
	for (size_t i = 0; i < p->peer_count; i++) {
		struct crypto_peer *peer = &c->peers[c->peer_count];

		if (p->peers[i] == 0)
			continue;
		peer->nodeid = p->peers[i];
		if (p->mode != CRYPTO_MODE_NONE) {
			peer->ctx = keyed_ctx(p, p->peers[i], false);
			if (!peer->ctx)
				return -1;
		}
		c->peer_count++;
	}
	qsort(c->peers, c->peer_count, sizeof(*c->peers), cmp_peer);
	for (size_t i = 1; i < c->peer_count; i++) {
		if (c->peers[i].nodeid == c->peers[i - 1].nodeid)
			return -2;
	}
	return 0;
}

int crypto_create(const struct crypto_params *p, struct crypto_ctx **out, char *err, size_t errlen)
{
	struct crypto_ctx *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "crypto: out of memory");
		return -1;
	}
	c->mode = p->mode;
	c->my_nodeid = p->my_nodeid;
	c->epoch = p->epoch;
	if (!c->epoch && getrandom(&c->epoch, sizeof(c->epoch), 0) != sizeof(c->epoch))
		c->epoch = (uint32_t)wall_clock_ns() ^ (uint32_t)getpid();
	c->counter = p->counter_start ? p->counter_start : wall_clock_ns();
	if (p->mode != CRYPTO_MODE_NONE &&
	    (!p->key || p->key->len < CRYPTO_KEY_MIN_BYTES || p->key->len > CRYPTO_KEY_MAX_BYTES)) {
		snprintf(err, errlen, "crypto: a key of %u to %u bytes is required",
			 CRYPTO_KEY_MIN_BYTES, CRYPTO_KEY_MAX_BYTES);
		crypto_destroy(c);
		return -1;
	}
	if (p->mode != CRYPTO_MODE_NONE) {
		c->tx = keyed_ctx(p, p->my_nodeid, true);
		if (!c->tx) {
			snprintf(err, errlen, "crypto: libcrypto could not set up AES-256-GCM");
			crypto_destroy(c);
			return -1;
		}
	}
	rc = setup_peers(c, p);
	if (rc != 0) {
		snprintf(err, errlen,
			 rc == -2 ? "crypto: duplicate node id among peers" :
				    "crypto: cannot set up peer keys");
		crypto_destroy(c);
		return -1;
	}
	*out = c;
	return 0;
}

void crypto_destroy(struct crypto_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->peer_count; i++)
		EVP_CIPHER_CTX_free(c->peers[i].ctx);
	free(c->peers);
	EVP_CIPHER_CTX_free(c->tx);
	free(c);
}

/* ---- sealing ------------------------------------------------------------------- */

static bool gcm_seal(EVP_CIPHER_CTX *ctx, uint8_t *pkt, size_t aad_len, size_t enc_len,
		     uint8_t *tag)
{
	int n;

	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, pkt + IV_OFFSET) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, pkt, (int)aad_len) != 1)
		return false;
	if (enc_len && EVP_EncryptUpdate(ctx, pkt + aad_len, &n, pkt + aad_len, (int)enc_len) != 1)
		return false;
	return EVP_EncryptFinal_ex(ctx, pkt + aad_len + enc_len, &n) == 1 &&
	       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_BYTES, tag) == 1;
}

enum crypto_status crypto_seal(struct crypto_ctx *c, uint8_t kind, const void *payload, size_t len,
			       uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = CRYPTO_HEADER_BYTES + len + (c->mode ? CRYPTO_TAG_BYTES : 0);
	bool ok = true;

	if (total > cap || len > INT32_MAX / 2)
		return CRYPTO_E_NOSPACE;
	out[0] = CRYPTO_MAGIC;
	out[1] = kind;
	out[2] = (uint8_t)c->mode;
	out[3] = 0;
	put_be32(out + 4, c->my_nodeid);
	put_be32(out + 8, c->epoch);
	put_be64(out + 12, c->counter++);
	if (len)
		memmove(out + CRYPTO_HEADER_BYTES, payload, len);
	if (c->mode == CRYPTO_MODE_AUTH)
		ok = gcm_seal(c->tx, out, CRYPTO_HEADER_BYTES + len, 0,
			      out + CRYPTO_HEADER_BYTES + len);
	else if (c->mode == CRYPTO_MODE_AEAD)
		ok = gcm_seal(c->tx, out, CRYPTO_HEADER_BYTES, len,
			      out + CRYPTO_HEADER_BYTES + len);
	if (!ok)
		return CRYPTO_E_INTERNAL;
	c->stats.sealed++;
	*out_len = total;
	return CRYPTO_OK;
}

/* ---- opening ------------------------------------------------------------------- */

static struct crypto_peer *find_peer(struct crypto_ctx *c, uint32_t nodeid)
{
	struct crypto_peer key = { .nodeid = nodeid };

	return bsearch(&key, c->peers, c->peer_count, sizeof(*c->peers), cmp_peer);
}

static enum crypto_status window_check(const struct crypto_peer *p, uint64_t n)
{
	uint64_t age;

	if (!p->seen || n > p->top)
		return CRYPTO_OK;
	age = p->top - n;
	if (age >= CRYPTO_REPLAY_WINDOW)
		return CRYPTO_E_TOO_OLD;
	return (p->bits[age / 64] >> (age % 64)) & 1u ? CRYPTO_E_REPLAY : CRYPTO_OK;
}

static void window_mark(struct crypto_peer *p, uint64_t n)
{
	const size_t words = CRYPTO_REPLAY_WINDOW / 64;
	uint64_t age;

	if (p->seen && n > p->top) {
		uint64_t s = n - p->top;
		size_t ws = (size_t)(s / 64);
		unsigned bs = (unsigned)(s % 64);

		/* Bit i means counter top - i: moving top up moves bits up. */
		for (size_t j = words; j-- > 0;) {
			uint64_t v = 0;

			if (s < CRYPTO_REPLAY_WINDOW && j >= ws) {
				v = p->bits[j - ws] << bs;
				if (bs && j > ws)
					v |= p->bits[j - ws - 1] >> (64 - bs);
			}
			p->bits[j] = v;
		}
		p->top = n;
	} else if (!p->seen) {
		memset(p->bits, 0, sizeof(p->bits));
		p->top = n;
		p->seen = true;
	}
	age = p->top - n;
	p->bits[age / 64] |= (uint64_t)1 << (age % 64);
}

static bool gcm_open(EVP_CIPHER_CTX *ctx, uint8_t *pkt, size_t aad_len, size_t enc_len,
		     uint8_t *tag)
{
	int n;

	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, pkt + IV_OFFSET) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, pkt, (int)aad_len) != 1)
		return false;
	if (enc_len && EVP_DecryptUpdate(ctx, pkt + aad_len, &n, pkt + aad_len, (int)enc_len) != 1)
		return false;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_BYTES, tag) == 1 &&
	       EVP_DecryptFinal_ex(ctx, pkt + aad_len + enc_len, &n) == 1;
}

static enum crypto_status open_checked(struct crypto_ctx *c, uint8_t *pkt, size_t len,
				       struct crypto_rx *rx)
{
	size_t tag_len = c->mode ? CRYPTO_TAG_BYTES : 0;
	struct crypto_peer *peer;
	enum crypto_status st;
	uint64_t counter;
	size_t plen;

	if (len < CRYPTO_HEADER_BYTES)
		return CRYPTO_E_TRUNCATED;
	if (pkt[0] != CRYPTO_MAGIC || pkt[3] != 0)
		return CRYPTO_E_BAD_HEADER;
	if (pkt[2] != (uint8_t)c->mode)
		return CRYPTO_E_MODE;
	if (len < CRYPTO_HEADER_BYTES + tag_len || len - tag_len > INT32_MAX / 2)
		return CRYPTO_E_TRUNCATED;
	peer = find_peer(c, get_be32(pkt + 4));
	if (!peer)
		return CRYPTO_E_UNKNOWN_SENDER;
	counter = get_be64(pkt + 12);
	st = window_check(peer, counter);
	if (st != CRYPTO_OK)
		return st;
	plen = len - CRYPTO_HEADER_BYTES - tag_len;
	if (c->mode == CRYPTO_MODE_AUTH &&
	    !gcm_open(peer->ctx, pkt, CRYPTO_HEADER_BYTES + plen, 0, pkt + len - tag_len))
		return CRYPTO_E_AUTH;
	if (c->mode == CRYPTO_MODE_AEAD &&
	    !gcm_open(peer->ctx, pkt, CRYPTO_HEADER_BYTES, plen, pkt + len - tag_len))
		return CRYPTO_E_AUTH;
	/* Only an authentic packet may move the window, or forgeries could
	 * push real traffic out of it. */
	window_mark(peer, counter);
	rx->sender = peer->nodeid;
	rx->kind = pkt[1];
	rx->payload = pkt + CRYPTO_HEADER_BYTES;
	rx->len = plen;
	return CRYPTO_OK;
}

enum crypto_status crypto_open(struct crypto_ctx *c, uint8_t *pkt, size_t len, struct crypto_rx *rx)
{
	enum crypto_status st = open_checked(c, pkt, len, rx);

	if (st == CRYPTO_OK)
		c->stats.opened++;
	else
		c->stats.rejected[st]++;
	return st;
}

uint32_t crypto_peek_sender(const uint8_t *pkt, size_t len)
{
	return len >= CRYPTO_HEADER_BYTES ? get_be32(pkt + 4) : 0;
}

size_t crypto_overhead(const struct crypto_ctx *c)
{
	return CRYPTO_HEADER_BYTES + (c->mode ? CRYPTO_TAG_BYTES : 0);
}

enum crypto_mode crypto_get_mode(const struct crypto_ctx *c)
{
	return c->mode;
}

const struct crypto_stats *crypto_get_stats(const struct crypto_ctx *c)
{
	return &c->stats;
}

const char *crypto_status_name(enum crypto_status s)
{
	static const char *const names[CRYPTO_STATUS_COUNT] = {
		[CRYPTO_OK] = "ok",
		[CRYPTO_E_TRUNCATED] = "truncated",
		[CRYPTO_E_BAD_HEADER] = "bad-header",
		[CRYPTO_E_MODE] = "crypto-mode-mismatch",
		[CRYPTO_E_UNKNOWN_SENDER] = "unknown-sender",
		[CRYPTO_E_AUTH] = "auth-failed",
		[CRYPTO_E_REPLAY] = "replay",
		[CRYPTO_E_TOO_OLD] = "too-old",
		[CRYPTO_E_NOSPACE] = "no-space",
		[CRYPTO_E_INTERNAL] = "internal",
	};
	return (unsigned)s < CRYPTO_STATUS_COUNT ? names[s] : "?";
}

const char *crypto_mode_name(enum crypto_mode m)
{
	return m == CRYPTO_MODE_AEAD ? "aes256-gcm" : m == CRYPTO_MODE_AUTH ? "gmac" : "none";
}
