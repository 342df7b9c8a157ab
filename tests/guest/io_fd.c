/* dup, dup2, dup3, pipe, pipe2, fcntl and ioctl on pipes. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

/* The pipe r/w carries one byte written through fd `from`. */
static void flows(int from, int to)
{
	char c = 0;
	CHECK(write(from, "q", 1) == 1);
	CHECK(read(to, &c, 1) == 1 && c == 'q');
}

static void dups(int r, int w)
{
	int d = dup(r);
	CHECK(d == w + 1);
	CHECK(fcntl(d, F_GETFD) == 0);
	flows(w, d);
	CHECK(close(d) == 0);
	CHECK(dup(w) == d); /* lowest free number again */
	CHECK(close(d) == 0);

	CHECK(syscall(SYS_dup2, r, r) == r);
	CHECK_ERR(syscall(SYS_dup2, 100, 100), EBADF);
	CHECK_ERR(syscall(SYS_dup2, 100, 101), EBADF);
	CHECK(syscall(SYS_dup2, w, 50) == 50);
	flows(50, r);
	/* dup2 onto an open fd silently replaces it. */
	CHECK(syscall(SYS_dup2, r, 50) == 50);
	flows(w, 50);
	CHECK_ERR(syscall(SYS_dup2, r, -1), EBADF);
	CHECK_ERR(syscall(SYS_dup2, r, 1024), EBADF);
	CHECK_ERR(syscall(SYS_dup, 1023), EBADF);

	CHECK_ERR(syscall(SYS_dup3, r, r, 0), EINVAL);
	CHECK_ERR(syscall(SYS_dup3, r, 60, O_NONBLOCK), EINVAL);
	CHECK_ERR(syscall(SYS_dup3, 100, 60, 0), EBADF);
	CHECK(syscall(SYS_dup3, r, 60, O_CLOEXEC) == 60);
	CHECK(fcntl(60, F_GETFD) == FD_CLOEXEC);
	/* The close-on-exec flag belongs to the fd, not the file. */
	CHECK(syscall(SYS_dup2, 60, 61) == 61);
	CHECK(fcntl(61, F_GETFD) == 0);
	CHECK(syscall(SYS_dup3, w, 60, 0) == 60);
	CHECK(fcntl(60, F_GETFD) == 0);
	flows(60, 61);
	CHECK(close(50) == 0 && close(60) == 0 && close(61) == 0);
}

static void pipes(void)
{
	int p[2];
	CHECK(syscall(SYS_pipe2, p, O_CLOEXEC) == 0);
	CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(p[1], F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);

	char c;
	CHECK(syscall(SYS_pipe2, p, O_NONBLOCK) == 0);
	CHECK(fcntl(p[0], F_GETFD) == 0);
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	flows(p[1], p[0]);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);

	CHECK_ERR(syscall(SYS_pipe2, p, O_APPEND), EINVAL);
	CHECK_ERR(syscall(SYS_pipe2, p, -1), EINVAL);
	CHECK(syscall(SYS_pipe, p) == 0);
	CHECK(fcntl(p[0], F_GETFD) == 0);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
}

static void fcntls(int r, int w)
{
	CHECK(fcntl(r, F_DUPFD, 100) == 100);
	CHECK(fcntl(100, F_GETFD) == 0);
	CHECK(fcntl(r, F_DUPFD_CLOEXEC, 100) == 101);
	CHECK(fcntl(101, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(r, F_DUPFD, 0) == w + 1);
	CHECK(close(w + 1) == 0);
	CHECK_ERR(syscall(SYS_fcntl, r, F_DUPFD, 1024), EINVAL);
	CHECK_ERR(syscall(SYS_fcntl, r, F_DUPFD, -1), EINVAL);

	CHECK(fcntl(100, F_SETFD, FD_CLOEXEC) == 0);
	CHECK(fcntl(100, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(100, F_SETFD, 0) == 0);
	CHECK(fcntl(100, F_GETFD) == 0);
	CHECK(fcntl(r, F_GETFD) == 0); /* the original is untouched */

	char c;
	int fl = fcntl(r, F_GETFL);
	CHECK(fl >= 0 && !(fl & O_NONBLOCK));
	CHECK(fcntl(r, F_SETFL, fl | O_NONBLOCK) == 0);
	CHECK(fcntl(r, F_GETFL) & O_NONBLOCK);
	/* The status flags belong to the open file: dups share them. */
	CHECK(fcntl(101, F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(r, &c, 1), EAGAIN);
	/* F_SETFL cannot change the access mode. */
	CHECK(fcntl(r, F_SETFL, O_RDWR) == 0);
	CHECK(fcntl(r, F_GETFL) == fl);

	CHECK_ERR(syscall(SYS_fcntl, r, 9999, 0), EINVAL);
	CHECK_ERR(syscall(SYS_fcntl, 999, F_GETFD), EBADF);
	CHECK_ERR(syscall(SYS_fcntl, -1, F_GETFL), EBADF);
	CHECK(fcntl(w, F_GETPIPE_SZ) >= 4096);
	CHECK_ERR(syscall(SYS_fcntl, r, F_GETLK, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_fcntl, r, F_SETLK, SHIM_PTR), EFAULT);
	CHECK(close(100) == 0 && close(101) == 0);
}

static void ioctls(int r, int w)
{
	struct termios tio;
	int n = -1;
	CHECK_ERR(syscall(SYS_ioctl, r, TCGETS, &tio), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, r, TIOCGWINSZ, &tio), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, r, 0x1234, &n), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, 999, FIONREAD, &n), EBADF);
	CHECK(ioctl(r, FIONREAD, &n) == 0 && n == 0);
	CHECK(write(w, "abc", 3) == 3);
	CHECK(ioctl(r, FIONREAD, &n) == 0 && n == 3);
	CHECK_ERR(syscall(SYS_ioctl, r, FIONREAD, BAD_PTR), EFAULT);

	char buf[4];
	int on = 1, off = 0;
	CHECK(read(r, buf, 3) == 3);
	CHECK(ioctl(r, FIONBIO, &on) == 0);
	CHECK(fcntl(r, F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(r, buf, 1), EAGAIN);
	CHECK(ioctl(r, FIONBIO, &off) == 0);
	CHECK(!(fcntl(r, F_GETFL) & O_NONBLOCK));

	CHECK(ioctl(r, FIOCLEX) == 0);
	CHECK(fcntl(r, F_GETFD) == FD_CLOEXEC);
	CHECK(ioctl(r, FIONCLEX) == 0);
	CHECK(fcntl(r, F_GETFD) == 0);
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(p[0] == 3 && p[1] == 4);
	dups(p[0], p[1]);
	pipes();
	ioctls(p[0], p[1]);
	fcntls(p[0], p[1]);
	success();
}
