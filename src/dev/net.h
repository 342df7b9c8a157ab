/* virtio-net over a host tap device: the guest's frames written to the
 * tap on the vCPU thread that notifies (tx), the tap's frames read into
 * the guest's buffers by the device's own thread (rx). It offers the MAC
 * feature alone (with VERSION_1), so every frame carries the 12-byte
 * virtio_net_hdr_v1 with no offload in it, the size the tap is told. */
#ifndef MOTE_DEV_NET_H
#define MOTE_DEV_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/virtio.h"

#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_HDR_BYTES 12 /* virtio_net_hdr_v1 (5.1.6) */
#define VIRTIO_NET_MAC_BYTES 6
#define NET_RXQ		     0
#define NET_TXQ		     1

struct net {
	struct virtio_dev vdev; /* first: the transport's view */
	int tap;		/* non-blocking; a tap's, or any fd that
				 * keeps packet boundaries */
	int kick;		/* eventfd: the rx queue has new buffers */
	uint8_t mac[VIRTIO_NET_MAC_BYTES];
	/* The rx side, under vdev.lock: a chain popped and not yet filled
	 * (the tap had no frame for it), kept for the next frame. */
	bool held;
	struct virtq_chain rx;
	/* Frames lost: larger than the guest's buffer, or refused by the
	 * tap. Counted, as a NIC counts them; never a fault. */
	uint64_t rx_dropped, tx_dropped;
	pthread_t thread;
};

/* Opens the existing tap interface name for guest memory vm into n: a
 * tap with no packet info and the 12-byte virtio header, a random
 * locally administered MAC. 0, or -errno with one line naming --net and
 * the fix (n then holds no fd). */
int net_open(struct net *n, const struct vm *vm, const char *name);
/* Sets n up over the open fd tap (kept; closed by net_close). 0, or
 * -errno if the kick eventfd cannot be made. */
int net_init(struct net *n, const struct vm *vm, int tap);
/* Starts the rx thread, once the transport has given n its lock. 0, or
 * -1 with errno. */
int net_start(struct net *n);
void net_close(struct net *n);

/* What net_rx left the rx side waiting for. */
enum net_rx_wait {
	NET_RX_MORE, /* nothing: call again (a batch was done) */
	NET_RX_TAP,  /* a frame on the tap, or a kick */
	NET_RX_KICK, /* the driver's kick alone: no buffers, or not ready */
	NET_RX_STOP, /* the tap failed: no more receiving (logged) */
};
/* Moves frames from the tap into the guest's rx buffers, at most a
 * batch, with vdev.lock held (the rx thread's step, and the unit tests'). */
enum net_rx_wait net_rx(struct net *n);

/* A snapshot of n beside its transport's (mote boot's): its MAC, which
 * the guest configured its interface with. An rx chain held for the
 * next frame is given back to the ring as not yet popped, so that the
 * restored card pops it again: net_save with n's lock held, net_load
 * after virtio_pci_load. net_load: false on a malformed record. */
struct wbuf;
struct rbuf;
void net_save(const struct net *n, struct wbuf *w);
bool net_load(struct net *n, struct rbuf *r);

#endif
