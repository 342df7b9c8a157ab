/* Sending and receiving on sockets: sendto, recvfrom, sendmsg, recvmsg,
 * sendmmsg, recvmmsg.
 *
 * Data goes straight between the host socket and checked guest buffers.
 * Control messages are copied into the monitor first, so that what the
 * host sees (and what the monitor reads back) cannot change under it:
 * SCM_RIGHTS carries guest fds out as their host fds, and host fds
 * received come in as new guest fds. Other control messages hold no
 * pointers and no descriptors and pass as data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lx/net.h"
#include "util.h"

#define MAX_RW 0x7ffff000ULL /* Linux's MAX_RW_COUNT */
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define CTL_MAX	   65536 /* control bytes per call (Linux: optmem_max) */
#define SCM_MAX_FD 253	 /* fds per SCM_RIGHTS message, as Linux */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

/* struct msghdr and struct mmsghdr as the guest lays them out. */
struct lx_msghdr {
	uint64_t name;
	int32_t namelen, pad0;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad1;
};
struct lx_mmsghdr {
	struct lx_msghdr hdr;
	uint32_t len, pad;
};
_Static_assert(sizeof(struct lx_msghdr) == 56, "x86-64 struct msghdr");
_Static_assert(sizeof(struct lx_mmsghdr) == 64, "x86-64 struct mmsghdr");

/* One message's buffers, in host memory or checked guest memory. */
struct msg {
	struct msghdr h;
	struct lx_addr addr;
	struct iovec *iov;
	void *ctl;
	void *gctl; /* the guest's control buffer (recv) */
};

static int msg_iov(struct lx_thread *t, struct msg *m, uint64_t gva, uint64_t n,
		   bool wr)
{
	if (n > UIO_MAXIOV)
		return -EMSGSIZE;
	m->iov = calloc(MAX(n, 1), sizeof(*m->iov));
	if (!m->iov)
		return -ENOMEM;
	int r = lx_get_iov(t, gva, n, wr, m->iov);
	if (r < 0)
		return r;
	m->h.msg_iov = m->iov;
	m->h.msg_iovlen = (size_t)r;
	return 0;
}

static void msg_put(struct msg *m)
{
	lx_addr_put(&m->addr);
	free(m->iov);
	free(m->ctl);
}

/* ---- control messages ---- */

static bool cmsg_is_fds(const struct cmsghdr *c)
{
	return c->cmsg_level == SOL_SOCKET &&
	       (c->cmsg_type == SCM_RIGHTS || c->cmsg_type == SCM_PIDFD);
}

static int nfds_of(const struct cmsghdr *c)
{
	return (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
}

/* Guest fds in SCM_RIGHTS become the host fds behind them. */
static int ctl_out(struct lx_thread *t, struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		size_t room = h->msg_controllen -
			      ((char *)c - (char *)h->msg_control);
		if (c->cmsg_len < sizeof(*c) || c->cmsg_len > room)
			return -EINVAL;
		if (!cmsg_is_fds(c))
			continue;
		if (c->cmsg_type != SCM_RIGHTS || nfds_of(c) > SCM_MAX_FD)
			return -EINVAL;
		int *fd = (int *)CMSG_DATA(c);
		for (int i = 0; i < nfds_of(c); i++) {
			struct lx_fd *f = lx_fd_get(t->p, fd[i]);
			if (!f)
				return -EBADF;
			fd[i] = f->host;
		}
	}
	return 0;
}

static int msg_ctl_out(struct lx_thread *t, struct msg *m, uint64_t gva,
		       uint64_t len)
{
	if (len == 0)
		return 0;
	if (len > CTL_MAX)
		return -ENOBUFS;
	const void *g = gm_user(&t->p->vm, gva, len, GM_READ);
	if (!g)
		return -EFAULT;
	if (!(m->ctl = malloc(len)))
		return -ENOMEM;
	memcpy(m->ctl, g, len);
	m->h.msg_control = m->ctl;
	m->h.msg_controllen = len;
	return ctl_out(t, &m->h);
}

/* Host fds received become guest fds; on EMFILE the rest are closed and
 * the message ends there with MSG_CTRUNC, as Linux does. */
