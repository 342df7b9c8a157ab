/* Bad fds give EBADF, and the monitor's own descriptors cannot be reached:
 * every number the guest did not open behaves as unopened. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/uio.h>

#define FIRST 3
#define LAST  1023

static void bad_fd(long fd)
{
	char c;
	struct iovec v = {&c, 1};
	CHECK_ERR(syscall(SYS_read, fd, &c, 1), EBADF);
	CHECK_ERR(syscall(SYS_write, fd, "x", 1), EBADF);
	CHECK_ERR(syscall(SYS_readv, fd, &v, 1), EBADF);
	CHECK_ERR(syscall(SYS_writev, fd, &v, 1), EBADF);
	CHECK_ERR(syscall(SYS_pread64, fd, &c, 1, 0L), EBADF);
	CHECK_ERR(syscall(SYS_pwrite64, fd, &c, 1, 0L), EBADF);
	CHECK_ERR(syscall(SYS_lseek, fd, 0L, SEEK_SET), EBADF);
	CHECK_ERR(syscall(SYS_close, fd), EBADF);
	CHECK_ERR(syscall(SYS_dup, fd), EBADF);
	CHECK_ERR(syscall(SYS_dup2, fd, 10), EBADF);
	CHECK_ERR(syscall(SYS_dup3, fd, 10, 0), EBADF);
	CHECK_ERR(syscall(SYS_fcntl, fd, F_GETFD), EBADF);
	CHECK_ERR(syscall(SYS_fcntl, fd, F_DUPFD, 0), EBADF);
	CHECK_ERR(syscall(SYS_ioctl, fd, 0x541b /* FIONREAD */, &v), EBADF);
	CHECK_ERR(syscall(SYS_mmap, NULL, 4096, 1, MAP_PRIVATE, fd, 0), EBADF);
}

/* Numbers the monitor surely has open itself (KVM, the VM, the vCPU, its
 * stdio duplicates) are all in this range. */
static void unopened_range(void)
{
	char c;
	for (int fd = FIRST; fd <= LAST; fd++) {
		CHECK_ERR(syscall(SYS_close, fd), EBADF);
		CHECK_ERR(syscall(SYS_read, fd, &c, 1), EBADF);
		CHECK_ERR(syscall(SYS_fcntl, fd, F_GETFD), EBADF);
		/* The slot is free, so the guest can take it... */
		CHECK(syscall(SYS_dup2, 1, fd) == fd);
		CHECK(syscall(SYS_close, fd) == 0);
	}
	/* ...and gives it back: all of them are free again. */
	static struct pollfd pf[LAST - FIRST + 1];
	for (int fd = FIRST; fd <= LAST; fd++)
		pf[fd - FIRST] = (struct pollfd){fd, POLLIN | POLLOUT, 0};
	CHECK(poll(pf, LAST - FIRST + 1, 0) == LAST - FIRST + 1);
	for (int i = 0; i <= LAST - FIRST; i++)
		CHECK(pf[i].revents == POLLNVAL);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(LAST, &rd);
	struct timeval tv = {0, 0};
	CHECK_ERR(select(LAST + 1, &rd, NULL, NULL, &tv), EBADF);
	CHECK(dup(1) == FIRST && close(FIRST) == 0);
}

int main(void)
{
	static const long bad[] = {-1,	 -100,	1023,	    1024,
				   4096, 65536, 0x7fffffff, 77};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_fd(bad[i]);
	unopened_range();
	success();
}
