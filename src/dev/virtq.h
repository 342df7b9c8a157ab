/* The split virtqueue of virtio 1.x, device side: descriptor chains popped
 * from guest RAM into host iovecs, used elements pushed back, and the
 * driver's notification suppression. Every ring byte is hostile input: a
 * malformed queue is marked broken (the transport then sets
 * DEVICE_NEEDS_RESET), never trusted, and reached only through gm_phys. */
#ifndef MOTE_DEV_VIRTQ_H
#define MOTE_DEV_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct vm;

/* The largest queue a device offers (the transport's queue_size_max). */
#define VIRTQ_MAX_SIZE 256
/* Segments of one chain: its direct and indirect descriptors together. */
#define VIRTQ_MAX_SEGS 128
/* Bytes of one chain, readable and writable together. A Linux guest's
 * largest block request is max_sectors_kb (1280 KiB by default). */
#define VIRTQ_MAX_BYTES (8U << 20)

/* Descriptor flags and ring flags, as in the virtio 1.x spec (2.7.5). */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Why a queue broke (the first reason is kept, for the message). */
enum virtq_fault {
	VQ_OK = 0,
	VQ_BAD_SIZE,	 /* 0, not a power of two, or above VIRTQ_MAX_SIZE */
	VQ_BAD_RING,	 /* a ring misaligned or not in guest RAM */
	VQ_BAD_AVAIL,	 /* avail idx ahead of the device by more than size */
	VQ_BAD_INDEX,	 /* a head or next index >= the table's size */
	VQ_LOOP,	 /* more links than the table has descriptors */
	VQ_BAD_INDIRECT, /* nested, with NEXT, not negotiated, bad length */
	VQ_BAD_LEN,	 /* a zero length, or the chain over VIRTQ_MAX_BYTES */
	VQ_BAD_ADDR,	 /* a buffer not in guest RAM */
	VQ_TOO_MANY,	 /* more than VIRTQ_MAX_SEGS segments */
	VQ_ORDER,	 /* a readable descriptor after a writable one */
	VQ_BAD_USED,	 /* the device pushed a head >= size (its own bug) */
	VQ_BAD_REQUEST,	 /* a chain too short for its header or status */
	VQ_NFAULTS
};

/* One queue. The transport fills size and the three ring addresses from
 * the driver's writes, then calls virtq_enable; a device calls the rest. */
struct virtq {
	const struct vm *vm;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	/* Set by virtq_enable: */
	bool ready;
	enum virtq_fault fault;	      /* VQ_OK until the queue breaks */
	uint8_t *desc, *avail, *used; /* host addresses of the rings */
	uint16_t last_avail;	      /* the next avail entry to pop */
	uint16_t used_idx;	      /* the next used entry to fill */
	uint16_t signalled;	      /* used_idx at the last interrupt */
};

/* A popped chain: iov[0, nr) are device-readable, iov[nr, nr + nw)
 * device-writable, rlen and wlen their total bytes; head is what
 * virtq_push gives back. */
struct virtq_chain {
	uint16_t head;
	unsigned nr, nw;
	uint32_t rlen, wlen;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Checks q's size and rings (size a power of two <= VIRTQ_MAX_SIZE;
 * descriptors 16-, avail 2-, used 4-byte aligned; all in guest RAM of vm)
 * and makes it ready, its indices at 0. 0, or -1 with q broken. */
int virtq_enable(struct virtq *q, const struct vm *vm);
/* Back to the state before the driver set it up (a device reset). */
void virtq_reset(struct virtq *q);
/* Marks q broken with why (if not already) and returns -1. */
int virtq_fail(struct virtq *q, enum virtq_fault why);
static inline bool virtq_broken(const struct virtq *q)
{
	return q->fault != VQ_OK;
}
/* The fault's name, for one line of the monitor's log. */
const char *virtq_fault_name(enum virtq_fault why);

/* Pops the next available chain into c. 1, 0 when the driver has made
 * nothing available, or -1: q broke on this chain, was broken before, or
 * is not ready. The iovecs point into guest RAM, which the guest may
 * change at any time: a device reads what it needs of them once. */
int virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Puts head back in the used ring with len bytes written by the device,
 * and publishes it. 0, or -1 (q broken or not ready). */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the last
 * time this returned true (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with
 * VIRTIO_RING_F_EVENT_IDX). */
bool virtq_want_interrupt(struct virtq *q);

/* A snapshot of q (mote boot's): its size, rings, negotiated bits,
 * readiness, fault and indices. virtq_load sets them back and, for a
 * ready queue, finds its rings in vm's RAM again (the checks of
 * virtq_enable): false on a malformed record or rings outside RAM. */
struct wbuf;
struct rbuf;
void virtq_save(const struct virtq *q, struct wbuf *w);
bool virtq_load(struct virtq *q, const struct vm *vm, struct rbuf *r);

#endif
