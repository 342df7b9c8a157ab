/* fork: a three-level tree, every node exits with its own code and every
 * parent checks each child's status; pids and parent pids are consistent;
 * fork copies memory (a child's writes stay its own); clone without
 * CLONE_VM is a fork. */
#define _GNU_SOURCE
#include "proc.h"
#include <sched.h>

#define FANOUT 2
#define DEPTH  3

/* Node n's children are n * FANOUT + 1 .. n * FANOUT + FANOUT. A node's exit
 * code is 20 + its number (all distinct: 14 nodes), 1 on a failed check. */
static int code_of(int node)
{
	return 20 + node;
}

static int copied = 1000;

static void node(int n, int depth, pid_t parent);

/* Forks the children of node n and reaps them, by pid at the deeper levels
 * and with waitpid(-1) (any order) at the top. */
static void fork_children(int n, int depth)
{
	pid_t pids[FANOUT], self = getpid();
	for (int i = 0; i < FANOUT; i++) {
		int c = n * FANOUT + 1 + i;
		pids[i] = fork_checked();
		if (pids[i] == 0)
			node(c, depth + 1, self);
		CHECK(pids[i] != self);
	}
	CHECK(copied == 1000 + n); /* the children's writes are not seen */
	if (depth > 0) {
		for (int i = 0; i < FANOUT; i++)
			wait_exit(pids[i], code_of(n * FANOUT + 1 + i));
		return;
	}
	for (int left = FANOUT; left > 0; left--) {
		int st;
		pid_t r = waitpid(-1, &st, 0);
		int i = 0;
		while (i < FANOUT && pids[i] != r)
			i++;
		CHECK(i < FANOUT);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == code_of(i + 1));
		pids[i] = 0;
	}
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

/* The body of node n (n > 0) at depth `depth`, a child of `parent`. */
static void node(int n, int depth, pid_t parent)
{
	if (getppid() != parent || getpid() == parent)
		_exit(1);
	if (syscall(SYS_getppid) != parent || syscall(SYS_gettid) != getpid())
		_exit(1);
	copied = 1000 + n;
	if (depth < DEPTH) {
		fflush(stdout);
		fork_children(n, depth);
	}
	_exit(code_of(n));
}

/* clone(SIGCHLD) without CLONE_VM and with no new stack is fork. */
static void raw_clone(void)
{
	pid_t self = getpid();
	fflush(stdout);
	long r = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (r == 0) {
		copied = 7;
		_exit(getppid() == self ? 42 : 1);
	}
	CHECK(r > 0 && r != self);
	wait_exit((pid_t)r, 42);
	CHECK(copied == 1000);

	/* The raw fork syscall, too. */
	r = syscall(SYS_fork);
	if (r == 0)
		_exit(getppid() == self ? 43 : 1);
	CHECK(r > 0);
	wait_exit((pid_t)r, 43);
}

int main(void)
{
	copied = 1000;
	fork_children(0, 0);
	raw_clone();
	success();
}
