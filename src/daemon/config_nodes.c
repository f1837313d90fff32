/* The nodelist and everything derived from the whole configuration: cross-key
 * checks, effective timers, the Totem core's configuration and finding which
 * node this machine is. Split from config.c to keep both files readable. */
#include "daemon/config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/crypto.h"
#include "totem/totem.h"
#include "util/confbind.h"
#include "util/strnum.h"

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
#define B_STR(S, k, m, id)                                              \
	{                                                               \
		.key = k, .type = UTIL_BIND_STR, .off = offsetof(S, m), \
		.size = sizeof(((S *)0)->m), .set_id = id               \
	}

/* ---- nodelist ------------------------------------------------------------------ */

static const struct util_bind node_keys[] = {
	B_U32(struct cfg_node, "nodeid", nodeid, 1, UINT32_MAX, CFG_K_NONE),
	B_STR(struct cfg_node, "name", name, CFG_K_NONE),
	B_U32(struct cfg_node, "quorum_votes", quorum_votes, 0, 65535, CFG_K_NONE),
	{ .key = NULL },
};

/* "ringN_addr" -> N. Digits are read by hand: sscanf's %u wraps on
 * overflow, which made "ring4294967296_addr" a second ring0_addr. */
static int ring_number(const char *key)
{
	unsigned n = 0;
	const char *p = key + 4;

	if (strncmp(key, "ring", 4) != 0 || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10u + (unsigned)(*p - '0');
		if (n >= CFG_MAX_LINKS)
			return -1;
	}
	return strcmp(p, "_addr") == 0 ? (int)n : -1;
}

/* Corosync's rule for udpu/udp: without nodeid, the IPv4 ring0 address read
 * as a 32-bit number is the id (IPv6 addresses do not fit, hence required). */
static bool derive_nodeid(struct pctx *x, struct cfg_node *n)
{
	const struct util_addr *a = &n->addrs[0];

	if (a->family != AF_INET) {
		ERR(x, n->line, "nodeid", "required because ring0_addr is an IPv6 address");
		return false;
	}
	n->nodeid = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
		    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
	if (x->c->totem.clear_node_high_bit)
		n->nodeid &= 0x7fffffffu;
	if (n->nodeid == 0) {
		ERR(x, n->line, "nodeid", "required: ring0_addr 0.0.0.0 gives node id 0");
		return false;
	}
	n->nodeid_derived = true;
	SAY(x, UTIL_INFO, n->line, "nodeid", "not set, derived from ring0_addr: %u", n->nodeid);
	return true;
}

static bool node_conflicts(struct pctx *x, const struct cfg_node *n, const unsigned *addr_line)
{
	char buf[UTIL_ADDR_STRLEN];
	bool bad = false;

	for (size_t i = 0; i < x->c->node_count; i++) {
		const struct cfg_node *o = &x->c->nodes[i];

		if (o->nodeid == n->nodeid) {
			ERR(x, n->line, "nodeid", "%u is already used by the node at line %u",
			    n->nodeid, o->line);
			bad = true;
		}
		for (unsigned l = 0; l < CFG_MAX_LINKS; l++) {
			char key[16];

			if (!(n->link_mask & o->link_mask & (1u << l)))
				continue;
			snprintf(key, sizeof(key), "ring%u_addr", l);
			if (util_addr_same_host(&n->addrs[l], &o->addrs[l])) {
				util_addr_format(&n->addrs[l], false, buf, sizeof(buf));
				ERR(x, addr_line[l], key,
				    "%s is already used by the node at line %u", buf, o->line);
				bad = true;
			} else if (n->addrs[l].family != o->addrs[l].family) {
				ERR(x, addr_line[l], key,
				    "link %u mixes IPv4 and IPv6 (see the node at line %u)", l,
				    o->line);
				bad = true;
			}
		}
	}
	return bad;
}

