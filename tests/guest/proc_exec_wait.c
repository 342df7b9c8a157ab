/* fork + execve + waitpid: exact status words for exits and deaths by
 * signal, argv and envp reach the new image, the pid survives exec, and a
 * failing execve returns the right errno and leaves the caller intact.
 * argv[1] is a scratch directory (writable, at the same path in the
 * guest). */
// mote-args: --volume @TMP@:@TMP@:rw
// args: @TMP@
#define _GNU_SOURCE
#include "proc.h"
#include <sys/stat.h>

static int run(char *const argv[])
{
	return wait_for(spawn(argv, -1, -1, -1));
}

static void statuses(void)
{
	char *t[] = {BB, "true", NULL};
	char *f[] = {BB, "false", NULL};
	char *e7[] = {BB, "sh", "-c", "exit 7", NULL};
	char *e255[] = {BB, "sh", "-c", "exit 255", NULL};
	char *term[] = {BB, "sh", "-c", "kill -TERM $$; exit 3", NULL};
	char *kill9[] = {BB, "sh", "-c", "kill -KILL $$; exit 3", NULL};

	int st = run(t);
	CHECK(st == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run(f);
	CHECK(st == 0x100 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
	st = run(e7);
	CHECK(st == 0x700 && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	st = run(e255);
	CHECK(st == 0xff00 && WEXITSTATUS(st) == 255);
	/* A signal without a core dump: the low 7 bits are the signal, the
	 * core flag is clear. */
	st = run(term);
	CHECK(st == SIGTERM && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(!WIFEXITED(st) && !WCOREDUMP(st));
	st = run(kill9);
	CHECK(st == SIGKILL && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* The exit calls without exec: exit_group keeps the low 8 bits; exit of
 * the only thread ends the process with its code. */
static void raw_exits(void)
{
	pid_t pid = fork_checked();
	if (pid == 0)
		syscall(SYS_exit_group, 300);
	CHECK(wait_for(pid) == (300 & 0xff) << 8);
	pid = fork_checked();
	if (pid == 0)
		syscall(SYS_exit, 9);
	wait_exit(pid, 9);
	/* abort(): killed by SIGABRT (the core flag depends on the host's
	 * core_pattern, so it is not looked at). */
	pid = fork_checked();
	if (pid == 0) {
		no_core();
		abort();
	}
	wait_signaled(pid, SIGABRT);
}

/* argv, envp and the pid as the exec'd shell sees them. */
static void image(void)
{
	char cmd[] = "echo \"$0|$1|$2|$FOO|$$\"";
	char *argv[] = {BB, "sh", "-c", cmd, "zero", "one", "two words", NULL};
	char *env[] = {"FOO=bar baz", "PATH=/bin", NULL};
	char out[256], want[256];
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		child_redirect(p[1], 1);
		close(p[0]);
		close(p[1]);
		execve(BB, argv, env);
		_exit(127);
	}
	CHECK(close(p[1]) == 0);
	read_all(p[0], out, sizeof(out));
	CHECK(close(p[0]) == 0);
	wait_exit(pid, 0);
	snprintf(want, sizeof(want), "zero|one|two words|bar baz|%d\n",
		 (int)pid);
	if (strcmp(out, want)) {
		printf("FAIL: exec'd shell printed '%s', want '%s'\n", out,
		       want);
		exit(1);
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(close(fd) == 0);
	CHECK(chmod(path, mode) == 0);
}

static void errors(const char *dir)
{
	char *argv[] = {BB, "true", NULL};
	char *badarg[] = {BB, BAD_PTR, NULL};
	char text[512], noexec[512], empty[512];
	snprintf(text, sizeof(text), "%s/text", dir);
	snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	write_file(text, "just some text\nnot a program\n", 0755);
	write_file(noexec, "#!/bin/busybox sh\nexit 0\n", 0644);
	write_file(empty, "", 0755);

	CHECK_ERR(syscall(SYS_execve, "/no/such/program", argv, test_env),
		  ENOENT);
	CHECK_ERR(syscall(SYS_execve, "/bin/busybox/x", argv, test_env),
		  ENOTDIR);
	CHECK_ERR(syscall(SYS_execve, "", argv, test_env), ENOENT);
	CHECK_ERR(syscall(SYS_execve, "/", argv, test_env), EACCES);
	CHECK_ERR(syscall(SYS_execve, dir, argv, test_env), EACCES);
	CHECK_ERR(syscall(SYS_execve, noexec, argv, test_env), EACCES);
	CHECK_ERR(syscall(SYS_execve, text, argv, test_env), ENOEXEC);
	CHECK_ERR(syscall(SYS_execve, empty, argv, test_env), ENOEXEC);
	CHECK_ERR(syscall(SYS_execve, BAD_PTR, argv, test_env), EFAULT);
	CHECK_ERR(syscall(SYS_execve, BB, BAD_PTR, test_env), EFAULT);
	CHECK_ERR(syscall(SYS_execve, BB, badarg, test_env), EFAULT);
	CHECK_ERR(syscall(SYS_execve, BB, argv, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_execve, BB, argv, SHIM_PTR), EFAULT);
	/* The caller's image is intact after each refusal. */
	CHECK(run(argv) == 0);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	statuses();
	raw_exits();
	image();
	errors(argv[1]);
	success();
}