static void ctl_in_fds(struct lx_thread *t, struct msghdr *h, struct cmsghdr *c,
		       int fdflags)
{
	int *fd = (int *)CMSG_DATA(c), n = nfds_of(c), i = 0;
	bool ok = c->cmsg_type == SCM_RIGHTS; /* a pidfd is the host's */
	for (; ok && i < n; i++) {
		int g = lx_fd_install(t->p, fd[i], fdflags,
				      lx_fd_kind_of(fd[i]), NULL, 0);
		if (g < 0)
			break; /* fd[i] was closed by the install */
		fd[i] = g;
	}
	if (i == n)
		return;
	for (int j = ok ? i + 1 : 0; j < n; j++)
		close(fd[j]);
	c->cmsg_len = CMSG_LEN(i * sizeof(int));
	h->msg_controllen = (char *)c - (char *)h->msg_control +
			    (i ? CMSG_SPACE(i * sizeof(int)) : 0);
	h->msg_flags |= MSG_CTRUNC;
}

static void ctl_in(struct lx_thread *t, struct msghdr *h, int fdflags)
{
	if (h->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (!cmsg_is_fds(c))
			continue;
		size_t before = h->msg_controllen;
		ctl_in_fds(t, h, c, fdflags);
		if (h->msg_controllen != before)
			break;
	}
}

/* Checks the guest's control buffer and makes a host one of its size. */
static int msg_ctl_in(struct lx_thread *t, struct msg *m, uint64_t gva,
		      uint64_t len)
{
	len = MIN(len, CTL_MAX);
	if (len == 0)
		return 0;
	if (!(m->gctl = gm_user(&t->p->vm, gva, len, GM_WRITE)))
		return -EFAULT;
	if (!(m->ctl = calloc(1, len)))
		return -ENOMEM;
	m->h.msg_control = m->ctl;
	m->h.msg_controllen = len;
	return 0;
}

/* ---- send ---- */

static long send_msg(struct lx_thread *t, struct lx_fd *f,
		     const struct lx_msghdr *g, int flags)
{
	struct msg m = {.addr.hold = -1};
	int err = 0;
	if (g->name && g->namelen) {
		uint64_t len = g->namelen < 0 ? (uint64_t)-1
					      : MIN((uint64_t)g->namelen,
						    sizeof(m.addr.ss));
		err = lx_addr_in(t, g->name, len, ADDR_DEST, &m.addr);
		m.h.msg_name = &m.addr.ss;
		m.h.msg_namelen = m.addr.len;
	}
	if (!err)
		err = msg_iov(t, &m, g->iov, g->iovlen, true);
	if (!err)
		err = msg_ctl_out(t, &m, g->control, g->controllen);
	ssize_t r = err;
	if (!err)
		r = lx_block(SYS_sendmsg, f->host, (long)&m.h, flags, 0, 0, 0);
	msg_put(&m);
	return r;
}

/* sendto and recvfrom: the socket of a[0] and the one buffer (a[1], a[2]),
 * checked for reading (GM_READ) or for writing. */
static int one_buffer(struct lx_thread *t, const uint64_t *a,
		      enum gm_access access, struct lx_fd **f,
		      struct iovec *iov)
{
	int err = lx_sock_get(t, a[0], f);
	if (err)
		return err;
	*iov = (struct iovec){0, MIN(a[2], MAX_RW)};
	if (iov->iov_len &&
	    !(iov->iov_base = gm_user(&t->p->vm, a[1], iov->iov_len, access)))
		return -EFAULT;
	return 0;
}

LX_SYS(sendto)
{
	struct lx_fd *f;
	struct iovec iov;
	int err = one_buffer(t, a, GM_READ, &f, &iov);
	if (err)
		return err;
	struct lx_addr ad = {.hold = -1};
	if (a[4] && (err = lx_addr_in(t, a[4], a[5], ADDR_DEST, &ad)) < 0) {
		lx_addr_put(&ad);
		return err;
	}
	struct msghdr h = {.msg_name = a[4] ? &ad.ss : NULL,
			   .msg_namelen = a[4] ? ad.len : 0,
			   .msg_iov = &iov,
			   .msg_iovlen = 1};
	ssize_t r =
		lx_block(SYS_sendmsg, f->host, (long)&h, (int)a[3], 0, 0, 0);
	lx_addr_put(&ad);
	return r;
}

LX_SYS(sendmsg)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	const struct lx_msghdr *g =
		gm_user(&t->p->vm, a[1], sizeof(*g), GM_READ);
	if (!g)
		return -EFAULT;
	struct lx_msghdr copy = *g;
	return send_msg(t, f, &copy, (int)a[2]);
}

LX_SYS(sendmmsg)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	uint64_t n = MIN(a[2], UIO_MAXIOV), i;
	for (i = 0; i < n; i++) {
		struct lx_mmsghdr *g = gm_user(&t->p->vm, a[1] + i * sizeof(*g),
					       sizeof(*g), GM_WRITE);
		long r = g ? 0 : -EFAULT;
		if (g) {
			struct lx_msghdr copy = g->hdr;
			r = send_msg(t, f, &copy, (int)a[3]);
		}
		if (r < 0)
			return i ? (long)i : r;
		g->len = (uint32_t)r;
	}
	return (long)i;
}

