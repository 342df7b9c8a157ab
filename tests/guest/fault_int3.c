/* A breakpoint instruction is SIGTRAP. */
// expect-status: 133
// expect-stdout: about to fault
// expect-stderr: SIGTRAP
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
	__asm__ volatile("int3");
	printf("still running\n");
	return 0;
}
