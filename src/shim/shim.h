/* The shim's entry points, as offsets into its code (src/shim/shim.S). */
#ifndef MOTE_SHIM_H
#define MOTE_SHIM_H

#define SHIM_OFF_SYSCALL   0x000
#define SHIM_OFF_IRET	   0x040
#define SHIM_OFF_VECTOR(n) (0x100 + 16 * (n))
#define SHIM_VECTORS	   32

/* The shim's code as built into the monitor (src/shim/blob.S). */
extern const unsigned char shim_blob[];
extern const unsigned char shim_blob_end[];

#endif
