/* mote guest <-> monitor ABI: hypercall ports, exception frames, version.
 *
 * Self-contained (C99 headers only) so that freestanding guests, the shim and
 * the monitor share one definition; usable from assembly too. docs/abi.md
 * states the contract in MUST/MAY terms; this header is its machine-readable
 * half.
 */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

/* Bumped on any incompatible change to this header or docs/abi.md. */
#define MOTE_ABI_VERSION 1

/* Transport: `out %al, $port` executed at CPL 0. The monitor reads the
 * general-purpose registers of the vCPU (the byte written is ignored) and
 * writes the result to RAX before the guest resumes at the next instruction.
 * Port I/O is used because it is the cheapest exit to user space that exists
 * on every KVM, including ones where `vmcall` does not exit. An `out` from
 * CPL 3 never reaches the monitor (IOPL is 0 and there is no I/O bitmap, so
 * it is #GP, delivered to the app as SIGSEGV). */

/* A Linux system call made at CPL 3 and caught by the shim's LSTAR entry.
 * IN: RAX = number, RDI RSI RDX R10 R8 R9 = arguments, RCX = user RIP,
 * R11 = user RFLAGS (as `syscall` left them). OUT: RAX = result, a negative
 * errno on failure. */
#define MOTE_PORT_SYSCALL 0xe0

/* An exception taken by the shim's IDT. IN: RSP points at a
 * struct mote_exc_frame on the vCPU's supervisor stack. The monitor either
 * ends the VM or rewrites the frame; the shim then returns with `iretq`. */
#define MOTE_PORT_EXCEPTION 0xe1

/* Reserved for the hypercalls of native guests (freestanding programs that
 * talk to the monitor directly). This version defines none: an `out` to it
 * is an internal error, like any port not listed here. */
#define MOTE_PORT_HYPERCALL 0xe2

#ifndef __ASSEMBLER__
#include <stdint.h>

/* What the shim's exception stubs leave on the supervisor stack, lowest
 * address first: the vector and error code pushed by the stub, then the frame
 * the CPU pushed. */
struct mote_exc_frame {
	uint64_t vector; /* pushed by the stub */
	uint64_t error;	 /* CPU error code, or 0 for vectors without one */
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};
#endif /* __ASSEMBLER__ */

#endif
