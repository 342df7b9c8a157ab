/* Event descriptors: epoll, eventfd and timerfd, all host objects on the
 * guest's host fds; and lx_wait, the blocking host call under the guest's
 * signal rules that epoll_wait (and signalfd's read) use.
 *
 * An epoll instance is a host epoll fd. epoll_ctl registers the host fd
 * behind a guest fd, so the host kernel keys the interest on that fd's
 * open file description, as Linux keys it on the guest's: a guest dup of
 * the fd is a host dup of the same description, and closing one of two
 * duplicates leaves the registration in place, exactly as on Linux. One
 * difference: the guest's stdin, stdout and stderr are duplicates of the
 * monitor's own, so a registration of them outlives the guest's last close
 * (the monitor still holds the description).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define BIT(sig)    (1ULL << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))
/* Linux's EP_MAX_EVENTS; the monitor takes at most EPOLL_BATCH per call
 * (the rest stay ready for the next). */
#define EP_MAX_EVENTS ((int)(INT_MAX / sizeof(struct epoll_event)))
#define EPOLL_BATCH   256
#define NSEC	      1000000000L

/* ---- waiting under the guest's signal rules ---- */

static bool must_stop(struct lx_thread *t)
{
	return t->p->task.exited || t->exiting || lx_held(t->p) ||
	       (lx_signal_pending(t) & ~t->sigmask);
}

static struct timespec ts_sub(struct timespec a, struct timespec b)
{
	struct timespec r = {a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec};
	if (r.tv_nsec < 0) {
		r.tv_sec--;
		r.tv_nsec += NSEC;
	}
	if (r.tv_sec < 0)
		r = (struct timespec){0, 0};
	return r;
}

/* Every host signal interrupts the host call (the monitor catches them
 * all), but only one the guest does not block may end it with EINTR; for
 * the others the call goes on with the time left. Host signals are held
 * from the check until the host call unblocks them atomically (hmask), so
 * one that comes in between is not lost. */
static long wait_loop(struct lx_thread *t, const struct timespec *timeout,
		      lx_wait_fn fn, void *arg)
{
	struct timespec end = {0, 0}, now, left = {0, 0};
	/* Beyond a century is forever (and end cannot overflow). */
	if (timeout && timeout->tv_sec > 100LL * 365 * 86400)
		timeout = NULL;
	if (timeout) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		end = (struct timespec){now.tv_sec + timeout->tv_sec,
					now.tv_nsec + timeout->tv_nsec};
		if (end.tv_nsec >= NSEC) {
			end.tv_sec++;
			end.tv_nsec -= NSEC;
		}
		left = *timeout;
	}
	sigset_t all, hold;
	sigfillset(&all);
	const struct timespec zero = {0, 0};
	for (;;) {
		pthread_sigmask(SIG_BLOCK, &all, &hold);
		/* With a signal to deliver, what is ready still comes first,
		 * as on Linux; only an empty result becomes EINTR. */
		bool stop = must_stop(t);
		long r = fn(arg, stop ? &zero : timeout ? &left : NULL, &hold);
		pthread_sigmask(SIG_SETMASK, &hold, NULL);
		if (stop && r == 0)
			r = -EINTR;
		if (r != -EINTR || must_stop(t))
			return r;
		if (timeout) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = ts_sub(end, now);
		}
	}
}

long lx_wait(struct lx_thread *t, const uint64_t *mask,
	     const struct timespec *timeout, lx_wait_fn fn, void *arg)
{
	uint64_t old = t->sigmask;
	if (mask)
		t->sigmask = *mask & ~UNBLOCKABLE;
	long r = wait_loop(t, timeout, fn, arg);
	if (mask && r == -EINTR && (lx_signal_pending(t) & ~t->sigmask)) {
		/* As for sigsuspend: the handler runs under the call's mask,
		 * and its sigreturn restores the caller's. */
		t->saved_mask = old;
		t->saved_mask_valid = true;
	} else {
		t->sigmask = old;
	}
	return r;
}

