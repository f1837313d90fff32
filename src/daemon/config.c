/* corosync.conf semantics: walks the tree from util/conftree and fills
 * struct cfg_cluster through the binding tables below, with every complaint
 * tied to file, line and key. */
#include "daemon/config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/crypto.h"
#include "totem/totem.h"
#include "util/confbind.h"
#include "util/strnum.h"

_Static_assert(sizeof(enum cfg_transport) == sizeof(int), "enums are bound as int");

struct pctx {
	struct util_bind_ctx b;
	struct cfg_cluster *c;
	bool resolve_names;
};

#define SAY(x, sev, line, key, ...) \
	util_diag_add((x)->b.diag, sev, (x)->b.file, line, key, __VA_ARGS__)
#define ERR(x, line, key, ...) SAY(x, UTIL_ERROR, line, key, __VA_ARGS__)

#define B_U32(S, k, m, lo, hi, id)                                                            \
	{                                                                                     \
		.key = k, .type = UTIL_BIND_U32, .off = offsetof(S, m), .min = lo, .max = hi, \
		.set_id = id                                                                  \
	}
#define B_BOOL(S, k, m, id)                                                           \
	{                                                                             \
		.key = k, .type = UTIL_BIND_BOOL, .off = offsetof(S, m), .set_id = id \
	}
#define B_STR(S, k, m, id)                                              \
	{                                                               \
		.key = k, .type = UTIL_BIND_STR, .off = offsetof(S, m), \
		.size = sizeof(((S *)0)->m), .set_id = id               \
	}
#define B_ENUM(S, k, m, t, id)                                                                    \
	{                                                                                         \
		.key = k, .type = UTIL_BIND_ENUM, .off = offsetof(S, m), .names = t, .set_id = id \
	}
#define B_IGN(k, why)                                           \
	{                                                       \
		.key = k, .type = UTIL_BIND_IGNORE, .note = why \
	}
#define NOTE(n, v, sev, text)   \
	{                       \
		n, v, sev, text \
	}
#define PLAIN(n, v)                   \
	{                             \
		n, v, UTIL_INFO, NULL \
	}

/* ---- tables ------------------------------------------------------------------- */

static const struct util_bind_name transports[] = {
	NOTE("knet", CFG_TRANSPORT_KNET, UTIL_INFO,
	     "knet selects Cohort's UDP unicast transport (redundant links and crypto included)"),
	PLAIN("udpu", CFG_TRANSPORT_UDPU),
	PLAIN("udp", CFG_TRANSPORT_UDP),
	PLAIN(NULL, 0),
};
static const struct util_bind_name ciphers[] = {
	PLAIN("none", CFG_CIPHER_NONE),
	PLAIN("aes256", CFG_CIPHER_AES256),
	NOTE("aes192", CFG_CIPHER_AES256, UTIL_WARNING,
	     "aes192 is not supported: Cohort always uses AES-256-GCM, using aes256"),
	NOTE("aes128", CFG_CIPHER_AES256, UTIL_WARNING,
	     "aes128 is not supported: Cohort always uses AES-256-GCM, using aes256"),
	PLAIN(NULL, 0),
};
static const struct util_bind_name hashes[] = {
	PLAIN("none", CFG_HASH_NONE),
	PLAIN("md5", CFG_HASH_MD5),
	PLAIN("sha1", CFG_HASH_SHA1),
	PLAIN("sha256", CFG_HASH_SHA256),
	PLAIN("sha384", CFG_HASH_SHA384),
	PLAIN("sha512", CFG_HASH_SHA512),
	PLAIN(NULL, 0),
};
static const struct util_bind_name ip_versions[] = {
	PLAIN("ipv6-4", CFG_IP_V6_4),
	PLAIN("ipv4-6", CFG_IP_V4_6),
	PLAIN("ipv4", CFG_IP_V4),
	PLAIN("ipv6", CFG_IP_V6),
	PLAIN(NULL, 0),
};
static const struct util_bind_name link_modes[] = {
	PLAIN("passive", CFG_LINK_PASSIVE),
	PLAIN("active", CFG_LINK_ACTIVE),
	NOTE("rr", CFG_LINK_PASSIVE, UTIL_INFO, "rr is treated as passive (lowest healthy link)"),
	PLAIN(NULL, 0),
};
static const struct util_bind_name providers[] = {
	PLAIN("corosync_votequorum", CFG_QUORUM_VOTEQUORUM),
	PLAIN(NULL, 0),
};
static const struct util_bind_name debugs[] = {
	PLAIN("off", CFG_DEBUG_OFF),
	PLAIN("on", CFG_DEBUG_ON),
	PLAIN("trace", CFG_DEBUG_TRACE),
	NOTE("no", CFG_DEBUG_OFF, UTIL_WARNING, NULL),
	NOTE("yes", CFG_DEBUG_ON, UTIL_WARNING, NULL),
	PLAIN(NULL, 0),
};
static const struct util_bind_name timestamps[] = {
	PLAIN("off", CFG_TS_OFF),
	PLAIN("on", CFG_TS_ON),
	PLAIN("hires", CFG_TS_HIRES),
	PLAIN(NULL, 0),
};

