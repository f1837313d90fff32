/* corosync.conf, understood: the typed configuration of one cluster as
 * written in the file, plus which keys were set explicitly so that the
 * values depending on others (token timeout per node count, consensus, ...)
 * can be derived afterwards without overriding what the user chose. */
#ifndef COHORT_DAEMON_CONFIG_H
#define COHORT_DAEMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/crypto.h"
#include "util/addr.h"
#include "util/diag.h"

struct util_conf_entry;

struct totem_config;

#define CFG_MAX_NODES 384
#define CFG_MAX_LINKS 8
#define CFG_MAX_SUBSYS 32
#define CFG_MAX_UIDGID 64
#define CFG_MAX_ATB_NODES 32
#define CFG_NAME_MAX 256
#define CFG_DEFAULT_PORT 5405
#define CFG_DEFAULT_KEYFILE "/etc/corosync/authkey"
#define CFG_KNET_NETMTU 65536u /* netmtu default with transport knet, as Corosync's */
#define CFG_DEFAULT_STATE_DIR "/var/lib/cohort"
#define CFG_DEFAULT_UIDGID_DIR "/etc/corosync/uidgid.d"

/* Diagnostics are collected in a struct util_diag (util/diag.h): messages
 * "file:line: key: reason" with a severity, for the caller to log. */

/* ---- the configuration ------------------------------------------------------ */

enum cfg_transport {
	CFG_TRANSPORT_UDPU = 0, /* unicast to every node */
	CFG_TRANSPORT_UDP,	/* multicast */
	CFG_TRANSPORT_KNET,	/* Corosync's default: unicast as udpu, netmtu 65536 by default */
};

enum cfg_cipher { CFG_CIPHER_NONE = 0, CFG_CIPHER_AES256 };

enum cfg_hash {
	CFG_HASH_NONE = 0,
	CFG_HASH_MD5,
	CFG_HASH_SHA1,
	CFG_HASH_SHA256,
	CFG_HASH_SHA384,
	CFG_HASH_SHA512,
};

enum cfg_ip_version { CFG_IP_V6_4 = 0, CFG_IP_V4_6, CFG_IP_V4, CFG_IP_V6 };

enum cfg_link_mode { CFG_LINK_PASSIVE = 0, CFG_LINK_ACTIVE };

enum cfg_quorum_provider { CFG_QUORUM_NONE = 0, CFG_QUORUM_VOTEQUORUM };

enum cfg_atb_mode { CFG_ATB_LOWEST = 0, CFG_ATB_HIGHEST, CFG_ATB_LIST };

enum cfg_debug { CFG_DEBUG_OFF = 0, CFG_DEBUG_ON, CFG_DEBUG_TRACE };

enum cfg_timestamp { CFG_TS_OFF = 0, CFG_TS_ON, CFG_TS_HIRES };

/* Keys whose "was it written in the file" matters for derived defaults. */
enum cfg_key {
	CFG_K_NONE = 0, /* 0 means "not tracked" in binding tables */
	CFG_K_TOKEN,
	CFG_K_TOKEN_COEFFICIENT,
	CFG_K_TOKEN_RETRANSMIT,
	CFG_K_HOLD,
	CFG_K_RETRANSMITS_BEFORE_LOSS,
	CFG_K_JOIN,
	CFG_K_SEND_JOIN,
	CFG_K_CONSENSUS,
	CFG_K_MERGE,
	CFG_K_DOWNCHECK,
	CFG_K_FAIL_RECV_CONST,
	CFG_K_SEQNO_UNCHANGED_CONST,
	CFG_K_MAX_MESSAGES,
	CFG_K_WINDOW_SIZE,
	CFG_K_NETMTU,
	CFG_K_MISS_COUNT_CONST,
	CFG_K_CRYPTO_CIPHER,
	CFG_K_CRYPTO_HASH,
	CFG_K_KEYFILE,
	CFG_K_IP_VERSION,
	CFG_K_TRANSPORT,
	CFG_K_LINK_MODE,
	CFG_K_EXPECTED_VOTES,
	CFG_K_WAIT_FOR_ALL,
	CFG_K_LMS_WINDOW,
	CFG_K_COUNT
};

