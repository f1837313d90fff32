/* Packet protection for Cohort's transport: every packet carries a small
 * header (kind, sender node id, per-boot epoch, per-sender counter) that is
 * authenticated, and a payload that is encrypted with AES-256-GCM, only
 * authenticated (GMAC), or sent as is, depending on the mode. Receivers drop
 * forged, replayed and stale packets and count why.
 *
 * Wire layout, big-endian, decoded field by field:
 *   0  u8   magic CRYPTO_MAGIC
 *   1  u8   kind (opaque to this layer: the transport's packet type)
 *   2  u8   mode (enum crypto_mode of the sender: must match ours)
 *   3  u8   reserved, 0
 *   4  u32  sender node id
 *   8  u32  epoch: random per process start
 *   12 u64  counter: strictly increasing per sender; starts at the wall clock
 *           in ns so it also grows across restarts
 *   20 ...  payload (ciphertext in AEAD mode)
 *   end-16  GCM tag (AUTH and AEAD modes)
 * The GCM nonce is epoch || counter; every sender has its own key (HKDF from
 * the authkey, salted with the cluster name, the sender's id in the info),
 * so two nodes never share a (key, nonce) pair even with equal counters. */
#ifndef COHORT_NET_CRYPTO_H
#define COHORT_NET_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MAGIC 0xc5u
#define CRYPTO_HEADER_BYTES 20u
#define CRYPTO_TAG_BYTES 16u
#define CRYPTO_MAX_OVERHEAD_BYTES (CRYPTO_HEADER_BYTES + CRYPTO_TAG_BYTES)
#define CRYPTO_KEY_MIN_BYTES 128u  /* corosync-keygen's lower bound */
#define CRYPTO_KEY_MAX_BYTES 4096u /* corosync-keygen's upper bound */
#define CRYPTO_REPLAY_WINDOW 1024u /* counters remembered per sender */
#define CRYPTO_DEFAULT_KEYFILE "/etc/corosync/authkey"

enum crypto_mode {
	CRYPTO_MODE_NONE = 0, /* framing and duplicate filtering only */
	CRYPTO_MODE_AUTH = 1, /* authenticated, not encrypted (GMAC) */
	CRYPTO_MODE_AEAD = 2, /* AES-256-GCM */
};

enum crypto_status {
	CRYPTO_OK = 0,
	CRYPTO_E_TRUNCATED,	 /* shorter than header (+ tag) */
	CRYPTO_E_BAD_HEADER,	 /* wrong magic or reserved bits */
	CRYPTO_E_MODE,		 /* sender uses another crypto mode */
	CRYPTO_E_UNKNOWN_SENDER, /* node id not among the peers */
	CRYPTO_E_AUTH,		 /* tag does not verify: wrong key or forged */
	CRYPTO_E_REPLAY,	 /* counter already seen */
	CRYPTO_E_TOO_OLD,	 /* counter below the replay window */
	CRYPTO_E_NOSPACE,	 /* output buffer too small (sending) */
	CRYPTO_E_INTERNAL,	 /* libcrypto failed */
	CRYPTO_STATUS_COUNT
};

struct crypto_stats {
	uint64_t sealed;
	uint64_t opened;
	uint64_t rejected[CRYPTO_STATUS_COUNT]; /* by enum crypto_status */
};

struct crypto_key {
	size_t len;
	uint8_t bytes[CRYPTO_KEY_MAX_BYTES];
};

/* Load an authkey. Refuses, with a message naming the file: missing or
 * unreadable, not a regular file, accessible by group or others (mode & 077),
 * shorter than CRYPTO_KEY_MIN_BYTES or longer than CRYPTO_KEY_MAX_BYTES. */
int crypto_key_load(const char *path, struct crypto_key *out, char *err, size_t errlen);
void crypto_key_wipe(struct crypto_key *k);

struct crypto_params {
	enum crypto_mode mode;
	const struct crypto_key *key; /* unused (may be NULL) with CRYPTO_MODE_NONE */
	const char *cluster_name;     /* salts the key derivation */
	uint32_t my_nodeid;
	const uint32_t *peers; /* node ids we accept packets from (self allowed) */
	size_t peer_count;
	uint32_t epoch;		/* 0: random */
	uint64_t counter_start; /* 0: CLOCK_REALTIME in ns */
};

struct crypto_ctx;

int crypto_create(const struct crypto_params *p, struct crypto_ctx **out, char *err, size_t errlen);
void crypto_destroy(struct crypto_ctx *c);

/* Build one packet of `kind` around payload into out (cap bytes). */
enum crypto_status crypto_seal(struct crypto_ctx *c, uint8_t kind, const void *payload, size_t len,
			       uint8_t *out, size_t cap, size_t *out_len);

struct crypto_rx {
	uint32_t sender;
	uint8_t kind;
	const uint8_t *payload; /* points into the packet */
	size_t len;
};

/* Check and open pkt in place (the payload is decrypted where it lies). On
 * CRYPTO_OK rx describes the payload; otherwise the reason is counted. */
enum crypto_status crypto_open(struct crypto_ctx *c, uint8_t *pkt, size_t len,
			       struct crypto_rx *rx);
/* Read the sender id of a packet without checking it (0 when too short). */
uint32_t crypto_peek_sender(const uint8_t *pkt, size_t len);

size_t crypto_overhead(const struct crypto_ctx *c);
enum crypto_mode crypto_get_mode(const struct crypto_ctx *c);
const struct crypto_stats *crypto_get_stats(const struct crypto_ctx *c);
const char *crypto_status_name(enum crypto_status s);
const char *crypto_mode_name(enum crypto_mode m);

#endif
