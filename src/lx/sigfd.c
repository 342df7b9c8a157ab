/* signalfd: a monitor object, since guest signals are the monitor's
 * (signal.c) and a host signalfd would never see them.
 *
 * The guest's fd is one end of a host datagram socketpair; the monitor
 * keeps the other end (above the guest's fd range) and sends a byte
 * whenever a signal in the object's mask arrives, so host poll, select and
 * epoll see the guest fd readable the moment a signal is pending. read()
 * does not reach the socket: it drains it, dequeues pending signals in the
 * mask from the guest's pending sets and writes one struct
 * signalfd_siginfo (128 bytes) each. Objects are found by the socket's
 * inode, which every duplicate of the guest fd shares.
 *
 * Differences from Linux: readiness counts the signals pending for any
 * thread of the process (Linux: for the thread that polls); fstat shows a
 * socket, not an anonymous inode; readv, splice and friends on it fail
 * with EINVAL; at most SIGFD_MAX live signalfds per process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define BIT(sig)    (1ULL << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))
#define SIGFD_MAX   128
#define SSI_SIZE    sizeof(struct signalfd_siginfo)
#define READ_MAX    32 /* signals one read dequeues at most */

_Static_assert(sizeof(struct signalfd_siginfo) == 128, "signalfd_siginfo");

/* Read by the host signal handler: `busy` tells a slot's release that a
 * handler is looking at it, so its fd is never closed under a send. */
struct sigfd {
	_Atomic bool used;
	_Atomic int busy;
	_Atomic uint64_t mask;
	int wfd;   /* the monitor's end */
	ino_t ino; /* the socket the guest's end is */
};

static struct sigfd sigfds[SIGFD_MAX];
static pthread_mutex_t sigfd_lock = PTHREAD_MUTEX_INITIALIZER;

static void poke(struct sigfd *s)
{
	char b = 0;
	send(s->wfd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* From the host signal handler too: only async-signal-safe calls. */
void lx_sigfd_notify(int sig)
{
	for (int i = 0; i < SIGFD_MAX; i++) {
		struct sigfd *s = &sigfds[i];
		if (!atomic_load(&s->used))
			continue;
		atomic_fetch_add(&s->busy, 1);
		if (atomic_load(&s->used) && (atomic_load(&s->mask) & BIT(sig)))
			poke(s);
		atomic_fetch_sub(&s->busy, 1);
	}
}

static ino_t ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) < 0 ? 0 : st.st_ino;
}

static struct sigfd *find(int host)
{
	ino_t ino = ino_of(host);
	for (int i = 0; ino && i < SIGFD_MAX; i++)
		if (atomic_load(&sigfds[i].used) && sigfds[i].ino == ino)
			return &sigfds[i];
	return NULL;
}

/* Whether a guest fd still refers to the object. With fd_lock held. */
static bool referenced(struct lx_proc *p, const struct sigfd *s)
{
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used && p->fdt.slot[i].kind == LX_FD_SFD &&
		    ino_of(p->fdt.slot[i].host) == s->ino)
			return true;
	return false;
}

/* Releases the objects the guest has closed every fd of. With sigfd_lock
 * held. */
static void collect_garbage(struct lx_proc *p)
{
	pthread_mutex_lock(&p->fdt.lock);
	for (int i = 0; i < SIGFD_MAX; i++) {
		struct sigfd *s = &sigfds[i];
		if (!atomic_load(&s->used) || referenced(p, s))
			continue;
		atomic_store(&s->used, false);
		while (atomic_load(&s->busy))
			sched_yield();
		close(s->wfd);
	}
	pthread_mutex_unlock(&p->fdt.lock);
}

/* A new socketpair for slot s: returns the guest's end, or -errno. */
static int new_pair(struct sigfd *s)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* The guest's end only ever receives. */
	shutdown(sv[0], SHUT_WR);
	s->wfd = fd_high(sv[1]);
	s->ino = ino_of(sv[0]);
	return sv[0];
}

/* A new object with `mask`: the guest's end (a host fd, not installed),
 * or -errno; *sp its slot. */
