/* Level-triggered interrupt lines that several devices share (PCI INTx):
 * a line is high while any of its sources holds it high, and the irqchip
 * hears only of the line's changes. A device lowering its own level
 * never lowers another's. */
#ifndef MOTE_DEV_INTX_H
#define MOTE_DEV_INTX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define INTX_LINES   24 /* the IOAPIC's pins */
#define INTX_SOURCES 32

/* Tells the irqchip that line is now high (1) or low (0). */
typedef void (*intx_line_fn)(void *arg, unsigned line, int level);

struct intx {
	pthread_mutex_t lock;	   /* held while the irqchip is told, too */
	uint32_t held[INTX_LINES]; /* bit s: source s holds the line high */
	intx_line_fn set_line;
	void *arg;
};

/* One device's handle on the lines: what virtio_pci_init's set_irq
 * callback gets as its argument. */
struct intx_src {
	struct intx *x;
	unsigned id; /* < INTX_SOURCES, one per device */
};

void intx_init(struct intx *x, intx_line_fn set_line, void *arg);
/* Source src (a struct intx_src *) holds line high (level 1) or lets it
 * go (0); in the shape of virtio_pci_irq_fn. A line or source out of
 * range is ignored (the monitor assigns both; never the guest). */
void intx_set(void *src, unsigned line, int level);

/* A snapshot of x's lines (mote boot's). intx_load sets them back and
 * raises every line held high, after the irqchip's own state is set:
 * false on a malformed record (a source that does not exist). */
struct wbuf;
struct rbuf;
void intx_save(struct intx *x, struct wbuf *w);
bool intx_load(struct intx *x, unsigned nsources, struct rbuf *r);

#endif
