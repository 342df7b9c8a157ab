/* Guest page tables: map, unmap, protect and look up 4 KiB pages. */
#include "vm/pt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"
#include "vm/layout.h"

void pt_init(struct pt *pt, uint8_t *sys, uint64_t sys_gpa, uint64_t pml4,
	     uint64_t pool, uint64_t pool_end)
{
	pt->sys = sys;
	pt->sys_gpa = sys_gpa;
	pt->pml4 = pml4;
	pt->pool = pool;
	pt->pool_end = pool_end;
	pt->shared = NULL;
}

static uint64_t *table(const struct pt *pt, uint64_t off)
{
	return (uint64_t *)(pt->sys + off);
}

/* The table at off, to be written: a page still shared with other clones
 * gets a private copy first (the same bytes on an anonymous page: KVM's
 * MMU notifier moves the guest's view to it). NULL if the host has no
 * memory for the copy. */
static uint64_t *table_w(struct pt *pt, uint64_t off)
{
	uint64_t pg = off / PAGE_SIZE;
	if (pt->shared && (pt->shared[pg / 8] >> (pg % 8) & 1)) {
		uint8_t *page = pt->sys + pg * PAGE_SIZE;
		static __thread uint8_t copy[PAGE_SIZE];
		memcpy(copy, page, PAGE_SIZE);
		if (mmap(page, PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) == MAP_FAILED)
			return NULL;
		memcpy(page, copy, PAGE_SIZE);
		pt->shared[pg / 8] &= (uint8_t) ~(1 << (pg % 8));
	}
	return table(pt, off);
}

void pt_set_entry(struct pt *pt, uint64_t tab, unsigned idx, uint64_t val)
{
	uint64_t *t = table_w(pt, tab);
	if (!t)
		die(MOTE_EXIT_FAIL, "cannot copy a shared page table: out of "
				    "memory");
	t[idx] = val;
}

int pt_clear_user(struct pt *pt)
{
	uint64_t *t = table_w(pt, pt->pml4);
	if (!t)
		return -1;
	memset(t, 0, 256 * sizeof(uint64_t));
	return 0;
}

/* The offset of the table an entry points to, if the entry is in our system
 * region; anything else means the entry is absent. */
static bool entry_table(const struct pt *pt, uint64_t e, uint64_t *off)
{
	uint64_t a = e & PTE_ADDR;
	if (!(e & PTE_P) || (e & PTE_PS) || a < pt->sys_gpa)
		return false;
	*off = a - pt->sys_gpa;
	return *off < pt->pool_end;
}

/* Walks to the PT covering gva, allocating tables when `alloc`. Returns the
 * offset of the PT or 0 if absent (offset 0 is the PML4, never a PT). */
static uint64_t walk(struct pt *pt, uint64_t gva, bool alloc)
{
	uint64_t tab = pt->pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &table(pt, tab)[(gva >> shift) & 511];
		uint64_t next;
		if (!entry_table(pt, *e, &next)) {
			if (!alloc || pt->pool + PAGE_SIZE > pt->pool_end)
				return 0;
			uint64_t *t = table_w(pt, tab), *n;
			if (!t || !(n = table_w(pt, pt->pool)))
				return 0;
			next = pt->pool;
			pt->pool += PAGE_SIZE;
			memset(n, 0, PAGE_SIZE);
			/* Intermediate entries allow everything; the leaf
			 * decides. Accessed already (see pt_map). */
			t[(gva >> shift) & 511] = (pt->sys_gpa + next) | PTE_P |
						  PTE_W | PTE_U | PTE_A;
		}
		tab = next;
	}
	return tab;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int pt_map(struct pt *pt, uint64_t gva, uint64_t gpa, uint64_t len,
	   unsigned prot)
{
	/* Accessed and dirty from the start: with EPT/NPT the CPU's walk
	 * would otherwise write them into the tables, and every clone of a
	 * snapshot would copy each page-table page it walks (the tables are
	 * guest memory, mapped copy-on-write). mote reads neither bit. */
	uint64_t flags = PTE_P | PTE_A | PTE_D;
	if (prot & PT_WRITE)
		flags |= PTE_W;
	if (prot & PT_USER)
		flags |= PTE_U;
	if (!(prot & PT_EXEC))
		flags |= PTE_NX;
	/* Both ends in the same canonical half: a range across the hole
	 * would alias low table slots. */
	if (!canonical(gva) || gva + len < gva ||
	    (len && (gva ^ (gva + len - 1)) >> 47))
		return -1;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t va = gva + off;
		uint64_t ptab = walk(pt, va, prot != 0);
		if (!ptab && prot)
			return -1; /* the pool ran out */
		if (!ptab) {
			/* Nothing mapped in this 2 MiB: skip to the next. */
			off = ((va | (HUGE_SIZE - 1)) + 1) - gva - PAGE_SIZE;
			continue;
		}
		uint64_t *t = table_w(pt, ptab);
		if (!t)
			return -1;
		uint64_t *e = &t[(va >> 12) & 511];
		*e = prot ? ((gpa + off) | flags) : 0;
		/* Walk once per table, not per page. */
		uint64_t left = 511 - ((va >> 12) & 511);
		for (; left && off + PAGE_SIZE < len; left--) {
			off += PAGE_SIZE;
			e++;
			*e = prot ? ((gpa + off) | flags) : 0;
		}
	}
	return 0;
}

