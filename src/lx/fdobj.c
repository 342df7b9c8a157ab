/* The kernel objects behind guest fds whose state a snapshot keeps
 * (fdstate.c saves an fd's path and offset; this is the rest):
 *
 * - eventfd: its count and whether it is a semaphore;
 * - timerfd: its clock, its flags, the time left, the interval, and the
 *   expirations not read yet;
 * - epoll: its interest list, by guest fd;
 * - signalfd: its mask (the object is the monitor's own, sigfd.c).
 *
 * The state is read from the host while the run is held, without
 * consuming anything: /proc/self/fdinfo gives an eventfd's count, a
 * timerfd's ticks and clock and an epoll's registrations (by host fd,
 * mapped back to the guest fd that has that host fd). Restore makes a new
 * host object with the same state; an epoll's registrations are added
 * once every fd of the process is back, so they may name any of them.
 *
 * What does not come back: an epoll's registration of an fd the guest has
 * closed since (Linux keeps it while a duplicate of the file lives on), a
 * timerfd's expirations on a host kernel without TFD_IOC_SET_TICKS
 * (CONFIG_CHECKPOINT_RESTORE), and an eventfd whose mode the kernel does
 * not show (before Linux 6.3) and the monitor did not see made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lx/fdobj.h"
#include "lx/lx.h"
#include "util.h"

/* linux/timerfd.h clashes with glibc's headers. */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define FDINFO_MAX (64U << 10) /* an epoll of ~700 registrations */
#define NSEC	   1000000000L

/* ---- save ---- */

/* /proc/self/fdinfo/HOST into a malloc'd string, or NULL. */
static char *fdinfo(int host)
{
	char path[48];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", host);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	ssize_t r = 0;
	while (b && (r = read(fd, b + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 < cap)
			continue;
		/* Larger than FDINFO_MAX: not read. */
		char *nb = cap < FDINFO_MAX ? realloc(b, cap * 2) : NULL;
		if (!nb)
			free(b);
		b = nb;
		cap *= 2;
	}
	close(fd);
	if (b && r < 0) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = 0;
	return b;
}

/* The value after "key" at the start of a line of info, or NULL. */
static const char *field(const char *info, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = info; l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (!strncmp(l, key, k))
			return l + k;
	}
	return NULL;
}

static int anon_type(int host)
{
	char path[48], name[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", host);
	ssize_t n = readlink(path, name, sizeof(name) - 1);
	if (n <= 0)
		return LX_OBJ_NONE;
	name[n] = 0;
	if (!strcmp(name, "anon_inode:[eventfd]"))
		return LX_OBJ_EVENTFD;
	if (!strcmp(name, "anon_inode:[timerfd]"))
		return LX_OBJ_TIMERFD;
	if (!strcmp(name, "anon_inode:[eventpoll]"))
		return LX_OBJ_EPOLL;
	return LX_OBJ_NONE;
}

static void save_eventfd(const struct lx_fd *f, const char *info,
			 struct lx_fdobj *o)
{
	const char *c = field(info, "eventfd-count:");
	const char *s = field(info, "eventfd-semaphore:");
	if (!c) {
		o->why = "the host does not show its count";
		return;
	}
	o->count = strtoull(c, NULL, 16);
	if (s)
		o->sem = strtoul(s, NULL, 10) != 0;
	else if (f->efd)
		o->sem = f->efd == LX_EFD_SEM;
	else
		o->why = "the host kernel does not show whether it is a "
			 "semaphore";
}

static struct timespec ts_add(struct timespec a, struct timespec b)
{
	struct timespec r = {a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec};
	if (r.tv_nsec >= NSEC) {
		r.tv_sec++;
		r.tv_nsec -= NSEC;
	}
	return r;
}

static void save_timerfd(const struct lx_fd *f, const char *info,
			 struct lx_fdobj *o)
{
	const char *c = field(info, "clockid:");
	const char *k = field(info, "ticks:");
	const char *fl = field(info, "settime flags:");
	if (!c || !k || !fl || timerfd_gettime(f->host, &o->its) < 0) {
		o->why = "the host does not show its state";
		return;
	}
	o->clockid = (int32_t)strtol(c, NULL, 10);
	o->count = strtoull(k, NULL, 10);
	int flags = (int)strtol(fl, NULL, 8);
	/* An absolute time on the realtime clock means the same on any
	 * host; one on a monotonic clock does not, and goes as the time
	 * left, as a relative timer's does. */
	if (o->clockid == CLOCK_REALTIME && (flags & TFD_TIMER_ABSTIME)) {
		o->tflags =
			flags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
		if (o->its.it_value.tv_sec || o->its.it_value.tv_nsec) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			o->its.it_value = ts_add(now, o->its.it_value);
		}
	}
}

