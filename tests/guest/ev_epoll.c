/* epoll on a pipe and an eventfd: readiness, the opaque data, timeouts,
 * EINTR by a signal (never restarted), a blocked signal that does not end
 * the wait, epoll_pwait's mask, and the dup/close rules of registrations. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void arm(int ms)
{
	struct itimerval it = {{0, 0}, {0, ms * 1000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void handler(int flags)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
}

static void ready(int ep, int p[2], int ev)
{
	struct epoll_event e = {.events = EPOLLIN,
				.data.u64 = 0x1122334455667788ULL};
	struct epoll_event out[8];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) == 0);
	e.data.u64 = 42;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e), EEXIST);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(epoll_wait(ep, out, 8, 60) == 0);
	CHECK(ms_since(&t0) >= 55);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(epoll_wait(ep, out, 8, 1000) == 1);
	CHECK(out[0].data.u64 == 0x1122334455667788ULL);
	CHECK(out[0].events == EPOLLIN);
	uint64_t one = 1;
	CHECK(write(ev, &one, 8) == 8);
	CHECK(epoll_wait(ep, out, 8, 0) == 2);
	CHECK(epoll_wait(ep, out, 1, 0) == 1);
	/* Modified to EPOLLOUT: the read end never is writable. */
	e.events = EPOLLOUT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, ev, &e) == 0);
	char c;
	CHECK(read(p[0], &c, 1) == 1);
	CHECK(epoll_wait(ep, out, 8, 0) == 1 && out[0].data.u64 == 42 &&
	      out[0].events == EPOLLOUT);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL) == 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL), ENOENT);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0);
	CHECK(read(ev, &one, 8) == 8);
}

/* A registration is of (file, fd): it outlives a close while a dup
 * holds the file, and goes with the file's last fd. */
static void dup_rules(int ep)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int d = dup(p[0]);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 7}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, d, &e) == 0);
	close(d);
	CHECK(write(p[1], "y", 1) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 7);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), EBADF);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	close(p[0]);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	close(p[1]);
}

static void interrupted(int ep, int p[2])
{
	struct epoll_event e = {.events = EPOLLIN}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) == 0);
	/* epoll_wait is never restarted, SA_RESTART or not. */
	for (int flags = 0; flags <= SA_RESTART; flags += SA_RESTART) {
		handler(flags);
		alarms = 0;
		arm(30);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_ERR(epoll_wait(ep, out, 4, 5000), EINTR);
		CHECK(alarms == 1 && ms_since(&t0) < 4000);
	}
	/* A blocked signal does not end the wait. */
	sigset_t alrm, old, pend;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	CHECK(sigprocmask(SIG_BLOCK, &alrm, &old) == 0);
	alarms = 0;
	arm(20);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(epoll_wait(ep, out, 4, 150) == 0);
	CHECK(ms_since(&t0) >= 140 && alarms == 0);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGALRM));
	/* epoll_pwait's mask lets it in: EINTR at once, the handler runs,
	 * and the caller's mask is back afterwards. */
	CHECK_ERR(epoll_pwait(ep, out, 4, 5000, &old), EINTR);
	CHECK(alarms == 1);
	sigset_t now;
	CHECK(sigprocmask(SIG_SETMASK, NULL, &now) == 0);
	CHECK(sigismember(&now, SIGALRM));
	/* Data ready: epoll_pwait returns it, mask untouched. */
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(epoll_pwait(ep, out, 4, 0, &old) == 1);
	struct timespec ts = {0, 1000000};
	CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8) == 1);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* ppoll and pselect apply their masks the same way; plain poll is not
 * ended by a signal the guest blocks. */