static void parse_node(struct pctx *x, const struct util_conf_entry *sec)
{
	struct cfg_node n = { .quorum_votes = 1, .line = sec->line };
	unsigned addr_line[CFG_MAX_LINKS] = { 0 };
	bool id_written = false, ok = true;

	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];
		int ring = e->section ? -1 : ring_number(e->key);

		if (ring >= 0) {
			enum util_addr_err err = util_addr_parse(e->value, cfg_addr_pref(x->c),
								 x->resolve_names, &n.addrs[ring]);

			if (err != UTIL_ADDR_OK)
				ERR(x, e->line, e->key, "'%s' %s", e->value,
				    util_addr_strerror(err));
			if (err == UTIL_ADDR_OK)
				n.link_mask |= (uint8_t)(1u << ring);
			else
				ok = false;
			addr_line[ring] = e->line;
			continue;
		}
		if (!e->section && strcmp(e->key, "nodeid") == 0)
			id_written = true;
		if (!util_bind_entry(&x->b, node_keys, e, &n))
			util_bind_unknown(&x->b, e, "node");
	}
	if (!(n.link_mask & 1u)) {
		if (!addr_line[0])
			ERR(x, sec->line, "node", "ring0_addr is missing");
		return;
	}
	if (id_written && n.nodeid == 0)
		return; /* the bad value was reported */
	if (!ok || (!id_written && !derive_nodeid(x, &n)) || node_conflicts(x, &n, addr_line))
		return;
	if (x->c->node_count == CFG_MAX_NODES) {
		ERR(x, sec->line, "node", "more than %u nodes", CFG_MAX_NODES);
		return;
	}
	x->c->nodes[x->c->node_count++] = n;
}

void cfg_parse_nodelist(struct cfg_cluster *c, const struct util_conf_entry *sec, const char *file,
			bool resolve_names, struct util_diag *diag)
{
	struct pctx ctx = { .b = { .file = file, .diag = diag },
			    .c = c,
			    .resolve_names = resolve_names };
	struct pctx *x = &ctx;

	for (size_t i = 0; i < sec->section->count; i++) {
		const struct util_conf_entry *e = &sec->section->entries[i];

		if (e->section && strcmp(e->key, "node") == 0)
			parse_node(x, e);
		else
			util_bind_unknown(&x->b, e, "nodelist");
	}
}

/* ---- derived values ------------------------------------------------------------- */

void cfg_effective_timers(const struct cfg_cluster *c, struct cfg_timers *out)
{
	const struct cfg_totem *t = &c->totem;
	uint64_t token = t->token_ms;
	uint64_t loss = t->token_retransmits_before_loss_const;

	/* Corosync: the coefficient applies only from 3 nodes on. */
	if (c->node_count > 2)
		token += (uint64_t)(c->node_count - 2) * t->token_coefficient_ms;
	if (token > UINT32_MAX / 12)
		token = UINT32_MAX / 12;
	out->token_ms = (uint32_t)token;
	/* token / (retransmits + 0.2): the last retransmit still lands before
	 * the token is declared lost. */
	out->token_retransmit_ms = cfg_is_set(c, CFG_K_TOKEN_RETRANSMIT) ?
					   t->token_retransmit_ms :
					   (uint32_t)(token * 10 / (loss * 10 + 2));
	if (out->token_retransmit_ms == 0)
		out->token_retransmit_ms = 1;
	out->hold_ms = cfg_is_set(c, CFG_K_HOLD) ? t->hold_ms : out->token_retransmit_ms * 8 / 10;
	if (out->hold_ms == 0)
		out->hold_ms = 1;
	out->consensus_ms =
		cfg_is_set(c, CFG_K_CONSENSUS) ? t->consensus_ms : (uint32_t)(token * 12 / 10);
}

uint32_t cfg_token_timeout_ms(const struct cfg_cluster *c)
{
	struct cfg_timers t;

	cfg_effective_timers(c, &t);
	return t.token_ms;
}

