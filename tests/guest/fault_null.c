/* Reading address 0 is SIGSEGV. */
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
	int *volatile p = NULL;
	about_to_fault();
	sink = *p;
	printf("still running\n");
	return 0;
}
