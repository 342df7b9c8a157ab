/* clone(CLONE_VM | CLONE_THREAD | ...) with a stack pointer outside guest
 * memory: the new thread's first push faults, and that SIGSEGV kills the
 * whole process (status 139); the monitor survives to report it. The
 * parent thread just waits. */
// expect-status: 139
// expect-stdout: cloning
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include "proc.h"
#include <sched.h>

#define FLAGS                                                                  \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM)

/* The raw clone: the child thread starts right after the syscall with
 * rsp = stack, pushes (the fault), and would otherwise exit_group(3). */
static long clone_bad_stack(void *stack)
{
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "pushq $0\n\t"
			 "mov $231, %%eax\n\t"
			 "mov $3, %%edi\n\t"
			 "syscall\n\t"
			 "1:"
			 : "=a"(ret)
			 : "a"((long)SYS_clone), "D"((long)FLAGS), "S"(stack),
			   "d"(0L)
			 : "rcx", "r8", "r10", "r11", "memory");
	return ret;
}

int main(void)
{
	no_core();
	printf("cloning\n");
	fflush(stdout);
	long tid = clone_bad_stack((void *)(1UL << 46));
	CHECK(tid > 0);
	sleep_ms(10000);
	printf("FAIL: still alive 10 s after the bad thread started\n");
	return 1;
}
