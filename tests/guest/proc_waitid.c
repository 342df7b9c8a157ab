/* waitid: the siginfo it fills for exits and kills (si_signo, si_code,
 * si_pid, si_uid, si_status), P_PID and P_ALL, WNOHANG with nothing to
 * report, and its refusals. */
#define _GNU_SOURCE
#include "proc.h"

static pid_t blocked_child(int *release)
{
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 4 : 5);
	}
	CHECK(close(p[0]) == 0);
	*release = p[1];
	return pid;
}

static void check_info(const siginfo_t *si, pid_t pid, int code, int status)
{
	if (si->si_signo != SIGCHLD || si->si_pid != pid ||
	    si->si_code != code || si->si_status != status ||
	    si->si_uid != getuid()) {
		printf("FAIL: siginfo signo %d pid %d code %d status %d uid %d,"
		       " want %d %d %d %d %d\n",
		       si->si_signo, (int)si->si_pid, si->si_code,
		       si->si_status, (int)si->si_uid, SIGCHLD, (int)pid, code,
		       status, (int)getuid());
		exit(1);
	}
}

static void exited(void)
{
	siginfo_t si;
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(3);
	memset(&si, 0xff, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0);
	check_info(&si, pid, CLD_EXITED, 3);
	/* Reaped: nothing left. */
	CHECK(waitid(P_PID, pid, &si, WEXITED) == -1 && errno == ECHILD);
}

static void killed(void)
{
	siginfo_t si;
	int rel;
	pid_t pid = blocked_child(&rel);
	/* Alive: WNOHANG reports nothing and zeroes si_pid. */
	memset(&si, 0xff, sizeof(si));
	CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == 0);
	CHECK(si.si_pid == 0);
	CHECK(kill(pid, SIGKILL) == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0);
	check_info(&si, pid, CLD_KILLED, SIGKILL);
	CHECK(close(rel) == 0);

	pid = blocked_child(&rel);
	CHECK(kill(pid, SIGTERM) == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0);
	check_info(&si, pid, CLD_KILLED, SIGTERM);
	CHECK(close(rel) == 0);
}

/* Two children, picked out in the order asked for. */
static void selective(void)
{
	siginfo_t si;
	int r1, r2;
	pid_t a = blocked_child(&r1), b = blocked_child(&r2);
	CHECK(write(r1, "x", 1) == 1 && write(r2, "x", 1) == 1);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, b, &si, WEXITED) == 0);
	check_info(&si, b, CLD_EXITED, 4);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0);
	check_info(&si, a, CLD_EXITED, 4);
	CHECK(close(r1) == 0 && close(r2) == 0);
}

static void refusals(void)
{
	siginfo_t si;
	CHECK_ERR(syscall(SYS_waitid, P_ALL, 0, &si, WEXITED, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_waitid, P_ALL, 0, &si, 0, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_waitid, 42, 0, &si, WEXITED, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_waitid, P_PID, getpid(), &si, WEXITED, NULL),
		  ECHILD);
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(0);
	CHECK_ERR(syscall(SYS_waitid, P_PID, pid, BAD_PTR, WEXITED, NULL),
		  EFAULT);
}

int main(void)
{
	exited();
	killed();
	selective();
	refusals();
	success();
}