#define T struct cfg_totem
static const struct util_bind totem_keys[] = {
	B_U32(T, "token", token_ms, 10, 3600000, CFG_K_TOKEN),
	B_U32(T, "token_coefficient", token_coefficient_ms, 0, 60000, CFG_K_TOKEN_COEFFICIENT),
	B_U32(T, "token_retransmit", token_retransmit_ms, 2, 3600000, CFG_K_TOKEN_RETRANSMIT),
	B_U32(T, "hold", hold_ms, 1, 3600000, CFG_K_HOLD),
	B_U32(T, "token_retransmits_before_loss_const", token_retransmits_before_loss_const, 1, 100,
	      CFG_K_RETRANSMITS_BEFORE_LOSS),
	B_U32(T, "join", join_ms, 1, 3600000, CFG_K_JOIN),
	B_U32(T, "send_join", send_join_ms, 0, 3600000, CFG_K_SEND_JOIN),
	B_U32(T, "consensus", consensus_ms, 1, 3600000, CFG_K_CONSENSUS),
	B_U32(T, "merge", merge_ms, 1, 3600000, CFG_K_MERGE),
	B_U32(T, "merge_backoff_max", merge_backoff_max_ms, 0, 3600000, CFG_K_NONE),
	B_U32(T, "batch_hold_us", batch_hold_us, 0, 100000, CFG_K_NONE),
	B_U32(T, "batch_bytes", batch_bytes, 1024, 16777216, CFG_K_NONE),
	B_U32(T, "downcheck", downcheck_ms, 1, 3600000, CFG_K_DOWNCHECK),
	B_U32(T, "fail_recv_const", fail_recv_const, 1, 1000000, CFG_K_FAIL_RECV_CONST),
	B_U32(T, "seqno_unchanged_const", seqno_unchanged_const, 1, 1000000,
	      CFG_K_SEQNO_UNCHANGED_CONST),
	B_U32(T, "max_messages", max_messages, 1, 1000000, CFG_K_MAX_MESSAGES),
	B_U32(T, "window_size", window_size, 1, 1000000, CFG_K_WINDOW_SIZE),
	B_U32(T, "netmtu", netmtu, 576, 65536, CFG_K_NETMTU),
	B_U32(T, "miss_count_const", miss_count_const, 1, 1000, CFG_K_MISS_COUNT_CONST),
	B_ENUM(T, "transport", transport, transports, CFG_K_TRANSPORT),
	B_ENUM(T, "crypto_cipher", crypto_cipher, ciphers, CFG_K_CRYPTO_CIPHER),
	B_ENUM(T, "crypto_hash", crypto_hash, hashes, CFG_K_CRYPTO_HASH),
	B_ENUM(T, "ip_version", ip_version, ip_versions, CFG_K_IP_VERSION),
	B_ENUM(T, "link_mode", link_mode, link_modes, CFG_K_LINK_MODE),
	B_STR(T, "cluster_name", cluster_name, CFG_K_NONE),
	B_STR(T, "keyfile", keyfile, CFG_K_KEYFILE),
	B_BOOL(T, "secauth", secauth, CFG_K_NONE),
	B_BOOL(T, "clear_node_high_bit", clear_node_high_bit, CFG_K_NONE),
	B_IGN("knet_*", "Cohort's transport has its own settings"),
	B_IGN("crypto_model", "Cohort always uses OpenSSL's libcrypto"),
	B_IGN("token_warning", NULL),
	B_IGN("heartbeat_failures_allowed", NULL),
	B_IGN("max_network_delay", NULL),
	B_IGN("cancel_token_hold_on_retransmit", NULL),
	B_IGN("block_unlisted_ips", "packets from unlisted addresses are always dropped"),
	B_IGN("threads", NULL),
	B_IGN("vsftype", NULL),
	B_IGN("rrp_*", NULL),
	{ .key = NULL },
};
#undef T

