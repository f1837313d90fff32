/* Link health: every node sends each peer a heartbeat on every link at the
 * link's interval, saying whether it hears that peer there. A link to a peer
 * is up when we heard the peer recently and the peer recently said it hears
 * us: a one-way failure takes the link down on both sides. */
#include "net/net_int.h"

#include <string.h>

#include "wire/wire_hb.h"

bool net_link_fresh(const struct net_link *l, uint64_t then_us, uint64_t now_us)
{
	return then_us != 0 && (then_us >= now_us || now_us - then_us <= l->timeout_us);
}

static void evaluate(struct net *n, size_t peer, unsigned link, uint64_t now_us)
{
	const struct net_link *l = &n->links[link];
	struct net_plink *pl = &n->peers[peer].pl[link];
	bool up = net_link_fresh(l, pl->last_rx_us, now_us) && pl->peer_hears_us &&
		  net_link_fresh(l, pl->peer_hears_at_us, now_us);

	if (up == pl->up)
		return;
	pl->up = up;
	pl->changes++;
	pl->changed_at_us = now_us;
	n->stats.link_changes++;
	if (n->link_change)
		n->link_change(n->arg, n->peers[peer].nodeid, link, up);
}

static void send_heartbeat(struct net *n, size_t peer, unsigned link, uint64_t now_us)
{
	struct net_plink *pl = &n->peers[peer].pl[link];
	struct wire_hb h = { .link = (uint8_t)link, .seq = ++pl->hb_seq };
	uint8_t buf[WIRE_HB_LEN];
	size_t len;

	if (h.seq == 0) /* 0 means "none" on the wire */
		h.seq = ++pl->hb_seq;
	if (net_link_fresh(&n->links[link], pl->last_rx_us, now_us))
		h.flags |= WIRE_HB_HEAR_YOU;
	if (pl->peer_seq != 0 && now_us - pl->peer_seq_at_us < UINT32_MAX) {
		h.echo_seq = pl->peer_seq;
		h.echo_hold_us = (uint32_t)(now_us - pl->peer_seq_at_us);
	}
	pl->sent_hear_you = (h.flags & WIRE_HB_HEAR_YOU) != 0;
	pl->hb_sent_seq[h.seq % NET_HB_TRACK] = h.seq;
	pl->hb_sent_us[h.seq % NET_HB_TRACK] = now_us;
	len = wire_encode_hb(buf, sizeof(buf), &h);
	if (net_queue(n, link, (int32_t)peer, NET_KIND_HEARTBEAT, buf, len) == NET_OK)
		n->stats.tx_heartbeats++;
}

/* One round-trip sample from the echo in a peer's heartbeat: the time since
 * we sent the echoed heartbeat, less the time the peer held it. */
static void rtt_sample(struct net_plink *pl, const struct wire_hb *h, uint64_t now_us)
{
	unsigned slot = h->echo_seq % NET_HB_TRACK;
	uint64_t elapsed, sample;

	if (h->echo_seq == 0 || pl->hb_sent_seq[slot] != h->echo_seq ||
	    now_us < pl->hb_sent_us[slot])
		return;
	elapsed = now_us - pl->hb_sent_us[slot];
	if (h->echo_hold_us > elapsed)
		return; /* the clocks disagree; no usable sample */
	sample = elapsed - h->echo_hold_us;
	if (sample > UINT32_MAX)
		sample = UINT32_MAX;
	/* Each heartbeat is answered once, so an echo is not counted twice. */
	pl->hb_sent_seq[slot] = 0;
	if (pl->rtt_samples++ == 0) {
		pl->rtt_us = pl->rtt_min_us = pl->rtt_max_us = (uint32_t)sample;
		return;
	}
	pl->rtt_us = (uint32_t)((int64_t)pl->rtt_us + ((int64_t)sample - (int64_t)pl->rtt_us) / 8);
	if (sample < pl->rtt_min_us)
		pl->rtt_min_us = (uint32_t)sample;
	if (sample > pl->rtt_max_us)
		pl->rtt_max_us = (uint32_t)sample;
}

bool net_node_reachable(const struct net *n, uint32_t nodeid)
{
	for (size_t p = 0; p < n->peer_count; p++) {
		if (n->peers[p].nodeid != nodeid)
			continue;
		for (unsigned l = 0; l < NET_MAX_LINKS; l++)
			if (n->links[l].active && n->peers[p].pl[l].up)
				return true;
		return false;
	}
	return false;
}

bool net_peer_hears_us(const struct net *n, size_t peer)
{
	bool ever = false;

	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		const struct net_plink *pl = &n->peers[peer].pl[l];

		if (!n->links[l].active || !(n->peers[peer].link_mask & (1u << l)))
			continue;
		if (pl->peer_hears_us)
			return true;
		ever |= pl->peer_hears_at_us != 0;
	}
	/* Before the first heartbeat exchange nothing is known yet. */
	return !ever;
}

