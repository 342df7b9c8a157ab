/* read, write, readv, writev, pread64, pwrite64, lseek and close on pipes. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/uio.h>

static void plain(int r, int w)
{
	char buf[16] = {0};
	CHECK(write(w, "hello", 5) == 5);
	CHECK(syscall(SYS_write, w, buf, 0) == 0);
	CHECK(read(r, buf, sizeof(buf)) == 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK(syscall(SYS_read, r, buf, 0) == 0);
	/* A short read leaves the rest in the pipe. */
	CHECK(write(w, "abcdef", 6) == 6);
	CHECK(read(r, buf, 2) == 2 && memcmp(buf, "ab", 2) == 0);
	CHECK(read(r, buf, 16) == 4 && memcmp(buf, "cdef", 4) == 0);
	/* The wrong end of the pipe. */
	CHECK_ERR(syscall(SYS_write, r, "x", 1), EBADF);
	CHECK_ERR(syscall(SYS_read, w, buf, 1), EBADF);
}

static void vectored(int r, int w)
{
	struct iovec wv[4] = {
		{"ab", 2},
		{NULL, 0},
		{"cde", 3},
		{"fghij", 5},
	};
	CHECK(writev(w, wv, 4) == 10);
	char x[3], y[4], z[16];
	struct iovec rv[3] = {{x, 3}, {y, 0}, {z, sizeof(z)}};
	CHECK(readv(r, rv, 3) == 10);
	CHECK(memcmp(x, "abc", 3) == 0 && memcmp(z, "defghij", 7) == 0);
	CHECK(syscall(SYS_readv, r, NULL, 0) == 0);
	CHECK(syscall(SYS_writev, w, NULL, 0) == 0);
	CHECK_ERR(syscall(SYS_writev, w, wv, 1025), EINVAL);
	CHECK_ERR(syscall(SYS_readv, r, rv, 1025), EINVAL);
	/* A huge count is refused before the monitor sizes anything by it
	 * (found by tests/fuzz/syscall). */
	CHECK_ERR(syscall(SYS_writev, w, wv, 1L << 31), EINVAL);
	CHECK_ERR(syscall(SYS_readv, r, rv, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_writev, w, wv, -1L), EINVAL);
	struct iovec neg[1] = {{x, (size_t)-1}};
	CHECK_ERR(syscall(SYS_readv, r, neg, 1), EINVAL);
	CHECK_ERR(syscall(SYS_writev, r, wv, 1), EBADF);
}

static void positional(int r, int w)
{
	char buf[4];
	CHECK_ERR(syscall(SYS_pread64, r, buf, 1, 0), ESPIPE);
	CHECK_ERR(syscall(SYS_pwrite64, w, "x", 1, 0), ESPIPE);
	CHECK_ERR(syscall(SYS_pread64, r, buf, 1, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_pwrite64, w, "x", 1, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_pread64, 999, buf, 1, 0), EBADF);
	CHECK_ERR(syscall(SYS_lseek, r, 0, SEEK_SET), ESPIPE);
	CHECK_ERR(syscall(SYS_lseek, w, 0, SEEK_CUR), ESPIPE);
	CHECK_ERR(syscall(SYS_lseek, 999, 0, SEEK_SET), EBADF);
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	plain(p[0], p[1]);
	vectored(p[0], p[1]);
	positional(p[0], p[1]);
	/* With the write end closed, the reader sees end of file. */
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(close(p[1]) == 0);
	char c;
	CHECK(read(p[0], &c, 1) == 1 && c == 'z');
	CHECK(read(p[0], &c, 1) == 0);
	CHECK_ERR(syscall(SYS_close, p[1]), EBADF);
	CHECK(close(p[0]) == 0);
	CHECK_ERR(syscall(SYS_close, p[0]), EBADF);
	CHECK_ERR(syscall(SYS_close, -1), EBADF);
	success();
}
