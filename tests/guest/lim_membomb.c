/* A memory bomb under --memory 64M: mmap and touch 1 MiB at a time until
 * mmap fails with ENOMEM, then grow the break the same way. The guest
 * gets at most its 64 MiB and goes on running; tests/suites/limits.sh
 * runs it again and checks mote's peak RSS from the host.
 * Natively: prlimit --as=67108864 lim_membomb.gcc. */
// mote-args: --memory 64M
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define MB (1L << 20)

int main(void)
{
	long mapped = 0;
	for (;;) {
		char *p = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 0xa5, MB);
		mapped += MB;
		CHECK(mapped <= 64 * MB);
	}
	CHECK(errno == ENOMEM);
	CHECK(mapped >= 32 * MB);
	/* brk, raw (musl's sbrk refuses to grow): a failed brk returns the
	 * break unchanged. */
	long b = syscall(SYS_brk, 0), grown = 0;
	CHECK(b > 0);
	for (;;) {
		long nb = syscall(SYS_brk, b + grown + MB);
		if (nb != b + grown + MB)
			break;
		memset((char *)(b + grown), 0x5a, MB);
		grown += MB;
	}
	CHECK(mapped + grown <= 64 * MB);
	/* Still alive, and the memory still holds what was written. */
	printf("bomb: %ld MiB mapped, %ld MiB of brk\n", mapped / MB,
	       grown / MB);
	success();
}
