/* The virtio-pci transport, modern (virtio 1.x, 4.1): a PCI function whose
 * vendor capabilities place the common configuration, the notification
 * area, the ISR and the device configuration in its one memory BAR, with a
 * legacy INTx interrupt. It turns the driver's register accesses into the
 * device calls of virtio.h. Debian's kernel finds it by plain PCI probing,
 * which virtio-mmio would need ACPI for (docs/virtio.md). */
#ifndef MOTE_DEV_VIRTIO_PCI_H
#define MOTE_DEV_VIRTIO_PCI_H

#include "dev/pci.h"
#include "dev/virtio.h"

/* The BAR's layout: each region at its own page. */
#define VP_COMMON	   0x0000
#define VP_COMMON_BYTES	   0x38
#define VP_ISR		   0x1000
#define VP_DEVICE	   0x2000
#define VP_NOTIFY	   0x3000
#define VP_NOTIFY_MULT	   4 /* queue q's doorbell at VP_NOTIFY + 4 q */
#define VP_BAR_SIZE	   0x4000
#define VIRTIO_PCI_VENDOR  0x1af4
#define VIRTIO_PCI_DEVICE0 0x1040 /* + the virtio device id */

/* Raises (level 1) or lowers (0) the guest's interrupt line irq. */
typedef void (*virtio_pci_irq_fn)(void *arg, unsigned irq, int level);

struct virtio_pci {
	struct pci_dev pci; /* first: the bus's view */
	struct virtio_dev *vdev;
	uint32_t dfselect, gfselect; /* device/driver feature word selects */
	uint64_t gfeatures;	     /* what the driver wrote */
	uint16_t queue_sel;
	virtio_pci_irq_fn set_irq;
	void *irq_arg;
	/* The line the monitor gave, not the interrupt-line register, which
	 * the guest may write: a guest must not pick which line the monitor
	 * raises. */
	uint8_t irq;
};

/* Makes vp the PCI function of vdev: BAR at bar (VP_BAR_SIZE bytes),
 * INTA on irq, raised through set_irq(arg, irq, level). Then pci_add it. */
void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev,
		     uint32_t bar, uint8_t irq, virtio_pci_irq_fn set_irq,
		     void *arg);

/* A snapshot of vp (mote boot's): its configuration space, the
 * transport's registers and the device's virtio state. virtio_pci_load
 * sets them into vp, made by virtio_pci_init for the same device: false
 * on a malformed record. */
struct wbuf;
struct rbuf;
void virtio_pci_save(const struct virtio_pci *vp, struct wbuf *w);
bool virtio_pci_load(struct virtio_pci *vp, struct rbuf *r);

#endif
