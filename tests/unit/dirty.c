/* Dirty tracking (src/vm/dirty.c) of the monitor's own writes, on a fake
 * VM with no memory slot in use (so no KVM call is made): marks only
 * while tracking is on; gm_range's and a writing gm_user's marks are
 * sticky (every collection reports them until tracking stops), gm_fresh's
 * and gm_move's are reported once; a range at the end of user memory marks its
 * last page and no bit past it; a collection with tracking off is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "unit.h"
#include "vm/dirty.h"
#include "vm/gmem.h"
#include "vm/layout.h"
#include "vm/vm.h"

#define USER_SIZE (8ULL << 20)
#define PAGES	  (USER_SIZE / PAGE_SIZE)

static struct vm vm;
static uint64_t *bits;

static void setup(void)
{
	vm.user_size = USER_SIZE;
	vm.chunk_size = 64ULL << 20;
	vm.chunk_live = calloc(1, 1); /* no slot yet: nothing for KVM */
	vm.vm_fd = -1;
	vm.mem = mmap(NULL, USER_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	bits = calloc(vm_dirty_words(&vm) + 1, sizeof(uint64_t));
	if (vm.mem == MAP_FAILED || !vm.chunk_live || !bits)
		exit(1);
}

/* A collection into bits: how many pages it reports. */
static uint64_t collect(void)
{
	memset(bits, 0, (vm_dirty_words(&vm) + 1) * sizeof(uint64_t));
	CHECK(vm_dirty_collect(&vm, bits) == 0);
	CHECK(bits[vm_dirty_words(&vm)] == 0); /* no bit past the end */
	uint64_t n = 0;
	for (uint64_t w = 0; w < vm_dirty_words(&vm); w++)
		n += (uint64_t)__builtin_popcountll(bits[w]);
	return n;
}

static bool is_set(uint64_t gpa)
{
	uint64_t pg = gpa / PAGE_SIZE;
	return bits[pg / 64] >> (pg % 64) & 1;
}

static void off_marks_nothing(void)
{
	CHECK(!vm_dirty_on(&vm));
	CHECK(gm_range(&vm, 0x10000, PAGE_SIZE) != NULL);
	CHECK(vm_dirty_collect(&vm, bits) == -EINVAL);
	CHECK(vm_dirty_start(&vm) == 0 && vm_dirty_on(&vm));
	CHECK(collect() == 0); /* the write before it is not reported */
	vm_dirty_stop(&vm);
}

static void sticky_and_once(void)
{
	CHECK(vm_dirty_start(&vm) == 0);
	/* gm_range hands out a pointer written later: sticky. */
	CHECK(gm_range(&vm, 0x20000, 2 * PAGE_SIZE) != NULL);
	/* gm_fresh is done when it returns: once. */
	CHECK(gm_fresh(&vm, 0x40000, 3 * PAGE_SIZE) == 0);
	CHECK(collect() == 5);
	CHECK(is_set(0x20000) && is_set(0x21000) && is_set(0x40000) &&
	      is_set(0x42000) && !is_set(0x43000));
	CHECK(collect() == 2); /* the sticky ones again, the rest not */
	CHECK(is_set(0x20000) && is_set(0x21000) && !is_set(0x40000));
	/* A move changes both ends. */
	CHECK(gm_move(&vm, 0x80000, PAGE_SIZE, 0x90000) == 0);
	CHECK(collect() == 4 && is_set(0x80000) && is_set(0x90000));
	/* Stopped and started again: all clear. */
	vm_dirty_stop(&vm);
	CHECK(!vm_dirty_on(&vm));
	CHECK(vm_dirty_start(&vm) == 0);
	CHECK(collect() == 0);
	vm_dirty_stop(&vm);
}

static void edges(void)
{
	CHECK(vm_dirty_start(&vm) == 0);
	/* The last page, and a range refused past the end marks nothing. */
	CHECK(gm_range(&vm, USER_SIZE - PAGE_SIZE, PAGE_SIZE) != NULL);
	CHECK(gm_range(&vm, USER_SIZE - PAGE_SIZE, 2 * PAGE_SIZE) == NULL);
	CHECK(gm_range(&vm, UINT64_MAX - 10, 20) == NULL);
	CHECK(gm_fresh(&vm, USER_SIZE, PAGE_SIZE) == -EINVAL);
	CHECK(collect() == 1 && is_set(USER_SIZE - PAGE_SIZE));
	/* A byte in a page marks the whole page; one across two marks
	 * both; an empty range marks nothing. */
	vm_dirty_stop(&vm);
	CHECK(vm_dirty_start(&vm) == 0);
	CHECK(gm_range(&vm, 0x30fff, 2) != NULL);
	CHECK(gm_range(&vm, 0x50000, 0) != NULL);
	CHECK(collect() == 2 && is_set(0x30000) && is_set(0x31000));
	vm_dirty_stop(&vm);
}

static void cases(void)
{
	RUN(off_marks_nothing);
	RUN(sticky_and_once);
	RUN(edges);
}

int main(void)
{
	setup();
	return unit_main(cases, NULL);
}
