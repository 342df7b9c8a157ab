/* Integer division by zero is SIGFPE. */
// expect-status: 136
// expect-stdout: about to fault
// expect-stderr: SIGFPE
#define _GNU_SOURCE
#include "guest.h"

static void about_to_fault(void)
{
	printf("about to fault\n");
	fflush(stdout);
}

int main(void)
{
	volatile int zero = 0, x = 7;
	about_to_fault();
	x = x / zero;
	printf("still running\n");
	return 0;
}
