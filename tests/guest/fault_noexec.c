/* Jumping into memory mapped without PROT_EXEC is SIGSEGV. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: execute
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
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 0xc3; /* ret */
	about_to_fault();
	((void (*)(void))(void *)p)();
	printf("still running\n");
	return 0;
}