uint32_t cfg_expected_votes(const struct cfg_cluster *c)
{
	uint64_t sum = 0;

	if (c->quorum.expected_votes)
		return c->quorum.expected_votes;
	for (size_t i = 0; i < c->node_count; i++)
		sum += c->nodes[i].quorum_votes;
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

uint32_t cfg_cluster_id(const struct cfg_cluster *c)
{
	return util_fnv1a32(c->totem.cluster_name, strlen(c->totem.cluster_name));
}

void cfg_link_heartbeat(const struct cfg_cluster *c, unsigned link, uint32_t *interval_ms,
			uint32_t *timeout_ms)
{
	const struct cfg_interface *itf = &c->totem.interfaces[link % CFG_MAX_LINKS];
	uint32_t token = cfg_token_timeout_ms(c);
	uint32_t iv = itf->heartbeat_interval_ms, to = itf->heartbeat_timeout_ms;

	/* A dead link must be noticed well before the token is lost so traffic
	 * moves over without a membership change: timeout = token / 2, with
	 * four heartbeats in it. */
	if (!iv && !to) {
		iv = token / 8;
		to = token / 2;
	} else if (!to) {
		to = iv * 4;
	} else if (!iv) {
		iv = to / 4;
	}
	*interval_ms = iv < 5 ? 5 : iv;
	*timeout_ms = to < *interval_ms * 2 ? *interval_ms * 2 : to;
}

void cfg_mcast_addr(const struct cfg_cluster *c, unsigned link, struct util_addr *out)
{
	const struct cfg_interface *itf = &c->totem.interfaces[link % CFG_MAX_LINKS];
	uint32_t h = cfg_cluster_id(c);
	bool v6 = c->node_count > 0 && c->nodes[0].addrs[link % CFG_MAX_LINKS].family == AF_INET6;

	if (itf->has_mcastaddr) {
		*out = itf->mcastaddr;
	} else {
		memset(out, 0, sizeof(*out));
		out->family = v6 ? AF_INET6 : AF_INET;
		if (v6) {
			out->bytes[0] = 0xff; /* ff15::/16: transient, site-local */
			out->bytes[1] = 0x15;
			for (int i = 0; i < 4; i++)
				out->bytes[12 + i] = (uint8_t)(h >> (24 - 8 * i));
		} else {
			out->bytes[0] = 239; /* 239.192/14: organisation-local scope */
			out->bytes[1] = 192;
			out->bytes[2] = (uint8_t)(h >> 8);
			out->bytes[3] = (uint8_t)h;
		}
	}
	out->port = itf->present ? itf->mcastport : CFG_DEFAULT_PORT;
}

enum crypto_mode cfg_crypto_mode(const struct cfg_cluster *c)
{
	if (c->totem.crypto_cipher != CFG_CIPHER_NONE)
		return CRYPTO_MODE_AEAD;
	return c->totem.crypto_hash != CFG_HASH_NONE ? CRYPTO_MODE_AUTH : CRYPTO_MODE_NONE;
}

const struct cfg_node *cfg_find_node(const struct cfg_cluster *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->node_count; i++) {
		if (c->nodes[i].nodeid == nodeid)
			return &c->nodes[i];
	}
	return NULL;
}

/* ---- cross-key checks ---------------------------------------------------------- */

static void validate_crypto(struct pctx *x)
{
	const struct cfg_totem *t = &x->c->totem;

	if (t->crypto_cipher != CFG_CIPHER_NONE && t->crypto_hash != CFG_HASH_NONE)
		SAY(x, UTIL_INFO, 0, "crypto_hash",
		    "implied by AES-256-GCM, whose tag authenticates every packet");
	else if (t->crypto_cipher != CFG_CIPHER_NONE)
		SAY(x, UTIL_INFO, 0, "crypto_hash",
		    "none is fine: AES-256-GCM authenticates every packet anyway");
	else if (t->crypto_hash != CFG_HASH_NONE)
		SAY(x, UTIL_INFO, 0, "crypto_hash",
		    "without crypto_cipher: packets are authenticated (AES-GCM as a MAC), "
		    "not encrypted");
}

