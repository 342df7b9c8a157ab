/* The CPL-0 guest shim: the syscall entry and the exception vectors.
 *
 * Every instruction here runs at CPL 0, which some KVMs (kvm_pvm) emulate one
 * instruction at a time, so each path is kept to a handful of instructions
 * and all the work is done in the monitor. The code is position independent;
 * the monitor copies it to SYS_GVA + SYS_SHIM and finds the entry points at
 * the fixed offsets below (SHIM_OFF_* in src/shim/shim.h).
 */
#include "mote/abi.h"

	.code64
	.text
	.globl shim_start
shim_start:

/* Offset 0: LSTAR. `syscall` left the user RIP in RCX and RFLAGS in R11;
 * interrupts are masked by SFMASK and the stack is still the user's, which
 * this path never touches. The monitor serves the call during the exit and
 * leaves the result in RAX. */
syscall_entry:
	outb %al, $MOTE_PORT_SYSCALL
	sysretq

/* Offset 0x40: return to user mode through an iret frame the monitor built
 * on the supervisor stack (used when a syscall must return to a RIP or RSP
 * other than the caller's, e.g. rt_sigreturn). */
	.org 0x40
	iretq

/* Offset 0x100 + 16 * vector: the exception stubs. Every vector runs on the
 * vCPU's IST stack, so even a fault on the syscall path lands on a good
 * stack. The stub makes the frame uniform (struct mote_exc_frame). */
	.macro vec n, has_err
	.org 0x100 + 16 * \n
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\n
	jmp exc_common
	.endm

	vec 0, 0
	vec 1, 0
	vec 2, 0
	vec 3, 0
	vec 4, 0
	vec 5, 0
	vec 6, 0
	vec 7, 0
	vec 8, 1
	vec 9, 0
	vec 10, 1
	vec 11, 1
	vec 12, 1
	vec 13, 1
	vec 14, 1
	vec 15, 0
	vec 16, 0
	vec 17, 1
	vec 18, 0
	vec 19, 0
	vec 20, 0
	vec 21, 1
	vec 22, 0
	vec 23, 0
	vec 24, 0
	vec 25, 0
	vec 26, 0
	vec 27, 0
	vec 28, 0
	vec 29, 1
	vec 30, 1
	vec 31, 0

	.org 0x300 /* SHIM_OFF_EXC_RET is just after its outb */
exc_common:
	outb %al, $MOTE_PORT_EXCEPTION
	addq $16, %rsp
	iretq

/* Last: the ABI this shim speaks, which the monitor checks before it
 * copies the shim into a VM (src/vm/shim.c). */
	.balign 8
	.ascii "MOTE-ABI"
	.quad MOTE_ABI_VERSION

	.globl shim_end
shim_end:
