/* virtio-rng (src/dev/rng.c) over a fake guest driver: writable buffers
 * come back full of the host's random bytes, readable ones are ignored,
 * and a hostile chain breaks the device. */
#include "dev/rng.h"
#include "unit.h"
#include "vring.h"

static struct rng r;
static int vring_irqs;

static void on_irq(struct virtio_dev *d, enum virtio_irq why, void *arg)
{
	vring_irqs += why == VIRTIO_IRQ_VRING;
}

static void start(void)
{
	vring_ram();
	rng_init(&r, &vm);
	r.vdev.irq = on_irq;
	CHECK(virtio_set_features(&r.vdev, 1ULL << VIRTIO_F_VERSION_1) == 0);
	r.vdev.status = VIRTIO_S_DRIVER_OK;
	vring_queue(&r.vdev.vq[0], QSIZE);
	CHECK(virtio_queue_enable(&r.vdev, 0) == 0);
}

static int zeros(uint64_t gpa, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((uint8_t *)ram(gpa))[i] == 0;
	return n;
}

static void fills(void)
{
	start();
	CHECK(r.vdev.ops->device_id == VIRTIO_ID_RNG);
	vring_desc(0, BUF_GPA, 256, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA + 4096, 256, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&r.vdev, 0);
	CHECK(used_idx() == 1 && used_len(QSIZE, 0) == 512);
	/* 256 random bytes hold about one zero; 64 would be a broken fill. */
	CHECK(zeros(BUF_GPA, 256) < 64 && zeros(BUF_GPA + 4096, 256) < 64);
	CHECK(zeros(BUF_GPA + 256, 256) == 256);
	CHECK(vring_irqs == 1);
	/* A readable buffer is left alone and not counted. */
	vring_desc(2, BUF_GPA + 8192, 16, VIRTQ_DESC_F_NEXT, 3);
	vring_desc(3, BUF_GPA + 12288, 16, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 2);
	virtio_notify(&r.vdev, 0);
	CHECK(used_idx() == 2 && used_len(QSIZE, 1) == 16);
	CHECK(zeros(BUF_GPA + 8192, 16) == 16);
	/* A request for more than 64 KiB gets 64 KiB. */
	vring_desc(4, BUF_GPA, 48 * 1024,
		   VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	vring_desc(5, BUF_GPA + 0x20000, 48 * 1024, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 4);
	virtio_notify(&r.vdev, 0);
	CHECK(used_idx() == 3 && used_len(QSIZE, 2) == 64 * 1024);
	CHECK(zeros(BUF_GPA + 0x20000 + 16 * 1024, 32 * 1024) == 32 * 1024);
	CHECK(zeros(BUF_GPA + 0x20000 + 16 * 1024 - 256, 256) < 64);
	CHECK(!virtio_broken(&r.vdev));
}

static void hostile(void)
{
	start();
	vring_desc(0, RAM_SIZE - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&r.vdev, 0);
	CHECK(virtio_broken(&r.vdev) && used_idx() == 0);
	CHECK(r.vdev.vq[0].fault == VQ_BAD_ADDR);
	/* Nothing before DRIVER_OK reaches the device. */
	start();
	r.vdev.status = 0;
	vring_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	virtio_notify(&r.vdev, 0);
	CHECK(used_idx() == 0 && zeros(BUF_GPA, 16) == 16);
}

static void cases(void)
{
	RUN(fills);
	RUN(hostile);
}

int main(void)
{
	return unit_main(cases, NULL);
}
