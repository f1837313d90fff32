/* Application payloads of the simulated workload. Every message names its
 * origin (sender node id, incarnation, per-incarnation counter) and carries
 * padding derived from that name, so the checker can tell which submitted
 * message a delivery is and that its bytes arrived intact, without storing
 * the payloads. */
#ifndef COHORT_SIM_PAYLOAD_H
#define COHORT_SIM_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PAYLOAD_HDR 32u

struct sim_msg_id {
	uint32_t nodeid;
	uint32_t inc;	  /* restarts of the sender before it submitted this */
	uint64_t counter; /* dense from 0 within one incarnation */
	uint64_t submit_us;
};

enum sim_payload_err {
	SIM_PAYLOAD_OK = 0,
	SIM_PAYLOAD_SHORT,   /* shorter than the header */
	SIM_PAYLOAD_LENGTH,  /* length field differs from the delivered length */
	SIM_PAYLOAD_HEADER,  /* header check value wrong */
	SIM_PAYLOAD_PADDING, /* padding bytes differ from the ones generated */
};

/* Fill buf[0..len) (len >= SIM_PAYLOAD_HDR) with the message named by id. */
void sim_payload_encode(uint8_t *buf, size_t len, const struct sim_msg_id *id);
/* Decode and verify every byte; on error *id holds what could be read. */
enum sim_payload_err sim_payload_decode(const uint8_t *buf, size_t len, struct sim_msg_id *id);
const char *sim_payload_err_name(enum sim_payload_err e);

#endif
