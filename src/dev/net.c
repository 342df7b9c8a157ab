/* virtio-net over a tap (net.h). tx is synchronous on the vCPU thread that
 * notifies, as blk's requests are; rx has a thread of its own, which
 * waits in poll() for a frame on the tap or, when the guest has given no
 * buffer, for the guest's kick alone: frames then wait in the tap's queue
 * (the kernel drops past its length), and nothing spins. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "dev/iov.h"
#include "dev/net.h"
#include "stream.h"
#include "util.h"

#define HDR VIRTIO_NET_HDR_BYTES

/* Frames moved for one hold of the function's lock: a flood from the tap
 * must not keep the vCPUs out of the device's registers for long. */
#define RX_BATCH 64

/* The header of a received frame: no flags, no GSO (5.1.6.4.1: without
 * GUEST_CSUM the device sets flags to 0; the tap may say DATA_VALID), one
 * buffer (num_buffers, 1 without MRG_RXBUF). */
static const uint8_t rx_hdr[HDR] = {[10] = 1};

static void kick(struct net *n)
{
	uint64_t one = 1;
	if (write(n->kick, &one, sizeof(one)) < 0)
		return; /* the counter is full: the thread is woken anyway */
}

/* Writes the frame of chain c to the tap behind a header of zeros, what
 * was negotiated (no offload), whatever the guest put in its own: the
 * host kernel never parses a guest's GSO or checksum request. 0, or -1
 * if c is too short to hold a header. */
