/* The daemon's single event loop: epoll for file descriptors and one timerfd
 * for microsecond timers. Every subsystem registers its fds and timers here;
 * nothing else in the daemon blocks or sleeps. */
#ifndef COHORT_LOOP_H
#define COHORT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dloop;

typedef void (*dloop_fd_cb)(void *arg, int fd, uint32_t events); /* EPOLLIN etc. */
typedef void (*dloop_timer_cb)(void *arg, uint64_t now_us);

/* A timer is owned by its user (usually embedded in the user's struct). */
struct dloop_timer {
	uint64_t deadline_us; /* UINT64_MAX when not armed */
	dloop_timer_cb cb;
	void *arg;
	struct dloop_timer *next; /* registry link, managed by the loop */
	bool registered;
};

int dloop_create(struct dloop **out);
void dloop_destroy(struct dloop *l);

int dloop_add_fd(struct dloop *l, int fd, uint32_t events, dloop_fd_cb cb, void *arg);
int dloop_mod_fd(struct dloop *l, int fd, uint32_t events);
void dloop_del_fd(struct dloop *l, int fd);

/* Arm (or re-arm) t to fire once at deadline_us; UINT64_MAX disarms. */
void dloop_timer_set(struct dloop *l, struct dloop_timer *t, uint64_t deadline_us,
		     dloop_timer_cb cb, void *arg);
void dloop_timer_del(struct dloop *l, struct dloop_timer *t);

uint64_t dloop_now_us(void); /* CLOCK_MONOTONIC */

/* Run until dloop_stop; returns 0, or -errno on a loop failure. */
int dloop_run(struct dloop *l);
void dloop_stop(struct dloop *l);

#endif
