/* Data transfer, descriptors and polling: read, write, dup, pipe, fcntl,
 * ioctl, poll, select. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define MAX_RW		    0x7ffff000ULL /* Linux's MAX_RW_COUNT */
#define IOV_MAX_LX	    1024
#define KERNEL_TERMIOS_SIZE 36 /* struct termios of <asm/termbits.h> */

static struct lx_fd *fd_or_null(struct lx_thread *t, uint64_t gfd)
{
	return lx_fd_get(t->p, (long)(int)gfd);
}

static long rw(struct lx_thread *t, const uint64_t *a, bool wr, bool at)
{
	struct lx_fd *f = fd_or_null(t, a[0]);
	if (!f)
		return -EBADF;
	const struct lx_fd_ops *ops = lx_fd_ops(f->kind);
	if (ops && (wr ? ops->write : ops->read))
		return (wr ? ops->write : ops->read)(t, f, a[1], a[2], at);
	uint64_t len = MIN(a[2], MAX_RW);
	void *h = gm_user(&t->p->vm, a[1], len, wr ? GM_READ : GM_WRITE);
	if (!h)
		return -EFAULT;
	if (at && (int64_t)a[3] < 0)
		return -EINVAL;
	if (lx_fd_may_block(f))
		/* A pipe, socket or terminal may wait for ever (block.c). */
		return lx_block(at ? (wr ? SYS_pwrite64 : SYS_pread64)
				   : (wr ? SYS_write : SYS_read),
				f->host, (long)h, (long)len, (long)a[3], 0, 0);
	ssize_t n;
	if (wr)
		n = at ? pwrite(f->host, h, len, (off_t)a[3])
		       : write(f->host, h, len);
	else
		n = at ? pread(f->host, h, len, (off_t)a[3])
		       : read(f->host, h, len);
	return n < 0 ? -errno : n;
}

LX_SYS(read)
{
	return rw(t, a, false, false);
}
LX_SYS(write)
{
	return rw(t, a, true, false);
}
LX_SYS(pread64)
{
	return rw(t, a, false, true);
}
LX_SYS(pwrite64)
{
	return rw(t, a, true, true);
}

/* Translates a guest iovec array into host iovecs, every buffer checked.
 * Like Linux, the total is capped at MAX_RW. Returns the count or -errno. */
int lx_get_iov(struct lx_thread *t, uint64_t gva, uint64_t cnt, bool wr,
	       struct iovec *out)
{
	if (cnt > IOV_MAX_LX)
		return -EINVAL;
	const uint64_t *g = gm_user(&t->p->vm, gva, cnt * 16, GM_READ);
	if (!g && cnt)
		return -EFAULT;
	uint64_t total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t base = g[2 * i], len = g[2 * i + 1];
		if ((int64_t)len < 0)
			return -EINVAL;
		len = MIN(len, MAX_RW - total);
		total += len;
		void *h = len ? gm_user(&t->p->vm, base, len,
					wr ? GM_READ : GM_WRITE)
			      : NULL;
		if (len && !h)
			return -EFAULT;
		out[i] = (struct iovec){h, len};
	}
	return (int)cnt;
}

