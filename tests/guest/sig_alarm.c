/* Timers that signal: alarm(1) then pause() (SIGALRM's handler runs after
 * about a second, pause returns EINTR); alarm's return value; setitimer
 * ITIMER_REAL one-shot and periodic, its old value and disarming; and a
 * SIGALRM that interrupts a running loop (no system calls) whose handler
 * clobbers every general and SSE register the ABI lets it: the loop's
 * state must survive each delivery. */
#define _GNU_SOURCE
#include "proc.h"
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* Fills xmm0-15 with all-ones and the caller-saved GPRs with junk; the
 * signal frame must have saved the interrupted values. */
static void on_alarm_clobber(int sig)
{
	alarms++;
	__asm__ volatile(
		"pcmpeqd %%xmm0, %%xmm0\n\t"
		"movdqa %%xmm0, %%xmm1\n\tmovdqa %%xmm0, %%xmm2\n\t"
		"movdqa %%xmm0, %%xmm3\n\tmovdqa %%xmm0, %%xmm4\n\t"
		"movdqa %%xmm0, %%xmm5\n\tmovdqa %%xmm0, %%xmm6\n\t"
		"movdqa %%xmm0, %%xmm7\n\tmovdqa %%xmm0, %%xmm8\n\t"
		"movdqa %%xmm0, %%xmm9\n\tmovdqa %%xmm0, %%xmm10\n\t"
		"movdqa %%xmm0, %%xmm11\n\tmovdqa %%xmm0, %%xmm12\n\t"
		"movdqa %%xmm0, %%xmm13\n\tmovdqa %%xmm0, %%xmm14\n\t"
		"movdqa %%xmm0, %%xmm15\n\t"
		"mov $-1, %%rax\n\tmov $-1, %%rcx\n\tmov $-1, %%rdx\n\t"
		"mov $-1, %%rsi\n\tmov $-1, %%rdi\n\tmov $-1, %%r8\n\t"
		"mov $-1, %%r9\n\tmov $-1, %%r10\n\tmov $-1, %%r11\n\t"
		"fninit"
		:
		:
		: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15", "memory");
}

static void handle(void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
}

static void alarm_pause(void)
{
	handle(on_alarm);
	alarms = 0;
	CHECK(alarm(1) == 0);
	long long t0 = now_ms();
	CHECK(pause() == -1 && errno == EINTR);
	long long dt = now_ms() - t0;
	CHECK(alarms == 1);
	CHECK(dt >= 900 && dt < 5000);

	CHECK(alarm(5) == 0);
	unsigned left = alarm(0);
	CHECK(left == 5 || left == 4);
	CHECK(alarm(0) == 0);
}

/* Sleeps in sigsuspend until `n` SIGALRMs have arrived in all (SIGALRM is
 * blocked outside sigsuspend, so none can slip in before it sleeps). */
static void wait_alarms(int n)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	while (alarms < n)
		CHECK(sigsuspend(&old) == -1 && errno == EINTR);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

static void itimer(void)
{
	struct itimerval it, old;
	handle(on_alarm);
	alarms = 0;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 100000;
	CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);
	long long t0 = now_ms();
	wait_alarms(1);
	long long dt = now_ms() - t0;
	CHECK(dt >= 90 && dt < 3000);

	/* Periodic: 50 ms after a first 50 ms. */
	alarms = 0;
	it.it_value.tv_usec = 50000;
	it.it_interval.tv_usec = 50000;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	t0 = now_ms();
	wait_alarms(4);
	dt = now_ms() - t0;
	CHECK(dt >= 190 && dt < 5000);
	memset(&it, 0, sizeof(it));
	CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
	CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 50000);
	CHECK(old.it_value.tv_usec <= 50000);
	/* Disarmed: nothing more arrives. */
	int seen = alarms;
	sleep_ms(200);
	CHECK(alarms == seen);
	CHECK_ERR(setitimer(ITIMER_REAL, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_setitimer, 7, &it, NULL), EINVAL);
}

/* A periodic SIGALRM lands in a loop that never enters the kernel (or the
 * monitor); it must be delivered there, and the loop's integer and double
 * sums must stay equal across every delivery. */
static void busy_loop(void)
{
	struct itimerval it;
	handle(on_alarm_clobber);
	alarms = 0;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 20000;
	it.it_interval.tv_usec = 20000;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	long long isum = 0;
	double dsum = 0, dstep = 1.0;
	long long t0 = now_ms();
	for (long long i = 1; alarms < 10; i++) {
		isum += i & 1023;
		dsum += dstep * (double)(i & 1023);
		if ((i & 0xfffff) == 0)
			CHECK(now_ms() - t0 < 20000);
	}
	memset(&it, 0, sizeof(it));
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	if ((double)isum != dsum) {
		printf("FAIL: integer sum %lld, double sum %.1f\n", isum, dsum);
		exit(1);
	}
}

int main(void)
{
	alarm_pause();
	itimer();
	busy_loop();
	success();
}
