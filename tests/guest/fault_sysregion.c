/* The system region (GDT, IDT, page tables) cannot be read from CPL 3. */
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
	volatile char *p = (volatile char *)0xffffffff80000000ULL;
	about_to_fault();
	sink = *p;
	printf("still running\n");
	return 0;
}
