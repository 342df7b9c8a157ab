/* pt_map and pt_lookup over a host buffer standing for the system region. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"
#include "vm/layout.h"
#include "vm/pt.h"

#define SYS_AT 0x40000000ULL /* guest-physical address of the region */
#define GIB    (1ULL << 30)
#define CANARY 0x5a

/* The PML4 at offset 0, then npool pool pages, then a guard page that must
 * stay untouched. */
struct region {
	struct pt pt;
	uint8_t *sys;
	uint64_t end;
};

static void region_init(struct region *r, unsigned npool)
{
	r->end = (1 + npool) * PAGE_SIZE;
	r->sys = aligned_alloc(PAGE_SIZE, r->end + PAGE_SIZE);
	memset(r->sys, 0, r->end);
	memset(r->sys + r->end, CANARY, PAGE_SIZE);
	pt_init(&r->pt, r->sys, SYS_AT, 0, PAGE_SIZE, r->end);
}

static bool guard_ok(const struct region *r)
{
	for (uint64_t i = 0; i < PAGE_SIZE; i++)
		if (r->sys[r->end + i] != CANARY)
			return false;
	return true;
}

static void region_fini(struct region *r)
{
	CHECK(guard_ok(r));
	free(r->sys);
}

/* A present leaf, as pt_map makes every one: accessed and dirty already,
 * so that the CPU never writes a page-table page. */
#define LEAF (PTE_P | PTE_A | PTE_D)

/* Every page of [gva, gva + len) maps gpa onwards with exactly `bits`. */
static bool mapped(const struct pt *pt, uint64_t gva, uint64_t gpa,
		   uint64_t len, uint64_t bits)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE)
		if (pt_lookup(pt, gva + off) != ((gpa + off) | bits))
			return false;
	return true;
}

static bool unmapped(const struct pt *pt, uint64_t gva, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE)
		if (pt_lookup(pt, gva + off) != 0)
			return false;
	return true;
}

static void pt_bits(void)
{
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	CHECK(pt_map(pt, 0x400000, 0x400000, PAGE_SIZE, PT_READ | PT_USER) ==
	      0);
	CHECK(pt_lookup(pt, 0x400000) == (0x400000 | LEAF | PTE_U | PTE_NX));
	CHECK(pt_map(pt, 0x401000, 0x401000, PAGE_SIZE,
		     PT_READ | PT_WRITE | PT_USER) == 0);
	CHECK(pt_lookup(pt, 0x401000) ==
	      (0x401000 | LEAF | PTE_W | PTE_U | PTE_NX));
	CHECK(pt_map(pt, 0x402000, 0x402000, PAGE_SIZE,
		     PT_READ | PT_EXEC | PT_USER) == 0);
	CHECK(pt_lookup(pt, 0x402000) == (0x402000 | LEAF | PTE_U));
	CHECK(pt_map(pt, 0x403000, 0x403000, PAGE_SIZE, PT_READ | PT_WRITE) ==
	      0);
	CHECK(pt_lookup(pt, 0x403000) == (0x403000 | LEAF | PTE_W | PTE_NX));
	/* gva and gpa may differ; the entry holds the gpa. */
	CHECK(pt_map(pt, 0x404000, 0x123000, PAGE_SIZE, PT_READ | PT_USER) ==
	      0);
	CHECK(pt_lookup(pt, 0x404000) == (0x123000 | LEAF | PTE_U | PTE_NX));
	/* Changing the protection of a mapped page replaces its bits. */
	CHECK(pt_map(pt, 0x401000, 0x401000, PAGE_SIZE, PT_READ | PT_USER) ==
	      0);
	CHECK(pt_lookup(pt, 0x401000) == (0x401000 | LEAF | PTE_U | PTE_NX));
	/* The tables on the way allow everything; the leaf decides. */
	uint64_t pml4e = ((uint64_t *)r.sys)[0];
	CHECK((pml4e & (PTE_P | PTE_W | PTE_U | PTE_A)) ==
	      (PTE_P | PTE_W | PTE_U | PTE_A));
	CHECK(!(pml4e & PTE_NX));
	CHECK((pml4e & PTE_ADDR) >= SYS_AT + PAGE_SIZE &&
	      (pml4e & PTE_ADDR) < SYS_AT + r.end);
	region_fini(&r);
}

