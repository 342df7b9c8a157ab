/* The interface between a virtio device (blk, rng, net) and the transport
 * that drives it (virtio-pci): an ops table in kvmtool's shape, the queues,
 * feature negotiation, and the interrupt callback the transport provides.
 * The transport turns the driver's register writes into these calls; a
 * device never knows which transport it sits on. */
#ifndef MOTE_DEV_VIRTIO_H
#define MOTE_DEV_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/virtq.h"

struct vm;

/* Device types (virtio 1.x, 5). */
#define VIRTIO_ID_NET	1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG	4

/* Device-independent feature bits (6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32

/* Device status bits (2.1). */
#define VIRTIO_S_ACKNOWLEDGE	    1
#define VIRTIO_S_DRIVER		    2
#define VIRTIO_S_DRIVER_OK	    4
#define VIRTIO_S_FEATURES_OK	    8
#define VIRTIO_S_DEVICE_NEEDS_RESET 64
#define VIRTIO_S_FAILED		    128

#define VIRTIO_MAX_QUEUES 2

/* What a device asks of the transport's interrupt: a used buffer, or a
 * configuration change (which is also how a broken device is reported,
 * with DEVICE_NEEDS_RESET in the status). */
enum virtio_irq { VIRTIO_IRQ_VRING = 1, VIRTIO_IRQ_CONFIG = 2 };

struct virtio_dev;

struct virtio_ops {
	const char *name;
	uint32_t device_id;
	/* The device-specific feature bits it offers. */
	uint64_t (*features)(const struct virtio_dev *d);
	unsigned nqueues; /* at most VIRTIO_MAX_QUEUES */
	uint16_t queue_max;
	uint32_t config_size;
	/* Reads the device's configuration space, at most config_size
	 * bytes from off into buf (virtio_config_read bounds them). */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len);
	/* The driver made buffers available on queue q (q < nqueues, ready,
	 * the device not broken). */
	void (*notify)(struct virtio_dev *d, unsigned q);
	/* Optional: the driver reset the device. */
	void (*reset)(struct virtio_dev *d);
};

/* Embedded first in each device's own struct. */
struct virtio_dev {
	const struct virtio_ops *ops;
	const struct vm *vm;
	uint64_t driver_features; /* accepted by virtio_set_features */
	uint8_t status;		  /* the driver's status byte, as the transport
				   * keeps it; DEVICE_NEEDS_RESET set here */
	struct virtq vq[VIRTIO_MAX_QUEUES];
	/* Set by the transport: raises the guest's interrupt. */
	void (*irq)(struct virtio_dev *d, enum virtio_irq why, void *arg);
	void *irq_arg;
	/* Set by the transport: the lock it holds around every call into
	 * the device. A device with a thread of its own (virtio-net's rx)
	 * takes it there too. */
	pthread_mutex_t *lock;
	uint8_t isr; /* enum virtio_irq bits raised and not yet read */
	/* Fault lines logged so far, at most VIRTIO_FAULT_LINES: a guest
	 * that breaks and resets its device in a loop must not fill the
	 * host's log. Kept across resets. */
	unsigned faults_logged;
};

#define VIRTIO_FAULT_LINES 16

/* Sets up d for ops over the guest's memory vm, before the transport
 * gives it its irq callback. */
void virtio_init(struct virtio_dev *d, const struct virtio_ops *ops,
		 const struct vm *vm);
/* Every feature bit d offers: the device's and the ring's. */
uint64_t virtio_features(const struct virtio_dev *d);
/* The driver's choice (FEATURES_OK): 0, or -1 if it asks for a bit not
 * offered or lacks VIRTIO_F_VERSION_1 (the transport then leaves
 * FEATURES_OK clear). */
int virtio_set_features(struct virtio_dev *d, uint64_t features);
/* Copies config bytes [off, off + len) into buf; bytes past the device's
 * config space read as 0. */
void virtio_config_read(struct virtio_dev *d, uint32_t off, void *buf,
			uint32_t len);
/* Enables queue q from what the driver wrote in d->vq[q] (size, rings).
 * 0, or -1 (a bad queue number, or the queue broke: see virtio_fail). */
int virtio_queue_enable(struct virtio_dev *d, unsigned q);
/* The driver's notification of queue q: hands it to the device unless
 * the queue or device cannot take it. */
void virtio_notify(struct virtio_dev *d, unsigned q);
/* The driver wrote status 0: queues and features back to their start
 * (each queue's size at the device's maximum, as the driver first reads
 * it). */
void virtio_reset(struct virtio_dev *d);
/* The driver's write of its status byte, with the feature bits it wrote:
 * 0 resets; FEATURES_OK is kept only if virtio_set_features accepts them;
 * DEVICE_NEEDS_RESET stays until a reset, and a driver that sets
 * DRIVER_OK on a device already broken is told at once. */
void virtio_set_status(struct virtio_dev *d, uint8_t status, uint64_t features);
/* Raises the vring interrupt if queue q's driver wants one. */
void virtio_used(struct virtio_dev *d, unsigned q);
/* Marks d as needing a reset (the guest broke one of its queues), logs
 * why (the first VIRTIO_FAULT_LINES times, then once that it stops) and
 * tells the guest through a configuration interrupt. */
void virtio_fail(struct virtio_dev *d);
static inline bool virtio_broken(const struct virtio_dev *d)
{
	return d->status & VIRTIO_S_DEVICE_NEEDS_RESET;
}

/* A snapshot of d (mote boot's): the driver's features, the status
 * byte, the ISR, and each queue (virtq_save). virtio_load: false on a
 * malformed record (features not offered, a queue that does not load). */
struct wbuf;
struct rbuf;
void virtio_save(const struct virtio_dev *d, struct wbuf *w);
bool virtio_load(struct virtio_dev *d, struct rbuf *r);

#endif
