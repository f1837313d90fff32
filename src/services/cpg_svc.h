/* The CPG service as seen by services.c: same events as services_*, for the
 * messages and configuration changes that concern CPG. */
#ifndef COHORT_CPG_SVC_H
#define COHORT_CPG_SVC_H

#include "services/svc.h"

struct cpg_svc;

int cpg_svc_create(const struct svc_host *host, const struct services_config *cfg,
		   struct cpg_svc **out);
void cpg_svc_destroy(struct cpg_svc *s);
void cpg_svc_deliver(struct cpg_svc *s, uint32_t sender, enum totem_guarantee g,
		     const uint8_t *data, size_t len);
void cpg_svc_confchg(struct cpg_svc *s, enum totem_confchg_type type, struct totem_ring_id ring,
		     const uint32_t *members, size_t nmembers);
void cpg_svc_flow(struct cpg_svc *s);
/* Gather events to clients while on (see ipc_server_cork). */
void cpg_svc_cork(struct cpg_svc *s, bool on);
/* Adds the CPG endpoint's counters to out. */
void cpg_svc_add_stats(const struct cpg_svc *s, struct services_stats *out);

#endif
