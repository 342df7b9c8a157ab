/* vfork and posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc and
 * musl): the parent sleeps until the child execs or exits, and then only
 * until that: not until the child's own children (busybox timeout's
 * watcher) are gone; posix_spawn runs file actions and searches PATH.
 * Last, an exec failure in a posix_spawn child is reported. */
#define _GNU_SOURCE
#include "proc.h"
#include <spawn.h>

extern char **environ;

static void vfork_exec(void)
{
	char *argv[] = {BB, "sh", "-c", "exit 6", NULL};
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) {
		execve(BB, argv, test_env);
		_exit(127);
	}
	CHECK(pid > 0);
	wait_exit(pid, 6);

	pid = vfork();
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0);
	wait_exit(pid, 5);
}

/* The vfork child forks a grandchild that lives on for 3 s, then exits:
 * the parent resumes at once. */
static void vfork_grandchild(void)
{
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	fflush(stdout);
	long long t0 = now_ms();
	pid_t pid = vfork();
	if (pid == 0) {
		/* The raw fork: the libc's fork would update its state in
		 * the memory shared with the parent. */
		pid_t g = (pid_t)syscall(SYS_fork);
		if (g == 0) {
			sleep_ms(3000);
			_exit(write(p[1], "g", 1) == 1 ? 0 : 1);
		}
		_exit(g > 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	long long dt = now_ms() - t0;
	if (dt >= 1500) {
		printf("FAIL: vfork returned after %lld ms: it waited for "
		       "the vfork child's child\n",
		       dt);
		exit(1);
	}
	wait_exit(pid, 0);
	/* The grandchild ran and finished on its own. */
	CHECK(close(p[1]) == 0);
	CHECK(read(p[0], &c, 1) == 1 && c == 'g');
	CHECK(close(p[0]) == 0);
}

static void spawns(void)
{
	char *argv[] = {BB, "sh", "-c", "exit 8", NULL};
	pid_t pid = 0;
	fflush(stdout);
	CHECK(posix_spawn(&pid, BB, NULL, NULL, argv, test_env) == 0);
	CHECK(pid > 0);
	wait_exit(pid, 8);

	/* File actions run in the child before the exec. */
	int p[2];
	char out[64];
	char *echo[] = {BB, "echo", "spawned", NULL};
	posix_spawn_file_actions_t fa;
	CHECK(pipe(p) == 0);
	CHECK(posix_spawn_file_actions_init(&fa) == 0);
	CHECK(posix_spawn_file_actions_adddup2(&fa, p[1], 1) == 0);
	CHECK(posix_spawn_file_actions_addclose(&fa, p[0]) == 0);
	CHECK(posix_spawn(&pid, BB, &fa, NULL, echo, environ) == 0);
	CHECK(posix_spawn_file_actions_destroy(&fa) == 0);
	CHECK(close(p[1]) == 0);
	read_all(p[0], out, sizeof(out));
	CHECK(close(p[0]) == 0);
	CHECK(strcmp(out, "spawned\n") == 0);
	wait_exit(pid, 0);

	/* posix_spawnp searches the caller's PATH. */
	char *t[] = {"busybox", "true", NULL};
	CHECK(posix_spawnp(&pid, "busybox", NULL, NULL, t, test_env) == 0);
	wait_exit(pid, 0);
}

/* mote's vfork copies the parent's memory rather than sharing it (see
 * README: a store by the child before exec is not seen by the parent,
 * which POSIX leaves undefined anyway). What a program can rely on still
 * holds: an exec failure in a posix_spawn child is reported, by musl as the
 * result (its close-on-exec pipe), by glibc (which passes it through the
 * shared memory) as a child that exits with 127. */
static void spawn_failure(void)
{
	char *argv[] = {BB, "true", NULL};
	pid_t pid = 0;
	int r = posix_spawn(&pid, "/no/such/program", NULL, NULL, argv,
			    test_env);
	if (r == 0)
		wait_exit(pid, 127);
	else
		CHECK(r == ENOENT);
}

int main(void)
{
	vfork_exec();
	vfork_grandchild();
	spawns();
	spawn_failure();
	success();
}
