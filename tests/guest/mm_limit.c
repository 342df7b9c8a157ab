/* --memory caps the address space as RLIMIT_AS does: mappings and brk
 * beyond it fail with ENOMEM (MAP_NORESERVE or not), while memory within
 * it can be touched. Natively: prlimit --as=67108864 mm_limit.gcc. */
// mote-args: --memory 64M
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define MB   (1L << 20)
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

int main(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
	CHECK(rl.rlim_cur == 64 * MB);
	CHECK(mmap(NULL, 128 * MB, RW, ANON, -1, 0) == MAP_FAILED &&
	      errno == ENOMEM);
	CHECK(mmap(NULL, 128 * MB, RW, ANON | MAP_NORESERVE, -1, 0) ==
		      MAP_FAILED &&
	      errno == ENOMEM);
	CHECK(mmap(NULL, 64 * MB, RW, ANON, -1, 0) == MAP_FAILED &&
	      errno == ENOMEM);
	/* Piece by piece, the cap is reached all the same. */
	char *p[64];
	int n = 0;
	while (n < 64 &&
	       (p[n] = mmap(NULL, 8 * MB, RW, ANON, -1, 0)) != MAP_FAILED)
		n++;
	CHECK(n > 2 && n < 8 && errno == ENOMEM);
	for (int i = 0; i < n; i++) {
		memset(p[i], i, 8 * MB);
		CHECK(p[i][8 * MB - 1] == i);
	}
	for (int i = 0; i < n; i++)
		CHECK(munmap(p[i], 8 * MB) == 0);
	/* brk too (raw: musl's sbrk refuses to grow). A failed brk returns
	 * the break unchanged. */
	long b = syscall(SYS_brk, 0);
	CHECK(b > 0);
	CHECK(syscall(SYS_brk, b + 128 * MB) == b);
	CHECK(syscall(SYS_brk, b + MB) == b + MB);
	memset((char *)b, 1, MB);
	success();
}
