/* Port input at CPL 3 is #GP, delivered as SIGSEGV. */
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
	unsigned char v;
	about_to_fault();
	__asm__ volatile("inb $0x80, %0" : "=a"(v));
	printf("still running\n");
	return 0;
}
