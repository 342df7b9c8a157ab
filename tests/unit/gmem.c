/* gm_user, gm_strncpy, gm_sys, the copies, gm_range and gm_phys on a fake
 * VM: memory and page tables only. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "unit.h"
#include "vm/layout.h"
#include "vm/pt.h"
#include "vm/vm.h"

#define USER_SIZE  (16ULL << 20)
#define RW_PAGE	   0x100000ULL /* user read-write */
#define RO_PAGE	   0x101000ULL /* user read-only */
#define HOLE	   0x102000ULL /* unmapped */
#define SUPER_PAGE 0x103000ULL /* supervisor read-write */
#define ALIAS_PAGE 0x104000ULL /* user, but not identity mapped */
#define SPAN	   0x1fe000ULL /* four user pages across a 2 MiB boundary */
#define LAST_PAGE  (USER_SIZE - PAGE_SIZE)

static struct vm vm;

static int map(uint64_t gva, uint64_t gpa, uint64_t len, unsigned prot)
{
	return pt_map(&vm.pt, gva, gpa, len, prot);
}

/* Sets up memory and page tables the way vm_create and the loader do. */
static void fake_vm(void)
{
	unsigned rw = PT_READ | PT_WRITE | PT_USER;
	vm.user_size = USER_SIZE;
	vm.sys_size = layout_sys_size(USER_SIZE);
	vm.mem = mmap(NULL, vm.user_size + vm.sys_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	pt_init(&vm.pt, vm.mem + vm.user_size, vm.user_size, SYS_PML4,
		SYS_PT_POOL, vm.sys_size);
	int err = map(RW_PAGE, RW_PAGE, PAGE_SIZE, rw);
	err |= map(RO_PAGE, RO_PAGE, PAGE_SIZE, PT_READ | PT_USER);
	err |= map(SUPER_PAGE, SUPER_PAGE, PAGE_SIZE, PT_READ | PT_WRITE);
	err |= map(ALIAS_PAGE, ALIAS_PAGE + PAGE_SIZE, PAGE_SIZE, rw);
	err |= map(SPAN, SPAN, 4 * PAGE_SIZE, rw);
	err |= map(LAST_PAGE, LAST_PAGE, PAGE_SIZE, rw);
	/* Mapped, but below the NULL guard or past user memory. */
	err |= map(USER_MIN - PAGE_SIZE, USER_MIN - PAGE_SIZE, PAGE_SIZE, rw);
	err |= map(USER_SIZE, USER_SIZE, PAGE_SIZE, rw);
	if (err) {
		printf("cannot build the fake VM's page tables\n");
		exit(1);
	}
}

static void gm_access(void)
{
	CHECK(gm_user(&vm, RW_PAGE, PAGE_SIZE, GM_WRITE) == vm.mem + RW_PAGE);
	CHECK(gm_user(&vm, RW_PAGE + 5, 7, GM_READ) == vm.mem + RW_PAGE + 5);
	CHECK(gm_user(&vm, RO_PAGE, 8, GM_READ) == vm.mem + RO_PAGE);
	CHECK(gm_user(&vm, RO_PAGE, 8, GM_WRITE) == NULL);
	CHECK(gm_user(&vm, RO_PAGE + PAGE_SIZE - 1, 1, GM_WRITE) == NULL);
	CHECK(gm_user(&vm, HOLE, 1, GM_READ) == NULL);
	CHECK(gm_user(&vm, HOLE + 100, 0, GM_READ) == NULL);
	CHECK(gm_user(&vm, SUPER_PAGE, 8, GM_READ) == NULL);
	CHECK(gm_user(&vm, SUPER_PAGE, 8, GM_WRITE) == NULL);
	CHECK(gm_user(&vm, ALIAS_PAGE, 8, GM_READ) == NULL);
	CHECK(gm_user(&vm, LAST_PAGE, PAGE_SIZE, GM_WRITE) ==
	      vm.mem + LAST_PAGE);
}

static void gm_ranges(void)
{
	/* Crossing pages: all mapped, then into a hole or a read-only page. */
	CHECK(gm_user(&vm, SPAN + 10, 4 * PAGE_SIZE - 10, GM_WRITE) ==
	      vm.mem + SPAN + 10);
	CHECK(gm_user(&vm, SPAN + 10, 4 * PAGE_SIZE - 9, GM_READ) == NULL);
	CHECK(gm_user(&vm, RO_PAGE + PAGE_SIZE - 1, 2, GM_READ) == NULL);
	CHECK(gm_user(&vm, RW_PAGE + 8, PAGE_SIZE, GM_READ) ==
	      vm.mem + RW_PAGE + 8);
	CHECK(gm_user(&vm, RW_PAGE + 8, PAGE_SIZE, GM_WRITE) == NULL);
	CHECK(gm_user(&vm, RW_PAGE, 2 * PAGE_SIZE, GM_READ) ==
	      vm.mem + RW_PAGE);
	CHECK(gm_user(&vm, RW_PAGE, 2 * PAGE_SIZE, GM_WRITE) == NULL);
	/* Lengths that wrap, or reach past user memory. */
	CHECK(gm_user(&vm, RW_PAGE, ~0ULL, GM_READ) == NULL);
	CHECK(gm_user(&vm, RW_PAGE, -RW_PAGE, GM_READ) == NULL);
	CHECK(gm_user(&vm, RW_PAGE, -RW_PAGE + 16, GM_READ) == NULL);
	CHECK(gm_user(&vm, ~0ULL - 8, 16, GM_READ) == NULL);
	CHECK(gm_user(&vm, LAST_PAGE, PAGE_SIZE + 1, GM_READ) == NULL);
	CHECK(gm_user(&vm, USER_SIZE, 8, GM_READ) == NULL);
	CHECK(gm_user(&vm, SYS_GVA + SYS_VCPU, 8, GM_READ) == NULL);
	/* The NULL guard, even where a page is mapped. */
	CHECK(gm_user(&vm, 0, 8, GM_READ) == NULL);
	CHECK(gm_user(&vm, USER_MIN - 8, 8, GM_READ) == NULL);
	CHECK(gm_user(&vm, USER_MIN - 8, 16, GM_READ) == NULL);
	CHECK(gm_user(&vm, USER_MIN - PAGE_SIZE, 0, GM_READ) == NULL);
	/* Empty ranges still need a user address. */
	CHECK(gm_user(&vm, RW_PAGE + 3, 0, GM_WRITE) == vm.mem + RW_PAGE + 3);
	CHECK(gm_user(&vm, RO_PAGE, 0, GM_READ) == vm.mem + RO_PAGE);
	CHECK(gm_user(&vm, RO_PAGE, 0, GM_WRITE) == NULL);
}

static void put(uint64_t gva, const char *s, size_t len)
{
	memcpy(vm.mem + gva, s, len);
}

static void gm_strings(void)
{
	char buf[300];
	char fill[PAGE_SIZE];
	memset(fill, 'x', sizeof(fill));

	put(RW_PAGE, "hello", 6);
	CHECK(gm_strncpy(&vm, buf, RW_PAGE, sizeof(buf)) == 5);
	CHECK(strcmp(buf, "hello") == 0);
	/* Ends on the last byte of a page followed by a hole. */
	put(HOLE - 6, "world", 6);
	CHECK(gm_strncpy(&vm, buf, HOLE - 6, sizeof(buf)) == 5);
	CHECK(strcmp(buf, "world") == 0);
	put(HOLE - 1, "", 1);
	CHECK(gm_strncpy(&vm, buf, HOLE - 1, sizeof(buf)) == 0);
	/* Runs into the hole. */
	put(HOLE - 5, fill, 5);
	CHECK(gm_strncpy(&vm, buf, HOLE - 5, sizeof(buf)) == -EFAULT);
	CHECK(gm_strncpy(&vm, buf, HOLE, sizeof(buf)) == -EFAULT);
	CHECK(gm_strncpy(&vm, buf, SUPER_PAGE, sizeof(buf)) == -EFAULT);
	CHECK(gm_strncpy(&vm, buf, 0, sizeof(buf)) == -EFAULT);
	/* Runs off the end of user memory. */
	put(USER_SIZE - 3, fill, 3);
	CHECK(gm_strncpy(&vm, buf, USER_SIZE - 3, sizeof(buf)) == -EFAULT);
	put(USER_SIZE - 1, "", 1);
	CHECK(gm_strncpy(&vm, buf, USER_SIZE - 3, sizeof(buf)) == 2);

	/* Across the 2 MiB boundary; exactly max with the NUL fits. */
	uint64_t at = SPAN + 2 * PAGE_SIZE - 150;
	put(at, fill, 299);
	put(at + 299, "", 1);
	CHECK(gm_strncpy(&vm, buf, at, 300) == 299);
	CHECK(buf[0] == 'x' && buf[298] == 'x' && buf[299] == 0);
	CHECK(gm_strncpy(&vm, buf, at, 299) == -ENAMETOOLONG);
	memset(buf, '#', sizeof(buf));
	CHECK(gm_strncpy(&vm, buf, at, 100) == -ENAMETOOLONG);
	CHECK(buf[99] == 'x' && buf[100] == '#');
	CHECK(gm_strncpy(&vm, buf, at, 0) == -ENAMETOOLONG);
	/* A too long string that would also fault is still too long. */
	CHECK(gm_strncpy(&vm, buf, HOLE - 5, 5) == -ENAMETOOLONG);
}

static void gm_sys_bounds(void)
{
	uint64_t lo = SYS_GVA + SYS_VCPU;
	uint64_t hi = lo + SYS_MAX_VCPUS * PAGE_SIZE;
	uint8_t *host = vm.mem + vm.user_size + SYS_VCPU;
	CHECK(gm_sys(&vm, lo, 8) == host);
	CHECK(gm_sys(&vm, lo, hi - lo) == host);
	CHECK(gm_sys(&vm, hi - 8, 8) == host + (hi - lo) - 8);
	CHECK(gm_sys(&vm, hi - 8, 9) == NULL);
	CHECK(gm_sys(&vm, hi, 0) == host + (hi - lo));
	CHECK(gm_sys(&vm, hi, 1) == NULL);
	CHECK(gm_sys(&vm, lo - 1, 8) == NULL);
	CHECK(gm_sys(&vm, SYS_GVA, 8) == NULL);
	CHECK(gm_sys(&vm, SYS_GVA + SYS_PML4, 8) == NULL);
	CHECK(gm_sys(&vm, RW_PAGE, 8) == NULL);
	CHECK(gm_sys(&vm, lo, ~0ULL) == NULL);
	CHECK(gm_sys(&vm, ~0ULL - 4, 16) == NULL);
	CHECK(SYS_VCPU + SYS_MAX_VCPUS * PAGE_SIZE <= vm.sys_size);
}

static void gm_copies(void)
{
	char in[8] = "abcdefg", out[8];
	CHECK(gm_copy_out(&vm, RW_PAGE + 100, in, sizeof(in)) == 0);
	CHECK(!memcmp(vm.mem + RW_PAGE + 100, in, sizeof(in)));
	CHECK(gm_copy_in(&vm, out, RW_PAGE + 100, sizeof(out)) == 0);
	CHECK(!memcmp(out, in, sizeof(in)));
	/* Read-only: in, not out; nothing is written on a refusal. */
	memset(vm.mem + RO_PAGE, 'r', 8);
	CHECK(gm_copy_out(&vm, RO_PAGE, in, sizeof(in)) == -EFAULT);
	CHECK(vm.mem[RO_PAGE] == 'r');
	CHECK(gm_copy_in(&vm, out, RO_PAGE, sizeof(out)) == 0);
	CHECK(out[0] == 'r');
	/* Holes, supervisor pages, wrapping ranges. */
	memset(out, '#', sizeof(out));
	CHECK(gm_copy_in(&vm, out, HOLE, 1) == -EFAULT);
	CHECK(gm_copy_in(&vm, out, RO_PAGE + PAGE_SIZE - 4, 8) == -EFAULT);
	CHECK(out[0] == '#');
	CHECK(gm_copy_out(&vm, SUPER_PAGE, in, 1) == -EFAULT);
	CHECK(gm_copy_out(&vm, ~0ULL - 2, in, 8) == -EFAULT);
	CHECK(gm_copy_in(&vm, out, RW_PAGE, 0) == 0);
}

/* The monitor's own view: all of user memory, page tables or not, and
 * nothing past it. */
static void gm_range_bounds(void)
{
	CHECK(gm_range(&vm, 0, USER_SIZE) == vm.mem);
	CHECK(gm_range(&vm, HOLE, PAGE_SIZE) == vm.mem + HOLE);
	CHECK(gm_range(&vm, SUPER_PAGE, 8) == vm.mem + SUPER_PAGE);
	CHECK(gm_range(&vm, LAST_PAGE, PAGE_SIZE) == vm.mem + LAST_PAGE);
	CHECK(gm_range(&vm, USER_SIZE, 0) == vm.mem + USER_SIZE);
	CHECK(gm_range(&vm, LAST_PAGE, PAGE_SIZE + 1) == NULL);
	CHECK(gm_range(&vm, USER_SIZE, 1) == NULL);
	CHECK(gm_range(&vm, USER_SIZE + 1, 0) == NULL);
	CHECK(gm_range(&vm, 0, USER_SIZE + 1) == NULL);
	CHECK(gm_range(&vm, RW_PAGE, ~0ULL) == NULL);
	CHECK(gm_range(&vm, RW_PAGE, -RW_PAGE) == NULL);
	CHECK(gm_range(&vm, ~0ULL - 8, 16) == NULL);
	CHECK(gm_range(&vm, SYS_GVA, 8) == NULL);
	/* The snapshot's image: the system region too. */
	uint64_t all = USER_SIZE + vm.sys_size;
	CHECK(gm_image(&vm, 0, all) == vm.mem);
	CHECK(gm_image(&vm, USER_SIZE, vm.sys_size) == vm.mem + USER_SIZE);
	CHECK(gm_image(&vm, all - PAGE_SIZE, PAGE_SIZE + 1) == NULL);
	CHECK(gm_image(&vm, all, 1) == NULL);
	CHECK(gm_image(&vm, PAGE_SIZE, ~0ULL) == NULL);
	CHECK(gm_holds(&vm, vm.mem));
	CHECK(gm_holds(&vm, vm.mem + USER_SIZE - 1));
	CHECK(!gm_holds(&vm, vm.mem + USER_SIZE));
	CHECK(!gm_holds(&vm, vm.mem - 1));
	CHECK(!gm_holds(&vm, NULL));
	struct vm none = {.user_size = USER_SIZE};
	CHECK(gm_range(&none, RW_PAGE, 8) == NULL);
	CHECK(gm_image(&none, RW_PAGE, 8) == NULL);
	CHECK(!gm_holds(&none, vm.mem));
}

/* gm_phys: guest-physical RAM, whatever the page tables say; a driver's
 * address that wraps, or runs past RAM by one byte, is refused. */
static void gm_phys_bounds(void)
{
	CHECK(gm_phys(&vm, 0, USER_SIZE) == vm.mem);
	CHECK(gm_phys(&vm, HOLE, PAGE_SIZE) == vm.mem + HOLE);
	CHECK(gm_phys(&vm, USER_SIZE, 0) == vm.mem + USER_SIZE);
	CHECK(gm_phys(&vm, LAST_PAGE, PAGE_SIZE + 1) == NULL);
	CHECK(gm_phys(&vm, USER_SIZE, 1) == NULL);
	CHECK(gm_phys(&vm, UINT64_MAX, 2) == NULL);
	CHECK(gm_phys(&vm, 16, UINT64_MAX - 8) == NULL);
}

static void cases(void)
{
	RUN(gm_access);
	RUN(gm_ranges);
	RUN(gm_strings);
	RUN(gm_sys_bounds);
	RUN(gm_copies);
	RUN(gm_range_bounds);
	RUN(gm_phys_bounds);
}

int main(void)
{
	return unit_main(cases, fake_vm);
}