/* A guest sigset argument: NULL, or 8 bytes (-EINVAL otherwise). */
static int get_sigmask(struct lx_thread *t, uint64_t gva, uint64_t size,
		       uint64_t *out, const uint64_t **mask)
{
	*mask = NULL;
	if (!gva)
		return 0;
	if (size != 8)
		return -EINVAL;
	const uint64_t *g = gm_user(&t->p->vm, gva, 8, GM_READ);
	if (!g)
		return -EFAULT;
	*out = *g;
	*mask = out;
	return 0;
}

/* ---- epoll ---- */

static long epoll_new(struct lx_thread *t, uint64_t flags)
{
	if (flags & ~(uint64_t)EPOLL_CLOEXEC)
		return -EINVAL;
	int h = epoll_create1(EPOLL_CLOEXEC);
	if (h < 0)
		return -errno;
	return lx_fd_install(t->p, h, flags ? FD_CLOEXEC : 0, LX_FD_OTHER, NULL,
			     0);
}

LX_SYS(epoll_create)
{
	return (int)a[0] <= 0 ? -EINVAL : epoll_new(t, 0);
}

LX_SYS(epoll_create1)
{
	return epoll_new(t, a[0]);
}

LX_SYS(epoll_ctl)
{
	int op = (int)a[1];
	struct epoll_event ev = {0};
	if (op != EPOLL_CTL_DEL) {
		const struct epoll_event *g =
			gm_user(&t->p->vm, a[3], sizeof(ev), GM_READ);
		if (!g)
			return -EFAULT;
		ev = *g; /* events and the opaque 64-bit data */
	}
	struct lx_fd *ep = lx_fd_get(t->p, (int)a[0]);
	struct lx_fd *f = lx_fd_get(t->p, (int)a[2]);
	if (!ep || !f)
		return -EBADF;
	/* An fd that is the epoll itself (or a dup of it), or that is no
	 * epoll, the host refuses with Linux's EINVAL. */
	return epoll_ctl(ep->host, op, f->host, &ev) < 0 ? -errno : 0;
}

struct epoll_call {
	int fd, max;
	struct epoll_event ev[EPOLL_BATCH];
};

static long epoll_fn(void *arg, const struct timespec *left,
		     const sigset_t *hmask)
{
	struct epoll_call *c = arg;
	int r = epoll_pwait2(c->fd, c->ev, c->max, left, hmask);
	return r < 0 ? -errno : r;
}

/* epoll_wait and its variants; timeout NULL waits for ever. */
static long do_epoll_wait(struct lx_thread *t, const uint64_t *a,
			  const struct timespec *timeout, const uint64_t *mask)
{
	int max = (int)a[2];
	if (max <= 0 || max > EP_MAX_EVENTS)
		return -EINVAL;
	struct epoll_call c = {.max = MIN(max, EPOLL_BATCH)};
	size_t bytes = (size_t)c.max * sizeof(struct epoll_event);
	if (!gm_user(&t->p->vm, a[1], bytes, GM_WRITE))
		return -EFAULT;
	struct lx_fd *ep = lx_fd_get(t->p, (int)a[0]);
	if (!ep)
		return -EBADF;
	c.fd = ep->host;
	long r = lx_wait(t, mask, timeout, epoll_fn, &c);
	if (r <= 0)
		return r;
	/* Checked again: another thread may have unmapped it meanwhile. */
	void *out = gm_user(&t->p->vm, a[1], r * sizeof(c.ev[0]), GM_WRITE);
	if (!out)
		return -EFAULT;
	memcpy(out, c.ev, r * sizeof(c.ev[0]));
	return r;
}

static const struct timespec *ms_timeout(int ms, struct timespec *ts)
{
	if (ms < 0)
		return NULL;
	*ts = (struct timespec){ms / 1000, (ms % 1000) * 1000000L};
	return ts;
}

