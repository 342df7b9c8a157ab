/* The state stream: how the monitor writes its state (a snapshot's state
 * section today, a migration's stream next) and reads it back.
 *
 * A stream is a sequence of records, each a 4-byte tag, a 4-byte length
 * and that many bytes of body, all little-endian. Each subsystem writes its
 * own records and reads only inside them, so a reader never runs past a
 * record into the next, a record can be sent down a socket as soon as it
 * is whole, and a drift between writer and reader (a body not read to its
 * end) is caught as corruption. */
#ifndef MOTE_STREAM_H
#define MOTE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_STR_MAX 4096	   /* PATH_MAX */
#define STREAM_REC_MAX (64U << 20) /* a sanity bound for one record */

/* A record's tag from four characters ("TASK"). */
#define STREAM_TAG(a, b, c, d)                                                 \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |            \
	 (uint32_t)(d) << 24)

/* Writing: a growing buffer; `oom` once an allocation failed. */
struct wbuf {
	uint8_t *d;
	size_t n, cap;
	bool oom;
};
void w_bytes(struct wbuf *w, const void *v, size_t n);
void w_str(struct wbuf *w, const char *s); /* NULL allowed */
#define W(w, x) w_bytes((w), &(x), sizeof(x))
/* Starts a record with `tag`; returns the mark w_rec_end needs. */
size_t w_rec_begin(struct wbuf *w, uint32_t tag);
/* Ends the record started at `mark`: sets its length. */
void w_rec_end(struct wbuf *w, size_t mark);

/* Reading: `bad` once anything ran past the end or was out of range;
 * every read after that yields zeros. */
struct rbuf {
	const uint8_t *d;
	size_t n, off;
	bool bad;
};
void r_bytes(struct rbuf *r, void *v, size_t n);
/* A string (malloc'd), or NULL for a NULL one; `bad` if too long. */
char *r_str(struct rbuf *r);
#define R(r, x) r_bytes((r), &(x), sizeof(x))
/* The tag of the next record, without reading it (0 at the end or if
 * there is no whole record header). */
uint32_t r_rec_peek(const struct rbuf *r);
/* Reads the next record, which must have `tag`, into *body (a reader over
 * its bytes alone); false (and r->bad) otherwise. */
bool r_rec(struct rbuf *r, uint32_t tag, struct rbuf *body);
/* Whether body was read to its end without a fault. */
bool r_done(const struct rbuf *body);

#endif
