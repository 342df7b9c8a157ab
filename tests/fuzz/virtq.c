/* libFuzzer harness over the virtqueue parser (src/dev/virtq.c) and the
 * devices behind it (virtio-blk on a memfd disk, virtio-rng, virtio-net
 * on a datagram socket pair), with guest RAM the fuzzer writes: rings,
 * descriptors, indirect tables and buffers.
 *
 * The input (little-endian):
 *
 *   byte 0      bits 0-3: log2 of the queue size (above 8 is refused);
 *               bit 4: indirect descriptors, bit 5: EVENT_IDX,
 *               bit 6: the disk is read-only, bit 7: rng instead of blk;
 *               bits 6 and 7: net, its tx queue on the rings below and
 *               its rx queue on rings NET_RX_OFF bytes above them, the
 *               frames tx sends coming back to rx
 *   bytes 1-6   guest-physical addresses of the descriptor table, the
 *               avail ring and the used ring (u16 each)
 *   bytes 7-8   n: the length of the RAM image that follows
 *   n bytes     guest RAM from address 0 (the rest of RAM is zero)
 *   the rest    the guest's later writes, each {u16 gpa, u8 len, len
 *               bytes}, a notification after each
 *
 * The parser runs first on its own, its promises checked for every chain
 * it pops (segments within RAM, at most VIRTQ_MAX_SEGS of them, lengths
 * adding up, under VIRTQ_MAX_BYTES, readable before writable); then the
 * device runs on a fresh copy of the same RAM, through the guest's
 * writes. RAM is malloc'd, so ASan reports any access past it. */
#define _GNU_SOURCE /* memfd_create, in guest_ram.h */
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "dev/blk.h"
#include "dev/net.h"
#include "dev/rng.h"
#include "guest_ram.h"

#define RAM_SIZE   (64 * 1024)
#define HDR_BYTES  9
#define DISK_BYTES (16 * 512)
#define NET	   0xc0
#define NET_RX_OFF 0x1000

static struct vm vm;
static int disk = -1;

struct input {
	uint8_t flags;
	uint16_t desc, avail, used;
	const uint8_t *image, *writes;
	size_t nimage, nwrites;
};

static uint16_t u16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void load_ram(const struct input *in)
{
	memset(vm.mem, 0, RAM_SIZE);
	memcpy(vm.mem, in->image, in->nimage);
}

static void check_chain(const struct virtq_chain *c)
{
	uint64_t r = 0, w = 0;
	if (c->nr + c->nw > VIRTQ_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < c->nr + c->nw; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;
		if (b < vm.mem || len == 0 || len > RAM_SIZE ||
		    b + len > vm.mem + RAM_SIZE)
			abort();
		*(i < c->nr ? &r : &w) += len;
	}
	if (r != c->rlen || w != c->wlen || r + w > VIRTQ_MAX_BYTES)
		abort();
}

/* q on the input's rings, off bytes up. */
static void set_queue(struct virtq *q, const struct input *in, uint32_t off)
{
	q->size = 1u << (in->flags & 15);
	q->desc_gpa = in->desc + off;
	q->avail_gpa = in->avail + off;
	q->used_gpa = in->used + off;
}

/* The parser alone: every chain the guest made available, popped and
 * pushed back, up to twice the queue's size. */
static void parse(const struct input *in)
{
	static struct virtq q;
	static struct virtq_chain c;
	load_ram(in);
	memset(&q, 0, sizeof(q));
	set_queue(&q, in, 0);
	q.indirect = in->flags & 0x10;
	q.event_idx = in->flags & 0x20;
	if (virtq_enable(&q, &vm) < 0)
		return;
	for (unsigned i = 0; i < 2u * q.size; i++) {
		if (virtq_pop(&q, &c) != 1)
			break;
		check_chain(&c);
		if (virtq_push(&q, c.head, c.wlen) < 0)
			abort();
	}
	virtq_want_interrupt(&q);
}

