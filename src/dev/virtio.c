/* The device side of virtio that every device shares (virtio.h): feature
 * negotiation, queue enabling, notification dispatch, interrupts, and the
 * broken state a hostile driver leads to. */
#include <string.h>

#include "dev/virtio.h"

#include "stream.h"
#include "util.h"

/* The ring features every device offers. */
#define RING_FEATURES                                                          \
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC |                                 \
	 1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1)

void virtio_init(struct virtio_dev *d, const struct virtio_ops *ops,
		 const struct vm *vm)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->vm = vm;
	virtio_reset(d);
}

uint64_t virtio_features(const struct virtio_dev *d)
{
	return d->ops->features(d) | RING_FEATURES;
}

int virtio_set_features(struct virtio_dev *d, uint64_t features)
{
	if (features & ~virtio_features(d))
		return -1;
	if (!(features & 1ULL << VIRTIO_F_VERSION_1))
		return -1;
	d->driver_features = features;
	return 0;
}

void virtio_config_read(struct virtio_dev *d, uint32_t off, void *buf,
			uint32_t len)
{
	uint32_t size = d->ops->config_size;
	memset(buf, 0, len);
	if (off >= size)
		return;
	if (len > size - off)
		len = size - off;
	d->ops->config_read(d, off, buf, len);
}

int virtio_queue_enable(struct virtio_dev *d, unsigned q)
{
	if (q >= d->ops->nqueues)
		return -1;
	struct virtq *vq = &d->vq[q];
	if (vq->size > d->ops->queue_max)
		vq->size = 0; /* refused as VQ_BAD_SIZE below */
	vq->indirect = d->driver_features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	vq->event_idx = d->driver_features & 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (virtq_enable(vq, d->vm) < 0) {
		virtio_fail(d);
		return -1;
	}
	return 0;
}

void virtio_notify(struct virtio_dev *d, unsigned q)
{
	if (q >= d->ops->nqueues || virtio_broken(d))
		return;
	if (!(d->status & VIRTIO_S_DRIVER_OK) || !d->vq[q].ready)
		return;
	d->ops->notify(d, q);
	if (virtq_broken(&d->vq[q]))
		virtio_fail(d);
}

void virtio_reset(struct virtio_dev *d)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		d->vq[i].vm = d->vm;
		virtq_reset(&d->vq[i]);
		if (i < d->ops->nqueues)
			d->vq[i].size = d->ops->queue_max;
	}
	d->driver_features = 0;
	d->status = 0;
	d->isr = 0;
	if (d->ops->reset)
		d->ops->reset(d);
}

static void raise_irq(struct virtio_dev *d, enum virtio_irq why)
{
	d->isr |= why;
	if (d->irq)
		d->irq(d, why, d->irq_arg);
}

void virtio_set_status(struct virtio_dev *d, uint8_t status, uint64_t features)
{
	uint8_t old = d->status;
	if (status == 0) {
		virtio_reset(d);
		return;
	}
	if ((status & VIRTIO_S_FEATURES_OK) && !(old & VIRTIO_S_FEATURES_OK) &&
	    virtio_set_features(d, features) < 0)
		status &= ~VIRTIO_S_FEATURES_OK;
	d->status = status | (old & VIRTIO_S_DEVICE_NEEDS_RESET);
	if (virtio_broken(d) && (status & VIRTIO_S_DRIVER_OK) &&
	    !(old & VIRTIO_S_DRIVER_OK))
		raise_irq(d, VIRTIO_IRQ_CONFIG);
}

void virtio_used(struct virtio_dev *d, unsigned q)
{
	if (virtq_want_interrupt(&d->vq[q]))
		raise_irq(d, VIRTIO_IRQ_VRING);
}

void virtio_fail(struct virtio_dev *d)
{
	if (virtio_broken(d))
		return;
	if (d->faults_logged < VIRTIO_FAULT_LINES) {
		for (unsigned i = 0; i < d->ops->nqueues; i++) {
			enum virtq_fault f = d->vq[i].fault;
			if (f != VQ_OK)
				msg("%s: queue %u: %s; the device needs a "
				    "reset",
				    d->ops->name, i, virtq_fault_name(f));
		}
		if (++d->faults_logged == VIRTIO_FAULT_LINES)
			msg("%s: broken %u times: its further faults are not "
			    "logged",
			    d->ops->name, VIRTIO_FAULT_LINES);
	}
	d->status |= VIRTIO_S_DEVICE_NEEDS_RESET;
	/* Only once the driver runs is there anyone to tell (2.1.2). */
	if (d->status & VIRTIO_S_DRIVER_OK)
		raise_irq(d, VIRTIO_IRQ_CONFIG);
}

void virtio_save(const struct virtio_dev *d, struct wbuf *w)
{
	W(w, d->driver_features);
	W(w, d->status);
	W(w, d->isr);
	for (unsigned q = 0; q < d->ops->nqueues; q++)
		virtq_save(&d->vq[q], w);
}

bool virtio_load(struct virtio_dev *d, struct rbuf *r)
{
	R(r, d->driver_features);
	R(r, d->status);
	R(r, d->isr);
	if (r->bad || (d->driver_features & ~virtio_features(d)) ||
	    d->isr & ~(VIRTIO_IRQ_VRING | VIRTIO_IRQ_CONFIG))
		return false;
	for (unsigned q = 0; q < d->ops->nqueues; q++)
		if (!virtq_load(&d->vq[q], d->vm, r) ||
		    d->vq[q].size > d->ops->queue_max)
			return false;
	return true;
}
