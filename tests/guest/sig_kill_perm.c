/* kill stays inside the run's process tree: a pid outside it (pid 1, and
 * the parent of the run's first process) is refused with EPERM (ESRCH
 * accepted: the pid may not exist at all), for kill and tgkill; the run's own
 * processes can be signalled: a child, a grandchild, and the parent from a
 * child. Natively it passes only for a user who may not signal those pids (not
 * root): this test is for mote. */
#define _GNU_SOURCE
#include "proc.h"

static void refused(long r)
{
	if (r != -1 || (errno != EPERM && errno != ESRCH)) {
		printf("FAIL: kill outside the tree returned %ld errno %d\n", r,
		       errno);
		exit(1);
	}
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = 1;
}

int main(void)
{
	pid_t outside = getppid();
	/* Only signal 0 (a probe): a real signal that got through would hit
	 * the host's init or the test harness. */
	refused(kill(1, 0));
	refused(syscall(SYS_tgkill, 1, 1, 0));
	refused(kill(outside, 0));
	/* A pid that is no process at all. */
	refused(kill(0x3ffffff0, 0));

	/* A child, and its own child, through kill and from the child. */
	int go[2], hold[2], st;
	char c;
	CHECK(pipe(go) == 0);
	pid_t child = fork_checked();
	if (child == 0) {
		/* The grandchild waits on a pipe of its own, which nobody
		 * writes: on `go` it could take the byte meant for its
		 * parent before its parent has killed it. */
		if (pipe(hold) != 0)
			_exit(6);
		pid_t g = fork();
		if (g == 0) {
			_exit(read(hold[0], &c, 1) == 1 ? 0 : 1);
		}
		if (g < 0 || kill(g, 0) != 0 || kill(g, SIGTERM) != 0)
			_exit(2);
		if (waitpid(g, &st, 0) != g || !WIFSIGNALED(st))
			_exit(3);
		/* Outside stays outside for the child too. */
		if (kill(1, 0) == 0 || kill(outside, 0) == 0)
			_exit(4);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 5);
	}
	CHECK(kill(child, 0) == 0);
	CHECK(kill(child, SIGCONT) == 0);
	CHECK(write(go[1], "g", 1) == 1);
	wait_exit(child, 0);

	/* The parent, signalled by its child. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
	CHECK(signal(SIGUSR1, on_usr1) != SIG_ERR);
	pid_t parent = getpid();
	child = fork_checked();
	if (child == 0)
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	while (!got_usr1)
		sigsuspend(&old);
	wait_exit(child, 0);
	success();
}