/* Applies the guest's next write; false when there is none left. */
static bool guest_write(const uint8_t **p, size_t *n)
{
	if (*n < 3)
		return false;
	uint16_t gpa = u16(*p);
	size_t len = (*p)[2];
	*p += 3;
	*n -= 3;
	if (len > *n)
		len = *n;
	if (gpa + len > RAM_SIZE)
		len = RAM_SIZE - gpa;
	memcpy(vm.mem + gpa, *p, len);
	*p += len;
	*n -= len;
	return true;
}

static void irq(struct virtio_dev *d, enum virtio_irq why, void *arg)
{
}

/* virtio-net's host side: each frame tx wrote to the "tap" (sv[0]) sent
 * back into it, then the rx side run until it waits. */
static void net_echo(struct net *n, int peer)
{
	uint8_t frame[2048];
	ssize_t len;
	while ((len = recv(peer, frame, sizeof(frame), MSG_DONTWAIT)) > 0)
		send(peer, frame, (size_t)len, MSG_DONTWAIT);
	while (net_rx(n) == NET_RX_MORE)
		;
}

/* Notifies d's queues: tx then rx through the echo for net. */
static void notify(struct virtio_dev *d, const struct input *in, int peer)
{
	if ((in->flags & NET) != NET) {
		virtio_notify(d, 0);
		return;
	}
	virtio_notify(d, NET_TXQ);
	net_echo((struct net *)d, peer);
}

/* Makes the device the flags name, its queues on the input's rings. */
static struct virtio_dev *make(const struct input *in, int *peer)
{
	static struct blk b;
	static struct rng r;
	static struct net n;
	int sv[2];
	if ((in->flags & NET) == NET) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) <
			    0 ||
		    net_init(&n, &vm, sv[0]) < 0)
			abort();
		*peer = sv[1];
		return &n.vdev;
	}
	if (in->flags & 0x80) {
		rng_init(&r, &vm);
		return &r.vdev;
	}
	if (blk_init(&b, &vm, disk, in->flags & 0x40, "fuzz") < 0)
		abort();
	return &b.vdev;
}

/* The device, as a transport would drive it. */
static void device(const struct input *in)
{
	int peer = -1;
	load_ram(in);
	struct virtio_dev *d = make(in, &peer);
	d->irq = irq;
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1;
	f |= (uint64_t) !!(in->flags & 0x10) << VIRTIO_RING_F_INDIRECT_DESC;
	f |= (uint64_t) !!(in->flags & 0x20) << VIRTIO_RING_F_EVENT_IDX;
	if (virtio_set_features(d, f) < 0)
		abort();
	d->status = VIRTIO_S_DRIVER_OK | VIRTIO_S_FEATURES_OK;
	bool net = peer >= 0;
	set_queue(&d->vq[net ? NET_TXQ : 0], in, 0);
	virtio_queue_enable(d, net ? NET_TXQ : 0);
	if (net) {
		set_queue(&d->vq[NET_RXQ], in, NET_RX_OFF);
		virtio_queue_enable(d, NET_RXQ);
	}
	const uint8_t *p = in->writes;
	size_t n = in->nwrites;
	do
		notify(d, in, peer);
	while (guest_write(&p, &n));
	virtio_reset(d);
	if (net) {
		net_close((struct net *)d);
		close(peer);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guest_ram_init(&vm, RAM_SIZE, &disk, DISK_BYTES);
	if (size < HDR_BYTES)
		return 0;
	struct input in = {
		.flags = data[0],
		.desc = u16(data + 1),
		.avail = u16(data + 3),
		.used = u16(data + 5),
		.nimage = u16(data + 7),
	};
	size -= HDR_BYTES;
	if (in.nimage > size)
		in.nimage = size;
	in.image = data + HDR_BYTES;
	in.writes = in.image + in.nimage;
	in.nwrites = size - in.nimage;
	parse(&in);
	device(&in);
	return 0;
}
