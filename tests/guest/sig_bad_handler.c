/* A handler address outside user space (an input tests/fuzz/syscall
 * made): Linux accepts it in rt_sigaction and kills the process with
 * SIGSEGV when the signal comes, as entering the handler faults. So does
 * mote, whichever way the vCPU returns to user mode (MOTE_SYSCALL_ENTRY=
 * shim: an iretq to a non-canonical address). */
// expect-status: 139
// expect-stdout: about to signal
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include <signal.h>

#include "guest.h"

#define SA_RESTORER_ 0x04000000

struct ksigaction {
	unsigned long handler, flags, restorer, mask;
};

static void restorer(void)
{
}

int main(void)
{
	/* Non-canonical: the x86-64 address hole. */
	struct ksigaction sa = {0x8000000000000000UL, SA_RESTORER_,
				(unsigned long)restorer, 0};
	CHECK(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 8) == 0);
	printf("about to signal\n");
	fflush(stdout);
	raise(SIGUSR1);
	printf("FAIL: the handler was entered\n");
	return 1;
}
