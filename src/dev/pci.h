/* A minimal PCI bus 0 for a Linux guest: configuration mechanism #1
 * (ports 0xcf8-0xcff), a host bridge in slot 0, devices with one 32-bit
 * memory BAR each, and the dispatch of memory accesses to those BARs.
 * Everything a guest writes here is hostile input. */
#ifndef MOTE_DEV_PCI_H
#define MOTE_DEV_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_CFG_PORT   0xcf8 /* the address register; data at 0xcfc */
#define PCI_CFG_PORTS  8
#define PCI_CFG_BYTES  256
#define PCI_MAX_SLOTS  32
#define PCI_BAR_OFFSET 0x10
#define PCI_IRQ_LINE   0x3c

/* A function on the bus: its config header (built by its owner), its one
 * memory BAR's handlers, and the mask of what the guest may write. */
struct pci_dev {
	/* Held around its BAR handlers, which own the function's state:
	 * several vCPU threads may reach one function at once. */
	pthread_mutex_t lock;
	uint8_t cfg[PCI_CFG_BYTES];
	uint8_t wmask[PCI_CFG_BYTES]; /* writable bits of cfg */
	uint32_t bar_size;	      /* a power of two, or 0: no BAR */
	/* An access of len (1, 2, 4 or 8) bytes at off in the BAR. */
	void (*bar_read)(struct pci_dev *p, uint32_t off, void *data,
			 unsigned len);
	void (*bar_write)(struct pci_dev *p, uint32_t off, const void *data,
			  unsigned len);
};

struct pci_bus {
	/* The address register and every function's config space, which
	 * BAR decoding reads. Taken before a function's lock, never while
	 * holding one. */
	pthread_mutex_t lock;
	uint32_t addr; /* the last value written at 0xcf8 */
	struct pci_dev host_bridge;
	struct pci_dev *slot[PCI_MAX_SLOTS];
};

/* An empty bus with its host bridge in slot 0. */
void pci_init(struct pci_bus *bus);
/* Fills p's header: ids, class (class << 8 | prog-if, 24 bits), the BAR
 * (bar_size bytes at bar, memory, 32-bit) and INTA on irq; and its write
 * mask (command, BAR, interrupt line). */
void pci_dev_header(struct pci_dev *p, uint16_t vendor, uint16_t device,
		    uint32_t class, uint32_t bar, uint32_t bar_size,
		    uint8_t irq);
/* Puts p in the first free slot. Its slot number, or -1 if full. */
int pci_add(struct pci_bus *bus, struct pci_dev *p);
/* Port I/O at PCI_CFG_PORT + off (off < PCI_CFG_PORTS), size 1, 2 or 4,
 * in the shape of an ioport device's in and out (dev is the bus), under
 * the bus's lock. */
uint32_t pci_io_in(void *bus, uint16_t off, unsigned size);
void pci_io_out(void *bus, uint16_t off, unsigned size, uint32_t val);
/* A guest memory access of len bytes (1 to 8) at gpa: true if a device's
 * BAR (with memory decoding on) took it whole, under that function's
 * lock; reads fill data. */
bool pci_mmio(struct pci_bus *bus, uint64_t gpa, void *data, unsigned len,
	      bool write);

/* A snapshot of p's configuration space (mote boot's). pci_dev_load
 * takes back only the bits the guest may write (wmask): the rest is
 * the monitor's. */
struct wbuf;
struct rbuf;
void pci_dev_save(const struct pci_dev *p, struct wbuf *w);
void pci_dev_load(struct pci_dev *p, struct rbuf *r);

#endif
