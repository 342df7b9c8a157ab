/* The shim's entry points, as offsets into its code (src/shim/shim.S). */
#ifndef MOTE_SHIM_H
#define MOTE_SHIM_H

#define SHIM_OFF_SYSCALL   0x000
#define SHIM_OFF_IRET	   0x040
#define SHIM_OFF_VECTOR(n) (0x100 + 16 * (n))
/* Where the syscall path resumes after its 2-byte `out` (the sysretq), and
 * where the exception path does (addq; iretq from exc_common at 0x300):
 * the CPL-0 points at which a vCPU's user context is known. */
#define SHIM_OFF_SYSRET	 (SHIM_OFF_SYSCALL + 2)
#define SHIM_OFF_EXC_RET 0x302
#define SHIM_VECTORS	 32

/* The shim's code as built into the monitor (src/shim/blob.S). */
extern const unsigned char shim_blob[];
extern const unsigned char shim_blob_end[];

#endif
