/* Memory is gone once unmapped, even if it was just used. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include "guest.h"
#include <sys/mman.h>

static volatile int sink;

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
	CHECK(p[0] == 1);
	CHECK(munmap(p, 4096) == 0);
	about_to_fault();
	sink = p[0];
	printf("still running\n");
	return 0;
}
