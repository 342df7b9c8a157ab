/* wrmsr at CPL 3 is #GP: LSTAR cannot be redirected. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include "guest.h"

static void about_to_fault(void)
{
	printf("about to fault\n");
	fflush(stdout);
}

int main(void)
{
	about_to_fault();
	__asm__ volatile("wrmsr" : : "c"(0xc0000082), "a"(0), "d"(0));
	printf("still running\n");
	return 0;
}
