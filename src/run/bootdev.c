/* mote boot's virtio devices (bootdev.h): the disks and the tap opened
 * from the command line, then the functions on PCI bus 0 with their BARs
 * and interrupt lines, and the exits that reach them. */
#include "run/bootdev.h"

#include <string.h>

#include "util.h"

/* PCI interrupts on ISA lines 10 and 11, alternating by slot (SeaBIOS
 * routes a QEMU PC's PCI links to 10 and 11 too): lines below 16 reach
 * the PIC and the IOAPIC alike, and are free of ISA devices. An ACPI
 * kernel must be told the same in a _PRT (docs/virtio.md). */
static const uint8_t pci_lines[] = {10, 11};

int bootdev_open(struct bootdev *d, const struct vm *vm,
		 const char *const *disks, unsigned n, const char *tap)
{
	memset(d, 0, sizeof(*d));
	for (d->ndisks = 0; d->ndisks < n; d->ndisks++)
		if (blk_open(&d->disk[d->ndisks], vm, disks[d->ndisks]) < 0)
			goto err;
	if (tap && net_open(&d->net, vm, tap) < 0)
		goto err;
	d->has_net = tap != NULL;
	return 0;
err:
	while (d->ndisks--)
		blk_close(&d->disk[d->ndisks]);
	d->ndisks = 0;
	return -1;
}

static void line_set(void *vm, unsigned line, int level)
{
	vm_irq_line(vm, line, level);
}

/* Function i of vdev in slot i + 1. */
static void add_fn(struct bootdev *d, unsigned i, struct virtio_dev *vdev)
{
	unsigned slot = i + 1;
	uint8_t line = pci_lines[i % ARRAY_SIZE(pci_lines)];
	uint32_t bar =
		(uint32_t)(PLAIN_PCI_MMIO + (uint64_t)slot * VP_BAR_SIZE);
	d->src[i] = (struct intx_src){.x = &d->intx, .id = i};
	virtio_pci_init(&d->fn[i], vdev, bar, line, intx_set, &d->src[i]);
	if (pci_add(&d->bus, &d->fn[i].pci) != (int)slot)
		die(MOTE_EXIT_FAIL, "internal error: PCI slot %u taken", slot);
	d->irq[i] = (struct linux_pci_irq){.slot = slot, .pin = line};
}

void bootdev_start(struct bootdev *d, struct vm *vm)
{
	_Static_assert((BOOTDEV_FNS + 1) * VP_BAR_SIZE <= PLAIN_PCI_MMIO_BYTES,
		       "every BAR in the window");
	_Static_assert(BOOTDEV_FNS <= INTX_SOURCES, "a source each");
	pci_init(&d->bus);
	intx_init(&d->intx, line_set, vm);
	rng_init(&d->rng, vm);
	d->nfn = 0;
	for (unsigned i = 0; i < d->ndisks; i++, d->nfn++)
		add_fn(d, d->nfn, &d->disk[i].vdev);
	add_fn(d, d->nfn++, &d->rng.vdev);
	if (d->has_net)
		add_fn(d, d->nfn++, &d->net.vdev);
}

int bootdev_threads(struct bootdev *d)
{
	return d->has_net ? net_start(&d->net) : 0;
}

struct ioport_dev bootdev_ioport(struct bootdev *d)
{
	return (struct ioport_dev){
		.name = "pci",
		.base = PCI_CFG_PORT,
		.len = PCI_CFG_PORTS,
		.in = pci_io_in,
		.out = pci_io_out,
		.dev = &d->bus,
	};
}

bool bootdev_mmio(struct bootdev *d, const struct plain_mmio *m)
{
	return pci_mmio(&d->bus, m->addr, m->data, m->len, m->write);
}
