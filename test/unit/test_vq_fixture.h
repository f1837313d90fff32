/* A cluster of votequorum cores in one process: partitions are rings with
 * their own total order, messages go through the real codec, and every
 * member's notifications are logged so tests can check the sequences. */
#ifndef COHORT_TEST_VQ_FIXTURE_H
#define COHORT_TEST_VQ_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "services/vq_core.h"
#include "services/vq_msg.h"

extern int vqt_checks, vqt_failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		vqt_checks++;                                                                    \
		if (!(cond)) {                                                                   \
			vqt_failures++;                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long va_ = (long long)(a), vb_ = (long long)(b);                     \
		vqt_checks++;                                                             \
		if (va_ != vb_) {                                                         \
			vqt_failures++;                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, va_, vb_);                    \
		}                                                                         \
	} while (0)

#define VQT_MAX 16
#define VQT_LOG 64
#define VQT_QUEUE 256

/* One notification a client of a node would get. */
struct vqt_note {
	char kind; /* 'S' settled (nodelist + quorum), 'Q' quorate flip, 'E' expected */
	bool quorate;
	uint32_t value; /* 'E': expected votes; 'S': member count */
};

struct vqt_msg {
	uint32_t sender;
	size_t len;
	uint8_t buf[VQ_MSG_MAX_BYTES];
};

struct vqt {
	struct vq_options base; /* options of every node (my_nodeid set per node) */
	uint32_t votes[VQT_MAX + 1];
	uint32_t expected[VQT_MAX + 1]; /* 0: base.expected_votes */
	struct vq *node[VQT_MAX + 1];
	int part[VQT_MAX + 1]; /* partition number of each running node */
	uint64_t seq;
	uint64_t now_ms;
	struct vqt_note log[VQT_MAX + 1][VQT_LOG];
	size_t log_len[VQT_MAX + 1];
	int last_reconfig_result[VQT_MAX + 1];
	bool reverse; /* deliver each round in reverse sender order */
};

/* Options for n nodes with one vote each, expected n. */
void vqt_init(struct vqt *t, size_t n);
void vqt_start(struct vqt *t, uint32_t id);
void vqt_stop(struct vqt *t, uint32_t id);
/* Form a ring of exactly these running nodes (a new partition), send the
 * NODEINFOs and deliver everything. */
void vqt_form(struct vqt *t, const uint32_t *ids, size_t n);
#define VQT_FORM(t, ...)                                             \
	do {                                                         \
		const uint32_t ids_[] = { __VA_ARGS__ };             \
		vqt_form((t), ids_, sizeof(ids_) / sizeof(ids_[0])); \
	} while (0)
/* Advance the clock; LMS messages are sent and delivered. */
void vqt_advance(struct vqt *t, uint64_t ms);
/* A client of node id asks; returns the request-time answer (0 when sent),
 * and the answer delivered back is in last_reconfig_result[id]. */
int vqt_setexpected(struct vqt *t, uint32_t id, uint32_t expected);
int vqt_setvotes(struct vqt *t, uint32_t id, uint32_t target, uint32_t votes);
/* Send a LEAVING NODEINFO (allow_downscale) and deliver it. */
void vqt_leave(struct vqt *t, uint32_t id);
/* Deliver raw bytes from sender to the partition of `to` (garbage tests). */
int vqt_inject(struct vqt *t, uint32_t to, uint32_t sender, const uint8_t *buf, size_t len);

struct vq_status vqt_status(const struct vqt *t, uint32_t id);
bool vqt_quorate(const struct vqt *t, uint32_t id);
/* Every running member of id's partition has the same totals and answer. */
void vqt_check_agree(const struct vqt *t, uint32_t id, int line);
void vqt_clear_logs(struct vqt *t);
void vqt_free(struct vqt *t);

#endif