static void poll_masks(int p[2])
{
	sigset_t alrm, old, now;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	CHECK(sigprocmask(SIG_BLOCK, &alrm, &old) == 0);
	handler(0);
	struct pollfd pfd = {p[0], POLLIN, 0};
	char c;
	while (poll(&pfd, 1, 0) == 1)
		CHECK(read(p[0], &c, 1) == 1);
	alarms = 0;
	arm(20);
	CHECK(poll(&pfd, 1, 120) == 0 && alarms == 0);
	CHECK_ERR(ppoll(&pfd, 1, NULL, &old), EINTR);
	CHECK(alarms == 1);
	CHECK(sigprocmask(SIG_SETMASK, NULL, &now) == 0);
	CHECK(sigismember(&now, SIGALRM));
	arm(20);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 120000};
	CHECK(select(p[0] + 1, &rd, NULL, NULL, &tv) == 0 && alarms == 1);
	FD_SET(p[0], &rd);
	CHECK_ERR(pselect(p[0] + 1, &rd, NULL, NULL, NULL, &old), EINTR);
	CHECK(alarms == 2);
	/* Ready data wins over the signal. */
	arm(20);
	struct timespec nap = {0, 60000000L};
	nanosleep(&nap, NULL);
	CHECK(write(p[1], "r", 1) == 1);
	CHECK(ppoll(&pfd, 1, NULL, &old) == 1 && alarms == 2);
	CHECK(read(p[0], &c, 1) == 1);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK(alarms == 3);
	long long badset[2] = {(long long)BAD_PTR, 8};
	CHECK_ERR(
		syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, NULL, badset),
		EFAULT);
	CHECK_ERR(syscall(SYS_ppoll, &pfd, 1, NULL, BAD_PTR, 8), EFAULT);
}

static void errors(int ep, int p[2], int ev)
{
	struct epoll_event e = {.events = EPOLLIN}, out[4];
	CHECK_ERR(syscall(SYS_epoll_create, 0), EINVAL);
	CHECK_ERR(epoll_create1(1), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e), EINVAL);
	int d = dup(ep);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, d, &e), EINVAL);
	close(d);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &e), EBADF);
	CHECK_ERR(epoll_ctl(999, EPOLL_CTL_ADD, ev, &e), EBADF);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ev, BAD_PTR), EFAULT);
	CHECK_ERR(epoll_ctl(ep, 99, ev, &e), EINVAL);
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, ev, &e), EINVAL);
	int reg = open("/etc/passwd", O_RDONLY);
	CHECK(reg >= 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &e), EPERM);
	close(reg);
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, out, INT_MAX, 0), EINVAL);
	CHECK_ERR(epoll_wait(999, out, 4, 0), EBADF);
	CHECK_ERR(epoll_wait(p[0], out, 4, 0), EINVAL);
	CHECK_ERR(epoll_wait(ep, SHIM_PTR, 4, 0), EFAULT);
	/* Something ready: the copy-out to a bad buffer fails. */
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1],
			&(struct epoll_event){.events = EPOLLOUT}) == 0);
	CHECK_ERR(epoll_wait(ep, BAD_PTR, 4, 0), EFAULT);
	CHECK_ERR(syscall(SYS_epoll_pwait, ep, out, 4, 0, BAD_PTR, 8), EFAULT);
	sigset_t m;
	sigemptyset(&m);
	CHECK_ERR(syscall(SYS_epoll_pwait, ep, out, 4, 0, &m, 4), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, out, 4, BAD_PTR, NULL, 8),
		  EFAULT);
	struct timespec bad = {0, 2000000000L};
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, out, 4, &bad, NULL, 8), EINVAL);
}

int main(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC);
	int ep2 = epoll_create(1);
	CHECK(ep2 >= 0 && fcntl(ep2, F_GETFD) == 0);
	int p[2];
	CHECK(pipe(p) == 0);
	int ev = eventfd(0, EFD_NONBLOCK);
	CHECK(ev >= 0);
	ready(ep, p, ev);
	dup_rules(ep);
	/* An epoll inside an epoll. */
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = 5}, out[2];
	CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &e) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0);
	uint64_t one = 1;
	CHECK(write(ev, &one, 8) == 8);
	CHECK(epoll_wait(ep2, out, 2, 0) == 1 && out[0].data.u32 == 5);
	CHECK(read(ev, &one, 8) == 8);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL) == 0);
	interrupted(ep, p);
	poll_masks(p);
	errors(ep, p, ev);
	success();
}
