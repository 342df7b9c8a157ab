/* clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 * clock_nanosleep: consistent clocks, sleeps that last, refusals. */
#define _GNU_SOURCE
#include "guest.h"
#include <sys/time.h>
#include <time.h>

#define NS 1000000000LL
#define MS 1000000LL

static long long ns(clockid_t c)
{
	struct timespec ts;
	CHECK(syscall(SYS_clock_gettime, c, &ts) == 0);
	CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < NS);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void clocks(void)
{
	static const clockid_t all[] = {
		CLOCK_REALTIME,		  CLOCK_MONOTONIC,
		CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW,	  CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE,	  CLOCK_BOOTTIME,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct timespec res;
		ns(all[i]);
		CHECK(syscall(SYS_clock_getres, all[i], &res) == 0);
		CHECK(res.tv_sec == 0 && res.tv_nsec > 0 &&
		      res.tv_nsec <= 10 * MS);
		CHECK(syscall(SYS_clock_getres, all[i], NULL) == 0);
	}
	long long last = ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 50; i++) {
		long long now = ns(CLOCK_MONOTONIC);
		CHECK(now >= last);
		last = now;
	}
	/* The wall clocks agree with each other (and it is after 2020). */
	long long rt = ns(CLOCK_REALTIME);
	struct timeval tv;
	struct timezone tz = {1, 1};
	CHECK(syscall(SYS_gettimeofday, &tv, &tz) == 0);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	long long tod = tv.tv_sec * NS + tv.tv_usec * 1000LL;
	CHECK(tod >= rt - MS && tod - rt < NS);
	CHECK(syscall(SYS_gettimeofday, NULL, NULL) == 0);
	time_t t1 = 0;
	long t0 = syscall(SYS_time, &t1);
	/* time() reads the coarse clock (updated each tick): near a second's
	 * edge it may still say the one before CLOCK_REALTIME's, on Linux
	 * too. */
	CHECK(t0 == t1 && t0 >= rt / NS - 1 && t0 - rt / NS <= 1);
	CHECK(syscall(SYS_time, NULL) >= t0);
	CHECK(rt > 1577836800LL * NS);

	struct timespec ts;
	CHECK_ERR(syscall(SYS_clock_gettime, 100, &ts), EINVAL);
	CHECK_ERR(syscall(SYS_clock_gettime, -1, &ts), EINVAL);
	CHECK_ERR(syscall(SYS_clock_getres, 100, &ts), EINVAL);
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_time, BAD_PTR), EFAULT);
}

static void sleeps(void)
{
	struct timespec req = {0, 20 * MS}, rem = {9, 9};
	long long t0 = ns(CLOCK_MONOTONIC);
	CHECK(syscall(SYS_nanosleep, &req, &rem) == 0);
	long long t1 = ns(CLOCK_MONOTONIC);
	CHECK(t1 - t0 >= 20 * MS && t1 - t0 < 2 * NS);

	CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL) ==
	      0);
	long long t2 = ns(CLOCK_MONOTONIC);
	CHECK(t2 - t1 >= 20 * MS);

	long long until = t2 + 20 * MS;
	struct timespec abs = {until / NS, until % NS};
	CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs,
		      NULL) == 0);
	CHECK(ns(CLOCK_MONOTONIC) >= until);
	/* A deadline in the past returns at once. */
	abs = (struct timespec){0, 1};
	CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs,
		      NULL) == 0);
	req = (struct timespec){0, 0};
	CHECK(syscall(SYS_nanosleep, &req, NULL) == 0);

	struct timespec bad = {0, NS};
	CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	bad = (struct timespec){-1, 0};
	CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	bad = (struct timespec){0, -1};
	CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT);
	/* clock_nanosleep returns the error number itself. */
	bad = (struct timespec){0, NS};
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL),
		  EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 2, &req, NULL),
		  EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, 100, 0, &req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req,
			  NULL),
		  EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
}

int main(void)
{
	clocks();
	sleeps();
	success();
}
