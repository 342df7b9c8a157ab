/* virtio-rng: the guest's entropy source, filled from the host's
 * getrandom(). */
#ifndef MOTE_DEV_RNG_H
#define MOTE_DEV_RNG_H

#include "dev/virtio.h"

struct rng {
	struct virtio_dev vdev; /* first: the transport's view */
};

void rng_init(struct rng *r, const struct vm *vm);

#endif