static void pt_unmap(void)
{
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	unsigned rw = PT_READ | PT_WRITE | PT_USER;
	uint64_t bits = LEAF | PTE_W | PTE_U | PTE_NX;
	CHECK(pt_map(pt, 0x400000, 0x400000, 16 * PAGE_SIZE, rw) == 0);
	CHECK(mapped(pt, 0x400000, 0x400000, 16 * PAGE_SIZE, bits));
	CHECK(pt_map(pt, 0x404000, 0, 4 * PAGE_SIZE, 0) == 0);
	CHECK(mapped(pt, 0x400000, 0x400000, 4 * PAGE_SIZE, bits));
	CHECK(unmapped(pt, 0x404000, 4 * PAGE_SIZE));
	CHECK(mapped(pt, 0x408000, 0x408000, 8 * PAGE_SIZE, bits));
	CHECK(pt_map(pt, 0x400000, 0, 16 * PAGE_SIZE, 0) == 0);
	CHECK(unmapped(pt, 0x400000, 16 * PAGE_SIZE));
	region_fini(&r);
}

static void check_across(struct pt *pt, uint64_t boundary)
{
	uint64_t lo = boundary - 3 * PAGE_SIZE, len = 6 * PAGE_SIZE;
	uint64_t bits = LEAF | PTE_U;
	CHECK(pt_map(pt, lo, lo, len, PT_READ | PT_EXEC | PT_USER) == 0);
	CHECK(mapped(pt, lo, lo, len, bits));
	CHECK(unmapped(pt, lo - PAGE_SIZE, PAGE_SIZE));
	CHECK(unmapped(pt, lo + len, PAGE_SIZE));
	CHECK(pt_map(pt, lo + PAGE_SIZE, 0, len - 2 * PAGE_SIZE, 0) == 0);
	CHECK(mapped(pt, lo, lo, PAGE_SIZE, bits));
	CHECK(unmapped(pt, lo + PAGE_SIZE, len - 2 * PAGE_SIZE));
	CHECK(mapped(pt, lo + len - PAGE_SIZE, lo + len - PAGE_SIZE, PAGE_SIZE,
		     bits));
}

static void pt_boundaries(void)
{
	struct region r;
	region_init(&r, 32);
	check_across(&r.pt, HUGE_SIZE);
	check_across(&r.pt, 7 * HUGE_SIZE);
	check_across(&r.pt, GIB);
	check_across(&r.pt, 3 * GIB);
	check_across(&r.pt, 512 * GIB);
	/* A 5 MiB range fills whole PTs in one call. */
	uint64_t at = 4 * GIB - PAGE_SIZE;
	CHECK(pt_map(&r.pt, at, 0x200000, 5 << 20, PT_READ | PT_USER) == 0);
	CHECK(mapped(&r.pt, at, 0x200000, 5 << 20, LEAF | PTE_U | PTE_NX));
	CHECK(unmapped(&r.pt, at + (5 << 20), PAGE_SIZE));
	region_fini(&r);
}

