/* virtio-rng (rng.h): one queue of device-writable buffers, each filled
 * from getrandom() and given back. Readable descriptors carry nothing the
 * device needs and are ignored. */
#include <errno.h>
#include <sys/random.h>

#include "dev/rng.h"

/* Fills the host range [p, p + len) from getrandom. 0, or -1 if the
 * host's getrandom fails (it does not once the kernel's pool is ready). */
static int fill(uint8_t *p, size_t len)
{
	while (len) {
		ssize_t r = getrandom(p, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= r;
	}
	return 0;
}

/* Bytes given for one request: the driver reads 32 or 64 at a time, and a
 * guest asking for megabytes gets less (the used length says how much),
 * rather than keeping its vCPU thread in getrandom. */
#define RNG_MAX_BYTES (64 * 1024)

/* The bytes given to the guest in c's writable buffers, from the first. */
static uint32_t rng_request(const struct virtq_chain *c)
{
	uint32_t done = 0;
	for (unsigned i = c->nr; i < c->nr + c->nw; i++) {
		size_t len = c->iov[i].iov_len;
		if (len > RNG_MAX_BYTES - done)
			len = RNG_MAX_BYTES - done;
		if (len == 0 || fill(c->iov[i].iov_base, len) < 0)
			break;
		done += len;
	}
	return done;
}

static void rng_notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q = &d->vq[qi];
	struct virtq_chain c;
	while (virtq_pop(q, &c) == 1) {
		if (virtq_push(q, c.head, rng_request(&c)) < 0)
			break;
	}
	virtio_used(d, qi);
}

static uint64_t rng_features(const struct virtio_dev *d)
{
	return 0;
}

static void rng_config_read(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len)
{
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = rng_features,
	.nqueues = 1,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = 0,
	.config_read = rng_config_read,
	.notify = rng_notify,
};

void rng_init(struct rng *r, const struct vm *vm)
{
	virtio_init(&r->vdev, &rng_ops, vm);
}
