/* --pids N caps the number of guest processes of one `mote run`: every
 * process of the run's tree that has not been reaped yet, the first one
 * included (so N - 1 children can live beside the first process). Threads
 * are not looked at here. A fork beyond the cap fails with EAGAIN, also
 * deep in the tree; reaping frees the slot again. argv[1] is N.
 * (Natively this needs an equivalent cap, e.g. a pids cgroup with
 * pids.max = N.) */
// mote-args: --pids 4
// args: 4
#define _GNU_SOURCE
#include "proc.h"

#define MAX_TRY 64

/* The children all block reading `go`; each byte written releases one. */
static int go[2];

static pid_t blocked_child(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	return pid;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	int limit = atoi(argv[1]);
	CHECK(limit >= 2 && limit < MAX_TRY);
	CHECK(pipe(go) == 0);

	int n = 0;
	pid_t pid;
	while (n < MAX_TRY && (pid = blocked_child()) > 0)
		n++;
	CHECK(n < MAX_TRY);
	CHECK(pid == -1 && errno == EAGAIN);
	if (n != limit - 1) {
		printf("FAIL: %d forks succeeded under --pids %d, want %d\n", n,
		       limit, limit - 1);
		exit(1);
	}
	/* Still full: a second try fails the same way. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK(pid == -1 && errno == EAGAIN);

	/* Release one child and reap it: its slot is free again. */
	int st;
	CHECK(write(go[1], "x", 1) == 1);
	CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* The tree is full again once this child runs: its own fork is
	 * refused with EAGAIN. */
	pid = fork_checked();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(0);
		_exit(g == -1 && errno == EAGAIN ? 10 : 11);
	}
	CHECK(pid > 0);
	wait_exit(pid, 10);

	/* Release and reap the rest; then forks work again. */
	for (int i = 1; i < n; i++)
		CHECK(write(go[1], "x", 1) == 1);
	for (int i = 1; i < n; i++)
		CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(wait(&st) == -1 && errno == ECHILD);
	for (int i = 0; i < limit - 1; i++) {
		pid = fork_checked();
		if (pid == 0)
			_exit(i);
		wait_exit(pid, i);
	}
	success();
}