#define I struct cfg_interface
static const struct util_bind interface_keys[] = {
	B_U32(I, "linknumber", linknumber, 0, CFG_MAX_LINKS - 1, CFG_K_NONE),
	B_U32(I, "ringnumber", linknumber, 0, CFG_MAX_LINKS - 1, CFG_K_NONE),
	{ .key = "mcastport",
	  .type = UTIL_BIND_U16,
	  .off = offsetof(I, mcastport),
	  .min = 1,
	  .max = 65535 },
	{ .key = "ttl", .type = UTIL_BIND_U8, .off = offsetof(I, ttl), .min = 0, .max = 255 },
	B_U32(I, "knet_ping_interval", heartbeat_interval_ms, 1, 3600000, CFG_K_NONE),
	B_U32(I, "knet_ping_timeout", heartbeat_timeout_ms, 1, 3600000, CFG_K_NONE),
	B_IGN("knet_*", "Cohort's links do not use it"),
	B_IGN("broadcast", "broadcast is not supported: use multicast or unicast"),
	{ .key = NULL },
};
#undef I

#define Q struct cfg_quorum
static const struct util_bind quorum_keys[] = {
	B_ENUM(Q, "provider", provider, providers, CFG_K_NONE),
	B_U32(Q, "expected_votes", expected_votes, 1, UINT32_MAX, CFG_K_EXPECTED_VOTES),
	B_BOOL(Q, "two_node", two_node, CFG_K_NONE),
	B_BOOL(Q, "wait_for_all", wait_for_all, CFG_K_WAIT_FOR_ALL),
	B_BOOL(Q, "last_man_standing", last_man_standing, CFG_K_NONE),
	B_U32(Q, "last_man_standing_window", last_man_standing_window_ms, 1, 3600000,
	      CFG_K_LMS_WINDOW),
	B_BOOL(Q, "auto_tie_breaker", auto_tie_breaker, CFG_K_NONE),
	B_BOOL(Q, "allow_downscale", allow_downscale, CFG_K_NONE),
	B_IGN("expected_votes_tracking", NULL),
	B_IGN("votes", "set quorum_votes per node"),
	{ .key = NULL },
};
#undef Q

#define L struct cfg_log_target
#define LOG_TARGET_KEYS(S, pre)                                                  \
	B_BOOL(S, "to_stderr", pre to_stderr, CFG_K_NONE),                       \
		B_BOOL(S, "to_logfile", pre to_logfile, CFG_K_NONE),             \
		B_BOOL(S, "to_syslog", pre to_syslog, CFG_K_NONE),               \
		B_ENUM(S, "debug", pre debug, debugs, CFG_K_NONE),               \
		B_IGN("syslog_*", "Cohort logs to syslog with facility daemon"), \
		B_IGN("logfile_priority", NULL), B_IGN("tags", NULL)
