/* SIGCHLD: sent to the parent when a child exits (CLD_EXITED, its status)
 * or is killed (CLD_KILLED, the signal), with the child's pid; the parent
 * then reaps it. With SIGCHLD set to SIG_IGN children are reaped
 * automatically and wait finds none (ECHILD). */
#define _GNU_SOURCE
#include "proc.h"

static volatile sig_atomic_t got, code, status, from;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	got++;
	code = si->si_code;
	status = si->si_status;
	from = si->si_pid;
}

/* Waits (in sigsuspend, SIGCHLD being blocked otherwise) until the
 * handler has run once more. */
static void await_chld(const sigset_t *open_mask)
{
	int before = got;
	long long end = now_ms() + 10000;
	while (got == before) {
		CHECK(now_ms() < end);
		CHECK(sigsuspend(open_mask) == -1 && errno == EINTR);
	}
}

static void notified(void)
{
	struct sigaction sa;
	sigset_t block, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);

	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(3);
	await_chld(&old);
	CHECK(code == CLD_EXITED && status == 3 && from == pid);
	wait_exit(pid, 3);

	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	pid = fork_checked();
	if (pid == 0)
		_exit(read(p[0], &c, 1));
	CHECK(kill(pid, SIGTERM) == 0);
	await_chld(&old);
	CHECK(code == CLD_KILLED && status == SIGTERM && from == pid);
	wait_signaled(pid, SIGTERM);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* The default action of SIGCHLD is to ignore it: the parent lives on. */
static void default_ignored(void)
{
	CHECK(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(4);
	sleep_ms(50);
	wait_exit(pid, 4);
}

static void auto_reap(void)
{
	CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(5);
	/* Blocks until the child has gone, then finds nothing to reap. */
	int st;
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD);
	CHECK(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
}

int main(void)
{
	notified();
	default_ignored();
	auto_reap();
	success();
}
