/* The device fuzzers' guest: RAM malloc'd (so ASan reports any access
 * past it), at guest-physical 0 of a fake VM, and a memfd disk. The
 * harness defines _GNU_SOURCE (memfd_create) before any include. */
#ifndef MOTE_FUZZ_GUEST_RAM_H
#define MOTE_FUZZ_GUEST_RAM_H

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/vm.h"

/* Sets vm up with ram bytes of RAM and *disk to a memfd of disk_bytes,
 * the first time; aborts if the host cannot. */
static inline void guest_ram_init(struct vm *vm, size_t ram, int *disk,
				  size_t disk_bytes)
{
	if (vm->mem)
		return;
	vm->mem = malloc(ram);
	vm->user_size = ram;
	*disk = memfd_create("disk", MFD_CLOEXEC);
	if (!vm->mem || *disk < 0 || ftruncate(*disk, disk_bytes) < 0)
		abort();
}

#endif
