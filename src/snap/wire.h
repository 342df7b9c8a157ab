/* The snapshot file's layout (docs/snapshot.md): a header page, the
 * guest memory image, and the state section, a stream of records
 * (stream.h). */
#ifndef MOTE_SNAP_WIRE_H
#define MOTE_SNAP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define SNAP_MAGIC     "MOTESNAP"
#define SNAP_FORMAT    3
#define SNAP_HDR_SIZE  4096
#define SNAP_STATE_MAX (256ULL << 20) /* a sanity bound for readers */

/* The CPU features the saved state may depend on: what the guest was
 * shown (CPUID leaves 1, 7 and 0x80000001) and the XSAVE components on. */
struct snap_cpu {
	uint64_t xcr0;
	uint32_t l1_ecx, l1_edx;
	uint32_t l7_ebx, l7_ecx, l7_edx;
	uint32_t e1_ecx, e1_edx;
	uint32_t xsave_size;  /* bytes of each vCPU's XSAVE area */
	uint32_t reserved[2]; /* 0 */
};

struct snap_header {
	char magic[8];	     /* SNAP_MAGIC, no NUL */
	uint32_t format;     /* SNAP_FORMAT */
	uint32_t header_crc; /* CRC-32 of the header with this field 0 */
	char version[32];    /* the mote that wrote it, NUL-padded */
	uint64_t created;    /* CLOCK_REALTIME, ns */
	uint64_t user_size;  /* guest memory (--memory) */
	uint64_t sys_size;   /* the system region after it */
	uint64_t state_off, state_len;
	uint32_t state_crc;
	uint32_t nthreads;
	uint64_t mem_off;   /* guest-physical 0 is here; pages are sparse */
	uint64_t mem_len;   /* user_size + sys_size */
	uint64_t mem_pages; /* pages written (the rest are holes) */
	struct snap_cpu cpu;
};
_Static_assert(sizeof(struct snap_header) == 168, "no hidden padding");

uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len);

#endif
