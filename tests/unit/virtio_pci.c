/* The virtio-pci transport and PCI bus 0 (src/dev/pci.c, virtio_pci.c),
 * driven as Linux drives them: config space through ports 0xcf8/0xcfc,
 * the capability walk, BAR sizing, then the modern driver's set-up and a
 * virtio-blk request through BAR registers alone; and the accesses a
 * hostile driver makes instead. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "dev/blk.h"
#include "dev/rng.h"
#include "dev/virtio_pci.h"
#include "unit.h"
#include "vring.h"

#define BAR  0xc0000000u
#define IRQ  5
#define SLOT 1

static struct pci_bus bus;
static struct blk b;
static struct virtio_pci vp;
static int level = -1, raised;

static int wrong_line;

static void set_irq(void *arg, unsigned irq, int lvl)
{
	if (irq == IRQ)
		level = lvl;
	else
		wrong_line++;
	raised += lvl;
}

static uint32_t cfg_in(unsigned slot, unsigned reg, unsigned size)
{
	pci_io_out(&bus, 0, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	return pci_io_in(&bus, 4 + (reg & 3), size);
}

static void cfg_out(unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	pci_io_out(&bus, 0, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	pci_io_out(&bus, 4 + (reg & 3), size, v);
}

static uint64_t rd(uint32_t off, unsigned len)
{
	uint64_t v = 0;
	if (!pci_mmio(&bus, BAR + off, &v, len, false))
		return 0xdead;
	return v;
}

static bool wr(uint32_t off, unsigned len, uint64_t v)
{
	return pci_mmio(&bus, BAR + off, &v, len, true);
}

/* A bus with a virtio-blk on a memfd disk of 8 sectors in slot 1. */
static void setup(void)
{
	vring_ram();
	pci_init(&bus);
	int fd = memfd_create("disk", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) < 0 ||
	    blk_init(&b, &vm, fd, false, "pci") < 0)
		abort();
	virtio_pci_init(&vp, &b.vdev, BAR, IRQ, set_irq, NULL);
	if (pci_add(&bus, &vp.pci) != SLOT)
		abort();
	level = -1;
	raised = 0;
}

static void probe(void)
{
	setup();
	CHECK(cfg_in(0, 0, 4) == (0x1237u << 16 | 0x8086));
	CHECK(cfg_in(0, 0x0a, 2) == 0x0600); /* a host bridge */
	CHECK(cfg_in(SLOT, 0, 2) == VIRTIO_PCI_VENDOR);
	CHECK(cfg_in(SLOT, 2, 2) == VIRTIO_PCI_DEVICE0 + VIRTIO_ID_BLOCK);
	CHECK(cfg_in(SLOT, 8, 1) == 1); /* revision 1: modern only */
	CHECK(cfg_in(SLOT, 0x2e, 2) == 0x40 + VIRTIO_ID_BLOCK);
	CHECK(cfg_in(SLOT, 0x3c, 1) == IRQ && cfg_in(SLOT, 0x3d, 1) == 1);
	CHECK(cfg_in(2, 0, 4) == 0xffffffff); /* an empty slot */
	/* Another function, another bus, the enable bit clear. */
	pci_io_out(&bus, 0, 4, 0x80000000u | SLOT << 11 | 1 << 8);
	CHECK(pci_io_in(&bus, 4, 4) == 0xffffffff);
	pci_io_out(&bus, 0, 4, 0x80000000u | 1 << 16 | SLOT << 11);
	CHECK(pci_io_in(&bus, 4, 4) == 0xffffffff);
	pci_io_out(&bus, 0, 4, SLOT << 11);
	CHECK(pci_io_in(&bus, 4, 4) == 0xffffffff);
	CHECK(pci_io_in(&bus, 0, 4) == SLOT << 11);
	/* Odd accesses: a byte of the address register, a misaligned word. */
	CHECK(pci_io_in(&bus, 0, 1) == 0xffffffff);
	CHECK(pci_io_in(&bus, 5, 2) == 0xffffffff);
	CHECK(pci_io_in(&bus, 8, 1) == 0xffffffff);
}

/* The capability walk of Linux's virtio_pci_modern. */
static void capabilities(void)
{
	setup();
	CHECK(cfg_in(SLOT, 6, 2) & 0x10);
	unsigned at = cfg_in(SLOT, 0x34, 1), seen = 0, n = 0;
	while (at && n++ < 8) {
		unsigned type = cfg_in(SLOT, at + 3, 1);
		uint32_t off = cfg_in(SLOT, at + 8, 4);
		uint32_t len = cfg_in(SLOT, at + 12, 4);
		CHECK(cfg_in(SLOT, at, 1) == 9 && cfg_in(SLOT, at + 4, 1) == 0);
		CHECK(off + len <= VP_BAR_SIZE);
		if (type == 1)
			CHECK(off == VP_COMMON && len == VP_COMMON_BYTES);
		if (type == 2)
			CHECK(off == VP_NOTIFY &&
			      cfg_in(SLOT, at + 16, 4) == VP_NOTIFY_MULT);
		if (type == 3)
			CHECK(off == VP_ISR && len == 1);
		if (type == 4)
			CHECK(off == VP_DEVICE && len == 16);
		seen |= 1u << type;
		at = cfg_in(SLOT, at + 1, 1);
	}
	CHECK(seen == 0x1e && n == 4);
}

