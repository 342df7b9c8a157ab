/* Writing to the program's own code is SIGSEGV. */
// expect-status: 139
// expect-stdout: about to fault
// expect-stderr: write to
#define _GNU_SOURCE
#include "guest.h"

static void about_to_fault(void)
{
	printf("about to fault\n");
	fflush(stdout);
}

int main(void)
{
	unsigned char *volatile p = (unsigned char *)main;
	about_to_fault();
	*p = 0xc3;
	printf("still running\n");
	return 0;
}
