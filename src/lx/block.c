/* A blocking host call that a kick cannot miss.
 *
 * A signal for the guest (or a hold, or the end of the process) reaches a
 * vCPU thread busy in the monitor as a host signal, a kick, which ends the
 * host call it is blocked in with EINTR. A kick that lands after the
 * monitor last looked at what is pending but before the blocking call has
 * started would be lost: futex(FUTEX_WAIT) or read() on an empty pipe then
 * sleeps on with the guest's signal undelivered (seen in the test VM: a
 * pthread_kill to a thread in pthread_cond_wait, not handled for over 10 s).
 * Calls that take a signal mask go through lx_wait (event.c); the others
 * come here.
 *
 * Every host signal the monitor catches sets this thread's `kicked` flag,
 * cleared each time the vCPU loop goes round (run.c), before it checks
 * for signals to deliver. The call is made by block_call below: it looks
 * at the flag, then enters the kernel. A signal between the look and the
 * syscall instruction finds the thread's saved RIP in [block_begin,
 * block_end] and moves it to block_cancel, which returns -EINTR as the
 * kernel would have (musl's cancellation points work the same way). A
 * signal once the thread is in the kernel ends the call with EINTR there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "lx/lx.h"

static __thread volatile int kicked;

/* long block_call(const volatile int *kicked, long nr, long a1, long a2,
 *                 long a3, long a4, long a5, long a6): the System V
 * arguments moved to the kernel's registers (a4 in r10, a5 and a6 from the
 * stack), the flag's address kept in r11, which syscall clobbers after. */
long block_call(const volatile int *flag, long nr, long a1, long a2, long a3,
		long a4, long a5, long a6);
extern const char block_begin[], block_end[], block_cancel[];

__asm__(".text\n"
	".globl block_call\n"
	".hidden block_call\n"
	".type block_call, @function\n"
	"block_call:\n"
	"	mov %rdi, %r11\n"
	"	mov %rsi, %rax\n"
	"	mov %rdx, %rdi\n"
	"	mov %rcx, %rsi\n"
	"	mov %r8, %rdx\n"
	"	mov %r9, %r10\n"
	"	mov 8(%rsp), %r8\n"
	"	mov 16(%rsp), %r9\n"
	".globl block_begin\n"
	".hidden block_begin\n"
	"block_begin:\n"
	"	cmpl $0, (%r11)\n"
	"	jne block_cancel\n"
	".globl block_end\n"
	".hidden block_end\n"
	"block_end:\n"
	"	syscall\n"
	"	ret\n"
	".globl block_cancel\n"
	".hidden block_cancel\n"
	"block_cancel:\n"
	"	mov $-4, %rax\n" /* -EINTR */
	"	ret\n"
	".size block_call, .-block_call\n");

long lx_block(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return block_call(&kicked, nr, a1, a2, a3, a4, a5, a6);
}

void lx_block_clear(void)
{
	kicked = 0;
}

void lx_block_signal(void *ucontext)
{
	kicked = 1;
	ucontext_t *uc = ucontext;
	greg_t *rip = &uc->uc_mcontext.gregs[REG_RIP];
	if ((uintptr_t)*rip >= (uintptr_t)block_begin &&
	    (uintptr_t)*rip <= (uintptr_t)block_end)
		*rip = (greg_t)(uintptr_t)block_cancel;
}

bool lx_fd_may_block(const struct lx_fd *f)
{
	return f->kind == LX_FD_PIPE || f->kind == LX_FD_TTY ||
	       f->kind == LX_FD_DEV || f->kind == LX_FD_SOCK ||
	       f->kind == LX_FD_OTHER;
}
