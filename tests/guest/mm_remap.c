/* mremap: grow in place, grow by moving, shrink, fixed target, refusals;
 * contents always preserved. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG   4096L
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void fill(char *p, long n, int seed)
{
	for (long i = 0; i < n; i++)
		p[i] = (char)(i * 7 + seed);
}

static int same(const char *p, long n, int seed)
{
	for (long i = 0; i < n; i++)
		if (p[i] != (char)(i * 7 + seed))
			return 0;
	return 1;
}

static int zero(const char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int is_free(char *p, long n)
{
	void *r = mmap(p, n, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	if (r == MAP_FAILED)
		return 0;
	CHECK(r == p && munmap(p, n) == 0);
	return 1;
}

static void in_place(void)
{
	char *p = mmap(NULL, 8 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED && munmap(p + PG, 7 * PG) == 0);
	fill(p, PG, 1);
	CHECK(mremap(p, PG, 2 * PG, 0) == p);
	CHECK(same(p, PG, 1) && zero(p + PG, PG));
	fill(p, 2 * PG, 2);
	/* Twice in place: the grown range is one mapping now. */
	CHECK(mremap(p, 2 * PG, 4 * PG, 0) == p);
	CHECK(same(p, 2 * PG, 2) && zero(p + 2 * PG, 2 * PG));
	fill(p, 4 * PG, 3);
	CHECK(mremap(p, 4 * PG, 2 * PG, 0) == p);
	CHECK(same(p, 2 * PG, 3) && is_free(p + 2 * PG, 6 * PG));
	CHECK(munmap(p, 2 * PG) == 0);
}

static void moving(void)
{
	char *p = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	fill(p, 4 * PG, 4);
	/* Something right after: growing needs a move. */
	CHECK(munmap(p + 2 * PG, PG) == 0);
	CHECK_ERR(mremap(p, 2 * PG, 8 * PG, 0), ENOMEM);
	CHECK(same(p, 2 * PG, 4));
	char *q = mremap(p, 2 * PG, 8 * PG, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	CHECK(same(q, 2 * PG, 4) && zero(q + 2 * PG, 6 * PG));
	CHECK(is_free(p, 2 * PG));
	CHECK(same(p + 3 * PG, PG, 4 + 3 * PG * 7 % 256));
	fill(q, 8 * PG, 5);

	/* Grow in place, then move the whole grown range. */
	CHECK(munmap(q + 6 * PG, 2 * PG) == 0);
	CHECK(mremap(q, 6 * PG, 8 * PG, 0) == q);
	fill(q + 6 * PG, 2 * PG, 6);
	char *r = mremap(q, 8 * PG, 64 * PG, MREMAP_MAYMOVE);
	CHECK(r != MAP_FAILED);
	CHECK(same(r, 6 * PG, 5) && same(r + 6 * PG, 2 * PG, 6));
	CHECK(zero(r + 8 * PG, 56 * PG));

	/* To a chosen place, replacing what was there. */
	char *dst = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	CHECK(dst != MAP_FAILED);
	memset(dst, 1, 4 * PG);
	char *s = mremap(r, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(s == dst && same(dst, 4 * PG, 5));
	CHECK(is_free(r, 4 * PG));
	CHECK(same(r + 4 * PG, 2 * PG, 5 + 4 * PG * 7 % 256));
	CHECK(munmap(r + 4 * PG, 60 * PG) == 0);
	CHECK(munmap(dst, 4 * PG) == 0 && munmap(p + 3 * PG, PG) == 0);
}

static void big_move(void)
{
	/* A few MiB, written, moved: every byte survives the move. */
	long n = 4L << 20;
	char *p = mmap(NULL, n, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	for (long i = 0; i < n; i += PG)
		p[i] = (char)(i / PG);
	char *blocker = mmap(p + n, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(blocker == p + n);
	char *q = mremap(p, n, 2 * n, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	for (long i = 0; i < n; i += PG)
		CHECK(q[i] == (char)(i / PG));
	q[2 * n - 1] = 1;
	CHECK(munmap(q, 2 * n) == 0 && munmap(blocker, PG) == 0);
}

static void refusals(void)
{
	char *p = mmap(NULL, 2 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(syscall(SYS_mremap, p + 1, PG, 2 * PG, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, p, PG, 0, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, p, PG, PG, 0x40, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, p, PG, PG, MREMAP_FIXED, p + PG), EINVAL);
	/* Source and target overlap. */
	CHECK_ERR(syscall(SYS_mremap, p, 2 * PG, 2 * PG,
			  MREMAP_MAYMOVE | MREMAP_FIXED, p + PG),
		  EINVAL);
	CHECK_ERR(syscall(SYS_mremap, p, PG, 64L << 30, MREMAP_MAYMOVE, 0),
		  ENOMEM);
	CHECK(munmap(p, 2 * PG) == 0);
	CHECK_ERR(syscall(SYS_mremap, p, PG, 2 * PG, MREMAP_MAYMOVE, 0),
		  EFAULT);
}

int main(void)
{
	in_place();
	moving();
	big_move();
	refusals();
	success();
}
