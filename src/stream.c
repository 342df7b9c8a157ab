/* The state stream's records and little-endian values (stream.h). */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

void w_bytes(struct wbuf *w, const void *v, size_t n)
{
	if (w->oom || !n)
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

size_t w_rec_begin(struct wbuf *w, uint32_t tag)
{
	uint32_t len = 0;
	W(w, tag);
	size_t mark = w->n;
	W(w, len);
	return mark;
}

void w_rec_end(struct wbuf *w, size_t mark)
{
	if (w->oom)
		return;
	size_t body = w->n - mark - sizeof(uint32_t);
	if (body > STREAM_REC_MAX) {
		w->oom = true; /* no reader would take it */
		return;
	}
	uint32_t len = (uint32_t)body;
	memcpy(w->d + mark, &len, sizeof(len));
}

void r_bytes(struct rbuf *r, void *v, size_t n)
{
	/* n 0 reads nothing (v may be NULL then: an empty array). */
	if (!n)
		return;
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
	if (len >= STREAM_STR_MAX || len > r->n - r->off) {
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

uint32_t r_rec_peek(const struct rbuf *r)
{
	uint32_t tag;
	if (r->bad || r->n - r->off < 2 * sizeof(uint32_t))
		return 0;
	memcpy(&tag, r->d + r->off, sizeof(tag));
	return tag;
}

bool r_rec(struct rbuf *r, uint32_t tag, struct rbuf *body)
{
	uint32_t t, len;
	R(r, t);
	R(r, len);
	*body = (struct rbuf){.bad = true};
	if (r->bad || t != tag || len > STREAM_REC_MAX || len > r->n - r->off) {
		r->bad = true;
		return false;
	}
	*body = (struct rbuf){.d = r->d + r->off, .n = len};
	r->off += len;
	return true;
}

bool r_done(const struct rbuf *body)
{
	return !body->bad && body->off == body->n;
}