static const struct util_bind logging_keys[] = {
	LOG_TARGET_KEYS(struct cfg_logging, global.),
	B_STR(struct cfg_logging, "logfile", logfile, CFG_K_NONE),
	B_ENUM(struct cfg_logging, "timestamp", timestamp, timestamps, CFG_K_NONE),
	B_BOOL(struct cfg_logging, "fileline", fileline, CFG_K_NONE),
	B_BOOL(struct cfg_logging, "function_name", function_name, CFG_K_NONE),
	B_IGN("blackbox", NULL),
	{ .key = NULL },
};
static const struct util_bind subsys_keys[] = {
	LOG_TARGET_KEYS(L, ),
	B_STR(L, "subsys", subsys, CFG_K_NONE),
	{ .key = NULL },
};
#undef L

static const struct util_bind system_keys[] = {
	B_BOOL(struct cfg_system, "sched_rr", sched_rr, CFG_K_NONE),
	B_STR(struct cfg_system, "state_dir", state_dir, CFG_K_NONE),
	B_IGN("priority", NULL),
	B_IGN("qb_ipc_type", NULL),
	B_IGN("move_to_root_cgroup", NULL),
	B_IGN("allow_knet_handle_fallback", NULL),
	{ .key = NULL },
};

static const struct util_bind uidgid_keys[] = {
	B_STR(struct cfg_uidgid, "uid", uid, CFG_K_NONE),
	B_STR(struct cfg_uidgid, "gid", gid, CFG_K_NONE),
	{ .key = NULL },
};

/* ---- defaults ----------------------------------------------------------------- */

void cfg_defaults(struct cfg_cluster *c)
{
	struct cfg_totem *t = &c->totem;

	memset(c, 0, sizeof(*c));
	t->version = 2;
	t->transport = CFG_TRANSPORT_KNET;
	strcpy(t->keyfile, CFG_DEFAULT_KEYFILE);
	/* Cohort's LAN timers (docs/configuration.md explains each choice). */
	t->token_ms = 300;
	t->token_coefficient_ms = 20;
	t->token_retransmits_before_loss_const = 4;
	t->join_ms = 50;
	t->send_join_ms = 0;
	t->merge_ms = 200;
	t->merge_backoff_max_ms = 4000;
	t->batch_hold_us = 1500;
	t->batch_bytes = 65536;
	t->downcheck_ms = 1000;
	t->fail_recv_const = 2500;
	t->seqno_unchanged_const = 30;
	t->max_messages = 17;
	t->window_size = 50;
	t->netmtu = 1500;
	t->miss_count_const = 5;
	c->quorum.last_man_standing_window_ms = 10000;
	c->logging.global.to_stderr = true;
	c->logging.global.to_syslog = true;
	c->logging.timestamp = CFG_TS_HIRES;
	c->system.sched_rr = true;
	strcpy(c->system.state_dir, CFG_DEFAULT_STATE_DIR);
}

bool cfg_is_set(const struct cfg_cluster *c, enum cfg_key k)
{
	return k > CFG_K_NONE && k < CFG_K_COUNT && c->key_set[k];
}

/* ---- sections ----------------------------------------------------------------- */

static bool bind_or_warn(struct pctx *x, const struct util_bind *table,
			 const struct util_conf_entry *e, void *target, const char *where)
{
	if (util_bind_entry(&x->b, table, e, target))
		return true;
	util_bind_unknown(&x->b, e, where);
	return false;
}

enum util_addr_pref cfg_addr_pref(const struct cfg_cluster *c)
{
	static const enum util_addr_pref map[] = { [CFG_IP_V6_4] = UTIL_ADDR_PREF_V6_4,
						   [CFG_IP_V4_6] = UTIL_ADDR_PREF_V4_6,
						   [CFG_IP_V4] = UTIL_ADDR_PREF_V4,
						   [CFG_IP_V6] = UTIL_ADDR_PREF_V6 };
	return map[c->totem.ip_version];
}

static bool parse_addr(struct pctx *x, const struct util_conf_entry *e, bool names,
		       struct util_addr *out)
{
	enum util_addr_err err = util_addr_parse(e->value, cfg_addr_pref(x->c), names, out);

