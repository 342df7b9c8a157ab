/* Zombies and orphans: a child is not reapable before it exits and stays
 * (as a zombie that kill(pid, 0) still finds) until it is reaped; a
 * grandchild whose parent exited keeps running and its output still
 * arrives; waiting with no children is ECHILD. */
#define _GNU_SOURCE
#include "proc.h"

/* Polls waitpid(WNOHANG) until pid is reaped; returns its status. */
static int reap_polling(pid_t pid)
{
	int st;
	for (int i = 0; i < 10000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		CHECK(r == 0);
		sleep_ms(1);
	}
	printf("FAIL: child %d never became reapable\n", (int)pid);
	exit(1);
}

static void zombie(void)
{
	int go[2], st = -1;
	char c;
	CHECK(pipe(go) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 5 : 6);
	}
	CHECK(close(go[0]) == 0);
	/* Blocked in read: alive, not reapable. */
	CHECK(waitpid(pid, &st, WNOHANG) == 0);
	CHECK(syscall(SYS_wait4, pid, &st, WNOHANG, NULL) == 0);
	CHECK(kill(pid, 0) == 0);
	CHECK(write(go[1], "x", 1) == 1);
	CHECK(close(go[1]) == 0);
	st = reap_polling(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	/* Reaped: it is gone for good. */
	CHECK(waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD);
}

/* The child exits while its waited-for state is kept: a zombie. */
static void zombie_stays(void)
{
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(7);
	CHECK(close(p[1]) == 0);
	/* Wait, without reaping, until it has exited. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED);
	CHECK(read(p[0], &c, 1) == 0);
	CHECK(close(p[0]) == 0);
	/* Still there as a zombie, for kill and for a second wait. */
	CHECK(kill(pid, 0) == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
	CHECK(si.si_pid == pid && si.si_status == 7);
	wait_exit(pid, 7);
}

/* A child forks a grandchild and exits at once. The grandchild waits until
 * it is orphaned, then writes into the pipe the test reads. */
static void orphan(void)
{
	int p[2];
	char buf[64];
	CHECK(pipe(p) == 0);
	pid_t child = fork_checked();
	if (child == 0) {
		pid_t me = getpid();
		close(p[0]);
		pid_t g = fork();
		if (g < 0)
			_exit(2);
		if (g == 0) {
			for (int i = 0; i < 10000 && getppid() == me; i++)
				sleep_ms(1);
			const char *msg = getppid() != me ? "orphan ok\n"
							  : "never orphaned\n";
			_exit(write(p[1], msg, strlen(msg)) > 0 ? 0 : 1);
		}
		_exit(3);
	}
	CHECK(close(p[1]) == 0);
	wait_exit(child, 3);
	/* EOF comes once the grandchild has written and exited. */
	read_all(p[0], buf, sizeof(buf));
	CHECK(close(p[0]) == 0);
	CHECK(strcmp(buf, "orphan ok\n") == 0);
	/* The grandchild is not this process's child. */
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

static void no_children(void)
{
	int st;
	CHECK_ERR(syscall(SYS_wait4, -1, &st, WNOHANG, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, -1, &st, 0, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, getpid(), &st, 0, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, getppid(), &st, WNOHANG, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, 0, &st, WNOHANG, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, -1, &st, 0x100, NULL), EINVAL);
	/* A bad status pointer with a child to report: EFAULT. */
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(0);
	CHECK_ERR(syscall(SYS_wait4, pid, BAD_PTR, 0, NULL), EFAULT);
}

int main(void)
{
	zombie();
	zombie_stays();
	orphan();
	no_children();
	success();
}
