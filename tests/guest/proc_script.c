/* execve of #! scripts: the interpreter (with its one optional argument)
 * runs with the script path and the caller's arguments; execveat of a
 * script relative to a directory fd; refusals for a missing interpreter and a
 * script without the execute bit. argv[1] is a scratch directory (writable, at
 * the same path in the guest). */
// mote-args: --volume @TMP@:@TMP@:rw
// args: @TMP@
#define _GNU_SOURCE
#include "proc.h"
#include <sys/stat.h>

static char dir[256];

static void make_script(const char *name, const char *text, mode_t mode,
			char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(close(fd) == 0);
	CHECK(chmod(path, mode) == 0);
}

static void expect_output(char *const argv[], const char *want, int code)
{
	char out[512];
	int st = run_capture(argv, out, sizeof(out));
	if (strcmp(out, want) || !WIFEXITED(st) || WEXITSTATUS(st) != code) {
		printf("FAIL: %s printed '%s' status 0x%x, want '%s' exit %d\n",
		       argv[0], out, st, want, code);
		exit(1);
	}
}

static void scripts(void)
{
	char path[512], want[1024];
	make_script("s.sh", "#!/bin/busybox sh\necho script $0 $1 \"$2\"\n",
		    0755, path, sizeof(path));
	char *argv[] = {path, "arg1", "two words", NULL};
	snprintf(want, sizeof(want), "script %s arg1 two words\n", path);
	expect_output(argv, want, 0);

	/* Spaces after #!, an exit status, and the interpreter's optional
	 * argument (here the applet name) coming before the script path. */
	make_script("t.sh", "#!  /bin/busybox   sh\nexit 9\n", 0755, path,
		    sizeof(path));
	char *t[] = {path, NULL};
	expect_output(t, "", 9);
}

static void at_dirfd(void)
{
	char path[512];
	make_script("at.sh", "#!/bin/busybox sh\necho at $1\n", 0755, path,
		    sizeof(path));
	int p[2];
	char out[256];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		char *argv[] = {"at.sh", "x", NULL};
		child_redirect(p[1], 1);
		syscall(SYS_execveat, dfd, "at.sh", argv, test_env, 0);
		_exit(127);
	}
	CHECK(close(p[1]) == 0);
	read_all(p[0], out, sizeof(out));
	CHECK(close(p[0]) == 0);
	wait_exit(pid, 0);
	CHECK(strcmp(out, "at x\n") == 0);
	char *argv[] = {"at.sh", NULL};
	CHECK_ERR(syscall(SYS_execveat, dfd, "missing.sh", argv, test_env, 0),
		  ENOENT);
	CHECK_ERR(syscall(SYS_execveat, dfd, "at.sh", argv, test_env, 0x1),
		  EINVAL);
	CHECK(close(dfd) == 0);
}

static void refusals(void)
{
	char path[512];
	char *argv[] = {"x", NULL};
	make_script("nointerp.sh", "#!/no/such/interpreter\necho hi\n", 0755,
		    path, sizeof(path));
	CHECK_ERR(syscall(SYS_execve, path, argv, test_env), ENOENT);
	make_script("noexec.sh", "#!/bin/busybox sh\necho hi\n", 0644, path,
		    sizeof(path));
	CHECK_ERR(syscall(SYS_execve, path, argv, test_env), EACCES);
	/* The interpreter is a directory. */
	make_script("dirinterp.sh", "#!/\n", 0755, path, sizeof(path));
	CHECK_ERR(syscall(SYS_execve, path, argv, test_env), EACCES);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2 && strlen(argv[1]) < 200);
	strcpy(dir, argv[1]);
	scripts();
	at_dirfd();
	refusals();
	success();
}
