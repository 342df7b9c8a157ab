/* sigaltstack + SA_ONSTACK: the handler runs on the alternate stack (a
 * local's address lies inside it, sigaltstack reports SS_ONSTACK there)
 * and only for handlers that ask; a stack overflow's SIGSEGV is caught on
 * it; the refusals (too small, bad flags, changing it while on it). */
#define _GNU_SOURCE
#include "proc.h"
#include <setjmp.h>
#include <stdint.h>

#define ALT_SIZE (64 * 1024)

static char *alt;
static volatile uintptr_t local_at;
static volatile int on_stack_flag, change_err;

static void on_sig(int sig)
{
	volatile int here = 0;
	stack_t cur, ss = {0};
	local_at = (uintptr_t)&here;
	on_stack_flag =
		sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_ONSTACK);
	ss.ss_sp = alt;
	ss.ss_size = ALT_SIZE;
	change_err = sigaltstack(&ss, NULL) == -1 ? errno : 0;
}

static int inside_alt(uintptr_t a)
{
	return a >= (uintptr_t)alt && a < (uintptr_t)alt + ALT_SIZE;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void basic(void)
{
	stack_t ss = {0}, old;
	alt = malloc(ALT_SIZE);
	CHECK(alt != NULL);
	CHECK(sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE));
	ss.ss_sp = alt;
	ss.ss_size = ALT_SIZE;
	CHECK(sigaltstack(&ss, &old) == 0);
	CHECK(sigaltstack(NULL, &old) == 0);
	CHECK(old.ss_sp == alt && old.ss_size == ALT_SIZE && old.ss_flags == 0);

	handle(SIGUSR1, on_sig, SA_ONSTACK);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(inside_alt(local_at) && on_stack_flag && change_err == EPERM);

	/* Without SA_ONSTACK the handler stays on the normal stack. */
	handle(SIGUSR2, on_sig, 0);
	CHECK(raise(SIGUSR2) == 0);
	CHECK(!inside_alt(local_at) && !on_stack_flag && change_err == 0);

	/* Refusals. */
	ss.ss_size = 1024;
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0x1234;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_sigaltstack, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_sigaltstack, NULL, BAD_PTR), EFAULT);

	/* Disabled: SA_ONSTACK handlers use the normal stack. */
	ss.ss_flags = SS_DISABLE;
	CHECK(sigaltstack(&ss, NULL) == 0);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(!inside_alt(local_at) && !on_stack_flag);
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL) == 0);
}

static sigjmp_buf jb;
static volatile uintptr_t segv_local;

static void on_segv(int sig)
{
	volatile int here = 0;
	segv_local = (uintptr_t)&here;
	siglongjmp(jb, 1);
}

/* Recursion deeper than any stack (the bound only hides that from the
 * compiler), which it cannot turn into a loop. */
static volatile long depth_limit = 1L << 40;

static int recurse(volatile char *prev, long depth)
{
	volatile char frame[1024];
	frame[0] = prev ? prev[0] + 1 : 0;
	if (depth > depth_limit)
		return 0;
	return recurse(frame, depth + 1) + frame[1];
}

static void overflow(void)
{
	handle(SIGSEGV, on_segv, SA_ONSTACK);
	if (sigsetjmp(jb, 1) == 0) {
		recurse(NULL, 0);
		CHECK(!"the recursion returned");
	}
	CHECK(inside_alt(segv_local));
	/* The normal stack works again after the longjmp. */
	CHECK(raise(SIGUSR2) == 0 && !inside_alt(local_at));
}

/* SS_AUTODISARM: inside the handler the thread has no alternate stack;
 * sigreturn gives it back. SA_RESETHAND (bit 31 of sa_flags too) does not
 * disarm anything. The kernel's minimum size is 2048, whatever glibc's
 * sysconf(_SC_MINSIGSTKSZ) says. */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
static volatile int inner_flags = -1;

static void on_disarm(int sig)
{
	(void)sig;
	stack_t cur;
	inner_flags = sigaltstack(NULL, &cur) == 0 ? cur.ss_flags : -2;
}

static void autodisarm(void)
{
	stack_t ss = {.ss_sp = alt, .ss_size = 2048}, cur;
	CHECK(sigaltstack(&ss, NULL) == 0);
	ss.ss_size = 2047;
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = (int)SS_AUTODISARM;
	CHECK(sigaltstack(&ss, NULL) == 0);
	handle(SIGUSR1, on_disarm, SA_ONSTACK);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(inner_flags == SS_DISABLE);
	CHECK(sigaltstack(NULL, &cur) == 0 && cur.ss_sp == alt &&
	      cur.ss_flags == (int)SS_AUTODISARM);
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL) == 0);
	handle(SIGUSR1, on_disarm, SA_ONSTACK | SA_RESETHAND);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(inner_flags == SS_ONSTACK);
}

int main(void)
{
	basic();
	autodisarm();
	overflow();
	success();
}
