/* libFuzzer harness over the virtio-pci transport and PCI bus 0
 * (src/dev/pci.c, virtio_pci.c) with a virtio-blk or virtio-rng behind
 * it: a driver's sequence of port and BAR accesses, over guest RAM the
 * fuzzer writes, the way the run loop will hand them over.
 *
 * The input (little-endian):
 *
 *   bytes 0-1   n: the length of the RAM image that follows
 *   n bytes     guest RAM from address 0 (the rest of RAM is zero)
 *   the rest    accesses of 7 bytes each: a kind byte (bits 0-1: port
 *               out, port in, BAR write, BAR read; bits 2-3: log2 of the
 *               size), a u16 offset (from port 0xcf8, or from the BAR's
 *               base) and a u32 value
 *
 * Byte 0 of RAM picks the device: odd is rng, even a blk on a memfd disk.
 * What is checked beyond the sanitizers: the interrupt line is high only
 * while the ISR has something to say. */
#define _GNU_SOURCE /* memfd_create, in guest_ram.h */
#include <stdlib.h>
#include <string.h>

#include "dev/blk.h"
#include "dev/rng.h"
#include "dev/virtio_pci.h"
#include "guest_ram.h"

#define RAM_SIZE   (64 * 1024)
#define DISK_BYTES (16 * 512)
#define BAR	   0xc0000000u
#define IRQ	   5
#define OP_BYTES   7

static struct vm vm;
static int disk = -1;
static int level;

static void set_irq(void *arg, unsigned irq, int lvl)
{
	if (irq != IRQ)
		abort();
	level = lvl;
}

static void one_access(struct pci_bus *bus, const uint8_t *op)
{
	unsigned kind = op[0] & 3, size = 1u << (op[0] >> 2 & 3);
	uint16_t off = op[1] | op[2] << 8;
	uint64_t val = op[3] | op[4] << 8 | op[5] << 16 | (uint32_t)op[6] << 24;
	switch (kind) {
	case 0: pci_io_out(bus, off % PCI_CFG_PORTS, size, val); break;
	case 1: pci_io_in(bus, off % PCI_CFG_PORTS, size); break;
	default: pci_mmio(bus, (uint64_t)BAR + off, &val, size, kind == 2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pci_bus bus;
	static struct virtio_pci vp;
	static struct blk b;
	static struct rng r;
	guest_ram_init(&vm, RAM_SIZE, &disk, DISK_BYTES);
	if (size < 2)
		return 0;
	size_t n = data[0] | data[1] << 8;
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	memset(vm.mem, 0, RAM_SIZE);
	memcpy(vm.mem, data, n);
	struct virtio_dev *d = &r.vdev;
	if (n && (data[0] & 1))
		rng_init(&r, &vm);
	else if (blk_init(&b, &vm, disk, false, "fuzz") == 0)
		d = &b.vdev;
	else
		abort();
	level = 0;
	pci_init(&bus);
	virtio_pci_init(&vp, d, BAR, IRQ, set_irq, NULL);
	if (pci_add(&bus, &vp.pci) != 1)
		abort();
	for (size_t i = n; i + OP_BYTES <= size; i += OP_BYTES) {
		one_access(&bus, data + i);
		if (level && !d->isr)
			abort();
	}
	return 0;
}
