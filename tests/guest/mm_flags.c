/* mmap flags: MAP_GROWSDOWN and MAP_STACK are accepted, MAP_POPULATE
 * makes pages resident at once, MAP_FIXED_NOREPLACE refuses a taken range
 * with EEXIST, MAP_SHARED_VALIDATE is refused without a file, and lengths
 * beyond any address space fail. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG   4096L
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

int main(void)
{
	char *s = mmap(NULL, 4 * PG, RW, ANON | MAP_GROWSDOWN, -1, 0);
	CHECK(s != MAP_FAILED);
	s[4 * PG - 1] = 1;
	char *k = mmap(NULL, 4 * PG, RW, ANON | MAP_STACK, -1, 0);
	CHECK(k != MAP_FAILED);
	k[0] = 1;

	unsigned char vec[8];
	char *p = mmap(NULL, 8 * PG, RW, ANON | MAP_POPULATE, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(mincore(p, 8 * PG, vec) == 0);
	for (int i = 0; i < 8; i++)
		CHECK(vec[i] == 1);
	CHECK(p[0] == 0 && p[8 * PG - 1] == 0);

	CHECK(mmap(p + PG, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) ==
		      MAP_FAILED &&
	      errno == EEXIST);
	CHECK(mmap(p + 7 * PG, 2 * PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) ==
		      MAP_FAILED &&
	      errno == EEXIST);
	CHECK(munmap(p + 4 * PG, PG) == 0);
	CHECK(mmap(p + 4 * PG, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) ==
	      p + 4 * PG);

	/* MAP_SHARED_VALIDATE is for files only. */
	CHECK_ERR(syscall(SYS_mmap, 0, PG, RW,
			  MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0),
		  EINVAL);

	CHECK_ERR(syscall(SYS_mmap, 0, -PG, RW, ANON, -1, 0), ENOMEM);
	CHECK_ERR(syscall(SYS_mmap, 0, 1L << 50, RW, ANON, -1, 0), ENOMEM);
	CHECK_ERR(
		syscall(SYS_mmap, 0, 1L << 50, RW, ANON | MAP_NORESERVE, -1, 0),
		ENOMEM);
	CHECK_ERR(syscall(SYS_munmap, p, 1L << 50), EINVAL);
	success();
}
