/* Fuzz target of the configuration path: corosync.conf text -> the syntax
 * tree (util/conftree.c) -> struct cfg_cluster (daemon/config*.c, node
 * lists included) -> what the daemon derives from it.
 *
 * The tree parser gets the input as an exactly sized buffer with no NUL, so
 * a read past `len` is an ASan report. Then the whole load runs on a NUL
 * terminated copy, and a file it accepts must keep its promises: an error
 * diagnostic exactly when it fails, node ids unique and non-zero, every
 * string terminated, and for every node a Totem configuration that
 * totem_create() accepts (`cohortd -t` saying OK must mean the daemon can
 * start). */
#include <string.h>

#include "daemon/config.h"
#include "fuzz_driver.h"
#include "totem/totem.h"
#include "util/conftree.h"

static void fc_strings(const struct cfg_cluster *c)
{
	FZ_CHECK(memchr(c->totem.cluster_name, 0, sizeof(c->totem.cluster_name)));
	FZ_CHECK(memchr(c->totem.keyfile, 0, sizeof(c->totem.keyfile)));
	FZ_CHECK(memchr(c->logging.logfile, 0, sizeof(c->logging.logfile)));
	FZ_CHECK(memchr(c->system.state_dir, 0, sizeof(c->system.state_dir)));
	FZ_CHECK(c->logging.subsys_count <= CFG_MAX_SUBSYS);
	for (size_t i = 0; i < c->logging.subsys_count; i++)
		FZ_CHECK(memchr(c->logging.subsys[i].subsys, 0,
				sizeof(c->logging.subsys[i].subsys)));
	FZ_CHECK(c->uidgid_count <= CFG_MAX_UIDGID);
	FZ_CHECK(c->quorum.atb_node_count <= CFG_MAX_ATB_NODES);
}

static void fc_nodes(const struct cfg_cluster *c)
{
	FZ_CHECK(c->node_count <= CFG_MAX_NODES);
	for (size_t i = 0; i < c->node_count; i++) {
		const struct cfg_node *n = &c->nodes[i];

		FZ_CHECK(n->nodeid != 0 && memchr(n->name, 0, sizeof(n->name)));
		FZ_CHECK(cfg_find_node(c, n->nodeid) == n);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(c->nodes[j].nodeid != n->nodeid);
	}
}

