/* rdmsr at CPL 3 is #GP. */
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
	unsigned lo, hi;
	about_to_fault();
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000082));
	printf("still running\n");
	return 0;
}