static void validate_timers(struct pctx *x)
{
	struct cfg_timers tm;

	cfg_effective_timers(x->c, &tm);
	if (cfg_is_set(x->c, CFG_K_CONSENSUS) && x->c->node_count > 2 &&
	    (uint64_t)tm.consensus_ms * 10 < (uint64_t)tm.token_ms * 12)
		SAY(x, UTIL_WARNING, 0, "consensus",
		    "%u ms is below 1.2 x token (%u ms): membership may change oddly",
		    tm.consensus_ms, tm.token_ms);
	if (tm.consensus_ms <= x->c->totem.join_ms)
		ERR(x, 0, "consensus", "%u ms must be longer than join (%u ms)", tm.consensus_ms,
		    x->c->totem.join_ms);
	if (tm.hold_ms >= tm.token_retransmit_ms)
		SAY(x, UTIL_WARNING, 0, "hold",
		    "%u ms is not below token_retransmit (%u ms): idle rings will retransmit",
		    tm.hold_ms, tm.token_retransmit_ms);
	if ((uint64_t)x->c->totem.batch_hold_us * 2 > (uint64_t)tm.token_retransmit_ms * 1000)
		SAY(x, UTIL_WARNING, 0, "batch_hold_us",
		    "%u us is over half of token_retransmit (%u ms): busy rings will retransmit",
		    x->c->totem.batch_hold_us, tm.token_retransmit_ms);
	if (tm.token_retransmit_ms >= tm.token_ms)
		ERR(x, 0, "token_retransmit", "%u ms must be below the token timeout (%u ms)",
		    tm.token_retransmit_ms, tm.token_ms);
}

static void validate_quorum(struct pctx *x)
{
	const struct cfg_quorum *q = &x->c->quorum;

	if (q->two_node && x->c->node_count != 2)
		SAY(x, UTIL_WARNING, 0, "two_node",
		    "set with %zu nodes in the nodelist: it only acts while there are 2",
		    x->c->node_count);
	if (q->two_node && !cfg_is_set(x->c, CFG_K_WAIT_FOR_ALL))
		x->c->quorum.wait_for_all = true; /* implied, as in votequorum */
	for (size_t i = 0; i < q->atb_node_count; i++) {
		if (!cfg_find_node(x->c, q->atb_nodes[i]))
			SAY(x, UTIL_WARNING, 0, "auto_tie_breaker_node",
			    "node id %u is not in the nodelist", q->atb_nodes[i]);
	}
}

void cfg_validate(struct cfg_cluster *c, struct util_diag *diag)
{
	struct pctx x = { .b = { .file = c->source, .diag = diag }, .c = c };

	if (c->node_count == 0)
		ERR(&x, 0, "nodelist",
		    "no nodes: every node needs a node { ring0_addr nodeid } entry");
	for (unsigned l = 0; l < CFG_MAX_LINKS; l++) {
		bool used = false;

		for (size_t i = 0; i < c->node_count; i++)
			used = used || (c->nodes[i].link_mask & (1u << l));
		if (c->totem.interfaces[l].present && !used && c->node_count)
			SAY(&x, UTIL_WARNING, c->totem.interfaces[l].line, "interface",
			    "link %u has no ring%u_addr in the nodelist, unused", l, l);
	}
	validate_crypto(&x);
	validate_timers(&x);
	validate_quorum(&x);
}

/* ---- Totem core configuration -------------------------------------------------- */

