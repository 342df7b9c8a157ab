/* 1,000 sequential fork + _exit + wait; each child's exit code (i % 256)
 * is checked. See stress.h for the "hold" argument. */
#define _GNU_SOURCE
#include "stress.h"

#define ROUNDS 1000

int main(int argc, char **argv)
{
	struct fd_snapshot fds;
	fd_snap(&fds);
	hold(argc, argv, "before");
	for (int i = 0; i < ROUNDS; i++) {
		pid_t pid = fork_checked();
		if (pid == 0)
			_exit(i % 256);
		int st = wait_for(pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != i % 256) {
			printf("FAIL: round %d: status 0x%x\n", i, st);
			exit(1);
		}
	}
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	fd_same(&fds);
	hold(argc, argv, "after");
	success();
}
