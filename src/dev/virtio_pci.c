/* virtio-pci, modern (virtio_pci.h): the capability list in config space,
 * and the BAR's registers. Each common-configuration field answers only an
 * access of its own width (a 64-bit address as two 32-bit halves), as the
 * spec has the driver do; any other access reads 0 and writes nothing. */
#include <string.h>

#include "dev/virtio_pci.h"
#include "stream.h"

/* struct virtio_pci_common_cfg (4.1.4.3). */
enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX = 0x10,
	CC_NUMQ = 0x12,
	CC_STATUS = 0x14,
	CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a,
	CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e,
	CC_Q_DESC = 0x20,
	CC_Q_AVAIL = 0x28,
	CC_Q_USED = 0x30,
};

#define NO_VECTOR   0xffff
#define CAP_VNDR    0x09
#define CAP_COMMON  1
#define CAP_NOTIFY  2
#define CAP_ISR	    3
#define CAP_DEVICE  4
#define CAP_FIRST   0x40
#define PCI_CAP_PTR 0x34
#define PCI_SUBSYS  0x2c

static struct virtio_pci *vp_of(struct pci_dev *p)
{
	return (struct virtio_pci *)p;
}

/* The queue queue_select names, or NULL past the device's queues. */
static struct virtq *selected_q(struct virtio_pci *vp)
{
	if (vp->queue_sel >= vp->vdev->ops->nqueues)
		return NULL;
	return &vp->vdev->vq[vp->queue_sel];
}

/* The 64-bit field of q at a queue address register (off 0x20-0x37). */
static uint64_t *q_addr(struct virtq *q, uint32_t off)
{
	if (off < CC_Q_AVAIL)
		return &q->desc_gpa;
	return off < CC_Q_USED ? &q->avail_gpa : &q->used_gpa;
}

/* Whether an access of len bytes at off is the whole of a field: 4 bytes
 * below 0x10, then the fields' own widths, 4 for each address half. */
static bool field_ok(uint32_t off, unsigned len)
{
	if (off < CC_MSIX || off >= CC_Q_DESC)
		return len == 4 && off % 4 == 0 && off < VP_COMMON_BYTES;
	if (off == CC_STATUS || off == CC_CFGGEN)
		return len == 1;
	return len == 2 && off % 2 == 0;
}

static uint64_t queue_read(struct virtio_pci *vp, uint32_t off)
{
	struct virtq *q = selected_q(vp);
	if (off == CC_Q_MSIX)
		return NO_VECTOR;
	if (!q)
		return 0;
	if (off == CC_Q_SIZE)
		return q->size;
	if (off == CC_Q_ENABLE)
		return q->ready;
	if (off == CC_Q_NOFF)
		return vp->queue_sel;
	return *q_addr(q, off) >> (off % 8 ? 32 : 0);
}

static uint64_t common_read(struct virtio_pci *vp, uint32_t off)
{
	struct virtio_dev *d = vp->vdev;
	switch (off) {
	case CC_DFSELECT: return vp->dfselect;
	case CC_DF:
		return vp->dfselect < 2 ? (uint32_t)(virtio_features(d) >>
						     32 * vp->dfselect)
					: 0;
	case CC_GFSELECT: return vp->gfselect;
	case CC_GF:
		return vp->gfselect < 2
			       ? (uint32_t)(vp->gfeatures >> 32 * vp->gfselect)
			       : 0;
	case CC_MSIX: return NO_VECTOR;
	case CC_NUMQ: return d->ops->nqueues;
	case CC_STATUS: return d->status;
	case CC_CFGGEN: return 0; /* the config space never changes */
	case CC_Q_SELECT: return vp->queue_sel;
	}
	return queue_read(vp, off);
}

static void lower_irq(struct virtio_pci *vp)
{
	if (vp->set_irq)
		vp->set_irq(vp->irq_arg, vp->irq, 0);
}

/* The driver's status write; 0 also resets the transport's registers. */
static void status_write(struct virtio_pci *vp, uint8_t val)
{
	if (val == 0) {
		vp->gfeatures = 0;
		vp->dfselect = vp->gfselect = 0;
		vp->queue_sel = 0;
		lower_irq(vp);
	}
	virtio_set_status(vp->vdev, val, vp->gfeatures);
}