/* The guest fd behind host fd `host`, or -1. With fd_lock held. */
static int guest_fd_of(struct lx_proc *p, int host)
{
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used && p->fdt.slot[i].host == host)
			return i;
	return -1;
}

static void save_epoll(struct lx_proc *p, const char *info, struct lx_fdobj *o)
{
	for (const char *l = field(info, "tfd:"); l;) {
		int tfd;
		unsigned ev;
		unsigned long long data;
		if (sscanf(l, "%d events: %x data: %llx", &tfd, &ev, &data) !=
		    3) {
			o->why = "the host's list of its fds is unreadable";
			return;
		}
		int g = guest_fd_of(p, tfd);
		if (g < 0) {
			o->lost++;
		} else {
			struct lx_epoll_reg *nr = realloc(
				o->reg, (o->nreg + 1) * sizeof(*o->reg));
			if (!nr) {
				o->why = "out of memory";
				return;
			}
			o->reg = nr;
			o->reg[o->nreg++] = (struct lx_epoll_reg){
				.gfd = g, .events = ev, .data = data};
		}
		l = strstr(l, "\ntfd:");
		if (l)
			l += 5;
	}
}

void lx_fdobj_save(struct lx_proc *p, const struct lx_fd *f, struct lx_fdobj *o)
{
	*o = (struct lx_fdobj){0};
	if (f->kind == LX_FD_SFD) {
		if (lx_sigfd_mask(f->host, &o->mask))
			o->type = LX_OBJ_SIGNALFD;
		return;
	}
	if (f->kind != LX_FD_OTHER)
		return;
	o->type = (uint8_t)anon_type(f->host);
	if (o->type == LX_OBJ_NONE)
		return;
	char *info = fdinfo(f->host);
	if (!info) {
		o->why = "its /proc/self/fdinfo is unreadable";
		return;
	}
	switch (o->type) {
	case LX_OBJ_EVENTFD: save_eventfd(f, info, o); break;
	case LX_OBJ_TIMERFD: save_timerfd(f, info, o); break;
	case LX_OBJ_EPOLL: save_epoll(p, info, o); break;
	}
	free(info);
}

void lx_fdobj_free(struct lx_fdobj *o)
{
	free(o->reg);
	o->reg = NULL;
	o->nreg = 0;
}

/* ---- the record ---- */

/* An object that cannot come back is written as LX_OBJ_NONE: restore
 * then gives the fd the usual dead end, with a warning. */
void lx_fdobj_write(struct wbuf *w, const struct lx_fdobj *o)
{
	uint8_t type = o->why ? LX_OBJ_NONE : o->type;
	W(w, type);
	switch (type) {
	case LX_OBJ_EVENTFD:
		W(w, o->count);
		W(w, o->sem);
		break;
	case LX_OBJ_TIMERFD:
		W(w, o->clockid);
		W(w, o->tflags);
		W(w, o->count);
		W(w, o->its);
		break;
	case LX_OBJ_EPOLL:
		W(w, o->lost);
		W(w, o->nreg);
		w_bytes(w, o->reg, o->nreg * sizeof(*o->reg));
		break;
	case LX_OBJ_SIGNALFD: W(w, o->mask); break;
	}
}

static bool bad_ts(const struct timespec *t)
{
	return t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= NSEC;
}

