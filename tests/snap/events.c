/* Event fds with state worth restoring: an eventfd with a count, a
 * semaphore eventfd, timerfds (armed relative, armed absolute on the
 * realtime clock, and one that has expired with nobody reading), a
 * signalfd with its signal pending, and an epoll watching some of them
 * and a pipe. The guest snapshots itself, then reads them all; every line
 * must be the same in the original and in each clone.
 *
 * usage: events */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HOUR 3600

static int check(int ok, const char *what)
{
	if (!ok)
		printf("FAIL %s: %s\n", what, strerror(errno));
	return ok;
}

int main(void)
{
	int ev = eventfd(7, EFD_NONBLOCK);
	int sem = eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	int rel = timerfd_create(CLOCK_MONOTONIC, 0);
	int absr = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	int due = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec it = {.it_value = {HOUR, 0},
				.it_interval = {2 * HOUR, 0}};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec at = {.it_value = {now.tv_sec + HOUR, 0}};
	struct itimerspec soon = {.it_value = {0, 1000}};
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int sfd = signalfd(-1, &usr1, SFD_NONBLOCK);
	int ep = epoll_create1(0);
	int pp[2];
	if (!check(ev >= 0 && sem >= 0 && rel >= 0 && absr >= 0 && due >= 0 &&
			   sfd >= 0 && ep >= 0 && pipe(pp) == 0,
		   "create") ||
	    !check(timerfd_settime(rel, 0, &it, NULL) == 0 &&
			   timerfd_settime(absr, TFD_TIMER_ABSTIME, &at,
					   NULL) == 0 &&
			   timerfd_settime(due, 0, &soon, NULL) == 0,
		   "settime") ||
	    !check(write(pp[1], "p", 1) == 1 && raise(SIGUSR1) == 0, "fill"))
		return 1;
	struct epoll_event e1 = {.events = EPOLLIN, .data.u64 = 0x1111};
	struct epoll_event e2 = {.events = EPOLLIN | EPOLLET,
				 .data.u64 = 0x2222};
	struct epoll_event e3 = {.events = EPOLLIN, .data.u64 = 0x3333};
	struct epoll_event e4 = {.events = EPOLLOUT, .data.u64 = 0x4444};
	if (!check(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e1) == 0 &&
			   epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e2) == 0 &&
			   epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &e3) == 0 &&
			   epoll_ctl(ep, EPOLL_CTL_ADD, rel, &e4) == 0,
		   "epoll_ctl"))
		return 1;
	/* `due` has fired, unread. */
	struct timespec ms = {0, 20000000};
	nanosleep(&ms, NULL);

	int s = open("/dev/mote-snapshot", O_RDWR);
	char gen[34] = {0}, cur[34] = {0};
	if (!check(s >= 0 && read(s, gen, 33) == 33 && write(s, "x", 1) == 1 &&
			   pread(s, cur, 33, 0) == 33,
		   "snapshot"))
		return 1;
	int clone = strcmp(gen, cur) != 0;

	struct epoll_event out[8];
	int n = epoll_wait(ep, out, 8, 0);
	uint64_t mask = 0;
	for (int i = 0; i < n; i++)
		mask |= out[i].data.u64 == 0x1111   ? 1
			: out[i].data.u64 == 0x2222 ? 2
			: out[i].data.u64 == 0x3333 ? 4
						    : 8;
	printf("epoll ready: eventfd %d signalfd %d pipe %d timer %d\n",
	       !!(mask & 1), !!(mask & 2), !!(mask & 4), !!(mask & 8));
	/* Edge-triggered: the signalfd is not reported twice. */
	n = epoll_wait(ep, out, 8, 0);
	int again = 0;
	for (int i = 0; i < n; i++)
		again |= out[i].data.u64 == 0x2222;
	printf("epoll signalfd again: %d\n", again);

	uint64_t v = 0;
	long r = read(ev, &v, 8);
	printf("eventfd: %ld %llu\n", r, (unsigned long long)v);
	r = read(ev, &v, 8);
	printf("eventfd then: %ld %s\n", r, strerror(errno));
	printf("semaphore:");
	for (int i = 0; i < 4; i++) {
		v = 0;
		r = read(sem, &v, 8);
		printf(" %ld/%llu", r, (unsigned long long)v);
	}
	printf("\n");

	struct itimerspec g;
	timerfd_gettime(rel, &g);
	printf("relative: left <= 1h %d, > 1h - 60s %d, interval %ld\n",
	       g.it_value.tv_sec < HOUR ||
		       (g.it_value.tv_sec == HOUR && !g.it_value.tv_nsec),
	       g.it_value.tv_sec >= HOUR - 60, (long)g.it_interval.tv_sec);
	timerfd_gettime(absr, &g);
	printf("absolute: left <= 1h %d, > 1h - 60s %d\n",
	       g.it_value.tv_sec <= HOUR, g.it_value.tv_sec >= HOUR - 60);
	v = 0;
	r = read(due, &v, 8);
	printf("expired: %ld %llu\n", r, (unsigned long long)v);

	struct signalfd_siginfo si = {0};
	r = read(sfd, &si, sizeof(si));
	printf("signalfd: %ld signo %u\n", r, si.ssi_signo);
	char b[4] = {0};
	long pn = read(pp[0], b, 3);
	printf("%s pipe %ld [%s]\n", clone ? "clone" : "original", pn, b);
	return 0;
}
