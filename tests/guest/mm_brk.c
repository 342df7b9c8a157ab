/* brk: query, grow, shrink, refusals. libc's allocator is not used between
 * the first and the last call, so it never sees the break move. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L

static long brk_(long to)
{
	return syscall(SYS_brk, to);
}

static int zero(const char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void)
{
	long b0 = brk_(0);
	CHECK(b0 > 0 && b0 % PG == 0);
	CHECK(brk_(0) == b0);
	CHECK(brk_(1) == b0); /* below the start: refused, no change */

	char *p = (char *)b0;
	CHECK(brk_(b0 + (1L << 20)) == b0 + (1L << 20));
	CHECK(zero(p, 1L << 20));
	memset(p, 0xab, 1L << 20);

	/* Shrink, then grow again: the pages come back zeroed. */
	CHECK(brk_(b0 + PG) == b0 + PG);
	CHECK(p[PG - 1] == (char)0xab);
	CHECK(brk_(b0 + 4 * PG) == b0 + 4 * PG);
	CHECK(zero(p + PG, 3 * PG));

	/* An unaligned break is kept as given; its page is usable. */
	CHECK(brk_(b0 + 4 * PG + 100) == b0 + 4 * PG + 100);
	p[4 * PG + 99] = 1;
	p[5 * PG - 1] = 1;

	/* Far more than guest memory: refused, no change. */
	long want = b0 + 4 * PG + 100;
	CHECK(brk_(b0 + (64L << 30)) == want);
	CHECK(brk_(-PG) == want);

	/* A mapping right above the break blocks its growth. */
	char *m = mmap((void *)(b0 + 8 * PG), PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(m == (char *)(b0 + 8 * PG));
	CHECK(brk_(b0 + 16 * PG) == want);
	CHECK(brk_(b0 + 8 * PG) == b0 + 8 * PG);
	CHECK(munmap(m, PG) == 0);

	CHECK(brk_(b0) == b0);
	CHECK(brk_(0) == b0);
	success();
}
