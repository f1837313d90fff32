/* The quorum and votequorum services inside cohortd: the votequorum core
 * (vq_core.h) fed by the ring, and two IPC endpoints, "quorum" for
 * libquorum and "votequorum" for libvotequorum and cohort-quorumtool.
 * services.c forwards the ring's events here. */
#ifndef COHORT_SERVICES_QUORUM_SVC_H
#define COHORT_SERVICES_QUORUM_SVC_H

#include "services/svc.h"

struct quorum_svc;

/* Without a quorum provider the quorum endpoint still answers (QUORUM_FREE,
 * always quorate, no callbacks) and votequorum refuses connections. Returns
 * 0 or a negative errno (bad settings: -EINVAL, logged). */
int quorum_svc_create(const struct svc_host *host, const struct services_config *cfg,
		      struct quorum_svc **out);
void quorum_svc_destroy(struct quorum_svc *qs);

/* A SVC_VOTEQUORUM message delivered by the ring (service byte stripped). */
void quorum_svc_on_deliver(struct quorum_svc *qs, uint32_t sender, const uint8_t *data, size_t len);
void quorum_svc_on_confchg(struct quorum_svc *qs, enum totem_confchg_type type,
			   struct totem_ring_id ring_id, const uint32_t *members,
			   size_t member_count);
void quorum_svc_on_flow(struct quorum_svc *qs);
/* Adds the quorum endpoints' counters and the quorum state to out. */
void quorum_svc_add_stats(const struct quorum_svc *qs, struct services_stats *out);
/* Clean shutdown is starting: with allow_downscale, tell the others. */
void quorum_svc_leave(struct quorum_svc *qs);

#endif
