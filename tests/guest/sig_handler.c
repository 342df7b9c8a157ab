/* Signal delivery into the guest: an SA_SIGINFO handler gets the signal
 * number, a siginfo (si_signo, si_code SI_USER / SI_TKILL, si_pid, si_uid)
 * and a ucontext holding the interrupted mask; the mask during the handler
 * adds the signal and sa_mask; raise (tgkill / tkill) works; a handler can
 * siglongjmp out; blocking defers delivery (rt_sigpending shows the
 * signal) until it is unblocked; sigsuspend waits for a signal sent by a
 * child; SA_RESETHAND and SA_NODEFER. */
#define _GNU_SOURCE
#include "proc.h"
#include <setjmp.h>
#include <stdint.h>
#include <ucontext.h>

static volatile sig_atomic_t hits, last_sig, last_code, last_pid, last_uid;
static volatile sig_atomic_t had_ctx, mask_ok, ctx_mask_ok;

static int blocked_now(int sig)
{
	sigset_t s;
	sigprocmask(SIG_BLOCK, NULL, &s);
	return sigismember(&s, sig);
}

static void on_info(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	hits++;
	last_sig = sig == si->si_signo ? sig : -1;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_uid = si->si_uid;
	had_ctx = uc != NULL;
	/* The signal itself and sa_mask (SIGUSR2) are blocked here. */
	mask_ok = blocked_now(sig) && blocked_now(SIGUSR2) &&
		  !blocked_now(SIGHUP);
	/* The ucontext holds the mask to restore: the caller's. */
	ctx_mask_ok = uc && !sigismember(&uc->uc_sigmask, sig) &&
		      !sigismember(&uc->uc_sigmask, SIGUSR2);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void reset(void)
{
	hits = last_sig = last_code = last_pid = last_uid = 0;
	had_ctx = mask_ok = ctx_mask_ok = 0;
}

static void basic(void)
{
	install(SIGUSR1, on_info, 0);
	reset();
	CHECK(kill(getpid(), SIGUSR1) == 0);
	/* A signal a thread sends itself is delivered before kill returns. */
	CHECK(hits == 1 && last_sig == SIGUSR1);
	CHECK(last_code == SI_USER && last_pid == getpid());
	CHECK(last_uid == (sig_atomic_t)getuid());
	CHECK(had_ctx && mask_ok && ctx_mask_ok);
	/* The mask is back to what it was. */
	CHECK(!blocked_now(SIGUSR1) && !blocked_now(SIGUSR2));

	reset();
	CHECK(raise(SIGUSR1) == 0);
	CHECK(hits == 1 && last_sig == SIGUSR1 && last_pid == getpid());
	CHECK(last_code == SI_TKILL);
	reset();
	CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1) == 0);
	CHECK(hits == 1 && last_code == SI_TKILL);
	reset();
	CHECK(syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1) == 0);
	CHECK(hits == 1 && last_code == SI_TKILL);
	/* Signal 0 only checks. */
	reset();
	CHECK(kill(getpid(), 0) == 0 && hits == 0);
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), -1),
		  EINVAL);
}

static sigjmp_buf jb;

static void on_jump(int sig)
{
	siglongjmp(jb, sig);
}

static void longjmp_out(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_jump;
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	for (int round = 0; round < 3; round++) {
		volatile int reached = 0;
		int r = sigsetjmp(jb, 1);
		if (r == 0) {
			reached = 1;
			raise(SIGUSR2);
			CHECK(!"the handler returned");
		}
		CHECK(r == SIGUSR2 && reached == 1);
		/* sigsetjmp(.., 1) restored the mask: SIGUSR2 can come
		 * again (the next round would hang or fail otherwise). */
		CHECK(!blocked_now(SIGUSR2));
	}
}

static uint64_t pending_raw(void)
{
	uint64_t set = 0;
	CHECK(syscall(SYS_rt_sigpending, &set, 8) == 0);
	return set;
}

#define BIT(sig) (1ULL << ((sig)-1))

static void blocking(void)
{
	sigset_t block, old, pend;
	install(SIGUSR1, on_info, 0);
	reset();
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK(hits == 0);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1));
	CHECK(pending_raw() == BIT(SIGUSR1));
	CHECK_ERR(syscall(SYS_rt_sigpending, BAD_PTR, 8), EFAULT);
	/* Unblocking delivers it (once: standard signals do not queue)
	 * before sigprocmask returns. */
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK(hits == 1 && last_sig == SIGUSR1);
	CHECK(pending_raw() == 0);

	/* Setting a pending signal to SIG_IGN discards it. */
	CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK(pending_raw() == BIT(SIGUSR1));
	CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
	CHECK(pending_raw() == 0);
	install(SIGUSR1, on_info, 0);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK(hits == 1);
}

/* The parent blocks SIGUSR1, forks a child that sends it, and sleeps in
 * sigsuspend with SIGUSR1 allowed. */
static void suspend(void)
{
	sigset_t block, old, wait_mask;
	install(SIGUSR1, on_info, 0);
	reset();
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	pid_t parent = getpid();
	pid_t pid = fork_checked();
	if (pid == 0) {
		sleep_ms(50);
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	}
	wait_mask = old;
	sigdelset(&wait_mask, SIGUSR1);
	while (hits == 0)
		CHECK(sigsuspend(&wait_mask) == -1 && errno == EINTR);
	CHECK(hits == 1 && last_sig == SIGUSR1 && last_code == SI_USER);
	CHECK(last_pid == pid);
	/* sigsuspend put the blocking mask back. */
	CHECK(blocked_now(SIGUSR1));
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	wait_exit(pid, 0);
}

static volatile sig_atomic_t calls, depth, max_depth;

/* Raises its own signal until it has run three times. */
static void on_nested(int sig)
{
	calls++;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (calls < 3)
		raise(sig);
	depth--;
}

static void flags(void)
{
	struct sigaction sa, cur;
	/* SA_NODEFER: the handler can be re-entered by its own signal. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_nested;
	sa.sa_flags = SA_NODEFER;
	CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
	calls = max_depth = 0;
	CHECK(raise(SIGHUP) == 0);
	CHECK(calls == 3 && max_depth == 3 && depth == 0);
	/* Without it the second raise waits until the handler returns. */
	sa.sa_flags = 0;
	CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
	calls = max_depth = 0;
	CHECK(raise(SIGHUP) == 0);
	CHECK(calls == 3 && max_depth == 1 && depth == 0);
	/* SA_RESETHAND: one delivery, then back to SIG_DFL. */
	install(SIGUSR1, on_info, SA_RESETHAND);
	reset();
	CHECK(raise(SIGUSR1) == 0 && hits == 1);
	CHECK(sigaction(SIGUSR1, NULL, &cur) == 0);
	CHECK(cur.sa_handler == SIG_DFL);
}

int main(void)
{
	basic();
	longjmp_out();
	blocking();
	suspend();
	flags();
	success();
}
