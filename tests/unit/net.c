/* virtio-net (src/dev/net.c) over a fake guest driver and a datagram
 * socket pair standing in for the tap (both keep frame boundaries): tx
 * frames reach the tap behind a header of zeros, rx frames land in the
 * guest's buffers with the header the device owes, frames wait in the tap
 * while the guest has no buffer, and hostile chains break the device. */
#include <sys/socket.h>
#include <unistd.h>

#include "dev/net.h"
#include "unit.h"
#include "vring.h"

static struct net n;
static int peer = -1; /* the host's end of the "tap" */
static int vring_irqs;

static void on_irq(struct virtio_dev *d, enum virtio_irq why, void *arg)
{
	vring_irqs += why == VIRTIO_IRQ_VRING;
}

/* A device with queue q alone enabled on the standard rings. */
static void start(unsigned q)
{
	int sv[2];
	vring_ram();
	if (peer >= 0) {
		net_close(&n);
		close(peer);
	}
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0);
	peer = sv[1];
	CHECK(net_init(&n, &vm, sv[0]) == 0);
	n.vdev.irq = on_irq;
	vring_irqs = 0;
	CHECK(virtio_set_features(&n.vdev, 1ULL << VIRTIO_F_VERSION_1 |
						   1ULL << VIRTIO_NET_F_MAC) ==
	      0);
	n.vdev.status = VIRTIO_S_DRIVER_OK;
	vring_queue(&n.vdev.vq[q], QSIZE);
	CHECK(virtio_queue_enable(&n.vdev, q) == 0);
}

static void config(void)
{
	uint8_t mac[8];
	start(NET_RXQ);
	CHECK(n.vdev.ops->device_id == VIRTIO_ID_NET);
	CHECK(virtio_features(&n.vdev) & 1ULL << VIRTIO_NET_F_MAC);
	virtio_config_read(&n.vdev, 0, mac, sizeof(mac));
	CHECK(memcmp(mac, n.mac, 6) == 0 && mac[6] == 0 && mac[7] == 0);
	CHECK((mac[0] & 3) == 2); /* unicast, locally administered */
}

/* The guest's header (with flags and GSO the tap must not see), then a
 * 60-byte frame in two buffers. */
static void tx(void)
{
	uint8_t got[128];
	start(NET_TXQ);
	memset(ram(BUF_GPA), 0x5a, 12);
	memset(ram(BUF_GPA + 4096), 0xa1, 20);
	memset(ram(BUF_GPA + 8192), 0xa2, 40);
	vring_desc(0, BUF_GPA, 12, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA + 4096, 20, VIRTQ_DESC_F_NEXT, 2);
	vring_desc(2, BUF_GPA + 8192, 40, 0, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&n.vdev, NET_TXQ);
	CHECK(used_idx() == 1 && used_len(QSIZE, 0) == 0 && vring_irqs == 1);
	CHECK(recv(peer, got, sizeof(got), 0) == 72);
	uint8_t zeros[12] = {0};
	CHECK(memcmp(got, zeros, 12) == 0);
	CHECK(got[12] == 0xa1 && got[31] == 0xa1 && got[32] == 0xa2 &&
	      got[71] == 0xa2);
	CHECK(!virtio_broken(&n.vdev));
}

/* A frame from the host: its bytes after the header the device owes
 * (flags 0 whatever the tap said, num_buffers 1). */
static void rx(void)
{
	uint8_t frame[72];
	start(NET_RXQ);
	memset(frame, 0x77, sizeof(frame));
	frame[0] = 2; /* the tap's DATA_VALID, not negotiated */
	memset(ram(BUF_GPA), 0xee, 1530);
	vring_desc(0, BUF_GPA, 1530, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(send(peer, frame, sizeof(frame), 0) == sizeof(frame));
	/* Then no buffer is left: the kick is what to wait for. */
	CHECK(net_rx(&n) == NET_RX_KICK);
	CHECK(used_idx() == 1 && used_len(QSIZE, 0) == 72 && vring_irqs == 1);
	uint8_t *b = ram(BUF_GPA);
	CHECK(b[0] == 0 && b[10] == 1 && b[11] == 0);
	CHECK(b[12] == 0x77 && b[71] == 0x77 && b[72] == 0xee);
}

/* No buffer: the frame stays in the tap until the guest gives one. */
static void rx_waits(void)
{
	uint8_t frame[64] = {0};
	start(NET_RXQ);
	CHECK(send(peer, frame, sizeof(frame), 0) == sizeof(frame));
	CHECK(net_rx(&n) == NET_RX_KICK && used_idx() == 0);
	vring_desc(0, BUF_GPA, 1530, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&n.vdev, NET_RXQ); /* the kick: nothing moved yet */
	CHECK(used_idx() == 0);
	CHECK(net_rx(&n) == NET_RX_KICK && used_idx() == 1 &&
	      used_len(QSIZE, 0) == 64);
	/* A buffer and no frame: it is held, and filled by the next. */
	vring_desc(1, BUF_GPA + 4096, 1530, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 1);
	CHECK(net_rx(&n) == NET_RX_TAP && n.held && used_idx() == 1);
	CHECK(send(peer, frame, 50, 0) == 50);
	CHECK(net_rx(&n) == NET_RX_KICK && used_idx() == 2 &&
	      used_id(QSIZE, 1) == 1 && used_len(QSIZE, 1) == 50);
	/* A reset forgets the held chain. */
	vring_avail(QSIZE, 1);
	CHECK(net_rx(&n) == NET_RX_TAP && n.held);
	virtio_reset(&n.vdev);
	CHECK(!n.held);
}

static void hostile(void)
{
	/* A tx chain too short for its header. */
	start(NET_TXQ);
	vring_desc(0, BUF_GPA, 8, 0, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&n.vdev, NET_TXQ);
	CHECK(virtio_broken(&n.vdev) && used_idx() == 0);
	CHECK(n.vdev.vq[NET_TXQ].fault == VQ_BAD_REQUEST);
	/* An rx buffer too short for the header. */
	start(NET_RXQ);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(net_rx(&n) == NET_RX_KICK && virtio_broken(&n.vdev));
	CHECK(n.vdev.vq[NET_RXQ].fault == VQ_BAD_REQUEST);
	/* An rx buffer outside guest RAM; the device stays broken. */
	start(NET_RXQ);
	vring_desc(0, RAM_SIZE - 8, 1530, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(net_rx(&n) == NET_RX_KICK && virtio_broken(&n.vdev));
	CHECK(n.vdev.vq[NET_RXQ].fault == VQ_BAD_ADDR);
	CHECK(net_rx(&n) == NET_RX_KICK && used_idx() == 0);
}

static void cases(void)
{
	RUN(config);
	RUN(tx);
	RUN(rx);
	RUN(rx_waits);
	RUN(hostile);
}

int main(void)
{
	return unit_main(cases, NULL);
}
