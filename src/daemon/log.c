#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon/log.h"

static const char *level_name[] = { "error", "warning", "notice", "debug" };

void dlog_init(struct dlog *l)
{
	memset(l, 0, sizeof(*l));
	l->to_stderr = true;
	l->timestamp = true;
}

int dlog_open_file(struct dlog *l, const char *path)
{
	l->file = fopen(path, "a");
	if (!l->file)
		return -1;
	setvbuf(l->file, NULL, _IOLBF, 0);
	return 0;
}

void dlog_close(struct dlog *l)
{
	if (l->file)
		fclose(l->file);
	l->file = NULL;
	if (l->to_syslog)
		closelog();
}

static void emit(FILE *f, bool ts, const char *stamp, const char *line)
{
	if (ts)
		fprintf(f, "%s %s\n", stamp, line);
	else
		fprintf(f, "%s\n", line);
}

void dlog_vprintf(struct dlog *l, int level, const char *subsys, const char *fmt, va_list ap)
{
	char msg[1024], line[1200], stamp[64];
	struct timespec ts;
	struct tm tm;

	if (level >= DLOG_DEBUG && !l->debug)
		return;
	if (level < 0 || level > DLOG_DEBUG)
		level = DLOG_NOTICE;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "[%s] %-7s %s", subsys, level_name[level], msg);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%02d:%02d:%02d.%03ld node%u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ts.tv_nsec / 1000000, l->nodeid);
	if (l->to_stderr)
		emit(stderr, l->timestamp, stamp, line);
	if (l->file)
		emit(l->file, l->timestamp, stamp, line);
	if (l->to_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG };
		syslog(prio[level], "%s", line);
	}
}

void dlog_printf(struct dlog *l, int level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dlog_vprintf(l, level, subsys, fmt, ap);
	va_end(ap);
}

bool dlog_limit_ok(struct dlog_limit *r, uint64_t now_us, uint64_t interval_us)
{
	if (now_us < r->next_us) {
		r->suppressed++;
		return false;
	}
	r->next_us = now_us + interval_us;
	return true;
}