struct cfg_interface {
	bool present;
	unsigned line;
	uint32_t linknumber;
	bool has_bindnetaddr;
	struct util_addr bindnetaddr;
	bool has_mcastaddr;
	struct util_addr mcastaddr;
	uint16_t mcastport;		/* CFG_DEFAULT_PORT unless set */
	uint8_t ttl;			/* multicast TTL, default 1 */
	uint32_t heartbeat_interval_ms; /* knet_ping_interval; 0 = derive from token */
	uint32_t heartbeat_timeout_ms;	/* knet_ping_timeout; 0 = derive from token */
};

struct cfg_totem {
	uint32_t version;
	char cluster_name[CFG_NAME_MAX];
	enum cfg_transport transport;
	enum cfg_cipher crypto_cipher;
	enum cfg_hash crypto_hash;
	char keyfile[PATH_MAX];
	enum cfg_ip_version ip_version;
	enum cfg_link_mode link_mode;
	uint32_t token_ms; /* base value, before token_coefficient */
	uint32_t token_coefficient_ms;
	uint32_t token_retransmit_ms;
	uint32_t hold_ms;
	uint32_t token_retransmits_before_loss_const;
	uint32_t join_ms;
	uint32_t send_join_ms;
	uint32_t consensus_ms;
	uint32_t merge_ms;
	uint32_t merge_backoff_max_ms;
	uint32_t batch_hold_us;
	uint32_t batch_bytes;
	uint32_t downcheck_ms;
	uint32_t fail_recv_const;
	uint32_t seqno_unchanged_const;
	uint32_t max_messages;
	uint32_t window_size;
	uint32_t netmtu;
	uint32_t miss_count_const;
	uint64_t config_version;
	bool clear_node_high_bit;
	bool secauth;
	struct cfg_interface interfaces[CFG_MAX_LINKS]; /* indexed by linknumber */
};

struct cfg_node {
	uint32_t nodeid;
	bool nodeid_derived; /* taken from the IPv4 ring0_addr, not written */
	char name[CFG_NAME_MAX];
	uint32_t quorum_votes;
	uint8_t link_mask; /* bit N set when ringN_addr is given */
	struct util_addr addrs[CFG_MAX_LINKS];
	unsigned line; /* of the "node {" */
};

struct cfg_quorum {
	enum cfg_quorum_provider provider;
	uint32_t expected_votes; /* 0 = sum of nodelist votes */
	bool two_node;
	bool wait_for_all; /* defaults to two_node */
	bool last_man_standing;
	uint32_t last_man_standing_window_ms;
	bool auto_tie_breaker;
	enum cfg_atb_mode atb_mode;
	uint32_t atb_nodes[CFG_MAX_ATB_NODES];
	size_t atb_node_count;
	bool allow_downscale;
};

struct cfg_log_target {
	char subsys[32]; /* empty for the top-level logging section */
	enum cfg_debug debug;
	bool to_stderr;
	bool to_logfile;
	bool to_syslog;
};

struct cfg_logging {
	struct cfg_log_target global;
	char logfile[PATH_MAX];
	enum cfg_timestamp timestamp;
	bool fileline;
	bool function_name;
	struct cfg_log_target subsys[CFG_MAX_SUBSYS];
	size_t subsys_count;
};

struct cfg_system {
	bool sched_rr;
	char state_dir[PATH_MAX];
};

struct cfg_uidgid {
	char uid[64]; /* name or number; empty when not given */
	char gid[64];
};

struct cfg_cluster {
	char source[PATH_MAX]; /* the file it came from */
	struct cfg_totem totem;
	struct cfg_node nodes[CFG_MAX_NODES];
	size_t node_count;
	struct cfg_quorum quorum;
	struct cfg_logging logging;
	struct cfg_system system;
	struct cfg_uidgid uidgid[CFG_MAX_UIDGID];
	size_t uidgid_count;
	bool key_set[CFG_K_COUNT];
};

/* ---- parsing ---------------------------------------------------------------- */