static int tx_frame(struct net *n, const struct virtq_chain *c)
{
	static const uint8_t hdr[HDR];
	struct iovec io[VIRTQ_MAX_SEGS + 1];
	if (c->rlen < HDR)
		return -1;
	io[0] = (struct iovec){.iov_base = (void *)hdr, .iov_len = HDR};
	unsigned k = iov_slice(c->iov, c->nr, HDR, c->rlen - HDR, io + 1);
	ssize_t r;
	do
		r = writev(n->tap, io, k + 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		n->tx_dropped++;
	return 0;
}

static void tx(struct net *n)
{
	struct virtq *q = &n->vdev.vq[NET_TXQ];
	struct virtq_chain c;
	while (virtq_pop(q, &c) == 1) {
		if (tx_frame(n, &c) < 0) {
			virtq_fail(q, VQ_BAD_REQUEST);
			break;
		}
		if (virtq_push(q, c.head, 0) < 0)
			break;
	}
	virtio_used(&n->vdev, NET_TXQ);
}

static void net_notify(struct virtio_dev *d, unsigned qi)
{
	struct net *n = (struct net *)d;
	if (qi == NET_RXQ)
		kick(n);
	else
		tx(n);
}

/* Makes sure an rx chain is held: 1, 0 if the driver has none, or -1 (the
 * queue broke on it; the device is failed). */
static int rx_chain(struct net *n)
{
	struct virtq *q = &n->vdev.vq[NET_RXQ];
	if (n->held)
		return 1;
	int r = virtq_pop(q, &n->rx);
	if (r == 1 && n->rx.wlen < HDR)
		r = virtq_fail(q, VQ_BAD_REQUEST);
	if (r < 0)
		virtio_fail(&n->vdev);
	n->held = r == 1;
	return r;
}

/* Reads one frame into the held chain: its length (the whole frame's,
 * which is more than the chain holds if it was cut), 0 if the tap has
 * none, or -1 with errno. */
static ssize_t rx_read(struct net *n)
{
	for (;;) {
		ssize_t r = readv(n->tap, n->rx.iov + n->rx.nr, n->rx.nw);
		if (r >= 0 || errno != EINTR)
			return r < 0 && errno == EAGAIN ? 0 : r;
	}
}

/* Moves one frame from the tap to the guest: NET_RX_MORE if it did (or
 * dropped one too large), else what to wait for. */
static enum net_rx_wait rx_one(struct net *n)
{
	if (rx_chain(n) <= 0)
		return NET_RX_KICK;
	ssize_t len = rx_read(n);
	if (len == 0)
		return NET_RX_TAP;
	if (len < 0) {
		msg("virtio-net: reading the tap: %s; the guest receives "
		    "nothing more",
		    strerror(errno));
		return NET_RX_STOP;
	}
	if ((size_t)len > n->rx.wlen || len < HDR) {
		n->rx_dropped++; /* the chain stays held for the next */
		return NET_RX_MORE;
	}
	iov_copy(n->rx.iov + n->rx.nr, n->rx.nw, (void *)rx_hdr, HDR, true);
	n->held = false;
	if (virtq_push(&n->vdev.vq[NET_RXQ], n->rx.head, (uint32_t)len) < 0)
		return NET_RX_KICK;
	return NET_RX_MORE;
}

enum net_rx_wait net_rx(struct net *n)
{
	struct virtio_dev *d = &n->vdev;
	if (!(d->status & VIRTIO_S_DRIVER_OK) || !d->vq[NET_RXQ].ready ||
	    virtio_broken(d))
		return NET_RX_KICK;
	enum net_rx_wait w = NET_RX_MORE;
	uint16_t before = d->vq[NET_RXQ].used_idx;
	for (unsigned i = 0; i < RX_BATCH && w == NET_RX_MORE; i++)
		w = rx_one(n);
	if (d->vq[NET_RXQ].used_idx != before)
		virtio_used(d, NET_RXQ);
	return w;
}

/* Waits as w says. 0, or -1 when the thread is to end. */
static int rx_wait(struct net *n, enum net_rx_wait w)
{
	if (w == NET_RX_MORE)
		return 0;
	if (w == NET_RX_STOP)
		return -1;
	struct pollfd p[2] = {{.fd = n->kick, .events = POLLIN},
			      {.fd = n->tap, .events = POLLIN}};
	if (poll(p, w == NET_RX_TAP ? 2 : 1, -1) < 0 && errno != EINTR) {
		msg("virtio-net: poll: %s; the guest receives nothing more",
		    strerror(errno));
		return -1;
	}
	uint64_t v; /* one read empties the eventfd */
	if ((p[0].revents & POLLIN) && read(n->kick, &v, sizeof(v)) < 0 &&
	    errno != EAGAIN) {
		msg("virtio-net: reading its kick: %s; the guest receives "
		    "nothing more",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void *rx_main(void *arg)
{
	struct net *n = arg;
	enum net_rx_wait w;
	do {
		pthread_mutex_lock(n->vdev.lock);
		w = net_rx(n);
		pthread_mutex_unlock(n->vdev.lock);
	} while (rx_wait(n, w) == 0);
	return NULL;
}

static void net_reset(struct virtio_dev *d)
{
	((struct net *)d)->held = false;
}

static uint64_t net_features(const struct virtio_dev *d)
{
	return 1ULL << VIRTIO_NET_F_MAC;
}

/* Config space (5.1.4): the MAC; the fields after it need features not
 * offered. */
static void net_config_read(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len)
{
	memcpy(buf, ((struct net *)d)->mac + off, len);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = net_features,
	.nqueues = 2,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = VIRTIO_NET_MAC_BYTES,
	.config_read = net_config_read,
	.notify = net_notify,
	.reset = net_reset,
};

int net_init(struct net *n, const struct vm *vm, int tap)
{
	virtio_init(&n->vdev, &net_ops, vm);
	n->tap = tap;
	n->rx_dropped = n->tx_dropped = 0;
	/* A few bytes, which getrandom gives whole or fails. */
	if (getrandom(n->mac, sizeof(n->mac), 0) < 0)
		return -errno;
	/* Unicast, locally administered (IEEE 802: bits 0 and 1). */
	n->mac[0] = (n->mac[0] & 0xfc) | 0x02;
	n->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return n->kick < 0 ? -errno : 0;
}

/* The line for a tap that TUNSETIFF refused, and its -errno. */
static int tap_refused(const char *name)
{
	int err = errno;
	if (err == EPERM || err == EACCES)
		msg("--net %s: permission denied (run mote as root, or make "
		    "the tap yours: ip tuntap add dev %s mode tap user "
		    "$USER)",
		    name, name);
	else if (err == EINVAL)
		msg("--net %s: not a tap device (make one: ip tuntap add dev "
		    "%s mode tap)",
		    name, name);
	else if (err == EBUSY)
		msg("--net %s: in use by another process (give each VM a tap "
		    "of its own)",
		    name);
	else
		msg("--net %s: TUNSETIFF: %s", name, strerror(err));
	return -err;
}

/* Attaches fd to the existing tap name with the 12-byte header. 0, or
 * -errno with the line printed. */
static int tap_attach(int fd, const char *name)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	int hdr = HDR;
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return tap_refused(name);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		msg("--net %s: the tap refuses a %d-byte virtio header: %s",
		    name, hdr, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Opens /dev/net/tun for the tap name, which must exist: TUNSETIFF would
 * make a new one (for root), which no one would have set up. The fd, or
 * -errno with the line printed. */
static int tap_open(const char *name)
{
	if (strlen(name) >= IFNAMSIZ) {
		msg("--net %s: an interface name has at most %d characters",
		    name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (if_nametoindex(name) == 0) {
		msg("--net %s: no such network interface (make the tap first: "
		    "ip tuntap add dev %s mode tap user $USER)",
		    name, name);
		return -ENODEV;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		msg("--net %s: /dev/net/tun: %s (load the tun module: "
		    "modprobe tun)",
		    name, strerror(errno));
		return -errno;
	}
	int err = tap_attach(fd, name);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

int net_open(struct net *n, const struct vm *vm, const char *name)
{
	n->tap = n->kick = -1;
	int fd = tap_open(name);
	if (fd < 0)
		return fd;
	int err = net_init(n, vm, fd);
	if (err < 0) {
		msg("--net %s: %s", name, strerror(-err));
		net_close(n);
	}
	return err;
}

int net_start(struct net *n)
{
	int err = pthread_create(&n->thread, NULL, rx_main, n);
	if (err) {
		errno = err;
		return -1;
	}
	pthread_detach(n->thread);
	return 0;
}

void net_close(struct net *n)
{
	if (n->tap >= 0)
		close(n->tap);
	if (n->kick >= 0)
		close(n->kick);
	n->tap = n->kick = -1;
}

void net_save(const struct net *n, struct wbuf *w)
{
	uint8_t held = n->held;
	W(w, n->mac);
	W(w, held);
}

bool net_load(struct net *n, struct rbuf *r)
{
	uint8_t held;
	R(r, n->mac);
	R(r, held);
	if (r->bad || held > 1)
		return false;
	n->held = false;
	n->vdev.vq[NET_RXQ].last_avail -= held;
	return true;
}