static void pt_noncanonical(void)
{
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	unsigned rw = PT_READ | PT_WRITE | PT_USER;
	uint64_t used = pt->pool;
	CHECK(pt_map(pt, 1ULL << 47, 0, PAGE_SIZE, rw) == -1);
	CHECK(pt_map(pt, 0xffff7ffffffff000ULL, 0, PAGE_SIZE, rw) == -1);
	CHECK(pt_map(pt, 0x8000000000000000ULL, 0, PAGE_SIZE, rw) == -1);
	/* Ranges that start canonical and run out of it, or wrap. */
	CHECK(pt_map(pt, (1ULL << 47) - PAGE_SIZE, 0, 2 * PAGE_SIZE, rw) == -1);
	CHECK(pt_map(pt, (1ULL << 47) - PAGE_SIZE, 0,
		     0xffff800000000000ULL - (1ULL << 47) + 2 * PAGE_SIZE,
		     rw) == -1);
	CHECK(pt_map(pt, 0xfffffffffffff000ULL, 0, 2 * PAGE_SIZE, rw) == -1);
	CHECK(pt->pool == used);
	CHECK(pt_lookup(pt, 1ULL << 47) == 0);
	/* The top half is canonical. */
	CHECK(pt_map(pt, 0xffff800000000000ULL, 0x5000, PAGE_SIZE, rw) == 0);
	CHECK(pt_lookup(pt, 0xffff800000000000ULL) ==
	      (0x5000 | LEAF | PTE_W | PTE_U | PTE_NX));
	CHECK(pt_lookup(pt, 0) == 0);
	CHECK(pt_lookup(pt, 0x0000800000000000ULL) == 0);
	region_fini(&r);
}

/* A pool of three tables maps one 2 MiB area and nothing else. */
static void pt_exhaust(void)
{
	struct region r;
	region_init(&r, 3);
	struct pt *pt = &r.pt;
	unsigned ro = PT_READ | PT_USER;
	uint64_t bits = LEAF | PTE_U | PTE_NX;
	CHECK(pt_map(pt, 0x400000, 0x400000, 0x200000, ro) == 0);
	CHECK(pt->pool == pt->pool_end);
	CHECK(pt_map(pt, 0x600000, 0x600000, PAGE_SIZE, ro) == -1);
	CHECK(pt_map(pt, GIB, GIB, PAGE_SIZE, ro) == -1);
	CHECK(pt_map(pt, 0x5ff000, 0x5ff000, 2 * PAGE_SIZE, ro) == -1);
	CHECK(pt->pool == pt->pool_end);
	CHECK(mapped(pt, 0x400000, 0x400000, 0x1ff000, bits));
	CHECK(unmapped(pt, 0x600000, PAGE_SIZE));
	CHECK(unmapped(pt, GIB, PAGE_SIZE));
	/* Within the area already covered, mapping still works. */
	CHECK(pt_map(pt, 0x401000, 0x401000, PAGE_SIZE, ro | PT_WRITE) == 0);
	CHECK(pt_lookup(pt, 0x401000) == (0x401000 | bits | PTE_W));
	CHECK(pt_map(pt, 0, 0, 4 * GIB, 0) == 0);
	CHECK(unmapped(pt, 0x400000, 0x200000));
	region_fini(&r);
}

static void pt_lookup_absent(void)
{
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	CHECK(pt_lookup(pt, 0) == 0);
	CHECK(pt_lookup(pt, 0x400000) == 0);
	CHECK(pt_lookup(pt, ~0ULL & PAGE_MASK) == 0);
	CHECK(pt_map(pt, 0x400000, 0x400000, PAGE_SIZE, PT_READ) == 0);
	CHECK(pt_lookup(pt, 0x401000) == 0);
	CHECK(pt_lookup(pt, 0x3ff000) == 0);
	CHECK(pt_lookup(pt, 0x400000 + HUGE_SIZE) == 0);
	CHECK(pt_lookup(pt, 0x400000 + GIB) == 0);
	CHECK(pt_lookup(pt, 0x400000 + 512 * GIB) == 0);
	/* An address in the same page as a mapping shares its entry. */
	CHECK(pt_lookup(pt, 0x400fff) == pt_lookup(pt, 0x400000));
	region_fini(&r);
}

/* Unmapping walks only the tables that exist: munmap of a large never-mapped
 * range must neither allocate nor take long. */
