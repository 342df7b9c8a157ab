/* The dispatch of a Linux guest's port I/O to the devices registered on
 * its bus (see boot.c for the table). */
#include "dev/ioport.h"

#include <stddef.h>
#include <string.h>

static const struct ioport_dev *ioport_find(const struct ioport_bus *b,
					    uint16_t port)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct ioport_dev *d = &b->devs[i];
		if (port >= d->base && port - d->base < d->len)
			return d;
	}
	return NULL;
}

static void ioport_one(struct ioport_bus *b, uint16_t port, unsigned size,
		       bool out, uint8_t *data)
{
	const struct ioport_dev *d = ioport_find(b, port);
	uint32_t v = 0;
	if (!d || (out && !d->out) || (!out && !d->in)) {
		__atomic_fetch_add(&b->unhandled, 1, __ATOMIC_RELAXED);
		if (!out)
			memset(data, 0xff, size);
		return;
	}
	if (out) {
		memcpy(&v, data, size);
		d->out(d->dev, port - d->base, size, v);
	} else {
		v = d->in(d->dev, port - d->base, size);
		memcpy(data, &v, size);
	}
}

void ioport_dispatch(struct ioport_bus *b, uint16_t port, unsigned size,
		     bool out, uint32_t count, uint8_t *data)
{
	/* A string instruction (rep outsb) comes as count accesses to the
	 * same port; vm_plain_run checked the data lies in the run page. */
	for (uint32_t i = 0;
	     i < count &&
	     __atomic_load_n(&b->stop, __ATOMIC_RELAXED) == DEV_RUN;
	     i++)
		ioport_one(b, port, size, out, data + (size_t)i * size);
}
