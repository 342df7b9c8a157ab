/* Builds the System V x86-64 initial stack the way Linux lays it out. */
#include "lx/stack.h"

#include <elf.h>
#include <string.h>

#include "util.h"

struct cursor {
	uint8_t *host_top;
	uint64_t top;
	uint64_t sp;
	uint64_t floor;
};

/* Pushes bytes; returns their guest address or 0 if out of room. */
static uint64_t push(struct cursor *c, const void *data, size_t len)
{
	if (c->sp - c->floor < len)
		return 0;
	c->sp -= len;
	memcpy(c->host_top - (c->top - c->sp), data, len);
	return c->sp;
}

/* Rounds sp down to 16 bytes, then lowers it by pad, staying in the room
 * (sp - floor would wrap if sp went below the floor). */
static int align_sp(struct cursor *c, uint64_t pad)
{
	uint64_t sp = (c->sp & ~15ULL) - pad;
	if (c->sp - c->floor < c->sp - sp)
		return -1;
	c->sp = sp;
	return 0;
}

static uint64_t push_str(struct cursor *c, const char *s)
{
	return push(c, s, strlen(s) + 1);
}

static size_t count(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* Pushes the strings of v, storing their guest addresses in out. */
static int push_strings(struct cursor *c, char *const *v, size_t n,
			uint64_t *out)
{
	for (size_t i = n; i-- > 0;) {
		out[i] = push_str(c, v[i]);
		if (!out[i])
			return -1;
	}
	return 0;
}

uint64_t stack_build(const struct stack_image *img, uint8_t *host_top,
		     uint64_t top, uint64_t room)
{
	struct cursor c = {host_top, top, top, top - room};
	size_t argc = count(img->argv), envc = count(img->envp);
	if (argc > 1 << 17 || envc > 1 << 17 || img->nauxv > STACK_MAX_AUXV)
		return 0;
	/* The address vectors go in a scratch area at the bottom of the room
	 * first, then are copied into place; keeps this allocation-free. */
	uint64_t zero = 0;
	uint64_t end = push(&c, &zero, 8); /* end marker, as Linux leaves */
	uint64_t execfn = push_str(&c, img->execfn);
	uint64_t platform = push_str(&c, img->platform);
	if (!end || !execfn || !platform || align_sp(&c, 0) < 0)
		return 0;
	uint64_t random = push(&c, img->random, 16);
	if (!random)
		return 0;
	size_t nptr = argc + envc;
	/* Borrow the lowest part of the room, 8-byte aligned, for the pointer
	 * arrays. */
	uint64_t ptrs_at = ALIGN_UP(c.floor, 8);
	uint64_t ptrs_room = ptrs_at - c.floor + (nptr + 1) * 8;
	if (c.sp - c.floor < ptrs_room)
		return 0;
	uint64_t *ptrs = (uint64_t *)(host_top - (top - ptrs_at));
	c.floor += ptrs_room;
	if (push_strings(&c, img->envp, envc, ptrs + argc) < 0 ||
	    push_strings(&c, img->argv, argc, ptrs) < 0)
		return 0;
	c.floor -= ptrs_room;

	size_t nwords = 1 + argc + 1 + envc + 1 + 2 * (img->nauxv + 4);
	/* An odd word count needs a pad so that RSP ends 16-byte aligned. */
	uint64_t words_room = nwords * 8;
	if (align_sp(&c, (nwords & 1) * 8) < 0 ||
	    c.sp - c.floor < words_room + ptrs_room)
		return 0;
	uint64_t sp = c.sp - words_room;
	uint64_t *w = (uint64_t *)(host_top - (top - sp));
	/* ptrs lies below w's lowest slot, so filling w upwards from its
	 * start never overwrites a pointer not yet copied. */
	size_t i = 0;
	w[i++] = argc;
	memmove(&w[i], ptrs, argc * 8);
	i += argc;
	w[i++] = 0;
	memmove(&w[i], ptrs + argc, envc * 8);
	i += envc;
	w[i++] = 0;
	for (int a = 0; a < img->nauxv; a++) {
		w[i++] = img->auxv[a][0];
		w[i++] = img->auxv[a][1];
	}
	w[i++] = AT_RANDOM;
	w[i++] = random;
	w[i++] = AT_EXECFN;
	w[i++] = execfn;
	w[i++] = AT_PLATFORM;
	w[i++] = platform;
	w[i++] = AT_NULL;
	w[i++] = 0;
	return sp;
}