static int sigfd_new(struct lx_proc *p, uint64_t mask, int flags,
		     struct sigfd **sp)
{
	pthread_mutex_lock(&sigfd_lock);
	collect_garbage(p);
	struct sigfd *s = NULL;
	for (int i = 0; !s && i < SIGFD_MAX; i++)
		if (!atomic_load(&sigfds[i].used))
			s = &sigfds[i];
	int g = s ? new_pair(s) : -EMFILE;
	if (g >= 0) {
		atomic_store(&s->mask, mask);
		atomic_store(&s->used, true);
	}
	pthread_mutex_unlock(&sigfd_lock);
	if (g >= 0 && (flags & SFD_NONBLOCK) &&
	    fcntl(g, F_SETFL, O_NONBLOCK) < 0) {
		int e = -errno;
		close(g);
		return e;
	}
	*sp = s;
	return g;
}

static long sigfd_create(struct lx_thread *t, uint64_t mask, int flags)
{
	struct sigfd *s;
	int g = sigfd_new(t->p, mask, flags, &s);
	if (g < 0)
		return g;
	long r = lx_fd_install(t->p, g, flags & SFD_CLOEXEC ? FD_CLOEXEC : 0,
			       LX_FD_SFD, NULL, 0);
	if (r >= 0 && (lx_signal_pending(t) & mask))
		poke(s);
	return r;
}

bool lx_sigfd_mask(int host, uint64_t *mask)
{
	struct sigfd *s = find(host);
	if (s)
		*mask = atomic_load(&s->mask);
	return s != NULL;
}

int lx_sigfd_restore(struct lx_proc *p, uint64_t mask, int flags)
{
	struct sigfd *s;
	int g = sigfd_new(p, mask & ~UNBLOCKABLE, flags, &s);
	/* The process's pending signals are back already (the signal
	 * subsystem comes before the fds); the threads' own come later and
	 * poke it then (threadstate.c). */
	if (g >= 0 && (p->sig.pending & mask))
		poke(s);
	return g;
}

