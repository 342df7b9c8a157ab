/* An undefined instruction is SIGILL. */
// expect-status: 132
// expect-stdout: about to fault
// expect-stderr: SIGILL
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
	__asm__ volatile("ud2");
	printf("still running\n");
	return 0;
}
