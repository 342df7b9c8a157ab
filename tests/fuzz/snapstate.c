/* libFuzzer harness over the reader of a snapshot's state section
 * (src/snap/state.c), which mote restore runs on a file anyone may hand
 * it (the checksum guards against accidents, not against a crafted file).
 *
 *   byte 0      the thread count the header claims
 *   the rest    the state section
 *
 * What a read that succeeds promises is checked: VMAs sorted, apart,
 * page-aligned and inside user memory; one owner thread, vCPU ids in range
 * and distinct; fd numbers non-negative, paths absolute. */
#include <stdlib.h>
#include <string.h>

#include "snap/state.h"
#include "vm/layout.h"

#define USER_SIZE (1ULL << 30)

static void check(const struct snap_state *s)
{
	uint64_t prev = 0;
	for (uint32_t i = 0; i < s->nvmas; i++) {
		const struct lx_vma *v = &s->vmas[i].v;
		if (v->start < prev || v->start >= v->end ||
		    v->end > USER_SIZE || v->start < USER_MIN ||
		    ((v->start | v->end) & (PAGE_SIZE - 1)))
			abort();
		if (s->vmas[i].src == SRC_FILE && !s->vmas[i].bitmap)
			abort();
		prev = v->end;
	}
	int owners = 0;
	for (uint32_t i = 0; i < s->nthreads; i++) {
		owners += s->threads[i].owner;
		if (s->threads[i].id < 0 || s->threads[i].id >= SYS_MAX_VCPUS ||
		    !s->threads[i].vs)
			abort();
	}
	if (owners != 1)
		abort();
	for (uint32_t i = 0; i < s->nfds; i++)
		if (s->fds[i].gfd < 0 ||
		    (s->fds[i].path && s->fds[i].path[0] != '/'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct snap_state s = {0};
	s.h.user_size = USER_SIZE;
	s.h.nthreads = data[0];
	struct rbuf r = {.d = data + 1, .n = size - 1};
	if (snap_state_read(&r, &s))
		check(&s);
	snap_state_free(&s);
	return 0;
}
