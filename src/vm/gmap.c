/* The monitor's own changes to the host mapping behind user memory: fresh
 * anonymous pages, moves and grown file mappings, for the Linux
 * personality's mmap, munmap, mremap and execve. Every range is checked to
 * lie in user memory (gm_range); what the guest may do is lx/mm.c's
 * business, these only keep the host side whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"
#include "vm/dirty.h"
#include "vm/layout.h"
#include "vm/vm.h"

int gm_fresh(struct vm *vm, uint64_t gpa, uint64_t len)
{
	void *h = gm_span(vm, gpa, len);
	if (!h)
		return -EINVAL;
	if (mmap(h, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		 0) == MAP_FAILED)
		return -errno;
	vm_dirty_mark(vm, gpa, len, false);
	return 0;
}

void gm_fresh_or_die(struct vm *vm, uint64_t gpa, uint64_t len)
{
	int err = gm_fresh(vm, gpa, len);
	if (err)
		die(MOTE_EXIT_FAIL,
		    "cannot put fresh memory at guest address %#llx-%#llx: %s "
		    "(the host's limit vm.max_map_count may be reached); the "
		    "VM cannot go on with a hole in its memory",
		    (unsigned long long)gpa, (unsigned long long)(gpa + len),
		    strerror(-err));
}

/* Anonymous memory that was moved before keeps its own host mapping (it
 * never merges with its new neighbours), and kernels before 6.17 move no
 * range of several mappings (EFAULT): such a range moves in pieces. */
static int host_move(uint8_t *from, uint64_t len, uint8_t *to)
{
	if (mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to) !=
	    MAP_FAILED)
		return 0;
	if (errno != EFAULT || len <= PAGE_SIZE)
		return -errno;
	uint64_t half = len / 2 & PAGE_MASK;
	int err = host_move(from, half, to);
	return err ? err : host_move(from + half, len - half, to + half);
}

int gm_move(struct vm *vm, uint64_t from, uint64_t len, uint64_t to)
{
	uint8_t *f = gm_span(vm, from, len), *t = gm_span(vm, to, len);
	if (!f || !t)
		return -EINVAL;
	vm_settle(vm);
	int err = host_move(f, len, t);
	/* Both ends changed, even when a piece of a split move failed. */
	vm_dirty_mark(vm, from, len, false);
	vm_dirty_mark(vm, to, len, false);
	return err;
}

int gm_move_file(struct vm *vm, uint64_t from, uint64_t olen, uint64_t to,
		 uint64_t nlen)
{
	uint8_t *f = gm_span(vm, from, olen), *t = gm_span(vm, to, nlen);
	if (!f || !t)
		return -EINVAL;
	vm_settle(vm);
	if (mremap(f, olen, nlen, MREMAP_MAYMOVE | MREMAP_FIXED, t) ==
	    MAP_FAILED)
		return -errno;
	vm_dirty_mark(vm, from, olen, false);
	vm_dirty_mark(vm, to, nlen, false);
	return 0;
}

/* The host grows a mapping in place only into a hole, so the anonymous
 * memory after it goes first. (Moving the mapping out with
 * MREMAP_MAYMOVE and back over that memory, as mote once did, could fail
 * on the way back: the private pages written through it were then away
 * from their place, and were lost.) Once the tail is gone, a failure
 * leaves the mapping as it was; the tail is made again, and only that can
 * be fatal. */
int gm_grow_file(struct vm *vm, uint64_t gpa, uint64_t olen, uint64_t nlen)
{
	uint8_t *h = gm_span(vm, gpa, nlen);
	if (!h || nlen <= olen)
		return -EINVAL;
	if (munmap(h + olen, nlen - olen) < 0)
		return -errno;
	if (mremap(h, olen, nlen, 0) != MAP_FAILED) {
		vm_dirty_mark(vm, gpa + olen, nlen - olen, false);
		return 0;
	}
	int err = -errno;
	gm_fresh_or_die(vm, gpa + olen, nlen - olen);
	return err;
}