	if (err != UTIL_ADDR_OK)
		ERR(x, e->line, e->key, "'%s' %s", e->value, util_addr_strerror(err));
	return err == UTIL_ADDR_OK;
}

static void parse_interface(struct pctx *x, const struct util_conf_entry *sec)
{
	struct cfg_interface itf = {
		.present = true, .line = sec->line, .mcastport = CFG_DEFAULT_PORT, .ttl = 1
	};
	struct cfg_interface *slot;

	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];

		if (!e->section && strcmp(e->key, "bindnetaddr") == 0) {
			itf.has_bindnetaddr = parse_addr(x, e, false, &itf.bindnetaddr);
		} else if (!e->section && strcmp(e->key, "mcastaddr") == 0) {
			itf.has_mcastaddr = parse_addr(x, e, false, &itf.mcastaddr);
			if (itf.has_mcastaddr && !util_addr_is_multicast(&itf.mcastaddr)) {
				ERR(x, e->line, e->key, "%s is not a multicast address", e->value);
				itf.has_mcastaddr = false;
			}
		} else {
			bind_or_warn(x, interface_keys, e, &itf, "interface");
		}
	}
	slot = &x->c->totem.interfaces[itf.linknumber];
	if (slot->present)
		ERR(x, sec->line, "linknumber", "link %u is already configured at line %u",
		    itf.linknumber, slot->line);
	else
		*slot = itf;
}

static void parse_totem(struct pctx *x, const struct util_conf_entry *sec)
{
	struct cfg_totem *t = &x->c->totem;

	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];

		if (e->section && strcmp(e->key, "interface") == 0) {
			parse_interface(x, e);
		} else if (!e->section && strcmp(e->key, "version") == 0) {
			if (util_parse_u32(e->value, 2, 2, &t->version) != UTIL_NUM_OK)
				ERR(x, e->line, e->key, "'%s': only version 2 is supported",
				    e->value);
		} else if (!e->section && strcmp(e->key, "config_version") == 0) {
			if (util_parse_u64(e->value, 0, UINT64_MAX, &t->config_version))
				ERR(x, e->line, e->key, "'%s' is not a number", e->value);
		} else if (!e->section && strcmp(e->key, "key") == 0) {
			ERR(x, e->line, e->key,
			    "a key inside the file is not supported: use keyfile");
		} else if (!e->section && strcmp(e->key, "nodeid") == 0) {
			SAY(x, UTIL_WARNING, e->line, e->key,
			    "totem.nodeid is obsolete and ignored: set nodeid in the nodelist");
		} else {
			bind_or_warn(x, totem_keys, e, t, "totem");
		}
	}
	/* secauth predates the split into cipher and hash; explicit keys win. */
	if (t->secauth && !cfg_is_set(x->c, CFG_K_CRYPTO_CIPHER))
		t->crypto_cipher = CFG_CIPHER_AES256;
	if (t->secauth && !cfg_is_set(x->c, CFG_K_CRYPTO_HASH))
		t->crypto_hash = CFG_HASH_SHA256;
}

static void parse_atb_nodes(struct pctx *x, const struct util_conf_entry *e)
{
	struct cfg_quorum *q = &x->c->quorum;
	char buf[512], *save = NULL;

	if (strcmp(e->value, "lowest") == 0 || strcmp(e->value, "highest") == 0) {
		q->atb_mode = e->value[0] == 'l' ? CFG_ATB_LOWEST : CFG_ATB_HIGHEST;
		return;
	}
	if (!util_strlcpy(buf, e->value, sizeof(buf))) {
		ERR(x, e->line, e->key, "list too long");
		return;
	}
	q->atb_mode = CFG_ATB_LIST;
	q->atb_node_count = 0;
	for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		uint32_t id;

		if (util_parse_u32(tok, 1, UINT32_MAX, &id) != UTIL_NUM_OK) {
			ERR(x, e->line, e->key, "'%s' is not lowest, highest or a node id", tok);
			return;
		}
		if (q->atb_node_count == CFG_MAX_ATB_NODES) {
			ERR(x, e->line, e->key, "more than %u node ids", CFG_MAX_ATB_NODES);
			return;
		}
		q->atb_nodes[q->atb_node_count++] = id;
	}
	if (q->atb_node_count == 0)
		ERR(x, e->line, e->key, "empty: use lowest, highest or a list of node ids");
}

