/* libFuzzer harness over the readers of a snapshot's state section, which
 * mote restore runs on a file anyone may hand it (the checksum guards
 * against accidents, not against a crafted file): the snapshot's own
 * records (src/snap/state.c), then every subsystem's restore hook
 * (lx_state_restore) into the fake process of tests/lib.
 *
 * The input is a state section as a snapshot holds it. What the readers
 * promise is checked: the image's file mappings sorted, apart and inside
 * user memory, with a bitmap where they need one; after a restore,
 * succeeded or not, the VMAs sorted, apart, page-aligned and in user
 * memory, and no guest fd one of the monitor's own. (The fake has no KVM,
 * so no restore gets as far as making a vCPU.) */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "lx/subsys.h"
#include "snap/state.h"
#include "vm/layout.h"

#define USER_SIZE (64ULL << 20)

static struct fake f;

static void check_image(const struct snap_state *s)
{
	uint64_t prev = 0;
	for (uint32_t i = 0; i < s->nfiles; i++) {
		const struct snap_file *sf = &s->files[i];
		if (sf->start < prev || sf->start >= sf->end ||
		    sf->end > USER_SIZE || sf->start < USER_MIN ||
		    ((sf->start | sf->end) & (PAGE_SIZE - 1)) ||
		    (sf->src == SRC_FILE && !sf->bitmap))
			abort();
		prev = sf->end;
	}
}

static void check_vmas(const struct lx_mm *mm)
{
	uint64_t prev = USER_MIN;
	for (int i = 0; i < mm->nvmas; i++) {
		const struct lx_vma *v = &mm->vmas[i];
		if (v->start < prev || v->start >= v->end ||
		    v->end > USER_SIZE ||
		    ((v->start | v->end) & (PAGE_SIZE - 1)))
			abort();
		prev = v->end;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fake_init(&f, USER_SIZE);
		ready = true;
	}
	struct snap_state s = {0};
	s.h.user_size = USER_SIZE;
	s.state = malloc(size + 1);
	if (!s.state)
		return 0;
	memcpy(s.state, data, size);
	s.state_len = size;
	if (snap_state_read(&s)) {
		check_image(&s);
		struct lx_proc *p = f.p;
		struct lx_task task = p->task;
		struct rbuf r = {.d = s.state + s.lx_off,
				 .n = s.state_len - s.lx_off};
		lx_state_restore(p, &r);
		check_vmas(&p->mm);
		fake_check_fds(p);
		if (p->task.exe_fd >= 0 && p->task.exe_fd != task.exe_fd)
			close(p->task.exe_fd);
		free(p->task.rlimits == task.rlimits ? NULL : p->task.rlimits);
		p->task = task;
		fake_reset(&f);
	}
	snap_state_free(&s);
	return 0;
}
