/* Pipes and fds across fork and exec: a request/answer exchange over two
 * pipes, EOF once every writer is gone, a large transfer, dup2 before exec
 * (busybox tr as a filter), close-on-exec (O_CLOEXEC, FD_CLOEXEC,
 * F_DUPFD_CLOEXEC) and file status flags shared by parent and child. */
#define _GNU_SOURCE
#include "proc.h"

static void exchange(void)
{
	int req[2], ans[2];
	char buf[64];
	CHECK(pipe(req) == 0 && pipe(ans) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		close(req[1]);
		close(ans[0]);
		ssize_t n = read(req[0], buf, sizeof(buf));
		if (n != 4 || memcmp(buf, "ping", 4))
			_exit(2);
		if (write(ans[1], "pong", 4) != 4)
			_exit(3);
		/* The parent closed its end: EOF, not a hang. */
		if (read(req[0], buf, sizeof(buf)) != 0)
			_exit(4);
		_exit(0);
	}
	CHECK(close(req[0]) == 0 && close(ans[1]) == 0);
	CHECK(write(req[1], "ping", 4) == 4);
	CHECK(read(ans[0], buf, sizeof(buf)) == 4 && !memcmp(buf, "pong", 4));
	CHECK(close(req[1]) == 0);
	/* The child's exit closes the last writer of `ans`. */
	CHECK(read(ans[0], buf, sizeof(buf)) == 0);
	CHECK(close(ans[0]) == 0);
	wait_exit(pid, 0);
}

/* 1 MiB from child to parent: many partial reads and a full pipe. */
static void bulk(void)
{
	enum { SIZE = 1 << 20 };
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		static unsigned char chunk[10000];
		close(p[0]);
		for (size_t off = 0; off < SIZE;) {
			size_t n = SIZE - off < sizeof(chunk) ? SIZE - off
							      : sizeof(chunk);
			for (size_t i = 0; i < n; i++)
				chunk[i] = (unsigned char)((off + i) * 7);
			if (write(p[1], chunk, n) != (ssize_t)n)
				_exit(2);
			off += n;
		}
		_exit(0);
	}
	CHECK(close(p[1]) == 0);
	static unsigned char buf[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(p[0], buf, sizeof(buf));
		CHECK(n >= 0);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			CHECK(buf[i] == (unsigned char)((total + i) * 7));
		total += (size_t)n;
	}
	CHECK(total == SIZE);
	CHECK(close(p[0]) == 0);
	wait_exit(pid, 0);
}

/* busybox tr between two pipes, moved onto its stdin and stdout by dup2 in
 * the child before execve. */
static void filter(void)
{
	int in[2], out[2];
	char buf[128];
	char *argv[] = {BB, "tr", "a-z", "A-Z", NULL};
	CHECK(pipe(in) == 0 && pipe(out) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		child_redirect(in[0], 0);
		child_redirect(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execve(BB, argv, test_env);
		_exit(127);
	}
	CHECK(close(in[0]) == 0 && close(out[1]) == 0);
	const char msg[] = "hello, world\nsecond line 123\n";
	CHECK(write(in[1], msg, sizeof(msg) - 1) == sizeof(msg) - 1);
	CHECK(close(in[1]) == 0);
	read_all(out[0], buf, sizeof(buf));
	CHECK(close(out[0]) == 0);
	CHECK(strcmp(buf, "HELLO, WORLD\nSECOND LINE 123\n") == 0);
	wait_exit(pid, 0);
}

/* Reads a pipe to EOF and compares with `want`. */
static void expect_pipe(int fd, const char *want)
{
	char buf[64];
	read_all(fd, buf, sizeof(buf));
	if (strcmp(buf, want)) {
		printf("FAIL: pipe held '%s', want '%s'\n", buf, want);
		exit(1);
	}
	CHECK(close(fd) == 0);
}

/* Three write ends survive fork; only the one without close-on-exec
 * survives exec. The exec'd shell writes to each by number. */
static void cloexec(void)
{
	int a[2], b[2], c[2], d[2];
	char cmd[256];
	CHECK(pipe2(a, O_CLOEXEC) == 0);
	CHECK(pipe(b) == 0 && pipe(c) == 0 && pipe(d) == 0);
	CHECK(fcntl(a[1], F_GETFD) == FD_CLOEXEC);
	int fb = fcntl(b[1], F_DUPFD_CLOEXEC, 7);
	CHECK(fb >= 7 && fcntl(fb, F_GETFD) == FD_CLOEXEC);
	CHECK(close(b[1]) == 0);
	CHECK(fcntl(c[1], F_SETFD, FD_CLOEXEC) == 0);
	CHECK(fcntl(c[1], F_GETFD) == FD_CLOEXEC);
	int fd = fcntl(d[1], F_DUPFD, 20);
	CHECK(fd >= 20 && fcntl(fd, F_GETFD) == 0);
	CHECK(close(d[1]) == 0);
	/* Each failed redirection leaves its mark in the exit status. */
	snprintf(cmd, sizeof(cmd),
		 "s=0; echo a >&%d || s=$((s+1)); echo b >&%d || s=$((s+2)); "
		 "echo c >&%d || s=$((s+4)); echo d >&%d || s=$((s+8)); "
		 "exit $s",
		 a[1], fb, c[1], fd);
	char *argv[] = {BB, "sh", "-c", cmd, NULL};
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(null >= 0);
	pid_t pid = spawn(argv, -1, -1, null);
	CHECK(close(null) == 0);
	CHECK(close(a[1]) == 0 && close(fb) == 0 && close(c[1]) == 0);
	CHECK(close(fd) == 0);
	expect_pipe(a[0], "");
	expect_pipe(b[0], "");
	expect_pipe(c[0], "");
	expect_pipe(d[0], "d\n");
	wait_exit(pid, 1 + 2 + 4);
}

/* O_NONBLOCK belongs to the open file, which fork shares: a change made
 * by one process is seen by the other. */
static void shared_flags(void)
{
	int p[2], sync1[2], sync2[2];
	char c;
	CHECK(pipe(p) == 0 && pipe(sync1) == 0 && pipe(sync2) == 0);
	CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
	CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
	pid_t pid = fork_checked();
	if (pid == 0) {
		if (read(sync1[0], &c, 1) != 1)
			_exit(2);
		int fl = fcntl(p[0], F_GETFL);
		if (!(fl & O_NONBLOCK))
			_exit(3);
		if (read(p[0], &c, 1) != -1 || errno != EAGAIN)
			_exit(4);
		if (fcntl(p[0], F_SETFL, fl & ~O_NONBLOCK) != 0)
			_exit(5);
		_exit(write(sync2[1], "k", 1) == 1 ? 0 : 6);
	}
	CHECK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK) == 0);
	CHECK(read(p[0], &c, 1) == -1 && errno == EAGAIN);
	CHECK(write(sync1[1], "g", 1) == 1);
	CHECK(read(sync2[0], &c, 1) == 1);
	CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
	wait_exit(pid, 0);
	for (int i = 0; i < 2; i++) {
		CHECK(close(p[i]) == 0);
		CHECK(close(sync1[i]) == 0);
		CHECK(close(sync2[i]) == 0);
	}
}

int main(void)
{
	exchange();
	bulk();
	filter();
	cloexec();
	shared_flags();
	success();
}