LX_SYS(signalfd4)
{
	int flags = (int)a[3];
	if (a[3] & ~(uint64_t)(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	if (a[2] != 8)
		return -EINVAL;
	const uint64_t *g = gm_user(&t->p->vm, a[1], 8, GM_READ);
	if (!g)
		return -EFAULT;
	uint64_t mask = *g & ~UNBLOCKABLE;
	if ((int)a[0] == -1)
		return sigfd_create(t, mask, flags);
	struct lx_fd *f = lx_fd_get(t->p, (int)a[0]);
	if (!f)
		return -EBADF;
	struct sigfd *s = f->kind == LX_FD_SFD ? find(f->host) : NULL;
	if (!s)
		return -EINVAL;
	atomic_store(&s->mask, mask);
	if (lx_signal_pending(t) & mask)
		poke(s);
	return (int)a[0];
}

LX_SYS(signalfd)
{
	const uint64_t b[4] = {a[0], a[1], a[2], 0};
	return lx_sys_signalfd4(t, b);
}

/* ---- read ---- */

/* Takes the lowest pending signal in mask, the thread's own first, as
 * Linux's dequeue_signal does. */
static bool dequeue(struct lx_thread *t, uint64_t mask, siginfo_t *si)
{
	struct lx_proc *p = t->p;
	if (!(lx_signal_pending(t) & mask))
		return false;
	bool got = true;
	pthread_mutex_lock(&p->lock);
	uint64_t own = t->own_pending & mask, shared = p->sig.pending & mask;
	if (own) {
		int sig = __builtin_ctzll(own) + 1;
		t->own_pending &= ~BIT(sig);
		*si = t->own_info[sig];
		si->si_signo = sig;
	} else if (shared) {
		int sig = __builtin_ctzll(shared) + 1;
		if (sig >= 32 && p->sig.rt_extra[sig])
			p->sig.rt_extra[sig]--;
		else
			p->sig.pending &= ~BIT(sig);
		*si = p->sig.info[sig];
		si->si_signo = sig;
	} else {
		got = false;
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

static bool is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP;
}

/* What Linux's signalfd_copyinfo keeps of a siginfo, by its layout. */
static void fill(struct signalfd_siginfo *o, const siginfo_t *si)
{
	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)si->si_signo;
	o->ssi_errno = si->si_errno;
	o->ssi_code = si->si_code;
	if (si->si_code == SI_TIMER) {
		o->ssi_tid = (uint32_t)si->si_timerid;
		o->ssi_overrun = (uint32_t)si->si_overrun;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
	} else if (si->si_code > 0 && is_fault(si->si_signo)) {
		o->ssi_addr = (uint64_t)(uintptr_t)si->si_addr;
	} else if (si->si_code > 0 && si->si_signo == SIGCHLD) {
		o->ssi_pid = (uint32_t)si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_status = si->si_status;
		o->ssi_utime = (uint64_t)si->si_utime;
		o->ssi_stime = (uint64_t)si->si_stime;
	} else if (si->si_code > 0 && si->si_signo == SIGPOLL) {
		o->ssi_band = (uint32_t)si->si_band;
		o->ssi_fd = si->si_fd;
	} else {
		o->ssi_pid = (uint32_t)si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_ptr;
		o->ssi_int = si->si_int;
	}
}

static void drain(int fd)
{
	char b[16];
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static long readable_fn(void *arg, const struct timespec *left,
			const sigset_t *hmask)
{
	struct pollfd pfd = {*(int *)arg, POLLIN, 0};
	int r = ppoll(&pfd, 1, left, hmask);
	return r < 0 ? -errno : r;
}

/* The signalfd_siginfo slots of buf the guest can take: as many whole
 * ones as are mapped, up to what count asks (0 if not even one). */
static uint64_t room(struct lx_thread *t, uint64_t buf, uint64_t count)
{
	uint64_t n = MIN(count / SSI_SIZE, READ_MAX);
	while (n && !gm_user(&t->p->vm, buf, n * SSI_SIZE, GM_WRITE))
		n--;
	return n;
}

long lx_sigfd_read(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		   uint64_t count)
{
	if (count < SSI_SIZE)
		return -EINVAL;
	struct sigfd *s = find(f->host);
	if (!s)
		return -EINVAL;
	/* As on Linux, a bad buffer loses the signal it was to take. */
	uint64_t n = MAX(room(t, buf, count), 1);
	struct signalfd_siginfo tmp[READ_MAX];
	int host = f->host;
	for (;;) {
		/* Drained before the check: a signal that comes after it
		 * sends a byte that stays. */
		drain(host);
		uint64_t mask = atomic_load(&s->mask), got = 0;
		siginfo_t si;
		while (got < n && dequeue(t, mask, &si))
			fill(&tmp[got++], &si);
		if (got) {
			if (lx_signal_pending(t) & mask)
				poke(s);
			void *out = gm_user(&t->p->vm, buf, got * SSI_SIZE,
					    GM_WRITE);
			if (!out)
				return -EFAULT;
			memcpy(out, tmp, got * SSI_SIZE);
			return (long)(got * SSI_SIZE);
		}
		if (fcntl(host, F_GETFL) & O_NONBLOCK)
			return -EAGAIN;
		long r = lx_wait(t, NULL, NULL, readable_fn, &host);
		if (r < 0)
			return r;
	}
}

/* In a fork's child: its signalfds read its own signals, so each gets a
 * socketpair of its own, put in place of the one shared with the parent
 * under every guest fd that refers to it. */
void lx_sigfd_fork(struct lx_proc *p)
{
	pthread_mutex_init(&sigfd_lock, NULL);
	for (int i = 0; i < SIGFD_MAX; i++) {
		struct sigfd *s = &sigfds[i];
		if (!atomic_load(&s->used))
			continue;
		struct sigfd old = {.wfd = s->wfd, .ino = s->ino};
		int g = new_pair(s);
		if (g < 0) {
			atomic_store(&s->used, false);
			continue;
		}
		for (int fd = 0; fd < p->fdt.top; fd++) {
			struct lx_fd *f = &p->fdt.slot[fd];
			if (!f->used || f->kind != LX_FD_SFD ||
			    ino_of(f->host) != old.ino)
				continue;
			int fl = fcntl(f->host, F_GETFL);
			dup3(g, f->host, O_CLOEXEC);
			if (fl >= 0)
				fcntl(f->host, F_SETFL, fl & O_NONBLOCK);
		}
		close(g);
		close(old.wfd);
	}
}