/* ---- receive ---- */

/* The guest msghdr g is in guest memory and gets the results. */
static long recv_msg(struct lx_thread *t, struct lx_fd *f, struct lx_msghdr *g,
		     int flags)
{
	struct lx_msghdr in = *g;
	struct msg m = {.addr.hold = -1};
	void *gname = NULL;
	if (in.name && in.namelen < 0)
		return -EINVAL;
	socklen_t room = in.name ? (socklen_t)in.namelen : 0;
	if (room && !(gname = gm_user(&t->p->vm, in.name, room, GM_WRITE)))
		return -EFAULT;
	int err = msg_iov(t, &m, in.iov, in.iovlen, false);
	if (!err)
		err = msg_ctl_in(t, &m, in.control, in.controllen);
	ssize_t r = err;
	m.h.msg_name = &m.addr.ss;
	m.h.msg_namelen = sizeof(m.addr.ss);
	if (!err)
		r = lx_block(SYS_recvmsg, f->host, (long)&m.h,
			     flags | MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r >= 0) {
		ctl_in(t, &m.h, flags & MSG_CMSG_CLOEXEC ? FD_CLOEXEC : 0);
		if (m.h.msg_controllen)
			memcpy(m.gctl, m.ctl, m.h.msg_controllen);
		socklen_t len =
			lx_addr_guest(f, &m.addr.ss, m.h.msg_namelen, false);
		if (in.name) {
			lx_addr_copy_out(gname, room, &m.addr.ss, len);
			g->namelen = (int32_t)len;
		}
		g->controllen = m.h.msg_controllen;
		g->flags = m.h.msg_flags;
	}
	msg_put(&m);
	return r;
}

LX_SYS(recvfrom)
{
	struct lx_fd *f;
	struct iovec iov;
	int err = one_buffer(t, a, GM_WRITE, &f, &iov);
	if (err)
		return err;
	int *lenp = NULL;
	void *buf = NULL;
	/* The length is read once: another guest thread may change it
	 * between the check of the buffer and the copy. */
	int room = 0;
	if (a[4]) {
		if (!(lenp = gm_user(&t->p->vm, a[5], sizeof(int), GM_WRITE)))
			return -EFAULT;
		room = __atomic_load_n(lenp, __ATOMIC_RELAXED);
		if (room < 0)
			return -EINVAL;
		buf = gm_user(&t->p->vm, a[4], (uint64_t)room, GM_WRITE);
		if (room && !buf)
			return -EFAULT;
	}
	struct sockaddr_storage ss = {0};
	struct msghdr h = {.msg_name = &ss,
			   .msg_namelen = sizeof(ss),
			   .msg_iov = &iov,
			   .msg_iovlen = 1};
	ssize_t r = lx_block(SYS_recvmsg, f->host, (long)&h,
			     (int)a[3] & ~MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (r < 0)
		return r;
	if (lenp) {
		socklen_t len = lx_addr_guest(f, &ss, h.msg_namelen, false);
		lx_addr_copy_out(buf, (socklen_t)room, &ss, len);
		*lenp = (int)len;
	}
	return r;
}

LX_SYS(recvmsg)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct lx_msghdr *g = gm_user(&t->p->vm, a[1], sizeof(*g), GM_WRITE);
	if (!g)
		return -EFAULT;
	return recv_msg(t, f, g, (int)a[2]);
}

static bool past(const struct timespec *end)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end->tv_sec ||
	       (now.tv_sec == end->tv_sec && now.tv_nsec >= end->tv_nsec);
}

/* As on Linux, the timeout is looked at only after each message. */
LX_SYS(recvmmsg)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	int flags = (int)a[3];
	struct timespec end;
	if (a[4]) {
		if ((err = lx_get_timespec(t, a[4], &end)) < 0)
			return err;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		end.tv_sec +=
			now.tv_sec + (end.tv_nsec + now.tv_nsec) / 1000000000L;
		end.tv_nsec = (end.tv_nsec + now.tv_nsec) % 1000000000L;
	}
	uint64_t n = MIN(a[2], UIO_MAXIOV), i;
	for (i = 0; i < n; i++) {
		struct lx_mmsghdr *g = gm_user(&t->p->vm, a[1] + i * sizeof(*g),
					       sizeof(*g), GM_WRITE);
		long r = g ? recv_msg(t, f, &g->hdr, flags) : -EFAULT;
		if (r < 0)
			return i ? (long)i : r;
		g->len = (uint32_t)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (a[4] && past(&end))
			return (long)i + 1;
	}
	return (long)i;
}