static void parse_quorum(struct pctx *x, const struct util_conf_entry *sec)
{
	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];

		if (!e->section && strcmp(e->key, "auto_tie_breaker_node") == 0)
			parse_atb_nodes(x, e);
		else if (e->section && strcmp(e->key, "device") == 0)
			SAY(x, UTIL_WARNING, e->line, e->key,
			    "quorum devices (qdevice) are not supported, ignored");
		else
			bind_or_warn(x, quorum_keys, e, &x->c->quorum, "quorum");
	}
}

static void parse_logging(struct pctx *x, const struct util_conf_entry *sec)
{
	struct cfg_logging *lg = &x->c->logging;

	/* Plain keys first so logger_subsys sections inherit them in any order. */
	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];

		if (!e->section || strcmp(e->key, "logger_subsys") != 0)
			bind_or_warn(x, logging_keys, e, lg, "logging");
	}
	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];
		struct cfg_log_target t = lg->global;

		if (!e->section || strcmp(e->key, "logger_subsys") != 0)
			continue;
		t.subsys[0] = '\0';
		for (size_t j = 0; j < e->section->count; j++)
			bind_or_warn(x, subsys_keys, &e->section->entries[j], &t, "logger_subsys");
		if (!t.subsys[0])
			ERR(x, e->line, e->key, "subsys is required");
		else if (lg->subsys_count == CFG_MAX_SUBSYS)
			ERR(x, e->line, e->key, "more than %u subsystems", CFG_MAX_SUBSYS);
		else
			lg->subsys[lg->subsys_count++] = t;
	}
	if (lg->global.to_logfile && !lg->logfile[0])
		ERR(x, sec->line, "logfile", "required when to_logfile is yes");
}

static void parse_uidgid(struct pctx *x, const struct util_conf_entry *sec)
{
	struct cfg_uidgid u = { "", "" };

	for (size_t i = 0; i < sec->section->count; i++)
		bind_or_warn(x, uidgid_keys, &sec->section->entries[i], &u, "uidgid");
	if (!u.uid[0] && !u.gid[0])
		SAY(x, UTIL_WARNING, sec->line, "uidgid", "neither uid nor gid given, ignored");
	else if (x->c->uidgid_count == CFG_MAX_UIDGID)
		ERR(x, sec->line, "uidgid", "more than %u uidgid entries", CFG_MAX_UIDGID);
	else
		x->c->uidgid[x->c->uidgid_count++] = u;
}

static void parse_system(struct pctx *x, const struct util_conf_entry *sec)
{
	for (size_t i = 0; i < sec->section->count; i++)
		bind_or_warn(x, system_keys, &sec->section->entries[i], &x->c->system, "system");
}

static void parse_top(struct pctx *x, const struct util_conf_entry *e)
{
	static const struct {
		const char *name;
		void (*fn)(struct pctx *, const struct util_conf_entry *);
	} sections[] = {
		{ "quorum", parse_quorum },
		{ "logging", parse_logging },
		{ "uidgid", parse_uidgid },
		{ "system", parse_system },
	};

	if (!e->section) {
		ERR(x, e->line, e->key, "key outside any section");
		return;
	}
	if (strcmp(e->key, "totem") == 0)
		return; /* done in the first pass */
	if (strcmp(e->key, "nodelist") == 0) {
		cfg_parse_nodelist(x->c, e, x->b.file, x->resolve_names, x->b.diag);
		return;
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strcmp(e->key, sections[i].name) == 0) {
			sections[i].fn(x, e);
			return;
		}
	}
	if (strcmp(e->key, "resources") == 0 || strcmp(e->key, "nozzle") == 0)
		SAY(x, UTIL_INFO, e->line, e->key, "section accepted and ignored");
	else
		SAY(x, UTIL_WARNING, e->line, e->key, "unknown section, ignored");
}

