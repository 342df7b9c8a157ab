/* A signal the thread blocks does not cut a sleep short (nanosleep,
 * clock_nanosleep relative and absolute): it stays pending. One it takes
 * does, with EINTR and the time left. */
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "guest.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void arm(long ms)
{
	struct itimerval it = {{0, 0}, {0, ms * 1000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static volatile int got;
static void on_alrm(int sig)
{
	(void)sig;
	got++;
}

int main(void)
{
	sigset_t alrm, pend;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	struct sigaction sa = {.sa_handler = on_alrm};
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	CHECK(sigprocmask(SIG_BLOCK, &alrm, NULL) == 0);

	/* Blocked: the full 200 ms, and SIGALRM pending afterwards. */
	arm(30);
	long long t0 = now_ms();
	struct timespec req = {0, 200000000}, rem;
	CHECK(nanosleep(&req, NULL) == 0);
	CHECK(now_ms() - t0 >= 190);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGALRM));

	/* The same for clock_nanosleep, relative and absolute. */
	arm(30);
	t0 = now_ms();
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL) == 0);
	CHECK(now_ms() - t0 >= 190);
	struct timespec until;
	CHECK(clock_gettime(CLOCK_REALTIME, &until) == 0);
	until.tv_nsec += 200000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	arm(30);
	t0 = now_ms();
	CHECK(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) ==
	      0);
	CHECK(now_ms() - t0 >= 180);

	/* Taken: the pending one runs at unblock; a new one ends the sleep
	 * early with EINTR and the time left. */
	CHECK(sigprocmask(SIG_UNBLOCK, &alrm, NULL) == 0);
	CHECK(got == 1);
	arm(30);
	req = (struct timespec){2, 0};
	t0 = now_ms();
	CHECK_ERR(nanosleep(&req, &rem), EINTR);
	CHECK(got == 2 && now_ms() - t0 < 1500);
	CHECK(rem.tv_sec >= 1 && rem.tv_sec <= 2);
	puts("SUCCESS");
	return 0;
}
