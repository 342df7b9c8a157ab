/* Memory above a lowered program break is gone. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include "guest.h"

static volatile int sink;

static void about_to_fault(void)
{
	printf("about to fault\n");
	fflush(stdout);
}

int main(void)
{
	long b = syscall(SYS_brk, 0);
	char *volatile p = (char *)b;
	CHECK(syscall(SYS_brk, b + 8192) == b + 8192);
	p[4096] = 1;
	CHECK(syscall(SYS_brk, b + 4096) == b + 4096);
	p[0] = 1; /* the page below the break stays */
	about_to_fault();
	sink = p[4096];
	printf("still running\n");
	return 0;
}
