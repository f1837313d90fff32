#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/loop.h"

#define DLOOP_MAX_FDS 65536

struct dloop_fd {
	dloop_fd_cb cb;
	void *arg;
	bool used;
};

struct dloop {
	int epfd;
	int tfd;
	bool stop;
	struct dloop_fd *fds; /* indexed by fd number */
	struct dloop_timer *timers;
	uint64_t armed_us;
};

uint64_t dloop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int dloop_create(struct dloop **out)
{
	struct dloop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->fds = calloc(DLOOP_MAX_FDS, sizeof(*l->fds));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = l->tfd;
	if (!l->fds || l->epfd < 0 || l->tfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev)) {
		int e = errno ? -errno : -ENOMEM;
		dloop_destroy(l);
		return e;
	}
	l->armed_us = UINT64_MAX;
	*out = l;
	return 0;
}

void dloop_destroy(struct dloop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l->fds);
	free(l);
}

int dloop_add_fd(struct dloop *l, int fd, uint32_t events, dloop_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd < 0 || fd >= DLOOP_MAX_FDS)
		return -EINVAL;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->fds[fd] = (struct dloop_fd){ .cb = cb, .arg = arg, .used = true };
	return 0;
}

int dloop_mod_fd(struct dloop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

void dloop_del_fd(struct dloop *l, int fd)
{
	if (fd < 0 || fd >= DLOOP_MAX_FDS || !l->fds[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = false;
}

void dloop_timer_set(struct dloop *l, struct dloop_timer *t, uint64_t deadline_us,
		     dloop_timer_cb cb, void *arg)
{
	t->deadline_us = deadline_us;
	t->cb = cb;
	t->arg = arg;
	if (!t->registered) {
		t->next = l->timers;
		l->timers = t;
		t->registered = true;
	}
}

void dloop_timer_del(struct dloop *l, struct dloop_timer *t)
{
	for (struct dloop_timer **p = &l->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			t->registered = false;
			return;
		}
	}
}

void dloop_stop(struct dloop *l)
{
	l->stop = true;
}

static struct dloop_timer *due_timer(struct dloop *l, uint64_t now)
{
	for (struct dloop_timer *t = l->timers; t; t = t->next)
		if (t->deadline_us <= now)
			return t;
	return NULL;
}

/* Fire due timers (a callback may re-arm or remove any timer, so the scan
 * restarts after each), then program the timerfd for the earliest one. */
static void run_timers(struct dloop *l)
{
	uint64_t next = UINT64_MAX;
	struct itimerspec its;
	struct dloop_timer *t;

	for (int guard = 0; guard < 1024 && (t = due_timer(l, dloop_now_us())); guard++) {
		t->deadline_us = UINT64_MAX;
		t->cb(t->arg, dloop_now_us());
	}
	for (t = l->timers; t; t = t->next)
		if (t->deadline_us < next)
			next = t->deadline_us;
	if (next == l->armed_us)
		return;
	memset(&its, 0, sizeof(its));
	if (next != UINT64_MAX) {
		/* absolute CLOCK_MONOTONIC; an all-zero value would disarm */
		its.it_value.tv_sec = (time_t)(next / 1000000u);
		its.it_value.tv_nsec = (long)(next % 1000000u) * 1000 + 1;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed_us = next;
}

int dloop_run(struct dloop *l)
{
	struct epoll_event evs[64];

	l->stop = false;
	while (!l->stop) {
		run_timers(l);
		int n = epoll_wait(l->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = evs[i].data.fd;
			if (fd == l->tfd) {
				uint64_t exp;
				ssize_t r = read(l->tfd, &exp, sizeof(exp));
				(void)r;
				l->armed_us = UINT64_MAX;
				continue;
			}
			if (fd >= 0 && fd < DLOOP_MAX_FDS && l->fds[fd].used)
				l->fds[fd].cb(l->fds[fd].arg, fd, evs[i].events);
		}
	}
	return 0;
}
