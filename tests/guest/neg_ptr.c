/* Bad pointers handed to syscalls give EFAULT and nothing else: unmapped,
 * supervisor-only, past the end of a mapping, wrapping around, read-only
 * memory written, PROT_NONE memory read, lengths far beyond a buffer. The
 * program keeps running. */
#define _GNU_SOURCE
#include "guest.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#define PG 4096L

static int rfd, wfd;

/* Every call that reads guest memory, at `bad`. */
static void kernel_reads(void *bad)
{
	CHECK_ERR(syscall(SYS_write, wfd, bad, 16), EFAULT);
	CHECK_ERR(syscall(SYS_writev, wfd, bad, 1), EFAULT);
	struct iovec v[2] = {{"ok", 2}, {bad, 16}};
	CHECK_ERR(syscall(SYS_writev, wfd, v + 1, 1), EFAULT);
	CHECK_ERR(syscall(SYS_poll, bad, 1, 0), EFAULT);
	CHECK_ERR(syscall(SYS_nanosleep, bad, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8), EFAULT);
}

/* Every call that writes guest memory, at `bad`. */
static void kernel_writes(void *bad)
{
	CHECK_ERR(syscall(SYS_read, rfd, bad, 16), EFAULT);
	struct iovec v = {bad, 16};
	CHECK_ERR(syscall(SYS_readv, rfd, &v, 1), EFAULT);
	int before = dup(0);
	CHECK(before >= 0 && close(before) == 0);
	CHECK_ERR(syscall(SYS_pipe2, bad, 0), EFAULT);
	CHECK(dup(0) == before && close(before) == 0); /* no fd leaked */
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad), EFAULT);
	CHECK_ERR(syscall(SYS_uname, bad), EFAULT);
	CHECK_ERR(syscall(SYS_getrandom, bad, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_sysinfo, bad), EFAULT);
	CHECK_ERR(syscall(SYS_gettimeofday, bad, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_ioctl, rfd, 0x541b /* FIONREAD */, bad), EFAULT);
}

static void both(void *bad)
{
	kernel_reads(bad);
	kernel_writes(bad);
}

/* NULL where a buffer is required (not where it means "none"). */
static void null_ptr(void)
{
	CHECK_ERR(syscall(SYS_read, rfd, NULL, 16), EFAULT);
	CHECK_ERR(syscall(SYS_write, wfd, NULL, 16), EFAULT);
	CHECK_ERR(syscall(SYS_pipe2, NULL, 0), EFAULT);
	CHECK_ERR(syscall(SYS_poll, NULL, 1, 0), EFAULT);
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_uname, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_getrandom, NULL, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_nanosleep, NULL, NULL), EFAULT);
}

static void array_itself(void)
{
	/* The iovec array is fine to read, but one entry is bad. */
	char ok[4];
	struct iovec v[2] = {{ok, sizeof(ok)}, {BAD_PTR, 4}};
	CHECK_ERR(syscall(SYS_readv, rfd, v, 2), EFAULT);
	CHECK_ERR(syscall(SYS_writev, wfd, v, 2), EFAULT);
	/* The array runs off the end of memory. */
	CHECK_ERR(syscall(SYS_readv, rfd, (void *)-16L, 2), EFAULT);
}

static void huge_lengths(void)
{
	char small[16];
	CHECK_ERR(syscall(SYS_read, rfd, small, 1ULL << 62), EFAULT);
	CHECK_ERR(syscall(SYS_write, wfd, small, 1ULL << 62), EFAULT);
	CHECK_ERR(syscall(SYS_read, rfd, small, -1L), EFAULT);
	struct iovec v = {small, 1ULL << 62};
	CHECK_ERR(syscall(SYS_readv, rfd, &v, 1), EFAULT);
	CHECK_ERR(syscall(SYS_poll, small, 1UL << 40, 0), EINVAL);
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	rfd = p[0];
	wfd = p[1];
	CHECK(write(wfd, "data", 4) == 4); /* so reads would have work to do */

	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK(munmap(m + 2 * PG, PG) == 0);
	CHECK(mprotect(m, PG, PROT_NONE) == 0);
	CHECK(mprotect(m + PG, PG, PROT_READ) == 0);

	void *const bad[] = {
		BAD_PTR,
		SHIM_PTR,
		(void *)0xffffffff80000000ULL, /* page tables, GDT */
		m + 2 * PG,		       /* just past the end */
		m + 2 * PG - 4,		       /* straddles the end */
		(void *)-4096L,
		(void *)-8L,	      /* wraps around */
		(void *)(1ULL << 47), /* non-canonical */
		m,		      /* PROT_NONE */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		both(bad[i]);
	/* Readable but not writable: the program's code, a PROT_READ page. */
	kernel_writes((void *)(uintptr_t)main);
	kernel_writes(m + PG);
	null_ptr();
	array_itself();
	huge_lengths();

	/* The pipe and the rest of the process are unharmed. */
	char buf[8];
	CHECK(read(rfd, buf, sizeof(buf)) == 4 && memcmp(buf, "data", 4) == 0);
	CHECK(m[PG] == 0 && munmap(m, 2 * PG) == 0);
	success();
}