/* ---- loading -------------------------------------------------------------------- */

static int load_tree(const char *name, const struct util_conf_section *root,
		     const struct cfg_options *opt, struct cfg_cluster **out,
		     struct util_diag *diag)
{
	struct cfg_cluster *c = malloc(sizeof(*c));
	size_t errors_before = diag->errors;
	struct pctx x;

	*out = NULL;
	if (!c) {
		util_diag_add(diag, UTIL_ERROR, name, 0, "configuration", "out of memory");
		return -1;
	}
	cfg_defaults(c);
	util_strlcpy(c->source, name, sizeof(c->source));
	x = (struct pctx){ .b = { .file = name, .diag = diag, .set = c->key_set },
			   .c = c,
			   .resolve_names = opt ? opt->resolve_names : false };
	/* totem first: ip_version and clear_node_high_bit shape the nodelist. */
	for (size_t i = 0; i < root->count; i++) {
		if (root->entries[i].section && strcmp(root->entries[i].key, "totem") == 0)
			parse_totem(&x, &root->entries[i]);
	}
	for (size_t i = 0; i < root->count; i++)
		parse_top(&x, &root->entries[i]);
	cfg_validate(c, diag);
	if (diag->errors != errors_before) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int cfg_load_string(const char *name, const char *text, const struct cfg_options *opt,
		    struct cfg_cluster **out, struct util_diag *diag)
{
	struct util_conf_section *root;
	char err[384];
	int rc;

	*out = NULL;
	if (util_conf_parse(name, text, strlen(text), &root, err, sizeof(err)) != 0) {
		util_diag_add_text(diag, UTIL_ERROR, err);
		return -1;
	}
	rc = load_tree(name, root, opt, out, diag);
	util_conf_free(root);
	return rc;
}

int cfg_load_file(const char *path, const struct cfg_options *opt, struct cfg_cluster **out,
		  struct util_diag *diag)
{
	struct util_conf_section *root;
	char err[384];
	int rc;

	*out = NULL;
	if (util_conf_parse_file(path, &root, err, sizeof(err)) != 0) {
		util_diag_add_text(diag, UTIL_ERROR, err);
		return -1;
	}
	rc = load_tree(path, root, opt, out, diag);
	util_conf_free(root);
	return rc;
}

void cfg_free(struct cfg_cluster *c)
{
	free(c);
}

static void load_uidgid_file(struct cfg_cluster *c, const char *path, struct util_diag *diag)
{
	struct util_conf_section *root;
	char err[384];
	struct pctx x = { .b = { .file = path, .diag = diag, .set = NULL }, .c = c };

	if (util_conf_parse_file(path, &root, err, sizeof(err)) != 0) {
		util_diag_add_text(diag, UTIL_ERROR, err);
		return;
	}
	for (size_t i = 0; i < root->count; i++) {
		const struct util_conf_entry *e = &root->entries[i];

		if (e->section && strcmp(e->key, "uidgid") == 0)
			parse_uidgid(&x, e);
		else
			SAY(&x, UTIL_WARNING, e->line, e->key,
			    "only uidgid sections are read from this file, ignored");
	}
	util_conf_free(root);
}

static int skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int cfg_load_uidgid_dir(struct cfg_cluster *c, const char *dir, struct util_diag *diag)
{
	struct dirent **list = NULL;
	size_t errors_before = diag->errors;
	int n = scandir(dir, &list, skip_hidden, alphasort);

	if (n < 0)
		return 0; /* no directory, no extra entries */
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) <
			    (int)sizeof(path) &&
		    (list[i]->d_type == DT_REG || list[i]->d_type == DT_UNKNOWN))
			load_uidgid_file(c, path, diag);
		free(list[i]);
	}
	free(list);
	return diag->errors == errors_before ? 0 : -1;
}
