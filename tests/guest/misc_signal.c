/* rt_sigaction and rt_sigprocmask: state set, read back, refusals. */
#define _GNU_SOURCE
#include "guest.h"
#include <signal.h>
#include <stdint.h>

/* The kernel's struct sigaction on x86-64. */
struct ksa {
	uint64_t handler, flags, restorer, mask;
};

#define BIT(sig)     (1ULL << ((sig)-1))
#define SA_RESTORER_ 0x04000000ULL

static void handler(int sig)
{
	(void)sig;
}

static void actions(void)
{
	struct ksa sa = {(uint64_t)handler, SA_RESTORER_ | SA_RESTART, 0x401000,
			 BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP)};
	struct ksa old, now;
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, &sa, &old, 8) == 0);
	CHECK(old.handler == (uint64_t)SIG_DFL);
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &now, 8) == 0);
	CHECK(now.handler == sa.handler && now.flags == sa.flags);
	CHECK(now.restorer == sa.restorer);
	CHECK(now.mask == BIT(SIGUSR2)); /* KILL and STOP cannot be masked */

	struct ksa ign = {(uint64_t)SIG_IGN, 0, 0, 0};
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, &ign, &old, 8) == 0);
	CHECK(old.handler == sa.handler);
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &now, 8) == 0);
	CHECK(now.handler == (uint64_t)SIG_IGN);
	CHECK(syscall(SYS_rt_sigaction, 64, &sa, NULL, 8) == 0);
	CHECK(syscall(SYS_rt_sigaction, SIGKILL, NULL, &now, 8) == 0);
	CHECK(now.handler == (uint64_t)SIG_DFL);

	CHECK_ERR(syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGSTOP, &ign, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 16), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, 0, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, 65, &sa, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, BAD_PTR, NULL, 8), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD_PTR, 8), EFAULT);
	/* A failed call changes nothing. */
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &now, 8) == 0);
	CHECK(now.handler == (uint64_t)SIG_IGN);

	/* The libc wrapper agrees. */
	struct sigaction la = {0}, lo;
	la.sa_handler = handler;
	CHECK(sigaction(SIGUSR2, &la, NULL) == 0);
	CHECK(sigaction(SIGUSR2, NULL, &lo) == 0 && lo.sa_handler == handler);
}

static void masks(void)
{
	uint64_t start, set, old, now;
	CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &start, 8) == 0);
	set = BIT(SIGUSR1) | BIT(SIGTERM);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8) == 0);
	CHECK(old == start);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8) == 0);
	CHECK(now == (start | set));
	set = BIT(SIGUSR1);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8) == 0);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8) == 0);
	CHECK(now == ((start | BIT(SIGTERM)) & ~BIT(SIGUSR1)));
	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGUSR2) | BIT(40);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &old, 8) == 0);
	CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &now, 8) == 0);
	CHECK(now == (BIT(SIGUSR2) | BIT(40)));

	CHECK_ERR(syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4),
		  EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8),
		  EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, BAD_PTR, 8),
		  EFAULT);
	/* Without a new set, `how` is not looked at. */
	CHECK(syscall(SYS_rt_sigprocmask, 7, NULL, &now, 8) == 0);
	CHECK(now == (BIT(SIGUSR2) | BIT(40)));

	sigset_t s;
	CHECK(sigemptyset(&s) == 0 && sigprocmask(SIG_SETMASK, &s, NULL) == 0);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &s) == 0);
	CHECK(!sigismember(&s, SIGUSR2));
	CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &start, NULL, 8) == 0);
}

int main(void)
{
	actions();
	masks();
	success();
}
