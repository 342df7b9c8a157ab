/* mote boot's virtio devices: the --disk disks, the rng and the --net
 * tap's network card, each a virtio-pci function on PCI bus 0, with their
 * BARs in the plain VM's window and their INTx lines shared through the
 * in-kernel irqchip. */
#ifndef MOTE_RUN_BOOTDEV_H
#define MOTE_RUN_BOOTDEV_H

#include <stdbool.h>

#include "dev/blk.h"
#include "dev/intx.h"
#include "dev/ioport.h"
#include "dev/net.h"
#include "dev/pci.h"
#include "dev/rng.h"
#include "dev/virtio_pci.h"
#include "linux/linux.h"
#include "run/boot.h"
#include "vm/plain.h"

#define BOOTDEV_FNS (BOOT_DISKS_MAX + 2)

struct bootdev {
	struct pci_bus bus;
	struct intx intx;
	struct blk disk[BOOT_DISKS_MAX];
	unsigned ndisks;
	struct rng rng;
	struct net net;
	bool has_net; /* --net given */
	struct virtio_pci fn[BOOTDEV_FNS];
	struct intx_src src[BOOTDEV_FNS];
	struct linux_pci_irq irq[BOOTDEV_FNS]; /* for the MP table */
	unsigned nfn;
};

/* Opens the disks (each FILE, FILE:ro or FILE:rw) and the tap (tap, or
 * NULL for none) for guest memory vm, before the VM exists. 0, or -1
 * with the line printed. */
int bootdev_open(struct bootdev *d, const struct vm *vm,
		 const char *const *disks, unsigned n, const char *tap);
/* Puts the disks (slots 1..n, in --disk order), the rng (the next slot)
 * and the network card (the one after) on bus 0, once the VM has its
 * irqchip: BARs in the window, INTA of slot s on line 10 or 11. */
void bootdev_start(struct bootdev *d, struct vm *vm);
/* Starts the devices' own threads (virtio-net's rx), once the monitor is
 * in its sandbox. 0, or -1 with errno. */
int bootdev_threads(struct bootdev *d);
/* The bus's configuration ports, for the port-I/O table. */
struct ioport_dev bootdev_ioport(struct bootdev *d);
/* An MMIO exit: true if a BAR took it. */
bool bootdev_mmio(struct bootdev *d, const struct plain_mmio *m);

#endif
