/* PCI bus 0 (pci.h): config space through ports 0xcf8/0xcfc, writes
 * filtered by each function's write mask, and BAR-decoded memory
 * accesses handed to the function that owns them. */
#include <string.h>

#include "dev/pci.h"
#include "stream.h"

#define CFG_ENABLE	0x80000000u
#define PCI_COMMAND	0x04
#define PCI_CMD_MEMORY	0x2
#define PCI_HEADER_TYPE 0x0e
#define PCI_STATUS	0x06
#define PCI_STATUS_CAPS 0x10
#define PCI_INT_PIN	0x3d

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_dev_header(struct pci_dev *p, uint16_t vendor, uint16_t device,
		    uint32_t class, uint32_t bar, uint32_t bar_size,
		    uint8_t irq)
{
	memset(p->cfg, 0, sizeof(p->cfg));
	memset(p->wmask, 0, sizeof(p->wmask));
	pthread_mutex_init(&p->lock, NULL);
	put16(p->cfg, vendor);
	put16(p->cfg + 2, device);
	put32(p->cfg + 8, class << 8 | 1); /* revision 1 */
	p->cfg[PCI_HEADER_TYPE] = 0;
	put16(p->wmask + PCI_COMMAND, PCI_CMD_MEMORY);
	p->bar_size = bar_size;
	if (bar_size) {
		put32(p->cfg + PCI_BAR_OFFSET, bar & ~(bar_size - 1));
		put32(p->wmask + PCI_BAR_OFFSET, ~(bar_size - 1));
	}
	if (irq) {
		p->cfg[PCI_IRQ_LINE] = irq;
		p->cfg[PCI_INT_PIN] = 1; /* INTA# */
		p->wmask[PCI_IRQ_LINE] = 0xff;
	}
}

void pci_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	/* An Intel 440FX host bridge, the one Linux knows on every PC. */
	pci_dev_header(&bus->host_bridge, 0x8086, 0x1237, 0x060000, 0, 0, 0);
	bus->slot[0] = &bus->host_bridge;
}

int pci_add(struct pci_bus *bus, struct pci_dev *p)
{
	for (int i = 0; i < PCI_MAX_SLOTS; i++) {
		if (!bus->slot[i]) {
			bus->slot[i] = p;
			if (p->cfg[0x34])
				p->cfg[PCI_STATUS] |= PCI_STATUS_CAPS;
			return i;
		}
	}
	return -1;
}

/* The function the address register selects, and the register offset
 * (with the data port's byte offset), or NULL: disabled, another bus,
 * another function, an empty slot. */
static struct pci_dev *selected(struct pci_bus *bus, uint16_t off,
				unsigned *reg)
{
	uint32_t a = bus->addr;
	unsigned slot = a >> 11 & 31, fn = a >> 8 & 7, busno = a >> 16 & 255;
	if (!(a & CFG_ENABLE) || busno || fn)
		return NULL;
	*reg = (a & 0xfc) + (off - 4);
	return bus->slot[slot];
}

/* Whether an access of size bytes at off of the ports is one the
 * hardware knows: the whole address register, or naturally aligned in
 * the data register. */
static bool io_ok(uint16_t off, unsigned size)
{
	if (off == 0)
		return size == 4;
	return off >= 4 && off < PCI_CFG_PORTS &&
	       (size == 1 || size == 2 || size == 4) && (off & (size - 1)) == 0;
}

static uint32_t io_in(struct pci_bus *bus, uint16_t off, unsigned size)
{
	unsigned reg;
	if (!io_ok(off, size))
		return 0xffffffff;
	if (off == 0)
		return bus->addr;
	struct pci_dev *p = selected(bus, off, &reg);
	if (!p)
		return 0xffffffff;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p->cfg[reg + i] << 8 * i;
	return v;
}

static void io_out(struct pci_bus *bus, uint16_t off, unsigned size,
		   uint32_t val)
{
	unsigned reg;
	if (!io_ok(off, size))
		return;
	if (off == 0) {
		bus->addr = val;
		return;
	}
	struct pci_dev *p = selected(bus, off, &reg);
	if (!p)
		return;
	for (unsigned i = 0; i < size; i++, val >>= 8) {
		uint8_t m = p->wmask[reg + i];
		p->cfg[reg + i] = (p->cfg[reg + i] & ~m) | (val & m);
	}
}

uint32_t pci_io_in(void *b, uint16_t off, unsigned size)
{
	struct pci_bus *bus = b;
	pthread_mutex_lock(&bus->lock);
	uint32_t v = io_in(bus, off, size);
	pthread_mutex_unlock(&bus->lock);
	return v;
}

void pci_io_out(void *b, uint16_t off, unsigned size, uint32_t val)
{
	struct pci_bus *bus = b;
	pthread_mutex_lock(&bus->lock);
	io_out(bus, off, size, val);
	pthread_mutex_unlock(&bus->lock);
}

/* The function whose BAR holds all of [gpa, gpa + len), and the offset
 * in it, or NULL. Called with the bus's lock held. */
static struct pci_dev *decode(struct pci_bus *bus, uint64_t gpa, unsigned len,
			      uint32_t *off)
{
	for (int i = 0; i < PCI_MAX_SLOTS; i++) {
		struct pci_dev *p = bus->slot[i];
		if (!p || !p->bar_size ||
		    !(p->cfg[PCI_COMMAND] & PCI_CMD_MEMORY))
			continue;
		uint64_t base = get32(p->cfg + PCI_BAR_OFFSET);
		if (gpa < base || gpa - base >= p->bar_size ||
		    len > p->bar_size - (gpa - base))
			continue;
		*off = (uint32_t)(gpa - base);
		return p;
	}
	return NULL;
}

bool pci_mmio(struct pci_bus *bus, uint64_t gpa, void *data, unsigned len,
	      bool write)
{
	if (len == 0 || len > 8) /* KVM's MMIO exits carry 1 to 8 bytes */
		return false;
	uint32_t off;
	pthread_mutex_lock(&bus->lock);
	struct pci_dev *p = decode(bus, gpa, len, &off);
	pthread_mutex_unlock(&bus->lock);
	if (!p)
		return false;
	pthread_mutex_lock(&p->lock);
	if (write)
		p->bar_write(p, off, data, len);
	else
		p->bar_read(p, off, data, len);
	pthread_mutex_unlock(&p->lock);
	return true;
}

void pci_dev_save(const struct pci_dev *p, struct wbuf *w)
{
	W(w, p->cfg);
}

void pci_dev_load(struct pci_dev *p, struct rbuf *r)
{
	uint8_t cfg[PCI_CFG_BYTES];
	R(r, cfg);
	for (unsigned i = 0; i < PCI_CFG_BYTES; i++)
		p->cfg[i] = (uint8_t)((p->cfg[i] & ~p->wmask[i]) |
				      (cfg[i] & p->wmask[i]));
}