int cfg_to_totem(const struct cfg_cluster *c, uint32_t my_nodeid, struct totem_config *out)
{
	const struct cfg_totem *t = &c->totem;
	struct cfg_timers tm;
	uint32_t headers = 28, mtu; /* headers: IPv4 + UDP */

	if (!cfg_find_node(c, my_nodeid) || c->node_count > TOTEM_MAX_NODES)
		return -1;
	cfg_effective_timers(c, &tm);
	out->nodeid = my_nodeid;
	out->cluster_id = cfg_cluster_id(c);
	out->member_count = (uint32_t)c->node_count;
	for (size_t i = 0; i < c->node_count; i++) {
		out->members[i] = c->nodes[i].nodeid;
		for (unsigned l = 0; l < CFG_MAX_LINKS; l++) {
			if ((c->nodes[i].link_mask & (1u << l)) &&
			    c->nodes[i].addrs[l].family == AF_INET6)
				headers = 48; /* IPv6 + UDP */
		}
	}
	out->token_ms = tm.token_ms;
	out->token_retransmit_ms = tm.token_retransmit_ms;
	out->hold_ms = tm.hold_ms;
	out->consensus_ms = tm.consensus_ms;
	out->join_ms = t->join_ms;
	out->merge_ms = t->merge_ms;
	out->merge_backoff_max_ms = t->merge_backoff_max_ms;
	out->downcheck_ms = t->downcheck_ms;
	out->token_retransmits_before_loss = t->token_retransmits_before_loss_const;
	out->fail_recv_const = t->fail_recv_const;
	out->seqno_unchanged_const = t->seqno_unchanged_const;
	out->max_messages = t->max_messages;
	out->window_size = t->window_size;
	out->batch_us = t->batch_hold_us;
	out->batch_bytes = t->batch_bytes;
	/* netmtu bounds the datagram, as in Corosync: the core gets what is left
	 * after IP/UDP headers and Cohort's packet framing (the daemon also caps
	 * it at the largest UDP payload). With knet, Corosync's default lets
	 * Totem packets be as large as a datagram and fragments them on the wire;
	 * the IP layer does that here. udpu and udp keep the frame MTU. */
	mtu = t->transport == CFG_TRANSPORT_KNET && !cfg_is_set(c, CFG_K_NETMTU) ? CFG_KNET_NETMTU :
										   t->netmtu;
	out->netmtu = mtu - headers - CRYPTO_MAX_OVERHEAD_BYTES;
	return 0;
}

/* ---- which node am I ------------------------------------------------------------ */

uint32_t cfg_match_local_node(const struct cfg_cluster *c, const struct util_addr *local,
			      size_t local_count, char *err, size_t errlen)
{
	uint32_t found = 0;

	for (size_t i = 0; i < c->node_count; i++) {
		const struct cfg_node *n = &c->nodes[i];
		bool mine = false;

		for (unsigned l = 0; l < CFG_MAX_LINKS && !mine; l++) {
			for (size_t j = 0; j < local_count && (n->link_mask & (1u << l)); j++)
				mine = mine || util_addr_same_host(&n->addrs[l], &local[j]);
		}
		if (!mine)
			continue;
		if (found) {
			snprintf(err, errlen,
				 "nodes %u and %u both have addresses of this machine: choose "
				 "one with --nodeid",
				 found, n->nodeid);
			return 0;
		}
		found = n->nodeid;
	}
	if (!found)
		snprintf(err, errlen,
			 "no nodelist address belongs to this machine: check ring0_addr or "
			 "use --nodeid");
	return found;
}

static uint32_t match_hostname(const struct cfg_cluster *c)
{
	char host[256] = "";
	size_t short_len;

	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		return 0;
	short_len = strcspn(host, ".");
	for (size_t i = 0; i < c->node_count; i++) {
		const char *name = c->nodes[i].name;

		if (name[0] && (strcmp(name, host) == 0 || (strcspn(name, ".") == short_len &&
							    strncmp(name, host, short_len) == 0)))
			return c->nodes[i].nodeid;
	}
	return 0;
}

uint32_t cfg_find_local_node(const struct cfg_cluster *c, uint32_t override, char *err,
			     size_t errlen)
{
	struct util_addr local[256];
	size_t n;
	uint32_t id;

	if (override) {
		if (cfg_find_node(c, override))
			return override;
		snprintf(err, errlen, "node id %u is not in the nodelist", override);
		return 0;
	}
	n = util_addr_local_list(local, sizeof(local) / sizeof(local[0]));
	id = cfg_match_local_node(c, local, n, err, errlen);
	if (id || strstr(err, "both"))
		return id;
	/* Like Corosync, a node's name matching the host name also identifies it. */
	id = match_hostname(c);
	if (id)
		err[0] = '\0';
	return id;
}
