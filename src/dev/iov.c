/* Copies and slices over iovecs (iov.h). */
#include <string.h>

#include "dev/iov.h"

size_t iov_copy(const struct iovec *iov, unsigned n, void *buf, size_t len,
		bool to_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy(iov[i].iov_base, (char *)buf + done, k);
		else
			memcpy((char *)buf + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}

unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
		   struct iovec *dst)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t take = l - skip < len ? l - skip : len;
		dst[k].iov_base = (char *)iov[i].iov_base + skip;
		dst[k++].iov_len = take;
		len -= take;
		skip = 0;
	}
	return k;
}
