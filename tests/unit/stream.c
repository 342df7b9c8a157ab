/* The state stream (src/stream.c): values and strings round-trip, records
 * frame their bodies, and a reader handed a short, oversized or foreign
 * record stops with `bad` set instead of reading past it. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "unit.h"

#define TAG_A STREAM_TAG('A', 'A', 'A', 'A')
#define TAG_B STREAM_TAG('B', 'B', 'B', 'B')

static struct wbuf two_records(void)
{
	struct wbuf w = {0};
	uint64_t v = 0x1122334455667788ULL;
	size_t m = w_rec_begin(&w, TAG_A);
	W(&w, v);
	w_str(&w, "/bin/sh");
	w_str(&w, NULL);
	w_rec_end(&w, m);
	m = w_rec_begin(&w, TAG_B);
	w_rec_end(&w, m);
	return w;
}

static void round_trip(void)
{
	struct wbuf w = two_records();
	CHECK(!w.oom);
	struct rbuf r = {.d = w.d, .n = w.n}, body;
	CHECK(r_rec_peek(&r) == TAG_A);
	CHECK(r_rec(&r, TAG_A, &body));
	uint64_t v;
	R(&body, v);
	CHECK(v == 0x1122334455667788ULL);
	char *s = r_str(&body);
	CHECK(s && !strcmp(s, "/bin/sh"));
	free(s);
	CHECK(r_str(&body) == NULL && !body.bad);
	CHECK(r_done(&body));
	CHECK(r_rec(&r, TAG_B, &body) && r_done(&body));
	CHECK(r.off == r.n && r_rec_peek(&r) == 0);
	free(w.d);
}

/* A body read past its end, or not to its end, is not done. */
static void body_bounds(void)
{
	struct wbuf w = two_records();
	struct rbuf r = {.d = w.d, .n = w.n}, body;
	CHECK(r_rec(&r, TAG_A, &body));
	uint64_t v;
	R(&body, v);
	CHECK(!r_done(&body)); /* the strings are left */
	char big[64];
	R(&body, big);
	CHECK(body.bad && !r_done(&body));
	/* The record after it is untouched by the overrun. */
	CHECK(r_rec(&r, TAG_B, &body) && r_done(&body));
	free(w.d);
}

static void wrong_tag(void)
{
	struct wbuf w = two_records();
	struct rbuf r = {.d = w.d, .n = w.n}, body;
	CHECK(!r_rec(&r, TAG_B, &body));
	CHECK(r.bad && body.bad);
	free(w.d);
}

/* Cut anywhere, the stream yields no whole second record. */
static void truncated(void)
{
	struct wbuf w = two_records();
	for (size_t n = 0; n < w.n; n++) {
		struct rbuf r = {.d = w.d, .n = n}, body;
		bool a = r_rec(&r, TAG_A, &body);
		bool b = a && r_rec(&r, TAG_B, &body);
		CHECK(!b || n == w.n);
		CHECK(!a || n >= w.n - 8);
	}
	free(w.d);
}

/* A length beyond what is there, or beyond the record bound. */
static void huge_length(void)
{
	uint8_t d[16] = {'A', 'A', 'A', 'A'};
	uint32_t len = 0xffffffffU;
	memcpy(d + 4, &len, 4);
	struct rbuf r = {.d = d, .n = sizeof(d)}, body;
	CHECK(!r_rec(&r, TAG_A, &body) && r.bad);
	len = 9;
	memcpy(d + 4, &len, 4);
	r = (struct rbuf){.d = d, .n = sizeof(d)};
	CHECK(!r_rec(&r, TAG_A, &body));
	len = 8;
	memcpy(d + 4, &len, 4);
	r = (struct rbuf){.d = d, .n = sizeof(d)};
	CHECK(r_rec(&r, TAG_A, &body) && body.n == 8);
}

/* A string as long as the bound, or claiming more than is there. */
static void bad_strings(void)
{
	struct wbuf w = {0};
	uint32_t len = STREAM_STR_MAX;
	W(&w, len);
	struct rbuf r = {.d = w.d, .n = w.n};
	CHECK(r_str(&r) == NULL && r.bad);
	free(w.d);
	w = (struct wbuf){0};
	len = 100;
	W(&w, len);
	w_bytes(&w, "short", 5);
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(r_str(&r) == NULL && r.bad);
	/* Every read after a fault yields zeros. */
	uint64_t v = 7;
	R(&r, v);
	CHECK(v == 0);
	free(w.d);
}

static void cases(void)
{
	RUN(round_trip);
	RUN(body_bounds);
	RUN(wrong_tag);
	RUN(truncated);
	RUN(huge_length);
	RUN(bad_strings);
}

int main(void)
{
	return unit_main(cases, NULL);
}