/* virtio-rng has no configuration space, so no device capability: Linux
 * refuses a function with one of length 0. Every capability it has is
 * longer than 0 and the list ends. */
static void rng_capabilities(void)
{
	static struct rng r;
	static struct virtio_pci rp;
	setup();
	rng_init(&r, &vm);
	virtio_pci_init(&rp, &r.vdev, BAR + VP_BAR_SIZE, IRQ, set_irq, NULL);
	CHECK(pci_add(&bus, &rp.pci) == SLOT + 1);
	unsigned at = cfg_in(SLOT + 1, 0x34, 1), seen = 0, n = 0;
	while (at && n++ < 8) {
		unsigned type = cfg_in(SLOT + 1, at + 3, 1);
		CHECK(cfg_in(SLOT + 1, at + 12, 4) > 0);
		seen |= 1u << type;
		at = cfg_in(SLOT + 1, at + 1, 1);
	}
	CHECK(seen == 0x0e && n == 3);
}

static void bar_sizing(void)
{
	setup();
	CHECK(cfg_in(SLOT, 0x10, 4) == BAR);
	CHECK(rd(0, 4) == 0xdead); /* memory decoding still off */
	cfg_out(SLOT, 0x10, 4, 0xffffffff);
	CHECK(cfg_in(SLOT, 0x10, 4) == (uint32_t) ~(VP_BAR_SIZE - 1));
	cfg_out(SLOT, 0x10, 4, BAR + 0x123);
	CHECK(cfg_in(SLOT, 0x10, 4) == BAR);
	/* Read-only fields stay. */
	cfg_out(SLOT, 0, 4, 0);
	cfg_out(SLOT, 0x34, 1, 0x80);
	CHECK(cfg_in(SLOT, 0, 2) == VIRTIO_PCI_VENDOR);
	CHECK(cfg_in(SLOT, 0x34, 1) == 0x40);
	cfg_out(SLOT, 4, 2, 0xffff);
	CHECK(cfg_in(SLOT, 4, 2) == 2);
	CHECK(rd(0x12, 2) == 1);		 /* num_queues, decoding on */
	CHECK(rd(VP_BAR_SIZE - 2, 4) == 0xdead); /* across the end */
	uint8_t wide[16] = {0};
	CHECK(!pci_mmio(&bus, BAR, wide, 16, false));
	CHECK(!pci_mmio(&bus, BAR, wide, 0, false));
	CHECK(!pci_mmio(&bus, BAR - 1, &(uint64_t){0}, 2, false));
}

