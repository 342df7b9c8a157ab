/* Copies and slices over a chain's iovecs (struct virtq_chain), for the
 * devices that read a header out of a chain or write one into it. */
#ifndef MOTE_DEV_IOV_H
#define MOTE_DEV_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* Copies between buf and the start of iov[0, n), at most len bytes: into
 * the iovecs (to_iov) or out of them. Returns the bytes copied. */
size_t iov_copy(const struct iovec *iov, unsigned n, void *buf, size_t len,
		bool to_iov);
/* Fills dst with the bytes [skip, skip + len) of iov[0, n); the number of
 * dst entries used (at most n). */
unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
		   struct iovec *dst);

#endif