void lx_fdobj_read(struct rbuf *r, uint32_t kind, struct lx_fdobj *o)
{
	*o = (struct lx_fdobj){0};
	R(r, o->type);
	switch (o->type) {
	case LX_OBJ_NONE: return;
	case LX_OBJ_EVENTFD:
		R(r, o->count);
		R(r, o->sem);
		/* Linux's largest count is 2^64 - 2. */
		r->bad |= o->count == UINT64_MAX || o->sem > 1;
		break;
	case LX_OBJ_TIMERFD:
		R(r, o->clockid);
		R(r, o->tflags);
		R(r, o->count);
		R(r, o->its);
		r->bad |= (o->clockid != CLOCK_REALTIME &&
			   o->clockid != CLOCK_MONOTONIC &&
			   o->clockid != CLOCK_BOOTTIME) ||
			  (o->tflags &
			   ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
			  (o->tflags && (o->clockid != CLOCK_REALTIME ||
					 !(o->tflags & TFD_TIMER_ABSTIME))) ||
			  bad_ts(&o->its.it_value) ||
			  bad_ts(&o->its.it_interval);
		break;
	case LX_OBJ_EPOLL:
		R(r, o->lost);
		R(r, o->nreg);
		/* Each registration is 16 bytes of what is left. */
		if (o->nreg > (r->n - MIN(r->off, r->n)) / sizeof(*o->reg)) {
			r->bad = true;
			o->nreg = 0;
			break;
		}
		o->reg = o->nreg ? calloc(o->nreg, sizeof(*o->reg)) : NULL;
		if (o->nreg && !o->reg) {
			r->bad = true;
			o->nreg = 0;
			break;
		}
		r_bytes(r, o->reg, o->nreg * sizeof(*o->reg));
		for (uint32_t i = 0; i < o->nreg; i++)
			r->bad |= o->reg[i].gfd < 0;
		break;
	case LX_OBJ_SIGNALFD: R(r, o->mask); break;
	default: r->bad = true;
	}
	if (o->type == LX_OBJ_SIGNALFD)
		r->bad |= kind != LX_FD_SFD;
	else if (o->type != LX_OBJ_NONE)
		r->bad |= kind != LX_FD_OTHER;
}

/* ---- restore ---- */

static int make_eventfd(const struct lx_fdobj *o, int nb, const char **why)
{
	int h = eventfd(0, EFD_CLOEXEC | (nb ? EFD_NONBLOCK : 0) |
				   (o->sem ? EFD_SEMAPHORE : 0));
	if (h < 0 || (o->count && write(h, &o->count, 8) != 8)) {
		*why = strerror(errno);
		if (h >= 0)
			close(h);
		return -1;
	}
	return h;
}

static int make_timerfd(const struct lx_fdobj *o, int nb, const char **why)
{
	int h = timerfd_create(o->clockid,
			       TFD_CLOEXEC | (nb ? TFD_NONBLOCK : 0));
	if (h < 0) {
		*why = strerror(errno);
		return -1;
	}
	/* Setting the time clears the ticks: they go last. */
	bool armed = o->its.it_value.tv_sec || o->its.it_value.tv_nsec;
	/* An absolute time already past is due at once. */
	if (armed && timerfd_settime(h, o->tflags, &o->its, NULL) < 0) {
		*why = strerror(errno);
		close(h);
		return -1;
	}
	if (o->count && ioctl(h, TFD_IOC_SET_TICKS, &o->count) < 0) {
		*why = errno == ENOTTY ? "the host kernel cannot set a timer's "
					 "expirations (TFD_IOC_SET_TICKS)"
				       : strerror(errno);
		close(h);
		return -1;
	}
	return h;
}

int lx_fdobj_make(struct lx_proc *p, const struct lx_fdobj *o, int flags,
		  const char **why)
{
	int nb = flags & O_NONBLOCK;
	int h;
	switch (o->type) {
	case LX_OBJ_EVENTFD: return make_eventfd(o, nb, why);
	case LX_OBJ_TIMERFD: return make_timerfd(o, nb, why);
	case LX_OBJ_EPOLL:
		h = epoll_create1(EPOLL_CLOEXEC);
		if (h >= 0 && nb)
			fcntl(h, F_SETFL, O_NONBLOCK);
		break;
	case LX_OBJ_SIGNALFD:
		h = lx_sigfd_restore(p, o->mask, nb ? SFD_NONBLOCK : 0);
		if (h < 0)
			errno = -h;
		break;
	default: *why = "not a file"; return -1;
	}
	if (h < 0)
		*why = strerror(errno);
	return h;
}

int lx_fdobj_link(struct lx_proc *p, long gfd, const struct lx_fdobj *o)
{
	struct lx_fd *ep = lx_fd_get(p, gfd);
	if (o->type != LX_OBJ_EPOLL || !ep)
		return 0;
	if (o->lost)
		msg("restore: fd %ld (an epoll): %u of its registrations were "
		    "of "
		    "fds closed since, and are gone",
		    gfd, o->lost);
	for (uint32_t i = 0; i < o->nreg; i++) {
		struct lx_fd *f = lx_fd_get(p, o->reg[i].gfd);
		struct epoll_event ev = {.events = o->reg[i].events,
					 .data.u64 = o->reg[i].data};
		if (!f ||
		    epoll_ctl(ep->host, EPOLL_CTL_ADD, f->host, &ev) < 0) {
			msg("restore: fd %ld (an epoll): cannot register fd %d "
			    "again: %s",
			    gfd, o->reg[i].gfd,
			    f ? strerror(errno) : "no such fd");
			return -1;
		}
	}
	return 0;
}
