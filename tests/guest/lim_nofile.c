/* --max-fds N is RLIMIT_NOFILE's hard limit (the soft one starts at the
 * smaller of 1024 and N): every call that makes a descriptor fails with
 * EMFILE at the soft limit, dup2/dup3 beyond it with EBADF, F_DUPFD with
 * EINVAL; the soft limit can be raised up to the hard one, not beyond.
 * Natively: prlimit --nofile=64 lim_nofile.gcc. */
// mote-args: --max-fds 64
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define N 64

int main(void)
{
	struct rlimit r;
	CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0);
	CHECK(r.rlim_cur == N && r.rlim_max == N);
	r.rlim_max = N + 1;
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &r), EPERM);

	int fd;
	while ((fd = dup(0)) >= 0)
		CHECK(fd < N);
	CHECK(errno == EMFILE);
	CHECK(fcntl(N - 1, F_GETFD) >= 0);
	int p[2];
	CHECK_ERR(syscall(SYS_pipe2, p, 0), EMFILE);
	CHECK_ERR(syscall(SYS_open, "/", O_RDONLY), EMFILE);
	CHECK_ERR(syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY), EMFILE);
	CHECK_ERR(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0), EMFILE);
	CHECK_ERR(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, p), EMFILE);
	CHECK_ERR(syscall(SYS_eventfd2, 0, 0), EMFILE);
	CHECK_ERR(syscall(SYS_epoll_create1, 0), EMFILE);
	CHECK_ERR(syscall(SYS_memfd_create, "x", 0), EMFILE);
	CHECK_ERR(syscall(SYS_fcntl, 0, F_DUPFD, 0), EMFILE);
	CHECK_ERR(syscall(SYS_fcntl, 0, F_DUPFD, N), EINVAL);
	CHECK_ERR(syscall(SYS_dup2, 0, N), EBADF);
	CHECK_ERR(syscall(SYS_dup3, 0, N, 0), EBADF);
	CHECK_ERR(syscall(SYS_dup2, 0, -1), EBADF);
	/* A slot of its own: replacing an open fd needs no new one. */
	CHECK(dup2(0, N - 1) == N - 1);

	/* Lowered below what is open: open fds stay, new ones fail. */
	r = (struct rlimit){8, N};
	CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0);
	CHECK(fcntl(N - 1, F_GETFD) >= 0);
	CHECK(close(N - 1) == 0);
	CHECK_ERR(syscall(SYS_dup, 0), EMFILE);
	r.rlim_cur = N;
	CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0);
	CHECK(dup(0) == N - 1);
	r.rlim_cur = N + 1;
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &r), EINVAL);
	success();
}
