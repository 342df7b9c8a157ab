/* gm_fresh, gm_move and gm_grow_file on a fake VM's user memory, with a
 * memfd for the file mappings: the host side of munmap, mremap and a grown
 * file mapping, no KVM needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "vm/layout.h"
#include "vm/vm.h"

#define USER_SIZE  (16ULL << 20)
#define FILE_PAGES 4

static struct vm vm;
static int file; /* page i holds 'a' + i throughout */

static void setup(void)
{
	vm.user_size = USER_SIZE;
	vm.mem = mmap(NULL, USER_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	file = memfd_create("gmap", 0);
	if (vm.mem == MAP_FAILED || file < 0) {
		perror("setup");
		exit(1);
	}
	char page[PAGE_SIZE];
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(page, 'a' + i, sizeof(page));
		if (write(file, page, sizeof(page)) != sizeof(page)) {
			perror("write");
			exit(1);
		}
	}
}

/* Maps `pages` pages of the file from page `first` at gpa, privately. */
static int map_file(uint64_t gpa, int first, int pages)
{
	void *h = mmap(vm.mem + gpa, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED, file, first * PAGE_SIZE);
	return h == MAP_FAILED ? -1 : 0;
}

/* Whether every byte of page gpa is c (the page must be mapped). */
static bool page_is(uint64_t gpa, char c)
{
	for (uint64_t i = 0; i < PAGE_SIZE; i++)
		if (vm.mem[gpa + i] != c)
			return false;
	return true;
}

static void fresh(void)
{
	uint64_t at = 0x100000;
	CHECK(map_file(at, 0, 2) == 0);
	vm.mem[at] = 'X';
	CHECK(gm_fresh(&vm, at, 2 * PAGE_SIZE) == 0);
	CHECK(page_is(at, 0) && page_is(at + PAGE_SIZE, 0));
	CHECK(gm_fresh(&vm, USER_SIZE - PAGE_SIZE, 2 * PAGE_SIZE) == -EINVAL);
	CHECK(gm_fresh(&vm, ~0ULL - PAGE_SIZE + 1, 2 * PAGE_SIZE) == -EINVAL);
}

static void move(void)
{
	uint64_t from = 0x200000, to = 0x300000;
	memset(vm.mem + from, 'm', 2 * PAGE_SIZE);
	CHECK(gm_move(&vm, from, 2 * PAGE_SIZE, to) == 0);
	CHECK(page_is(to, 'm') && page_is(to + PAGE_SIZE, 'm'));
	CHECK(gm_fresh(&vm, from, 2 * PAGE_SIZE) == 0);
	CHECK(gm_move(&vm, to, 2 * PAGE_SIZE, USER_SIZE - PAGE_SIZE) ==
	      -EINVAL);
	CHECK(page_is(to, 'm'));
	CHECK(map_file(from, 0, 1) == 0);
	CHECK(gm_move_file(&vm, from, PAGE_SIZE, to, 2 * PAGE_SIZE) == 0);
	CHECK(page_is(to, 'a') && page_is(to + PAGE_SIZE, 'b'));
	CHECK(gm_fresh(&vm, from, PAGE_SIZE) == 0);
	CHECK(gm_fresh(&vm, to, 2 * PAGE_SIZE) == 0);
}

/* Grown in place: the private page written before stays, the file's next
 * pages follow it. */
static void grow_file(void)
{
	uint64_t at = 0x400000;
	CHECK(map_file(at, 0, 2) == 0);
	vm.mem[at] = 'X';
	CHECK(gm_grow_file(&vm, at, 2 * PAGE_SIZE, 4 * PAGE_SIZE) == 0);
	CHECK(vm.mem[at] == 'X' && vm.mem[at + 1] == 'a');
	CHECK(page_is(at + PAGE_SIZE, 'b'));
	CHECK(page_is(at + 2 * PAGE_SIZE, 'c'));
	CHECK(page_is(at + 3 * PAGE_SIZE, 'd'));
	CHECK(gm_fresh(&vm, at, 4 * PAGE_SIZE) == 0);
	CHECK(gm_grow_file(&vm, USER_SIZE - PAGE_SIZE, PAGE_SIZE,
			   2 * PAGE_SIZE) == -EINVAL);
}

/* The host cannot grow it (here: the range is two host mappings, the
 * file's pages 0 and 2). The mapping keeps its pages, the written one
 * included, and the memory after it is fresh, mapped and writable again.
 * mote once lost the written pages when the host failed half-way (the
 * mapping moved out, not back); that failure cannot be caused from here,
 * but this is the one path on which the new order can fail after it has
 * changed something. */
static void grow_file_fails(void)
{
	uint64_t at = 0x500000, tail = at + 2 * PAGE_SIZE;
	CHECK(map_file(at, 0, 1) == 0);
	CHECK(map_file(at + PAGE_SIZE, 2, 1) == 0);
	vm.mem[at] = 'X';
	CHECK(gm_grow_file(&vm, at, 2 * PAGE_SIZE, 4 * PAGE_SIZE) < 0);
	CHECK(vm.mem[at] == 'X' && vm.mem[at + 1] == 'a');
	CHECK(page_is(at + PAGE_SIZE, 'c'));
	CHECK(page_is(tail, 0) && page_is(tail + PAGE_SIZE, 0));
	unsigned char vec[2];
	CHECK(mincore(vm.mem + tail, 2 * PAGE_SIZE, vec) == 0);
	vm.mem[tail + PAGE_SIZE] = 't';
	CHECK(vm.mem[tail + PAGE_SIZE] == 't');
	CHECK(gm_fresh(&vm, at, 4 * PAGE_SIZE) == 0);
}

static void cases(void)
{
	RUN(fresh);
	RUN(move);
	RUN(grow_file);
	RUN(grow_file_fails);
}

int main(void)
{
	return unit_main(cases, setup);
}
