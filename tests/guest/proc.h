/* Helpers for the process, signal and thread guest tests: waiting with a
 * checked status, reading a pipe to EOF, running busybox with redirected
 * fds, and a monotonic clock. */
#ifndef MOTE_TEST_PROC_H
#define MOTE_TEST_PROC_H

#include "guest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define BB "/bin/busybox"

/* Every test process runs with this environment, natively and in a guest. */
static char *const test_env[] = {"PATH=/usr/bin:/bin", "HOME=/", NULL};

/* Reaps exactly pid and returns its raw status word. */
static inline int wait_for(pid_t pid)
{
	int st = -1;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r == -1 && errno == EINTR);
	CHECK(r == pid);
	return st;
}

/* Reaps pid and checks that it exited with `code`. */
static inline void wait_exit(pid_t pid, int code)
{
	int st = wait_for(pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != code) {
		printf("FAIL: child %d status 0x%x, want exit %d\n", (int)pid,
		       st, code);
		fflush(stdout);
		exit(1);
	}
}

/* Reaps pid and checks that signal `sig` killed it. */
static inline void wait_signaled(pid_t pid, int sig)
{
	int st = wait_for(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != sig) {
		printf("FAIL: child %d status 0x%x, want killed by %d\n",
		       (int)pid, st, sig);
		fflush(stdout);
		exit(1);
	}
}

/* Reads fd until EOF into buf (NUL-terminated); returns the length. */
static inline size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

/* Forks; stdio is flushed first so that no buffered text is written twice. */
static inline pid_t fork_checked(void)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	return pid;
}

/* In a child: moves fd onto target (if both are >= 0 and differ). */
static inline void child_redirect(int fd, int target)
{
	if (fd < 0 || fd == target)
		return;
	if (dup2(fd, target) != target)
		_exit(126);
}

/* Forks a child that runs `argv` (argv[0] is the program path) with stdin,
 * stdout and stderr taken from in, out and err (-1 keeps the parent's). */
static inline pid_t spawn(char *const argv[], int in, int out, int err)
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		child_redirect(in, 0);
		child_redirect(out, 1);
		child_redirect(err, 2);
		execve(argv[0], argv, test_env);
		_exit(127);
	}
	return pid;
}

/* Runs `argv` with stdout into a pipe; returns its output in buf and its
 * raw status word. */
static inline int run_capture(char *const argv[], char *buf, size_t cap)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	pid_t pid = spawn(argv, -1, p[1], -1);
	CHECK(close(p[1]) == 0);
	read_all(p[0], buf, cap);
	CHECK(close(p[0]) == 0);
	return wait_for(pid);
}

static inline long long now_ms(void)
{
	struct timespec ts;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* No core files from the signals a test provokes on purpose. */
static inline void no_core(void)
{
	struct rlimit rl = {0, 0};
	CHECK(setrlimit(RLIMIT_CORE, &rl) == 0);
}

#endif