LX_SYS(epoll_wait)
{
	struct timespec ts;
	return do_epoll_wait(t, a, ms_timeout((int)a[3], &ts), NULL);
}

LX_SYS(epoll_pwait)
{
	uint64_t m;
	const uint64_t *mask;
	struct timespec ts;
	int err = get_sigmask(t, a[4], a[5], &m, &mask);
	if (err)
		return err;
	return do_epoll_wait(t, a, ms_timeout((int)a[3], &ts), mask);
}

LX_SYS(epoll_pwait2)
{
	uint64_t m;
	const uint64_t *mask;
	struct timespec ts;
	if (a[3]) {
		int err = lx_get_timespec(t, a[3], &ts);
		if (err)
			return err;
	}
	int err = get_sigmask(t, a[4], a[5], &m, &mask);
	if (err)
		return err;
	return do_epoll_wait(t, a, a[3] ? &ts : NULL, mask);
}

/* ---- eventfd ---- */

LX_SYS(eventfd2)
{
	uint64_t flags = a[1];
	if (flags & ~(uint64_t)(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	int h = eventfd((unsigned)a[0], (int)flags | EFD_CLOEXEC);
	if (h < 0)
		return -errno;
	long r = lx_fd_install(t->p, h, flags & EFD_CLOEXEC ? FD_CLOEXEC : 0,
			       LX_FD_OTHER, NULL, 0);
	struct lx_fd *f = r >= 0 ? lx_fd_get(t->p, r) : NULL;
	if (f)
		f->efd = flags & EFD_SEMAPHORE ? LX_EFD_SEM : LX_EFD_PLAIN;
	return r;
}

LX_SYS(eventfd)
{
	const uint64_t b[2] = {a[0], 0};
	return lx_sys_eventfd2(t, b);
}

/* ---- timerfd ---- */

#define CLOCK_REALTIME_ALARM_LX 8
#define CLOCK_BOOTTIME_ALARM_LX 9

LX_SYS(timerfd_create)
{
	uint64_t flags = a[1];
	if (flags & ~(uint64_t)(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	switch (a[0]) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME: break;
	/* Waking the machine needs CAP_WAKE_ALARM, never a guest's. */
	case CLOCK_REALTIME_ALARM_LX:
	case CLOCK_BOOTTIME_ALARM_LX: return -EPERM;
	default: return -EINVAL;
	}
	int h = timerfd_create((int)a[0], (int)flags | TFD_CLOEXEC);
	if (h < 0)
		return -errno;
	return lx_fd_install(t->p, h, flags & TFD_CLOEXEC ? FD_CLOEXEC : 0,
			     LX_FD_OTHER, NULL, 0);
}

LX_SYS(timerfd_settime)
{
	struct itimerspec nv, ov;
	const struct itimerspec *g =
		gm_user(&t->p->vm, a[2], sizeof(nv), GM_READ);
	if (!g)
		return -EFAULT;
	nv = *g;
	struct lx_fd *f = lx_fd_get(t->p, (int)a[0]);
	if (!f)
		return -EBADF;
	if (timerfd_settime(f->host, (int)a[1], &nv, &ov) < 0)
		return -errno;
	if (!a[3])
		return 0;
	/* Linux sets the timer before it copies the old value out. */
	void *o = gm_user(&t->p->vm, a[3], sizeof(ov), GM_WRITE);
	if (!o)
		return -EFAULT;
	memcpy(o, &ov, sizeof(ov));
	return 0;
}

LX_SYS(timerfd_gettime)
{
	struct itimerspec cur;
	struct lx_fd *f = lx_fd_get(t->p, (int)a[0]);
	if (!f)
		return -EBADF;
	if (timerfd_gettime(f->host, &cur) < 0)
		return -errno;
	void *o = gm_user(&t->p->vm, a[1], sizeof(cur), GM_WRITE);
	if (!o)
		return -EFAULT;
	memcpy(o, &cur, sizeof(cur));
	return 0;
}