/* A queue register write; the queue's set-up is fixed once enabled. */
static void queue_write(struct virtio_pci *vp, uint32_t off, uint32_t val)
{
	struct virtq *q = selected_q(vp);
	if (!q || q->ready || virtio_broken(vp->vdev))
		return;
	if (off == CC_Q_SIZE) {
		q->size = val;
	} else if (off == CC_Q_ENABLE) {
		if (val == 1)
			virtio_queue_enable(vp->vdev, vp->queue_sel);
	} else if (off >= CC_Q_DESC) {
		uint64_t *a = q_addr(q, off);
		if (off % 8)
			*a = (*a & 0xffffffff) | (uint64_t)val << 32;
		else
			*a = (*a & ~0xffffffffULL) | val;
	}
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint32_t val)
{
	switch (off) {
	case CC_DFSELECT: vp->dfselect = val; return;
	case CC_GFSELECT: vp->gfselect = val; return;
	case CC_GF:
		if (vp->gfselect < 2 &&
		    !(vp->vdev->status & VIRTIO_S_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;
			vp->gfeatures &= ~(0xffffffffULL << sh);
			vp->gfeatures |= (uint64_t)val << sh;
		}
		return;
	case CC_STATUS: status_write(vp, val); return;
	case CC_Q_SELECT: vp->queue_sel = val; return;
	}
	queue_write(vp, off, val);
}

static uint64_t load(const void *data, unsigned len)
{
	uint64_t v = 0;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	return v;
}

static void bar_read(struct pci_dev *p, uint32_t off, void *data, unsigned len)
{
	struct virtio_pci *vp = vp_of(p);
	uint64_t v = 0;
	if (off >= VP_DEVICE && off < VP_NOTIFY) {
		virtio_config_read(vp->vdev, off - VP_DEVICE, data, len);
		return;
	}
	if (off < VP_COMMON_BYTES && field_ok(off, len)) {
		v = common_read(vp, off);
	} else if (off == VP_ISR && len == 1) {
		/* Reading the ISR acknowledges the interrupt (4.1.4.5). */
		v = vp->vdev->isr;
		vp->vdev->isr = 0;
		lower_irq(vp);
	}
	memcpy(data, &v, len < sizeof(v) ? len : sizeof(v));
}

static void bar_write(struct pci_dev *p, uint32_t off, const void *data,
		      unsigned len)
{
	struct virtio_pci *vp = vp_of(p);
	if (off < VP_COMMON_BYTES && field_ok(off, len)) {
		common_write(vp, off, load(data, len));
	} else if (off >= VP_NOTIFY &&
		   (off - VP_NOTIFY) % VP_NOTIFY_MULT == 0 && len <= 4) {
		virtio_notify(vp->vdev, (off - VP_NOTIFY) / VP_NOTIFY_MULT);
	}
}

static void vp_raise(struct virtio_dev *d, enum virtio_irq why, void *arg)
{
	struct virtio_pci *vp = arg;
	if (vp->set_irq)
		vp->set_irq(vp->irq_arg, vp->irq, 1);
}

/* Appends a virtio vendor capability at *at (struct virtio_pci_cap, plus
 * notify_off_multiplier for the notify one), linked to the next one's
 * place; the last is unlinked by the caller. */
static void add_cap(struct pci_dev *p, uint8_t *at, uint8_t type, uint32_t off,
		    uint32_t len)
{
	uint8_t *c = p->cfg + *at;
	uint8_t size = type == CAP_NOTIFY ? 20 : 16;
	c[0] = CAP_VNDR;
	c[1] = *at + size;
	c[2] = size;
	c[3] = type;
	c[4] = 0; /* BAR 0 */
	memcpy(c + 8, &off, 4);
	memcpy(c + 12, &len, 4);
	if (type == CAP_NOTIFY) {
		uint32_t mult = VP_NOTIFY_MULT;
		memcpy(c + 16, &mult, 4);
	}
	*at += size;
}

void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev,
		     uint32_t bar, uint8_t irq, virtio_pci_irq_fn set_irq,
		     void *arg)
{
	uint32_t id = vdev->ops->device_id;
	uint32_t class = id == VIRTIO_ID_BLOCK ? 0x018000
			 : id == VIRTIO_ID_NET ? 0x020000
					       : 0xff0000;
	memset(vp, 0, sizeof(*vp));
	vp->vdev = vdev;
	vp->set_irq = set_irq;
	vp->irq_arg = arg;
	vp->irq = irq;
	vdev->irq = vp_raise;
	vdev->irq_arg = vp;
	vdev->lock = &vp->pci.lock;
	struct pci_dev *p = &vp->pci;
	pci_dev_header(p, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE0 + id, class,
		       bar, VP_BAR_SIZE, irq);
	uint16_t sub[2] = {VIRTIO_PCI_VENDOR, 0x40 + id};
	memcpy(p->cfg + PCI_SUBSYS, sub, sizeof(sub));
	p->bar_read = bar_read;
	p->bar_write = bar_write;
	uint8_t at = CAP_FIRST, last;
	p->cfg[PCI_CAP_PTR] = at;
	add_cap(p, &at, CAP_COMMON, VP_COMMON, VP_COMMON_BYTES);
	add_cap(p, &at, CAP_NOTIFY, VP_NOTIFY,
		VP_NOTIFY_MULT * vdev->ops->nqueues);
	last = at;
	add_cap(p, &at, CAP_ISR, VP_ISR, 1);
	/* Only a device with a configuration space has the capability:
	 * Linux refuses one of length 0 ("bad capability len 0") and with
	 * it the whole function, as it did virtio-rng's. */
	if (vdev->ops->config_size) {
		last = at;
		add_cap(p, &at, CAP_DEVICE, VP_DEVICE, vdev->ops->config_size);
	}
	p->cfg[last + 1] = 0;
}

void virtio_pci_save(const struct virtio_pci *vp, struct wbuf *w)
{
	pci_dev_save(&vp->pci, w);
	W(w, vp->dfselect);
	W(w, vp->gfselect);
	W(w, vp->gfeatures);
	W(w, vp->queue_sel);
	virtio_save(vp->vdev, w);
}

bool virtio_pci_load(struct virtio_pci *vp, struct rbuf *r)
{
	pci_dev_load(&vp->pci, r);
	R(r, vp->dfselect);
	R(r, vp->gfselect);
	R(r, vp->gfeatures);
	R(r, vp->queue_sel);
	return !r->bad && virtio_load(vp->vdev, r);
}
