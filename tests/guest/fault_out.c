/* Port output at CPL 3 is #GP, even to the monitor's own syscall port. */
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
	/* getpid through the hypercall port: must never reach the monitor. */
	__asm__ volatile("outb %%al, $0xe0" : : "a"(39L) : "memory");
	printf("still running\n");
	return 0;
}
