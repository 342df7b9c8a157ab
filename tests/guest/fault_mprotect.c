/* A page made read-only cannot be written, even right after a write. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: write to
#define _GNU_SOURCE
#include "guest.h"
#include <sys/mman.h>

static void about_to_fault(void)
{
	printf("about to fault\n");
	fflush(stdout);
}

int main(void)
{
	char *volatile p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	CHECK(mprotect(p, 4096, PROT_READ) == 0);
	CHECK(p[0] == 1); /* still readable */
	about_to_fault();
	p[0] = 2;
	printf("still running\n");
	return 0;
}
