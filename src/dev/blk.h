/* virtio-blk over a host file descriptor (a disk image or block device):
 * reads, writes, flushes that are fdatasync (so what the guest syncs is on
 * the host's disk), the device id, and read-only disks (FILE:ro). */
#ifndef MOTE_DEV_BLK_H
#define MOTE_DEV_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/virtio.h"

/* Request types, status values and feature bits (virtio 1.x, 5.2). */
#define VIRTIO_BLK_T_IN	     0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_GET_ID  8
#define VIRTIO_BLK_S_OK	     0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO	     5
#define VIRTIO_BLK_F_FLUSH   9
#define VIRTIO_BLK_ID_BYTES  20
#define VIRTIO_BLK_SECTOR    512

struct blk {
	struct virtio_dev vdev; /* first: the transport's view */
	int fd;
	bool ro;
	uint64_t capacity; /* in 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES];
};

/* Opens the disk spec names, FILE, FILE:ro or FILE:rw, for guest memory
 * vm into b: a regular file or block device, writable unless :ro (a file
 * with no write bit in its mode counts as read-only, even for root),
 * locked while open (flock: exclusive, shared for :ro). 0, or -errno (b
 * then holds no fd) with one line naming the option. */
int blk_open(struct blk *b, const struct vm *vm, const char *spec);
/* Sets b up over fd (kept; closed by blk_close), read-only or not, with
 * the GET_ID string id (truncated to 20 bytes). 0, or -errno if fd's size
 * cannot be read. */
int blk_init(struct blk *b, const struct vm *vm, int fd, bool ro,
	     const char *id);
void blk_close(struct blk *b);

#endif
