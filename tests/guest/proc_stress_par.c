/* 50 concurrent children: all are forked (each then blocks until the
 * parent closes a pipe, so all 50 are alive at once), then all are reaped
 * with waitpid(-1) and each exit code (its index) is checked. See stress.h
 * for the "hold" argument. */
#define _GNU_SOURCE
#include "stress.h"

#define CHILDREN 50

int main(int argc, char **argv)
{
	struct fd_snapshot fds;
	pid_t pids[CHILDREN];
	int go[2];
	char c;
	fd_snap(&fds);
	hold(argc, argv, "before");
	CHECK(pipe(go) == 0);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork_checked();
		if (pids[i] == 0) {
			close(go[1]);
			_exit(read(go[0], &c, 1) == 0 ? i : 255);
		}
	}
	CHECK(close(go[0]) == 0);
	/* All alive: none reapable yet. */
	CHECK(waitpid(-1, NULL, WNOHANG) == 0);
	CHECK(close(go[1]) == 0);
	for (int left = CHILDREN; left > 0; left--) {
		int st, i = 0;
		pid_t r = waitpid(-1, &st, 0);
		CHECK(r > 0);
		while (i < CHILDREN && pids[i] != r)
			i++;
		CHECK(i < CHILDREN);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != i) {
			printf("FAIL: child %d: status 0x%x\n", i, st);
			exit(1);
		}
		pids[i] = 0;
	}
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	fd_same(&fds);
	hold(argc, argv, "after");
	success();
}