/* status, features and queue 0 as Linux's modern driver sets them up. */
static void driver_setup(uint64_t features)
{
	cfg_out(SLOT, 4, 2, 2);
	wr(0x14, 1, 0);
	wr(0x14, 1, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(0x08, 4, 0);
	wr(0x0c, 4, (uint32_t)features);
	wr(0x08, 4, 1);
	wr(0x0c, 4, features >> 32);
	wr(0x14, 1,
	   VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
}

static void queue_setup(uint16_t size)
{
	wr(0x16, 2, 0);
	wr(0x18, 2, size);
	wr(0x20, 4, DESC_GPA);
	wr(0x24, 4, 0);
	wr(0x28, 4, AVAIL_GPA);
	wr(0x2c, 4, 0);
	wr(0x30, 4, USED_GPA);
	wr(0x34, 4, 0);
	wr(0x1c, 2, 1);
}

static void driver_ok(void)
{
	wr(0x14, 1, rd(0x14, 1) | VIRTIO_S_DRIVER_OK);
}

static void a_request(void)
{
	setup();
	driver_setup(0);
	CHECK(!(rd(0x14, 1) & VIRTIO_S_FEATURES_OK)); /* no VERSION_1 */
	wr(0x00, 4, 1);
	uint64_t offered = rd(0x04, 4) << 32;
	wr(0x00, 4, 0);
	offered |= rd(0x04, 4);
	CHECK(offered == virtio_features(&b.vdev));
	driver_setup(offered);
	CHECK(rd(0x14, 1) & VIRTIO_S_FEATURES_OK);
	CHECK(rd(0x18, 2) == VIRTQ_MAX_SIZE && rd(0x1e, 2) == 0);
	CHECK(rd(0x10, 2) == 0xffff && rd(0x1a, 2) == 0xffff);
	queue_setup(QSIZE);
	CHECK(rd(0x1c, 2) == 1 && rd(0x28, 4) == AVAIL_GPA);
	wr(0x18, 2, 4); /* fixed once enabled */
	CHECK(rd(0x18, 2) == QSIZE);
	driver_ok();
	CHECK(rd(VP_DEVICE, 8) == 8); /* capacity */
	uint32_t hdr[4] = {VIRTIO_BLK_T_IN, 0, 3, 0};
	memcpy(ram(BUF_GPA), hdr, 16);
	memset(ram(BUF_GPA + 0x1000), 0xaa, 512);
	vring_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA + 0x1000, 512,
		   VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	vring_desc(2, BUF_GPA + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(wr(VP_NOTIFY, 2, 0));
	CHECK(used_idx() == 1 && *(uint8_t *)ram(BUF_GPA + 0x1000) == 0);
	CHECK(level == 1 && rd(VP_ISR, 1) == 1 && level == 0);
	CHECK(rd(VP_ISR, 1) == 0);
	/* The guest may rewrite the interrupt-line register (firmware's
	 * note to the OS); the monitor still raises the line it chose. */
	cfg_out(SLOT, 0x3c, 1, 9);
	CHECK(cfg_in(SLOT, 0x3c, 1) == 9);
	vring_avail(QSIZE, 0);
	st16_at(AVAIL_GPA + 4 + 2 * QSIZE, 1); /* EVENT_IDX: used_event */
	wr(VP_NOTIFY, 2, 0);
	CHECK(level == 1 && wrong_line == 0 && rd(VP_ISR, 1) == 1);
	/* Reset: everything back, the line low. */
	wr(0x14, 1, 0);
	CHECK(rd(0x14, 1) == 0 && rd(0x1c, 2) == 0);
	CHECK(rd(0x18, 2) == VIRTQ_MAX_SIZE);
}

/* A bad queue: DEVICE_NEEDS_RESET, and a config interrupt once the
 * driver runs; the device takes nothing until reset. */
static void hostile_queue(void)
{
	setup();
	driver_setup(virtio_features(&b.vdev));
	queue_setup(3);
	CHECK(rd(0x14, 1) & VIRTIO_S_DEVICE_NEEDS_RESET && raised == 0);
	driver_ok();
	CHECK(rd(0x14, 1) & VIRTIO_S_DEVICE_NEEDS_RESET);
	CHECK(level == 1 && rd(VP_ISR, 1) == VIRTIO_IRQ_CONFIG);
	wr(0x14, 1, 0);
	CHECK(rd(0x14, 1) == 0);
	driver_setup(virtio_features(&b.vdev));
	queue_setup(QSIZE);
	driver_ok();
	vring_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0); /* a loop */
	vring_avail(QSIZE, 0);
	wr(VP_NOTIFY, 2, 0);
	CHECK(rd(0x14, 1) & VIRTIO_S_DEVICE_NEEDS_RESET);
	CHECK(rd(VP_ISR, 1) == VIRTIO_IRQ_CONFIG);
	/* The status write keeps NEEDS_RESET; queue writes are ignored. */
	wr(0x14, 1, 0x0f);
	CHECK(rd(0x14, 1) == (0x0f | VIRTIO_S_DEVICE_NEEDS_RESET));
}

/* Registers a driver must not touch, or touches with the wrong width. */
static void hostile_registers(void)
{
	setup();
	driver_setup(virtio_features(&b.vdev));
	wr(0x16, 2, 99); /* a queue the device does not have */
	CHECK(rd(0x18, 2) == 0 && rd(0x1c, 2) == 0 && rd(0x20, 4) == 0);
	wr(0x18, 2, 16);
	wr(0x1c, 2, 1);
	CHECK(rd(0x1c, 2) == 0 && !virtio_broken(&b.vdev));
	wr(0x16, 2, 0);
	CHECK(rd(0x16, 1) == 0 && rd(0x14, 2) == 0 && rd(0x04, 2) == 0);
	CHECK(rd(0x02, 4) == 0 && rd(0x38, 4) == 0 && rd(0x20, 8) == 0);
	wr(0x18, 4, 8); /* wrong width: nothing */
	CHECK(rd(0x18, 2) == VIRTQ_MAX_SIZE);
	wr(0x00, 4, 7);
	CHECK(rd(0x04, 4) == 0);
	wr(0x08, 4, 7);
	wr(0x0c, 4, 0xffffffff);
	CHECK(rd(0x0c, 4) == 0);
	/* Features are fixed once FEATURES_OK is set. */
	wr(0x08, 4, 0);
	wr(0x0c, 4, 0);
	CHECK(rd(0x0c, 4) == (uint32_t)virtio_features(&b.vdev));
	/* Notifications before DRIVER_OK, of no queue, misaligned. */
	CHECK(wr(VP_NOTIFY, 2, 0) && wr(VP_NOTIFY + 4 * 7, 2, 7));
	CHECK(wr(VP_NOTIFY + 1, 1, 0) && wr(VP_ISR, 1, 0xff));
	CHECK(wr(VP_DEVICE, 8, ~0ULL) && rd(VP_DEVICE, 8) == 8);
	CHECK(rd(VP_DEVICE + 0xff8, 8) == 0 && rd(VP_NOTIFY, 4) == 0);
	CHECK(!virtio_broken(&b.vdev) && raised == 0);
}

static void cases(void)
{
	RUN(probe);
	RUN(capabilities);
	RUN(rng_capabilities);
	RUN(bar_sizing);
	RUN(a_request);
	RUN(hostile_queue);
	RUN(hostile_registers);
}

int main(void)
{
	return unit_main(cases, NULL);
}
