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
 * so no restore gets as far as making a vCPU.) The same input is read as
 * a booted guest's state section too (snap_boot_read). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "lx/subsys.h"
#include "snap/boot.h"
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

/* The same bytes as a booted guest's state section (snap/boot.c), for a
 * guest of 2 vCPUs: what snap_boot_read accepts is within its bounds. */
static void boot_state(const uint8_t *data, size_t size)
{
	struct snap_boot b = {.h = {.user_size = 256ULL << 20, .nthreads = 2}};
	char err[160];
	if (snap_boot_read(&b, data, size, err, sizeof(err))) {
		if (b.ncpus != 2 || b.ndisks > SNAP_BOOT_DISKS || !b.kernel ||
		    b.cpu[0].id != 0 || b.cpu[1].id != 1 ||
		    b.cpu[0].nmsrs > PLAIN_MSRS_MAX ||
		    b.cpu[1].nmsrs > PLAIN_MSRS_MAX ||
		    b.dev.d + b.dev.n > data + size)
			abort();
		for (uint32_t i = 0; i < b.ndisks; i++)
			if (!b.disk[i].path || b.disk[i].ro > 1)
				abort();
	}
	snap_boot_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fake_init(&f, USER_SIZE);
		ready = true;
	}
	boot_state(data, size);
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
