/* The snapshot's byte stream and its checksum. */
#include "snap/wire.h"

#include <stdlib.h>
#include <string.h>

uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* The CRC-32 of zlib and Python's zlib.crc32 (tests patch headers
	 * with it), bitwise: headers and state are small. */
	const uint8_t *b = buf;
	crc = ~crc;
	while (len--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

void w_bytes(struct wbuf *w, const void *v, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->n + n)
			cap *= 2;
		uint8_t *d = realloc(w->d, cap);
		if (!d) {
			w->oom = true;
			return;
		}
		w->d = d;
		w->cap = cap;
	}
	memcpy(w->d + w->n, v, n);
	w->n += n;
}

void w_str(struct wbuf *w, const char *s)
{
	uint32_t len = s ? (uint32_t)strlen(s) : UINT32_MAX;
	W(w, len);
	if (s)
		w_bytes(w, s, len);
}

void r_bytes(struct rbuf *r, void *v, size_t n)
{
	if (r->bad || n > r->n - r->off) {
		r->bad = true;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->d + r->off, n);
	r->off += n;
}

char *r_str(struct rbuf *r)
{
	uint32_t len;
	R(r, len);
	if (r->bad || len == UINT32_MAX)
		return NULL;
	if (len >= SNAP_STR_MAX || len > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	char *s = malloc(len + 1);
	if (!s) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->d + r->off, len);
	s[len] = 0;
	r->off += len;
	return s;
}