/* Everything the daemon computes from an accepted file, as it would. */
static void fc_derived(const struct cfg_cluster *c)
{
	struct cfg_timers tm;
	struct util_addr a;
	uint32_t iv, to;
	char err[256];

	cfg_effective_timers(c, &tm);
	(void)cfg_token_timeout_ms(c);
	(void)cfg_expected_votes(c);
	(void)cfg_cluster_id(c);
	(void)cfg_crypto_mode(c);
	(void)cfg_addr_pref(c);
	for (unsigned l = 0; l < CFG_MAX_LINKS; l++) {
		cfg_link_heartbeat(c, l, &iv, &to);
		cfg_mcast_addr(c, l, &a);
	}
	for (size_t i = 0; i < c->node_count && i < 8; i++) {
		const struct cfg_node *n = &c->nodes[i];
		struct totem_config tc;
		struct totem_node *t = NULL;
		uint32_t id;

		totem_config_defaults(&tc);
		FZ_CHECK(cfg_to_totem(c, n->nodeid, &tc) == 0);
		FZ_CHECK(totem_create(&tc, &t) == TOTEM_OK);
		totem_destroy(t);
		if (n->link_mask & 1u) {
			id = cfg_match_local_node(c, &n->addrs[0], 1, err, sizeof(err));
			FZ_CHECK(id == 0 || cfg_find_node(c, id) != NULL);
		}
		(void)cfg_find_local_node(c, n->nodeid, err, sizeof(err));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cfg_options opt = { .resolve_names = false };
	struct util_conf_section *root = NULL;
	struct util_diag diag = { 0 };
	struct cfg_cluster *c = NULL;
	char err[384];
	char *text;
	int rc;

	if (size > (1u << 16))
		return 0;
	if (util_conf_parse("fuzz.conf", (const char *)data, size, &root, err, sizeof(err)) == 0)
		util_conf_free(root);
	else
		FZ_CHECK(root == NULL && memchr(err, 0, sizeof(err)));

	text = malloc(size + 1);
	FZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	rc = cfg_load_string("fuzz.conf", text, &opt, &c, &diag);
	FZ_CHECK(rc == 0 || rc == -1);
	FZ_CHECK((rc == 0) == (c != NULL) && (rc == 0) == (diag.errors == 0));
	for (size_t i = 0; i < diag.count; i++)
		FZ_CHECK(memchr(diag.msgs[i].text, 0, sizeof(diag.msgs[i].text)));
	if (c) {
		fc_strings(c);
		fc_nodes(c);
		fc_derived(c);
		cfg_free(c);
	}
	util_diag_free(&diag);
	free(text);
	return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "fuzz_config";
const unsigned long fuzz_target_iterations = 15000;

static const char fc_full[] =
	"# a full file\n"
	"totem {\n  version: 2\n  cluster_name: demo\n  transport: knet\n"
	"  crypto_cipher: aes256\n  crypto_hash: sha256\n  token: 1000\n"
	"  token_coefficient: 650\n  consensus: 1500\n  join: 60\n  max_messages: 20\n"
	"  window_size: 60\n  netmtu: 1400\n  ip_version: ipv4-6\n  link_mode: passive\n"
	"  interface {\n    linknumber: 0\n    knet_ping_interval: 200\n"
	"    knet_ping_timeout: 400\n    mcastport: 5405\n  }\n"
	"  interface {\n    linknumber: 1\n  }\n}\n"
	"nodelist {\n"
	"  node { ring0_addr: 10.0.0.1  ring1_addr: 192.168.0.1  nodeid: 1  name: alpha }\n"
	"  node {\n    ring0_addr: 10.0.0.2\n    ring1_addr: 192.168.0.2\n    nodeid: 2\n"
	"    name: beta\n    quorum_votes: 2\n  }\n"
	"  node { ring0_addr: \"10.0.0.3\"  ring1_addr: 192.168.0.3  nodeid: 3  name: gamma }\n"
	"}\n"
	"quorum {\n  provider: corosync_votequorum\n  expected_votes: 4\n  wait_for_all: 1\n"
	"  last_man_standing: 1\n  last_man_standing_window: 20000\n"
	"  auto_tie_breaker: 1\n  auto_tie_breaker_node: 1 3\n}\n"
	"logging {\n  to_syslog: yes\n  to_logfile: yes\n  logfile: /var/log/cohort.log\n"
	"  timestamp: hires\n  debug: off\n"
	"  logger_subsys {\n    subsys: QUORUM\n    debug: trace\n  }\n}\n"
	"system {\n  sched_rr: no\n  state_dir: /tmp/cohort\n}\n"
	"uidgid {\n  uid: hacluster\n  gid: haclient\n}\n";

static const char fc_udp[] =
	"totem {\n version: 2\n cluster_name: mc\n transport: udp\n secauth: on\n"
	" interface {\n  ringnumber: 0\n  bindnetaddr: 10.1.0.0\n  mcastaddr: 239.255.1.1\n"
	"  mcastport: 5407\n  ttl: 4\n }\n}\n"
	"nodelist {\n node {\n  ring0_addr: 10.1.0.5\n }\n node {\n  ring0_addr: 10.1.0.6\n }\n}\n"
	"quorum {\n provider: corosync_votequorum\n two_node: 1\n}\n";

static const char fc_v6[] =
	"totem { version: 2 cluster_name: six ip_version: ipv6 transport: udpu\n"
	" crypto_cipher: none crypto_hash: sha1 }\n"
	"nodelist { node { ring0_addr: fd00::1 nodeid: 10 } node { ring0_addr: fd00::2 nodeid: 20 }"
	" node { ring0_addr: fd00::3 nodeid: 30 } }\n"
	"quorum { provider: corosync_votequorum auto_tie_breaker: 1"
	" auto_tie_breaker_node: highest allow_downscale: 1 }\n";

static const char fc_bad[] =
	"totem {\n version: 3\n token: -5\n unknown_key: 1\n interface { linknumber: 9 }\n}\n"
	"nodelist { node { ring0_addr: 10.0.0.1 nodeid: 1 } node { ring0_addr: 10.0.0.1 nodeid: 1 }"
	" node { nodeid: 0 } }\n"
	"quorum { provider: nonsense }\nlogging {\n  { nested: x\n";

void fuzz_target_seeds(void)
{
	fuzz_seed_add("full.conf", fc_full, sizeof(fc_full) - 1);
	fuzz_seed_add("udp.conf", fc_udp, sizeof(fc_udp) - 1);
	fuzz_seed_add("v6.conf", fc_v6, sizeof(fc_v6) - 1);
	fuzz_seed_add("bad.conf", fc_bad, sizeof(fc_bad) - 1);
	fuzz_seed_add("empty.conf", "", 0);
}
#endif
