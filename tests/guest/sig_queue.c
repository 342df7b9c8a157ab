/* Pending signals: a standard signal sent three times while blocked is
 * delivered once, a real-time one three times; on unblocking, the lower
 * numbered signal comes first (the handlers block both signals, so that
 * each runs to completion before the next delivery). */
#define _GNU_SOURCE
#include "proc.h"

static volatile sig_atomic_t order[16], n;

static void on_sig(int sig)
{
	if (n < 16)
		order[n] = sig;
	n++;
}

int main(void)
{
	int rt = SIGRTMIN + 2;
	struct sigaction sa;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, rt);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_mask = block;
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	CHECK(sigaction(rt, &sa, NULL) == 0);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(kill(getpid(), rt) == 0);
		CHECK(kill(getpid(), SIGUSR2) == 0);
	}
	CHECK(n == 0);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	if (n != 4 || order[0] != SIGUSR2 || order[1] != rt || order[2] != rt ||
	    order[3] != rt) {
		printf("FAIL: %d deliveries:", (int)n);
		for (int i = 0; i < n && i < 16; i++)
			printf(" %d", (int)order[i]);
		printf(" (want %d %d %d %d)\n", SIGUSR2, rt, rt, rt);
		exit(1);
	}
	success();
}
