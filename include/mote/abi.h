/* mote guest <-> monitor ABI: hypercall ports, exception frames, version.
 *
 * Self-contained (C99 headers only) so that freestanding guests, the shim and
 * the monitor share one definition; usable from assembly too. docs/abi.md
 * states the contract in MUST/MAY terms; this header is its machine-readable
 * half.
 */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

/* Bumped on any incompatible change. A guest states the version it was built
 * against in MOTE_HC_HELLO; the monitor refuses a mismatch. */
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

/* Native-guest hypercalls. IN: RAX = enum mote_hc, RDI = the guest address
 * of that call's argument struct. OUT: RAX = 0 or a negative errno. */
#define MOTE_PORT_HYPERCALL 0xe2

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Native-guest hypercall numbers (MOTE_PORT_HYPERCALL). */
enum mote_hc {
	MOTE_HC_HELLO = 1, /* struct mote_hc_hello */
	MOTE_HC_PUTS = 2,  /* struct mote_hc_puts */
	MOTE_HC_EXIT = 3,  /* struct mote_hc_exit */
};

/* MOTE_HC_HELLO: the guest announces its ABI version. */
struct mote_hc_hello {
	uint32_t version; /* IN: MOTE_ABI_VERSION the guest was built with */
	uint32_t pad;
};

/* MOTE_HC_PUTS: write a buffer to the VM's console (stdout). */
struct mote_hc_puts {
	uint64_t data; /* IN: guest address of the bytes */
	uint64_t len;  /* IN: number of bytes */
};

/* MOTE_HC_EXIT: end the VM with a status. */
struct mote_hc_exit {
	int32_t status; /* IN: exit status, 0..255 */
	uint32_t pad;
};

/* What the shim's exception stubs leave on the supervisor stack, lowest
 * address first: the vector and error code pushed by the stub, then the frame
 * the CPU pushed. */
struct mote_exc_frame {
	uint64_t vector; /* pushed by the stub */
	uint64_t error;  /* CPU error code, or 0 for vectors without one */
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};
#endif /* __ASSEMBLER__ */

#endif
