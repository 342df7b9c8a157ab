/* A fork bomb under --pids 16: every process forks until fork fails with
 * EAGAIN, so the tree fills up to exactly 16 processes, first one
 * included; then all of them exit and are reaped. tests/suites/limits.sh
 * runs it again and checks that no process is left on the host.
 * A shared counter stops the bomb at 64 processes wherever no cap holds
 * (natively it needs a pids cgroup with pids.max = 16). */
// mote-args: --pids 16
// args: 16
#define _GNU_SOURCE
#include "proc.h"
#include <sys/mman.h>

#define MAX_PROCS 64

struct shared {
	int procs;    /* processes of the tree, the first one included */
	int overflow; /* MAX_PROCS was reached: no cap held */
	int bad;      /* a fork failed otherwise than with EAGAIN */
};

static struct shared *sh;
static int go[2], ready[2];

/* Forks until EAGAIN; every child does the same. Returns the number of
 * children this process made. */
static int bomb(void)
{
	int kids = 0;
	for (;;) {
		if (__atomic_load_n(&sh->procs, __ATOMIC_SEQ_CST) >=
		    MAX_PROCS) {
			__atomic_store_n(&sh->overflow, 1, __ATOMIC_SEQ_CST);
			break;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(go[1]);
			__atomic_add_fetch(&sh->procs, 1, __ATOMIC_SEQ_CST);
			kids = 0;
			continue;
		}
		if (pid < 0) {
			if (errno != EAGAIN)
				__atomic_store_n(&sh->bad, errno,
						 __ATOMIC_SEQ_CST);
			break;
		}
		kids++;
	}
	return kids;
}

/* Reaps this process's children; returns how many failed. */
static int reap(int kids)
{
	int failed = 0;
	for (int i = 0; i < kids; i++) {
		int st;
		pid_t r;
		while ((r = wait(&st)) < 0 && errno == EINTR)
			;
		failed += r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	return failed;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	int limit = atoi(argv[1]);
	CHECK(limit >= 2 && limit <= MAX_PROCS);
	alarm(30); /* a cap that does not hold must not hang the test */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh->procs = 1;
	CHECK(pipe(go) == 0 && pipe(ready) == 0);
	pid_t first = getpid();
	fflush(stdout);

	int kids = bomb();
	CHECK(write(ready[1], "r", 1) == 1);
	if (getpid() != first) {
		/* Wait for the first process to end the bomb. */
		char c;
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(reap(kids) ? 1 : 0);
	}
	/* Every process has stopped forking once each has said so; with the
	 * tree full, their number is the limit. */
	int done = 0;
	char c;
	while (done < limit && read(ready[0], &c, 1) == 1)
		done++;
	int procs = __atomic_load_n(&sh->procs, __ATOMIC_SEQ_CST);
	CHECK(close(go[1]) == 0);
	CHECK(reap(kids) == 0);
	CHECK(wait(NULL) == -1 && errno == ECHILD);
	CHECK(!sh->overflow && !sh->bad);
	if (procs != limit) {
		printf("FAIL: %d processes under --pids %d\n", procs, limit);
		return 1;
	}
	/* All gone: forks work again. */
	pid_t pid = fork_checked();
	if (pid == 0)
		_exit(7);
	wait_exit(pid, 7);
	success();
}