static void pt_unmap_fast(void)
{
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	CHECK(pt_map(pt, 5 * GIB + 0x7000, 0x7000, PAGE_SIZE, PT_READ) == 0);
	uint64_t used = pt->pool;
	uint64_t t0 = mono_ns();
	CHECK(pt_map(pt, 0, 0, GIB, 0) == 0);
	CHECK(pt_map(pt, GIB, 0, 64 * GIB, 0) == 0);
	uint64_t ns = mono_ns() - t0;
	CHECK(ns < 200000000ULL);
	CHECK(pt->pool == used);
	CHECK(unmapped(pt, 5 * GIB + 0x7000, PAGE_SIZE));
	region_fini(&r);
}

/* pt_check_user: what a snapshot's tables may hold. */
static uint64_t *tab_at(struct region *r, uint64_t entry)
{
	return (uint64_t *)(r->sys + ((entry & PTE_ADDR) - SYS_AT));
}

static bool check(struct region *r, const uint64_t *extra, int n)
{
	return pt_check_user(&r->pt, PAGE_SIZE, GIB, extra, n);
}

static void pt_check(void)
{
	const unsigned rw = PT_USER | PT_READ | PT_WRITE;
	struct region r;
	region_init(&r, 16);
	struct pt *pt = &r.pt;
	CHECK(check(&r, NULL, 0)); /* empty */
	CHECK(pt_map(pt, USER_MIN, USER_MIN, 3 * PAGE_SIZE, rw) == 0);
	CHECK(pt_map(pt, GIB - PAGE_SIZE, GIB - PAGE_SIZE, PAGE_SIZE, rw) == 0);
	CHECK(check(&r, NULL, 0));
	uint64_t *pml4 = (uint64_t *)r.sys, *pdpt = tab_at(&r, pml4[0]);
	uint64_t *pd = tab_at(&r, pdpt[0]), *ptab = tab_at(&r, pd[0]);
	/* A leaf elsewhere than its own address: refused. */
	uint64_t good = ptab[USER_MIN >> 12];
	ptab[USER_MIN >> 12] = (USER_MIN + PAGE_SIZE) | LEAF | PTE_U;
	CHECK(!check(&r, NULL, 0));
	ptab[USER_MIN >> 12] = good;
	/* Below USER_MIN only at an allowed address. */
	ptab[1] = 0x1000 | LEAF | PTE_U;
	CHECK(!check(&r, NULL, 0));
	const uint64_t extra[] = {0x1000};
	CHECK(check(&r, extra, 1));
	ptab[1] = 0;
	/* Beyond user memory. */
	CHECK(pt_map(pt, 2 * GIB, 2 * GIB, PAGE_SIZE, rw) == 0);
	CHECK(!check(&r, NULL, 0));
	CHECK(pt_map(pt, 2 * GIB, 0, PAGE_SIZE, 0) == 0);
	CHECK(check(&r, NULL, 0));
	/* A table that is not a pool page in use, or used twice. */
	pdpt[3] = SYS_AT | PTE_P; /* the PML4 */
	CHECK(!check(&r, NULL, 0));
	pdpt[3] = pdpt[0];
	CHECK(!check(&r, NULL, 0));
	pdpt[3] = (SYS_AT + pt->pool) | PTE_P; /* past the pool's mark */
	CHECK(!check(&r, NULL, 0));
	pdpt[3] = 0;
	/* A large page. */
	pd[5] = (5 * HUGE_SIZE) | LEAF | PTE_U | PTE_PS;
	CHECK(!check(&r, NULL, 0));
	pd[5] = 0;
	/* The top half: entry 511 is the system region's, the rest empty. */
	pml4[511] = pdpt[0];
	CHECK(check(&r, NULL, 0));
	pml4[300] = SYS_AT | PTE_P;
	CHECK(!check(&r, NULL, 0));
	pml4[300] = pml4[511] = 0;
	CHECK(check(&r, NULL, 0));
	region_fini(&r);
}

static void cases(void)
{
	RUN(pt_bits);
	RUN(pt_unmap);
	RUN(pt_boundaries);
	RUN(pt_noncanonical);
	RUN(pt_exhaust);
	RUN(pt_lookup_absent);
	RUN(pt_unmap_fast);
	RUN(pt_check);
}

int main(void)
{
	return unit_main(cases, NULL);
}
