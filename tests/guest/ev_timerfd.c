/* timerfd (periodic expirations, gettime, absolute, nonblocking, each
 * clock) and eventfd (counter, semaphore mode, limits). */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

#define MS 1000000L

static void periodic(void)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(tfd >= 0 && fcntl(tfd, F_GETFD) == FD_CLOEXEC);
	struct itimerspec its = {{0, 20 * MS}, {0, 20 * MS}}, cur, old;
	CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0);
	struct timespec nap = {0, 110 * MS};
	nanosleep(&nap, NULL);
	uint64_t n = 0;
	CHECK(read(tfd, &n, 8) == 8);
	CHECK(n >= 3 && n <= 50);
	/* The next read blocks until the next expiration. */
	CHECK(read(tfd, &n, 8) == 8 && n >= 1);
	CHECK(timerfd_gettime(tfd, &cur) == 0);
	CHECK(cur.it_interval.tv_sec == 0 &&
	      cur.it_interval.tv_nsec == 20 * MS);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20 * MS);
	struct itimerspec off = {{0, 0}, {0, 0}};
	CHECK(timerfd_settime(tfd, 0, &off, &old) == 0);
	CHECK(old.it_interval.tv_nsec == 20 * MS);
	CHECK(timerfd_gettime(tfd, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec == 0);
	close(tfd);
}

static void absolute(clockid_t clk)
{
	int tfd = timerfd_create(clk, TFD_NONBLOCK);
	CHECK(tfd >= 0);
	uint64_t n;
	CHECK_ERR(read(tfd, &n, 8), EAGAIN);
	struct timespec now;
	clock_gettime(clk, &now);
	now.tv_nsec += 30 * MS;
	if (now.tv_nsec >= 1000000000L) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000L;
	}
	struct itimerspec its = {{0, 0}, now};
	CHECK(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0);
	struct pollfd pfd = {tfd, POLLIN, 0};
	CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN));
	CHECK(read(tfd, &n, 8) == 8 && n == 1);
	close(tfd);
}

static void timer_errors(void)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = {{0, 0}, {1, 0}}, cur;
	CHECK_ERR(timerfd_create(99, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x1234), EINVAL);
	CHECK_ERR(timerfd_settime(tfd, 0, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(timerfd_settime(999, 0, &its, NULL), EBADF);
	CHECK_ERR(timerfd_settime(tfd, 0x100, &its, NULL), EINVAL);
	struct itimerspec bad = {{0, 0}, {0, 2000000000L}};
	CHECK_ERR(timerfd_settime(tfd, 0, &bad, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(tfd, 0, &its, BAD_PTR), EFAULT);
	CHECK_ERR(timerfd_gettime(tfd, BAD_PTR), EFAULT);
	CHECK_ERR(timerfd_gettime(999, &cur), EBADF);
	CHECK_ERR(timerfd_gettime(0, &cur), EINVAL);
	uint64_t n;
	CHECK_ERR(read(tfd, &n, 4), EINVAL);
	close(tfd);
}

static void counter(void)
{
	int ev = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(ev >= 0);
	uint64_t n;
	for (int i = 0; i < 5; i++)
		CHECK(read(ev, &n, 8) == 8 && n == 1);
	CHECK_ERR(read(ev, &n, 8), EAGAIN);
	n = 3;
	CHECK(write(ev, &n, 8) == 8);
	int ev2 = syscall(SYS_eventfd, 7);
	CHECK(ev2 >= 0 && read(ev2, &n, 8) == 8 && n == 7);
	n = ~0ULL;
	CHECK_ERR(write(ev, &n, 8), EINVAL);
	CHECK_ERR(write(ev, &n, 4), EINVAL);
	CHECK_ERR(read(ev, &n, 4), EINVAL);
	CHECK_ERR(read(ev, BAD_PTR, 8), EFAULT);
	CHECK_ERR(write(ev, BAD_PTR, 8), EFAULT);
	CHECK_ERR(eventfd(0, 0x40000000), EINVAL);
	CHECK(eventfd(0, EFD_CLOEXEC) >= 0);
}

int main(void)
{
	periodic();
	absolute(CLOCK_REALTIME);
	absolute(CLOCK_MONOTONIC);
	absolute(CLOCK_BOOTTIME);
	timer_errors();
	counter();
	success();
}
