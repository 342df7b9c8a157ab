/* prlimit64, getrlimit, setrlimit: read, lower, refusals; a lowered
 * RLIMIT_NOFILE caps the fd table. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/resource.h>

static void nofile_cap(void)
{
	struct rlimit old, lim;
	CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &old) == 0);
	CHECK(old.rlim_cur >= 64 && old.rlim_cur <= old.rlim_max);
	lim = (struct rlimit){16, old.rlim_max};
	CHECK(syscall(SYS_setrlimit, RLIMIT_NOFILE, &lim) == 0);
	CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &lim) == 0);
	CHECK(lim.rlim_cur == 16 && lim.rlim_max == old.rlim_max);

	/* 0..2 are taken; 3..15 can be had, 16 cannot. */
	int p[2];
	CHECK(pipe(p) == 0 && p[0] == 3 && p[1] == 4);
	for (int fd = 5; fd < 15; fd++)
		CHECK(dup(p[0]) == fd);
	/* One slot left: a pipe needs two and leaves none behind. */
	CHECK_ERR(syscall(SYS_pipe2, p, 0), EMFILE);
	CHECK(dup(p[0]) == 15);
	CHECK_ERR(syscall(SYS_dup, p[0]), EMFILE);
	CHECK_ERR(syscall(SYS_fcntl, p[0], F_DUPFD, 0), EMFILE);
	CHECK_ERR(syscall(SYS_fcntl, p[0], F_DUPFD, 16), EINVAL);
	CHECK_ERR(syscall(SYS_dup2, p[0], 16), EBADF);
	CHECK_ERR(syscall(SYS_dup3, p[0], 16, 0), EBADF);
	CHECK(syscall(SYS_dup2, p[0], 15) == 15);
	for (int fd = 5; fd < 16; fd++)
		CHECK(close(fd) == 0);

	CHECK(syscall(SYS_setrlimit, RLIMIT_NOFILE, &old) == 0);
	CHECK(dup2(p[0], 100) == 100 && close(100) == 0);
	CHECK(close(3) == 0 && close(4) == 0);
}

static void refusals(void)
{
	struct rlimit cur, lim;
	CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &cur) == 0);
	lim = (struct rlimit){cur.rlim_cur, cur.rlim_max + 1};
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, &lim), EPERM);
	lim = (struct rlimit){cur.rlim_max + 1, cur.rlim_max};
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, &lim), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, 999, &lim), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, -1, &lim), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &lim),
		  ESRCH);

	/* A hard limit can be lowered, never raised again. */
	struct rlimit core;
	CHECK(syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, &core) == 0);
	lim = (struct rlimit){0, 0};
	struct rlimit before;
	CHECK(syscall(SYS_prlimit64, getpid(), RLIMIT_CORE, &lim, &before) ==
	      0);
	CHECK(before.rlim_cur == core.rlim_cur &&
	      before.rlim_max == core.rlim_max);
	CHECK(syscall(SYS_getrlimit, RLIMIT_CORE, &lim) == 0);
	CHECK(lim.rlim_cur == 0 && lim.rlim_max == 0);
	lim = (struct rlimit){1, 1};
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_CORE, &lim), EPERM);
	CHECK(syscall(SYS_getrlimit, RLIMIT_CORE, &lim) == 0);
	CHECK(lim.rlim_max == 0);

	/* RLIMIT_AS says what the guest has: its memory. */
	CHECK(syscall(SYS_getrlimit, RLIMIT_AS, &lim) == 0);
	CHECK(lim.rlim_cur > 0 && lim.rlim_cur != RLIM_INFINITY);
}

int main(void)
{
	nofile_cap();
	refusals();
	success();
}