void net_link_heard(struct net *n, size_t peer, unsigned link, uint64_t now_us)
{
	n->peers[peer].pl[link].last_rx_us = now_us;
	evaluate(n, peer, link, now_us);
}

void net_link_heartbeat_rx(struct net *n, size_t peer, unsigned link, const uint8_t *p, size_t len,
			   uint64_t now_us)
{
	struct net_plink *pl = &n->peers[peer].pl[link];
	struct wire_hb h;

	if (wire_decode_hb(p, len, &h) != WIRE_OK || h.link != link) {
		n->stats.rx_bad_kind++;
		return;
	}
	pl->peer_hears_us = (h.flags & WIRE_HB_HEAR_YOU) != 0;
	if (pl->peer_hears_us)
		pl->peer_hears_at_us = now_us;
	if (h.timed) {
		rtt_sample(pl, &h, now_us);
		pl->peer_seq = h.seq;
		pl->peer_seq_at_us = now_us;
	}
	evaluate(n, peer, link, now_us);
	/* The peer does not hear us yet, or does not know yet that we hear it:
	 * answer at once instead of at our next tick, so the link comes up on
	 * both sides in one round trip. Only authentic packets get here; after
	 * the answer both flags are set, so the exchange stops by itself. */
	if (!pl->peer_hears_us || !pl->sent_hear_you)
		send_heartbeat(n, peer, link, now_us);
}

void net_on_timer(struct net *n, uint64_t now_us)
{
	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		struct net_link *lk = &n->links[l];

		if (!lk->active)
			continue;
		if (now_us >= lk->next_hb_us) {
			for (size_t p = 0; p < n->peer_count; p++) {
				if (p != n->self && (n->peers[p].link_mask & (1u << l)))
					send_heartbeat(n, p, l, now_us);
			}
			lk->next_hb_us = now_us + lk->interval_us;
		}
		for (size_t p = 0; p < n->peer_count; p++) {
			if (p != n->self && (n->peers[p].link_mask & (1u << l)))
				evaluate(n, p, l, now_us);
		}
	}
	net_flush(n);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t net_next_deadline(const struct net *n)
{
	uint64_t d = UINT64_MAX;

	for (unsigned l = 0; l < NET_MAX_LINKS; l++) {
		const struct net_link *lk = &n->links[l];

		if (!lk->active)
			continue;
		d = min_u64(d, lk->next_hb_us);
		/* Expiry of an up link, so a failure is reported on time and not
		 * only at the next heartbeat tick. */
		for (size_t p = 0; p < n->peer_count; p++) {
			const struct net_plink *pl = &n->peers[p].pl[l];

			if (pl->up)
				d = min_u64(d, min_u64(pl->last_rx_us, pl->peer_hears_at_us) +
						       lk->timeout_us + 1);
		}
	}
	return d;
}

size_t net_get_links(const struct net *n, struct net_link_info *out, size_t max)
{
	size_t k = 0;
	uint64_t now_hint = 0;

	/* "hear_peer" is judged against the latest time the transport saw. */
	for (size_t p = 0; p < n->peer_count; p++) {
		for (unsigned l = 0; l < NET_MAX_LINKS; l++)
			now_hint = n->peers[p].pl[l].last_rx_us > now_hint ?
					   n->peers[p].pl[l].last_rx_us :
					   now_hint;
	}
	for (size_t p = 0; p < n->peer_count; p++) {
		const struct net_peer *peer = &n->peers[p];

		for (unsigned l = 0; l < NET_MAX_LINKS && p != n->self; l++) {
			if (!n->links[l].active || !(peer->link_mask & (1u << l)))
				continue;
			if (k == max)
				return k;
			out[k] = (struct net_link_info){
				.nodeid = peer->nodeid,
				.link = l,
				.up = peer->pl[l].up,
				.hear_peer = net_link_fresh(&n->links[l], peer->pl[l].last_rx_us,
							    now_hint),
				.peer_hears_us = peer->pl[l].peer_hears_us,
				.last_rx_us = peer->pl[l].last_rx_us,
				.rx_packets = peer->pl[l].rx,
				.tx_packets = peer->pl[l].tx,
				.changes = peer->pl[l].changes,
				.changed_at_us = peer->pl[l].changed_at_us,
				.rtt_samples = peer->pl[l].rtt_samples,
				.rtt_us = peer->pl[l].rtt_us,
				.rtt_min_us = peer->pl[l].rtt_min_us,
				.rtt_max_us = peer->pl[l].rtt_max_us,
				.addr = peer->addr[l],
			};
			k++;
		}
	}
	return k;
}