struct cfg_options {
	bool resolve_names; /* allow host names in ringX_addr (getaddrinfo) */
};

/* Parse a file. Returns 0 and a new configuration, or -1 with at least one
 * UTIL_ERROR in diag (and *out NULL). Warnings and notes are added either way. */
int cfg_load_file(const char *path, const struct cfg_options *opt, struct cfg_cluster **out,
		  struct util_diag *diag);
/* The same from a string; `name` stands for the file name in messages. */
int cfg_load_string(const char *name, const char *text, const struct cfg_options *opt,
		    struct cfg_cluster **out, struct util_diag *diag);
void cfg_free(struct cfg_cluster *c);

/* Add the uidgid sections of every regular file in dir (sorted by name; files
 * starting with '.' skipped) to c. A missing directory is not an error. */
int cfg_load_uidgid_dir(struct cfg_cluster *c, const char *dir, struct util_diag *diag);

/* Building blocks of cfg_load_*, public for reloads and tests: the nodelist
 * section (config_nodes.c) and the cross-key checks run after parsing. */
void cfg_parse_nodelist(struct cfg_cluster *c, const struct util_conf_entry *sec, const char *file,
			bool resolve_names, struct util_diag *diag);
void cfg_validate(struct cfg_cluster *c, struct util_diag *diag);
/* How host names in ringX_addr resolve, from totem.ip_version. */
enum util_addr_pref cfg_addr_pref(const struct cfg_cluster *c);

/* Cohort's defaults, as used when a key is absent. */
void cfg_defaults(struct cfg_cluster *c);
bool cfg_is_set(const struct cfg_cluster *c, enum cfg_key k);

/* Effective timers after Corosync's derivation rules (token_coefficient,
 * token_retransmit and hold from token, consensus = 1.2 x token). */
struct cfg_timers {
	uint32_t token_ms;
	uint32_t token_retransmit_ms;
	uint32_t hold_ms;
	uint32_t consensus_ms;
};
void cfg_effective_timers(const struct cfg_cluster *c, struct cfg_timers *out);
uint32_t cfg_token_timeout_ms(const struct cfg_cluster *c);
uint32_t cfg_expected_votes(const struct cfg_cluster *c);
uint32_t cfg_cluster_id(const struct cfg_cluster *c);
/* Link heartbeat timing for link `link` (explicit knet_ping_* or derived). */
void cfg_link_heartbeat(const struct cfg_cluster *c, unsigned link, uint32_t *interval_ms,
			uint32_t *timeout_ms);
/* Multicast group of a link: interface.mcastaddr, or one derived from the
 * cluster name (239.192.x.y, or ff15::x:y when the link is IPv6). */
void cfg_mcast_addr(const struct cfg_cluster *c, unsigned link, struct util_addr *out);
/* The packet protection the file asks for: aes256 (any hash) -> AEAD, no
 * cipher but a hash -> AUTH, neither -> NONE. */
enum crypto_mode cfg_crypto_mode(const struct cfg_cluster *c);
const struct cfg_node *cfg_find_node(const struct cfg_cluster *c, uint32_t nodeid);

/* Fill the Totem core's configuration for node my_nodeid. Only the fields the
 * file governs are written (nodeid, cluster_id, members, timers, constants,
 * netmtu); call totem_config_defaults() on out first for the queue bounds and
 * ring_seq_start. Returns -1 when my_nodeid is not in the nodelist. */
int cfg_to_totem(const struct cfg_cluster *c, uint32_t my_nodeid, struct totem_config *out);

/* Which node is this machine? override != 0 wins when it is in the nodelist.
 * Otherwise the nodelist addresses of every link are matched against the
 * addresses of the machine's interfaces (getifaddrs). Returns the node id, or
 * 0 with a reason in err (none matched, several matched, unknown override). */
uint32_t cfg_find_local_node(const struct cfg_cluster *c, uint32_t override, char *err,
			     size_t errlen);
/* The same against a given list of local addresses (for tests). */
uint32_t cfg_match_local_node(const struct cfg_cluster *c, const struct util_addr *local,
			      size_t local_count, char *err, size_t errlen);

#endif
