/* Process groups and sessions as shells use them: setpgid (by the child
 * and by the parent), getpgid, getpgrp, waitpid(0) and waitpid(-pgid),
 * kill(-pgid), setsid / getsid, and their refusals; tcgetpgrp on a
 * non-terminal. */
#define _GNU_SOURCE
#include "proc.h"
#include <sys/ioctl.h>
#include <termios.h>

/* A child that waits for a byte on `go` (or EOF) and exits 0. */
static pid_t child_waiting(int go[2])
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) >= 0 ? 0 : 1);
	}
	return pid;
}

static void groups(void)
{
	int go[2];
	pid_t me = getpid(), pg = getpgrp();
	CHECK(getpgid(0) == pg && getpgid(me) == pg);
	CHECK(pipe(go) == 0);

	/* A new group led by a, which b joins; both set by the parent. */
	pid_t a = child_waiting(go), b = child_waiting(go);
	CHECK(setpgid(a, a) == 0);
	CHECK(setpgid(b, a) == 0);
	CHECK(getpgid(a) == a && getpgid(b) == a);
	CHECK(getpgrp() == pg);
	CHECK(getsid(a) == getsid(0));
	/* waitpid(0) waits for this group only: nothing to wait for. */
	CHECK(waitpid(0, NULL, WNOHANG) == -1 && errno == ECHILD);
	CHECK(waitpid(-a, NULL, WNOHANG) == 0);
	/* A signal to the group reaches both. */
	CHECK(kill(-a, SIGTERM) == 0);
	int st;
	pid_t r1 = waitpid(-a, &st, 0);
	CHECK((r1 == a || r1 == b) && WIFSIGNALED(st) &&
	      WTERMSIG(st) == SIGTERM);
	pid_t r2 = waitpid(-a, &st, 0);
	CHECK(r2 == a + b - r1 && WIFSIGNALED(st));

	/* A child can make its own group. */
	pid_t c = fork_checked();
	if (c == 0) {
		setpgid(0, 0);
		_exit(getpgrp() == getpid() ? 3 : 4);
	}
	wait_exit(c, 3);
	CHECK(close(go[0]) == 0 && close(go[1]) == 0);

	CHECK_ERR(setpgid(0x3ffffff0, 0), ESRCH);
	CHECK_ERR(getpgid(0x3ffffff0), ESRCH);
	CHECK_ERR(setpgid(0, -1), EINVAL);
}

static void sessions(void)
{
	/* 0 when the session leader is outside our pid namespace (a
	 * container, a CI runner): Linux says so, and so does mote. */
	pid_t sid = getsid(0);
	CHECK(sid >= 0 && getsid(getpid()) == sid);
	pid_t pid = fork_checked();
	if (pid == 0) {
		pid_t me = getpid();
		if (setsid() != me)
			_exit(2);
		if (getsid(0) != me || getpgrp() != me || getpgid(0) != me)
			_exit(3);
		/* A session leader cannot start another session... */
		if (setsid() != -1 || errno != EPERM)
			_exit(4);
		/* ... nor move to a group of another session. */
		if (setpgid(0, getppid()) != -1 || errno != EPERM)
			_exit(5);
		_exit(0);
	}
	wait_exit(pid, 0);

	/* A group leader cannot call setsid. */
	pid = fork_checked();
	if (pid == 0) {
		if (setpgid(0, 0) != 0)
			_exit(2);
		_exit(setsid() == -1 && errno == EPERM ? 0 : 3);
	}
	wait_exit(pid, 0);
}

/* After the child has exec'd, its parent may no longer move it. */
static void after_exec(void)
{
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	char *argv[] = {BB, "sh", "-c", "echo x; read y", NULL};
	int in[2];
	CHECK(pipe(in) == 0);
	pid_t pid = spawn(argv, in[0], p[1], -1);
	CHECK(close(p[1]) == 0 && close(in[0]) == 0);
	CHECK(read(p[0], &c, 1) == 1);
	CHECK_ERR(setpgid(pid, pid), EACCES);
	CHECK(write(in[1], "\n", 1) == 1);
	CHECK(close(in[1]) == 0 && close(p[0]) == 0);
	wait_exit(pid, 0);
}

static void terminal(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK_ERR(tcgetpgrp(p[0]), ENOTTY);
	CHECK_ERR(tcsetpgrp(p[0], getpgrp()), ENOTTY);
	CHECK_ERR(ioctl(p[0], TIOCGSID, &(pid_t){0}), ENOTTY);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
}

int main(void)
{
	groups();
	sessions();
	after_exec();
	terminal();
	success();
}