uint64_t pt_lookup(const struct pt *pt, uint64_t gva)
{
	uint64_t tab = pt->pml4;
	if (!canonical(gva))
		return 0;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t e = table(pt, tab)[(gva >> shift) & 511];
		if (!entry_table(pt, e, &tab))
			return 0;
	}
	return table(pt, tab)[(gva >> 12) & 511];
}

/* ---- checking tables that came from outside (a snapshot) ---- */

#define PAGE_SIZE_PT	 4096ULL
#define PT_POOL_START(c) ((c)->pool_start)

struct check {
	const struct pt *pt;
	uint64_t pool_start;
	uint64_t user_size;
	const uint64_t *extra;
	int nextra;
	uint8_t *seen; /* one byte per pool page: a table is used once */
};

/* A table entry's target must be a pool page in use, seen once. */
static bool table_ok(struct check *c, uint64_t e, uint64_t *off)
{
	uint64_t gpa = e & PTE_ADDR;
	if (e & PTE_PS || gpa < c->pt->sys_gpa)
		return false;
	*off = gpa - c->pt->sys_gpa;
	if (*off < PT_POOL_START(c) || *off >= c->pt->pool ||
	    (*off & (PAGE_SIZE_PT - 1)))
		return false;
	uint64_t i = (*off - PT_POOL_START(c)) / PAGE_SIZE_PT;
	if (c->seen[i])
		return false;
	c->seen[i] = 1;
	return true;
}

static bool leaf_ok(const struct check *c, uint64_t va, uint64_t e)
{
	for (int i = 0; i < c->nextra; i++)
		if (c->extra[i] == va)
			return true;
	/* Identity-mapped user memory, as pt_map makes it. */
	return (e & PTE_ADDR) == va && va >= USER_MIN &&
	       va + PAGE_SIZE_PT <= c->user_size && !(e & PTE_PS);
}

static bool walk_ok(struct check *c, uint64_t off, int level, uint64_t base)
{
	const uint64_t *tab = table(c->pt, off);
	int shift = 12 + 9 * level;
	for (int j = 0; j < 512; j++) {
		uint64_t e = tab[j];
		if (!(e & PTE_P))
			continue;
		uint64_t va = base | ((uint64_t)j << shift), sub;
		if (level == 0 ? !leaf_ok(c, va, e)
			       : !table_ok(c, e, &sub) ||
					 !walk_ok(c, sub, level - 1, va))
			return false;
	}
	return true;
}

bool pt_check_user(const struct pt *pt, uint64_t pool_start, uint64_t user_size,
		   const uint64_t *extra, int nextra)
{
	if (pt->pool < pool_start || pt->pool > pt->pool_end)
		return false;
	uint8_t *seen = calloc((pt->pool - pool_start) / PAGE_SIZE_PT + 1, 1);
	if (!seen)
		return false;
	struct check c = {pt, pool_start, user_size, extra, nextra, seen};
	const uint64_t *pml4 = table(pt, pt->pml4);
	bool ok = true;
	/* The low half is the user's; the high half holds only the system
	 * region's entry (511), which the caller rewrites. */
	for (int i = 0; i < 511 && ok; i++) {
		uint64_t e = pml4[i], sub;
		if (!(e & PTE_P))
			continue;
		ok = i < 256 && table_ok(&c, e, &sub) &&
		     walk_ok(&c, sub, 2, (uint64_t)i << 39);
	}
	free(seen);
	return ok;
}