static long rwv(struct lx_thread *t, const uint64_t *a, bool wr)
{
	struct lx_fd *f = fd_or_null(t, a[0]);
	if (!f)
		return -EBADF;
	const struct lx_fd_ops *ops = lx_fd_ops(f->kind);
	if (ops && (wr ? ops->writev : ops->readv))
		return (wr ? ops->writev : ops->readv)(t, f, a[1], a[2]);
	/* The count is checked before it sizes an allocation. */
	if (a[2] > IOV_MAX_LX)
		return -EINVAL;
	struct iovec *iov = calloc(MAX(a[2], 1), sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	int n = lx_get_iov(t, a[1], a[2], wr, iov);
	ssize_t r = n;
	if (n >= 0) {
		if (lx_fd_may_block(f))
			r = lx_block(wr ? SYS_writev : SYS_readv, f->host,
				     (long)iov, n, 0, 0, 0);
		else if ((r = wr ? writev(f->host, iov, n)
				 : readv(f->host, iov, n)) < 0)
			r = -errno;
	}
	free(iov);
	return r;
}

LX_SYS(readv)
{
	return rwv(t, a, false);
}
LX_SYS(writev)
{
	return rwv(t, a, true);
}

LX_SYS(lseek)
{
	struct lx_fd *f = fd_or_null(t, a[0]);
	if (!f)
		return -EBADF;
	off_t r = lseek(f->host, (off_t)a[1], (int)a[2]);
	return r < 0 ? -errno : r;
}

LX_SYS(close)
{
	return lx_fd_close(t->p, (long)(int)a[0]);
}

static char *dup_path(const struct lx_fd *f)
{
	return f->path ? strdup(f->path) : NULL;
}

/* Duplicates guest fd `old` to the lowest free fd >= min, or exactly at
 * `at` if at >= 0. */
static long do_dup(struct lx_thread *t, uint64_t old, long min, long at,
		   int fdflags)
{
	struct lx_fd *f = fd_or_null(t, old);
	if (!f)
		return -EBADF;
	int h = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
	if (h < 0)
		return -errno;
	struct lx_fd was = *f;
	long r = at >= 0 ? lx_fd_install_at(t->p, at, h, fdflags, f->kind,
					    dup_path(f))
			 : lx_fd_install(t->p, h, fdflags, f->kind, dup_path(f),
					 min);
	struct lx_fd *n = r >= 0 ? lx_fd_get(t->p, r) : NULL;
	if (n) {
		n->efd = was.efd;
		n->pair = was.pair;
		n->pair_end = was.pair_end;
	}
	return r;
}

LX_SYS(dup)
{
	return do_dup(t, a[0], 0, -1, 0);
}

LX_SYS(dup2)
{
	if (!fd_or_null(t, a[0]))
		return -EBADF;
	if ((int)a[1] < 0 || (uint64_t)(int)a[1] >= t->p->fdt.nofile_cur)
		return -EBADF;
	if ((int)a[0] == (int)a[1])
		return (int)a[1];
	return do_dup(t, a[0], 0, (int)a[1], 0);
}

LX_SYS(dup3)
{
	if (a[2] & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if ((int)a[0] == (int)a[1])
		return -EINVAL;
	if (!fd_or_null(t, a[0]))
		return -EBADF;
	if ((int)a[1] < 0 || (uint64_t)(int)a[1] >= t->p->fdt.nofile_cur)
		return -EBADF;
	return do_dup(t, a[0], 0, (int)a[1], a[2] & O_CLOEXEC ? FD_CLOEXEC : 0);
}

LX_SYS(pipe2)
{
	int flags = (int)a[1];
	if (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	int *out = gm_user(&t->p->vm, a[0], 2 * sizeof(int), GM_WRITE);
	if (!out)
		return -EFAULT;
	int h[2];
	if (pipe2(h, (flags & ~O_CLOEXEC) | O_CLOEXEC) < 0)
		return -errno;
	int fdf = flags & O_CLOEXEC ? FD_CLOEXEC : 0;
	int r = lx_fd_install(t->p, h[0], fdf, LX_FD_PIPE, NULL, 0);
	if (r < 0) {
		close(h[1]);
		return r;
	}
	int w = lx_fd_install(t->p, h[1], fdf, LX_FD_PIPE, NULL, 0);
	if (w < 0) {
		lx_fd_close(t->p, r);
		return w;
	}
	out[0] = r;
	out[1] = w;
	return 0;
}

LX_SYS(pipe)
{
	const uint64_t b[2] = {a[0], 0};
	return lx_sys_pipe2(t, b);
}

/* struct flock for the locking commands, checked in both directions. */
static long fcntl_lock(struct lx_thread *t, struct lx_fd *f, int cmd,
		       uint64_t arg)
{
	struct flock *fl = gm_user(&t->p->vm, arg, sizeof(*fl), GM_WRITE);
	if (!fl)
		return -EFAULT;
	struct flock copy = *fl;
	if (fcntl(f->host, cmd, &copy) < 0)
		return -errno;
	*fl = copy;
	return 0;
}

LX_SYS(fcntl)
{
	struct lx_fd *f = fd_or_null(t, a[0]);
	int cmd = (int)a[1];
	if (!f)
		return -EBADF;
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int64_t)(int)a[2] < 0 ||
		    (uint64_t)(int)a[2] >= t->p->fdt.nofile_cur)
			return -EINVAL;
		return do_dup(t, a[0], (int)a[2], -1,
			      cmd == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
	case F_GETFD: return f->fdflags;
	case F_SETFD: f->fdflags = (int)a[2] & FD_CLOEXEC; return 0;
	case F_GETFL: r = fcntl(f->host, F_GETFL); return r < 0 ? -errno : r;
	case F_SETFL:
		/* O_ASYNC would make the host signal the monitor; there is no
		 * SIGIO delivery to the guest yet, so it is refused. */
		if (a[2] & O_ASYNC)
			return -EINVAL;
		r = fcntl(f->host, F_SETFL, (int)a[2]);
		return r < 0 ? -errno : 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: return fcntl_lock(t, f, cmd, a[2]);
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
	case F_GET_SEALS:
	case F_ADD_SEALS:
		r = fcntl(f->host, cmd, (int)a[2]);
		return r < 0 ? -errno : r;
	}
	return -EINVAL;
}

/* The terminal ioctls reach the host only for a real terminal. */
static long tty_ioctl(struct lx_thread *t, struct lx_fd *f, unsigned long req,
		      uint64_t arg, size_t size, bool out)
{
	if (f->kind != LX_FD_TTY)
		return -ENOTTY;
	void *h = gm_user(&t->p->vm, arg, size, out ? GM_WRITE : GM_READ);
	if (!h)
		return -EFAULT;
	return ioctl(f->host, req, h) < 0 ? -errno : 0;
}

LX_SYS(ioctl)
{
	struct lx_fd *f = fd_or_null(t, a[0]);
	if (!f)
		return -EBADF;
	unsigned long req = (unsigned)a[1];
	int *ip;
	switch (req) {
	case TCGETS:
		return tty_ioctl(t, f, req, a[2], KERNEL_TERMIOS_SIZE, true);
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return tty_ioctl(t, f, req, a[2], KERNEL_TERMIOS_SIZE, false);
	case TIOCGWINSZ:
		return tty_ioctl(t, f, req, a[2], sizeof(struct winsize), true);
	case TIOCGPGRP:
	case TIOCGSID: {
		long r = tty_ioctl(t, f, req, a[2], sizeof(pid_t), true);
		pid_t *pg =
			r ? NULL
			  : gm_user(&t->p->vm, a[2], sizeof(pid_t), GM_WRITE);
		if (pg)
			*pg = lx_tree_guest_pid(t->p->task.tree, *pg);
		return r;
	}
	case TIOCSPGRP: {
		/* The foreground group must be one of the guest's own. */
		if (f->kind != LX_FD_TTY)
			return -ENOTTY;
		const pid_t *pg =
			gm_user(&t->p->vm, a[2], sizeof(pid_t), GM_READ);
		if (!pg)
			return -EFAULT;
		if (*pg <= 0)
			return -EINVAL;
		pid_t hg = lx_tree_host_pid(t->p->task.tree, *pg);
		if (hg != getpgrp() &&
		    (hg < 0 ||
		     lx_tree_signal_group(t->p->task.tree, hg, 0) < 0))
			return -EPERM;
		return tcsetpgrp(f->host, hg) < 0 ? -errno : 0;
	}
	case FIONREAD:
		if (f->kind == LX_FD_DIR || f->kind == LX_FD_PATH)
			return -ENOTTY;
		ip = gm_user(&t->p->vm, a[2], sizeof(int), GM_WRITE);
		if (!ip)
			return -EFAULT;
		return ioctl(f->host, FIONREAD, ip) < 0 ? -errno : 0;
	case FIONBIO: {
		ip = gm_user(&t->p->vm, a[2], sizeof(int), GM_READ);
		if (!ip)
			return -EFAULT;
		int fl = fcntl(f->host, F_GETFL);
		fl = *ip ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
		return fcntl(f->host, F_SETFL, fl) < 0 ? -errno : 0;
	}
	case FIOCLEX: f->fdflags |= FD_CLOEXEC; return 0;
	case FIONCLEX: f->fdflags &= ~FD_CLOEXEC; return 0;
	}
	if (f->kind == LX_FD_SOCK)
		return lx_sock_ioctl(t, f, req, a[2]);
	return -ENOTTY;
}

/* ---- poll and select: guest fds become host fds for one host poll ---- */

#define POLL_MAX 4096

struct poll_call {
	struct pollfd *h;
	uint64_t n;
};

static long poll_fn(void *arg, const struct timespec *left,
		    const sigset_t *hmask)
{
	struct poll_call *c = arg;
	int r = ppoll(c->h, c->n, left, hmask);
	return r < 0 ? -errno : r;
}

/* Polls nfds pollfds already in host memory (guest fds in .fd); rewrites
 * revents. ts NULL waits forever; mask (ppoll, pselect6) is the guest
 * signal mask while waiting, or NULL. */
static long poll_guest(struct lx_thread *t, struct pollfd *g, uint64_t n,
		       const struct timespec *ts, const uint64_t *mask)
{
	struct pollfd *h = calloc(MAX(n, 1), sizeof(*h));
	if (!h)
		return -ENOMEM;
	long ready = 0;
	for (uint64_t i = 0; i < n; i++) {
		h[i] = (struct pollfd){-1, g[i].events, 0};
		if (g[i].fd < 0)
			continue;
		struct lx_fd *f = lx_fd_get(t->p, g[i].fd);
		if (f)
			h[i].fd = f->host;
		else
			ready++;
	}
	struct timespec zero = {0, 0};
	struct poll_call c = {h, n};
	long r = lx_wait(t, mask, ready ? &zero : ts, poll_fn, &c);
	if (r < 0) {
		free(h);
		return r;
	}
	ready = 0;
	/* An fd the guest does not have went to the host as -1, which the
	 * host ignores; Linux reports it as POLLNVAL. */
	for (uint64_t i = 0; i < n; i++) {
		if (g[i].fd < 0)
			g[i].revents = 0;
		else
			g[i].revents = h[i].fd < 0 ? POLLNVAL : h[i].revents;
		if (g[i].revents)
			ready++;
	}
	free(h);
	return ready;
}

int lx_get_timespec(struct lx_thread *t, uint64_t gva, struct timespec *ts)
{
	const struct timespec *g = gm_user(&t->p->vm, gva, sizeof(*g), GM_READ);
	if (!g)
		return -EFAULT;
	*ts = *g;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -EINVAL;
	return 0;
}

static long do_poll(struct lx_thread *t, uint64_t fds, uint64_t n,
		    const struct timespec *ts, const uint64_t *mask)
{
	if (n > POLL_MAX || n > t->p->fdt.nofile_cur)
		return -EINVAL;
	struct pollfd *g = gm_user(&t->p->vm, fds, n * sizeof(*g), GM_WRITE);
	if (!g && n)
		return -EFAULT;
	return poll_guest(t, g, n, ts, mask);
}

LX_SYS(poll)
{
	int ms = (int)a[2];
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	return do_poll(t, a[0], a[1], ms < 0 ? NULL : &ts, NULL);
}

LX_SYS(ppoll)
{
	struct timespec ts;
	if (a[2]) {
		int err = lx_get_timespec(t, a[2], &ts);
		if (err)
			return err;
	}
	uint64_t mask;
	if (a[3] && a[4] != 8)
		return -EINVAL;
	if (a[3]) {
		const uint64_t *g = gm_user(&t->p->vm, a[3], 8, GM_READ);
		if (!g)
			return -EFAULT;
		mask = *g;
	}
	return do_poll(t, a[0], a[1], a[2] ? &ts : NULL, a[3] ? &mask : NULL);
}

/* select() over up to 1024 guest fds, served by one host poll. */
static long do_select(struct lx_thread *t, uint64_t nfds, uint64_t sets[3],
		      const struct timespec *ts, const uint64_t *mask)
{
	if ((int64_t)nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	size_t bytes = ALIGN_UP(nfds, 64) / 8;
	uint64_t *set[3] = {0};
	for (int s = 0; s < 3; s++)
		if (sets[s] && bytes &&
		    !(set[s] = gm_user(&t->p->vm, sets[s], bytes, GM_WRITE)))
			return -EFAULT;
	struct pollfd pfd[FD_SETSIZE];
	static const short ev[3] = {POLLIN, POLLOUT, POLLPRI};
	uint64_t n = 0;
	for (uint64_t fd = 0; fd < nfds; fd++) {
		short events = 0;
		for (int s = 0; s < 3; s++)
			if (set[s] && (set[s][fd / 64] >> (fd % 64) & 1))
				events |= ev[s];
		if (!events)
			continue;
		if (!lx_fd_get(t->p, (long)fd))
			return -EBADF;
		pfd[n++] = (struct pollfd){(int)fd, events, 0};
	}
	long r = poll_guest(t, pfd, n, ts, mask);
	if (r < 0)
		return r;
	for (int s = 0; s < 3; s++)
		if (set[s])
			memset(set[s], 0, bytes);
	long count = 0;
	static const short got[3] = {POLLIN | POLLHUP | POLLERR,
				     POLLOUT | POLLERR, POLLPRI};
	for (uint64_t i = 0; i < n; i++)
		for (int s = 0; s < 3; s++)
			if (set[s] && (pfd[i].events & ev[s]) &&
			    (pfd[i].revents & got[s])) {
				set[s][pfd[i].fd / 64] |= 1ULL
							  << (pfd[i].fd % 64);
				count++;
			}
	return count;
}

LX_SYS(select)
{
	uint64_t sets[3] = {a[1], a[2], a[3]};
	struct timespec ts;
	if (a[4]) {
		const struct timeval *tv =
			gm_user(&t->p->vm, a[4], sizeof(*tv), GM_READ);
		if (!tv)
			return -EFAULT;
		if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
			return -EINVAL;
		ts = (struct timespec){tv->tv_sec, tv->tv_usec * 1000};
	}
	return do_select(t, a[0], sets, a[4] ? &ts : NULL, NULL);
}

LX_SYS(pselect6)
{
	uint64_t sets[3] = {a[1], a[2], a[3]};
	struct timespec ts;
	if (a[4]) {
		int err = lx_get_timespec(t, a[4], &ts);
		if (err)
			return err;
	}
	/* The sixth argument points at {sigset pointer, its size}. */
	uint64_t mask = 0;
	const uint64_t *sig =
		a[5] ? gm_user(&t->p->vm, a[5], 16, GM_READ) : NULL;
	if (a[5] && !sig)
		return -EFAULT;
	if (sig && sig[0]) {
		if (sig[1] != 8)
			return -EINVAL;
		const uint64_t *g = gm_user(&t->p->vm, sig[0], 8, GM_READ);
		if (!g)
			return -EFAULT;
		mask = *g;
	}
	return do_select(t, a[0], sets, a[4] ? &ts : NULL,
			 sig && sig[0] ? &mask : NULL);
}
