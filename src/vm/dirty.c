/* Dirty tracking of user memory (vm/dirty.h). The bitmaps are made on the
 * first start and live as long as the VM: a thread that saw tracking on
 * may still mark after it stops, and must not write freed memory. */
#define _GNU_SOURCE
#include "vm/dirty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vm/layout.h"
#include "vm/vm.h"

bool vm_dirty_on(const struct vm *vm)
{
	return __atomic_load_n(&vm->dirty.on, __ATOMIC_ACQUIRE);
}

uint64_t vm_dirty_words(const struct vm *vm)
{
	return (vm->user_size / PAGE_SIZE + 63) / 64;
}

void vm_dirty_mark(const struct vm *vm, uint64_t gpa, uint64_t len, bool sticky)
{
	if (!len || !vm_dirty_on(vm))
		return;
	uint64_t *map = sticky ? vm->dirty.sticky : vm->dirty.once;
	uint64_t last = MIN(gpa + len - 1, vm->user_size - 1) / PAGE_SIZE;
	for (uint64_t pg = gpa / PAGE_SIZE; pg <= last; pg++) {
		uint64_t bit = 1ULL << (pg % 64);
		/* A plain load first: most pages are marked already. */
		if (!(__atomic_load_n(&map[pg / 64], __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(&map[pg / 64], bit, __ATOMIC_RELEASE);
	}
}

int vm_dirty_start(struct vm *vm)
{
	if (vm_dirty_on(vm))
		return 0;
	size_t bytes = vm_dirty_words(vm) * sizeof(uint64_t);
	if (!vm->dirty.sticky) {
		vm->dirty.sticky = calloc(1, bytes);
		vm->dirty.once = calloc(1, bytes);
		/* KVM's bitmap of the largest slot, a chunk. */
		vm->dirty.kvm = calloc(1, vm->chunk_size / PAGE_SIZE / 8 + 8);
		if (!vm->dirty.sticky || !vm->dirty.once || !vm->dirty.kvm)
			return -ENOMEM;
	}
	memset(vm->dirty.sticky, 0, bytes);
	memset(vm->dirty.once, 0, bytes);
	/* On before the slots log: a write in between is seen twice, never
	 * missed. */
	__atomic_store_n(&vm->dirty.on, true, __ATOMIC_RELEASE);
	/* Every user slot in use again, now logged. */
	int err = vm_set_user_slots(vm) < 0 ? -errno : 0;
	if (err)
		vm_dirty_stop(vm);
	return err;
}

void vm_dirty_stop(struct vm *vm)
{
	if (!vm_dirty_on(vm))
		return;
	__atomic_store_n(&vm->dirty.on, false, __ATOMIC_RELEASE);
	vm_set_user_slots(vm); /* back to unlogged: only costs if it fails */
}

int vm_dirty_collect(struct vm *vm, uint64_t *out)
{
	if (!vm_dirty_on(vm))
		return -EINVAL;
	uint64_t words = vm_dirty_words(vm);
	/* KVM's log first, then the monitor's marks: a page written after
	 * its bit was read here is reported next time. */
	uint64_t n = (vm->user_size + vm->chunk_size - 1) / vm->chunk_size;
	for (uint64_t i = 0; i < n; i++) {
		if (!__atomic_load_n(&vm->chunk_live[i], __ATOMIC_ACQUIRE))
			continue;
		uint64_t at = i * vm->chunk_size;
		uint64_t pages =
			MIN(vm->chunk_size, vm->user_size - at) / PAGE_SIZE;
		struct kvm_dirty_log log = {.slot = 1 + (uint32_t)i,
					    .dirty_bitmap = vm->dirty.kvm};
		memset(vm->dirty.kvm, 0, (pages + 63) / 64 * 8);
		if (kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		/* A chunk starts on a 2 MiB boundary: 512 pages, whole words.
		 */
		uint64_t w0 = at / PAGE_SIZE / 64;
		for (uint64_t w = 0; w < (pages + 63) / 64; w++)
			out[w0 + w] |= vm->dirty.kvm[w];
	}
	for (uint64_t w = 0; w < words; w++) {
		out[w] |= __atomic_exchange_n(&vm->dirty.once[w], 0,
					      __ATOMIC_ACQ_REL);
		out[w] |=
			__atomic_load_n(&vm->dirty.sticky[w], __ATOMIC_ACQUIRE);
	}
	return 0;
}
