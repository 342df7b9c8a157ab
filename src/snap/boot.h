/* Snapshots of a booted Linux guest (mote boot; docs/boot.md,
 * "Snapshots"): the file (the header of every snapshot, kind
 * SNAP_KIND_BOOT, the guest's RAM as the memory image, the state
 * section) and its state records: the guest's configuration (BOOT), the
 * VM's (BVM), each vCPU's (BCPU) and the devices' (BDEV, read by the
 * devices themselves as they are restored). */
#ifndef MOTE_SNAP_BOOT_H
#define MOTE_SNAP_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap/wire.h"
#include "stream.h"
#include "vm/plainstate.h"

#define SNAP_TAG_BOOT	 STREAM_TAG('B', 'O', 'O', 'T')
#define SNAP_TAG_BDEV	 STREAM_TAG('B', 'D', 'E', 'V')
#define SNAP_BOOT_DISKS	 8  /* mote boot's --disk at most */
#define SNAP_BOOT_CPUS	 64 /* its --cpus at most */
#define SNAP_BOOT_TAPLEN 16 /* IFNAMSIZ */

/* The guest's configuration: what restore builds the same VM from. */
struct snap_boot_disk {
	char *path;    /* the file's absolute path (no :ro or :rw) */
	uint8_t ro;    /* :ro */
	uint64_t size; /* bytes, when the snapshot was taken */
};
struct snap_boot {
	struct snap_header h;
	uint64_t memory;
	uint32_t ncpus;
	char *kernel; /* for mote ps and messages: not opened again */
	uint32_t ndisks;
	struct snap_boot_disk disk[SNAP_BOOT_DISKS];
	char *net; /* --net's tap, or NULL */
	struct plain_vmstate vm;
	struct plain_cpu *cpu; /* ncpus of them, in vCPU order */
	struct rbuf dev;       /* the BDEV record's body */
	uint8_t *state;	       /* the whole state section */
};

/* The BOOT record of b's configuration fields. */
void snap_boot_opts_write(struct wbuf *w, const struct snap_boot *b);
/* Reads the whole state section of len bytes at state (kept: b->dev
 * points into it) into b, whose h is the file's checked header: BOOT,
 * BVM, one BCPU per vCPU in order, BDEV, nothing after. false, with the
 * reason in err, on anything malformed: counts or lengths out of range,
 * a vCPU count that is not the header's, records missing, out of order
 * or not read to their end. */
bool snap_boot_read(struct snap_boot *b, const uint8_t *state, size_t len,
		    char *err, size_t errlen);
void snap_boot_free(struct snap_boot *b);

/* Writes a snapshot file to fd (truncated first): the header of a
 * guest of ncpus vCPUs with mem_size bytes of RAM at mem, the CPU
 * features cpu it was shown, RAM's non-zero pages (the rest are holes),
 * and the state section state[0, len), then the header last. 0, or -1
 * with the reason in err. */
int snap_boot_write(int fd, const uint8_t *mem, uint64_t mem_size,
		    unsigned ncpus, const struct snap_cpu *cpu,
		    const uint8_t *state, size_t len, char *err, size_t errlen);

/* Opens the snapshot at path: returns its fd and b read and checked
 * (the header with the sizes of a boot snapshot, the state, this host's
 * CPU), or -status after a one-line message. */
int snap_boot_open(const char *path, struct snap_boot *b);
/* The kind of the snapshot at path from its checked header: an enum
 * snap_kind, or -status after a one-line message. */
int snap_kind_of(const char *path);

#endif
