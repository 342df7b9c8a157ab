/* The x86-64 Linux signal frame and the constants of its syscalls, shared
 * by signal.c (delivery) and sigsys.c (rt_sigreturn, sigaltstack, ...).
 * Private to lx. */
#ifndef MOTE_LX_SIGFRAME_H
#define MOTE_LX_SIGFRAME_H

#include <signal.h>
#include <stdint.h>

#include "lx/lx.h"

#define SA_RESTORER_LX	     0x04000000ULL
#define SS_AUTODISARM_LX     (1U << 31)
#define LX_MINSIGSTKSZ	     2048 /* x86-64 Linux's minimum altstack size */
#define UC_FP_XSTATE	     0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FP_XSTATE_MAGIC1     0x46505853U
#define FP_XSTATE_MAGIC2     0x46505845U
#define REDZONE		     128
#define BIT(sig)	     (1ULL << ((sig)-1))

/* The kernel's x86-64 signal frame (arch/x86/include/uapi/asm/sigcontext.h,
 * ucontext.h), spelled out so that glibc's and the kernel's headers need
 * not meet. */
struct lx_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct lx_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

struct lx_ucontext {
	uint64_t flags;
	uint64_t link;
	struct lx_stack stack;
	struct lx_sigcontext mc;
	uint64_t sigmask;
};

struct lx_rt_sigframe {
	uint64_t pretcode;
	struct lx_ucontext uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct lx_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(siginfo_t) == 128, "siginfo");

/* The bytes of XSAVE state a frame holds for this VM's XCR0. */
uint64_t lx_sig_xsave_size(const struct vm *vm);
/* Whether sp is on t's alternate signal stack. */
bool lx_sig_on_altstack(const struct lx_thread *t, uint64_t sp);

#endif
