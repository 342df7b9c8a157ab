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
	uint32_t xsave_size; /* bytes of each vCPU's XSAVE area */
};

/* What a snapshot holds: a mote run's process (0, what every snapshot
 * before this field held), or a booted Linux guest (mote boot). */
enum snap_kind {
	SNAP_KIND_RUN = 0,
	SNAP_KIND_BOOT = 1,
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
	uint32_t kind;	   /* enum snap_kind */
	uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct snap_header) == 168, "no hidden padding");

uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len);

/* The CPUID words a snapshot records (leaves 1, 7.0, 0x80000001) from a
 * CPUID table, into c (snap.c). */
struct kvm_cpuid2;
void snap_cpu_words(const struct kvm_cpuid2 *cp, struct snap_cpu *c);

/* Reads the header of the snapshot at fd (path for messages), at file
 * offset base (a tree's part; else 0), and checks what every kind shares: the
 * magic, the format, the header's CRC and the mote version. 0, or -1 after a
 * one-line message. The kind's own checks (sizes against the file's) are its
 * reader's. */
int snap_header_read(int fd, const char *path, struct snap_header *h,
		     uint64_t base);
/* Reads the state section h names into a malloc'd *buf and checks its
 * CRC. 0, or -1 after a message. */
int snap_state_load(int fd, const char *path, const struct snap_header *h,
		    uint8_t **buf);
/* Checks that this host's KVM shows a guest every CPU feature need
 * records. 0, or -1 after a message naming the first missing one. */
int snap_check_cpu(const char *path, const struct snap_cpu *need);

#endif
