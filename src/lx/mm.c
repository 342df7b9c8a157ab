/* Guest memory management: brk, mmap, munmap, mprotect, mremap, madvise.
 *
 * User memory is identity-mapped: guest address A is user memory's byte A
 * for every A in [USER_MIN, user_size). The monitor keeps the VMA list
 * (what the guest mapped, with which protection) and the guest page tables
 * in step; the host range itself stays mapped for the VM's lifetime, so a
 * racing vCPU can never make the monitor touch an unmapped host page. The
 * host side of every change goes through vm/ (gm_range, gm_fresh and the
 * rest of vm/gmem.h): a failure that would leave a hole in the host range
 * is fatal (gm_fresh_or_die).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lx/lx.h"
#include "lx/mm.h"
#include "util.h"
#include "vm/layout.h"

#define STACK_SIZE (8ULL << 20) /* RLIMIT_STACK's usual 8 MiB */
#define STACK_GAP  (1ULL << 20) /* unmapped gap below the stack */

/* No mapping can be larger than guest memory itself. */
static uint64_t max_len(const struct lx_proc *p)
{
	return p->vm.user_size;
}

unsigned lx_mm_pt_prot(unsigned prot)
{
	return prot ? prot | PT_USER : 0;
}

static unsigned from_linux_prot(uint64_t prot)
{
	return (prot & PROT_READ ? PT_READ : 0) |
	       (prot & PROT_WRITE ? PT_WRITE | PT_READ : 0) |
	       (prot & PROT_EXEC ? PT_EXEC | PT_READ : 0);
}

static int vma_reserve(struct lx_mm *mm, int extra)
{
	if (mm->nvmas + extra <= mm->cap)
		return 0;
	int cap = MAX(mm->cap * 2, mm->nvmas + extra + 16);
	struct lx_vma *v = realloc(mm->vmas, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	mm->vmas = v;
	mm->cap = cap;
	return 0;
}

/* Moves a VMA's start up to `start`, keeping its file offset in step. */
static void vma_advance(struct lx_vma *v, uint64_t start)
{
	v->off += start - v->start;
	v->start = start;
}

/* Removes [start, end) from the VMA list, splitting VMAs that straddle it.
 * Needs room for one more entry (see vma_reserve). */
static void vma_cut(struct lx_mm *mm, uint64_t start, uint64_t end)
{
	for (int i = 0; i < mm->nvmas; i++) {
		struct lx_vma *v = &mm->vmas[i];
		if (v->end <= start || v->start >= end)
			continue;
		if (v->start < start && v->end > end) {
			memmove(v + 2, v + 1, (mm->nvmas - i - 1) * sizeof(*v));
			mm->nvmas++;
			v[1] = *v;
			v[0].end = start;
			vma_advance(&v[1], end);
			return;
		}
		if (v->start < start) {
			v->end = start;
		} else if (v->end > end) {
			vma_advance(v, end);
		} else {
			memmove(v, v + 1, (mm->nvmas - i - 1) * sizeof(*v));
			mm->nvmas--;
			i--;
		}
	}
}

static void vma_insert(struct lx_mm *mm, struct lx_vma nv)
{
	int i = 0;
	while (i < mm->nvmas && mm->vmas[i].start < nv.start)
		i++;
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nvmas - i) * sizeof(nv));
	mm->vmas[i] = nv;
	mm->nvmas++;
}

/* Whether b continues a: the same file at the next offset, or no file. */
static bool vma_continues(const struct lx_vma *a, const struct lx_vma *b)
{
	if (a->shared != b->shared || a->name != b->name)
		return false;
	return !a->name || a->off + (a->end - a->start) == b->off;
}

/* Joins neighbours of the same protection, as Linux merges anonymous
 * VMAs, so that a range grown or re-protected piece by piece is one mapping
 * again (mremap needs its source inside one mapping). */
static void vma_merge(struct lx_mm *mm)
{
	int out = 0;
	for (int i = 0; i < mm->nvmas; i++) {
		struct lx_vma v = mm->vmas[i];
		struct lx_vma *prev = out ? &mm->vmas[out - 1] : NULL;
		if (prev && prev->end == v.start && prev->prot == v.prot &&
		    prev->kind == v.kind && v.kind != VMA_FILE &&
		    vma_continues(prev, &v))
			prev->end = v.end;
		else
			mm->vmas[out++] = v;
	}
	mm->nvmas = out;
}

struct lx_vma *lx_vma_find(struct lx_mm *mm, uint64_t addr)
{
	for (int i = 0; i < mm->nvmas; i++)
		if (addr >= mm->vmas[i].start && addr < mm->vmas[i].end)
			return &mm->vmas[i];
	return NULL;
}

static bool range_free(const struct lx_mm *mm, uint64_t start, uint64_t end)
{
	for (int i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start < end && mm->vmas[i].end > start)
			return false;
	return true;
}

bool lx_mm_range_mapped(const struct lx_mm *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;
	for (int i = 0; i < mm->nvmas && at < end; i++) {
		const struct lx_vma *v = &mm->vmas[i];
		if (v->end <= at)
			continue;
		if (v->start > at)
			return false;
		at = v->end;
	}
	return at >= end;
}

bool lx_mm_user_range(const struct lx_proc *p, uint64_t start, uint64_t len)
{
	return start >= USER_MIN && start + len >= start &&
	       start + len <= p->vm.user_size;
}

int lx_mm_map_file(struct lx_proc *p, uint64_t start, uint64_t end,
		   unsigned prot, enum lx_vma_kind kind,
		   const struct lx_vma *file)
{
	struct lx_mm *mm = &p->mm;
	if (vma_reserve(mm, 2) < 0 ||
	    (prot && vm_mem_ensure(&p->vm, start, end - start) < 0))
		return -ENOMEM;
	vma_cut(mm, start, end);
	struct lx_vma v = file ? *file : (struct lx_vma){0};
	v.start = start;
	v.end = end;
	v.prot = prot;
	v.kind = kind;
	vma_insert(mm, v);
	vma_merge(mm);
	pt_map(&p->vm.pt, start, start, end - start, lx_mm_pt_prot(prot));
	if (kind == VMA_FILE)
		lx_mm_fit_files(p, start, end, false);
	/* Replacing a mapping may take permissions away. */
	mm->tlb_stale = true;
	return 0;
}

int lx_mm_map(struct lx_proc *p, uint64_t start, uint64_t end, unsigned prot,
	      enum lx_vma_kind kind)
{
	return lx_mm_map_file(p, start, end, prot, kind, NULL);
}

/* --merge: the guest's anonymous memory in [start, start + len) is offered
 * to KSM. A fresh host mapping (MAP_FIXED) loses the mark, so every one of
 * them is marked again. Without KSM in the kernel it stays unmarked. */
static void merge(struct lx_proc *p, uint64_t start, uint64_t len)
{
	void *h = gm_range(&p->vm, start, len);
	if (p->opts->merge && h)
		madvise(h, len, MADV_MERGEABLE);
}

/* Gives [start, end) back: page tables cleared, host pages dropped (a fresh
 * anonymous mapping also detaches any file mapped there). The host's
 * failure is fatal: it may leave the old pages, which a later brk or
 * mremap would hand the guest again as fresh memory, or a hole. */
static void unmap_range(struct lx_proc *p, uint64_t start, uint64_t end)
{
	vma_cut(&p->mm, start, end);
	pt_map(&p->vm.pt, start, start, end - start, 0);
	gm_fresh_or_die(&p->vm, start, end - start);
	merge(p, start, end - start);
	p->mm.tlb_stale = true;
}

int lx_mm_init(struct lx_proc *p)
{
	struct lx_mm *mm = &p->mm;
	uint64_t top = p->vm.user_size;
	uint64_t stack = MIN(STACK_SIZE, top / 8);
	mm->stack_lo = top - stack;
	mm->mmap_top = mm->stack_lo - MIN(STACK_GAP, top / 16);
	/* The whole user range is one anonymous mapping here (vm.c's, or
	 * lx_mm_reset's). */
	merge(p, 0, top);
	return lx_mm_map(p, mm->stack_lo, top, PT_READ | PT_WRITE, VMA_STACK);
}

int lx_mm_reset(struct lx_proc *p)
{
	/* One fresh anonymous mapping over the whole user range drops every
	 * page and file mapping of the old image, and (through the host's
	 * invalidation) every translation KVM kept of them. */
	if (gm_fresh(&p->vm, 0, p->vm.user_size) < 0)
		return -ENOMEM;
	p->mm.nvmas = 0;
	p->mm.brk = p->mm.brk_start = 0;
	if (vm_reset_user(&p->vm) < 0)
		return -ENOMEM;
	return lx_mm_init(p);
}

int lx_mm_restore(struct lx_proc *p, const struct lx_vma *v, int n)
{
	struct lx_mm *mm = &p->mm;
	mm->nvmas = 0;
	if (vma_reserve(mm, n) < 0)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		mm->vmas[i] = v[i];
		if (v[i].name && !(mm->vmas[i].name = lx_mm_name(p, v[i].name)))
			return -ENOMEM;
	}
	mm->nvmas = n;
	return 0;
}

void lx_mm_fini(struct lx_proc *p)
{
	free(p->mm.vmas);
	p->mm.vmas = NULL;
	p->mm.nvmas = p->mm.cap = 0;
	for (int i = 0; i < p->mm.nnames; i++)
		free(p->mm.names[i]);
	free(p->mm.names);
	p->mm.names = NULL;
	p->mm.nnames = 0;
}

uint64_t lx_mm_find_free(struct lx_proc *p, uint64_t len)
{
	struct lx_mm *mm = &p->mm;
	uint64_t floor = ALIGN_UP(MAX(mm->brk, USER_MIN), PAGE_SIZE);
	uint64_t hi = mm->mmap_top;
	/* Walk the VMAs from the top; the gap below each is a candidate. */
	for (int i = mm->nvmas - 1; i >= -1; i--) {
		uint64_t lo = i >= 0 ? mm->vmas[i].end : floor;
		if (lo < floor)
			lo = floor;
		if (i >= 0 && mm->vmas[i].start >= hi)
			continue;
		if (hi > lo && hi - lo >= len)
			return hi - len;
		if (i >= 0)
			hi = MIN(hi, mm->vmas[i].start);
		if (hi <= floor)
			break;
	}
	return 0;
}

void lx_mm_sync(struct lx_thread *t)
{
	if (!t->p->mm.tlb_stale)
		return;
	vcpu_flush_tlb(&t->cpu);
	t->p->mm.tlb_stale = false;
}

LX_SYS(brk)
{
	struct lx_mm *mm = &t->p->mm;
	uint64_t want = a[0];
	uint64_t old_end = ALIGN_UP(mm->brk, PAGE_SIZE);
	if (want < mm->brk_start || want > t->p->vm.user_size)
		return (long)mm->brk;
	uint64_t new_end = ALIGN_UP(want, PAGE_SIZE);
	if (new_end > old_end) {
		if (!range_free(mm, old_end, new_end) || new_end > mm->mmap_top)
			return (long)mm->brk;
		if (lx_mm_map(t->p, old_end, new_end, PT_READ | PT_WRITE,
			      VMA_BRK) < 0)
			return (long)mm->brk;
	} else if (new_end < old_end) {
		if (vma_reserve(mm, 1) < 0)
			return (long)mm->brk;
		unmap_range(t->p, new_end, old_end);
	}
	mm->brk = want;
	return (long)want;
}

#define MAP_TYPE_MASK 0x0f
/* The flags Linux knew before MAP_SHARED_VALIDATE (its LEGACY_MAP_MASK:
 * 0x80 is MAP_ABOVE4G, 0x4000000 MAP_UNINITIALIZED, then the huge page
 * sizes). */
#define LEGACY_MAP_MASK                                                        \
	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS |                \
	 MAP_DENYWRITE | MAP_EXECUTABLE | 0x80 | 0x4000000 | MAP_GROWSDOWN |   \
	 MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |            \
	 MAP_STACK | MAP_HUGETLB | MAP_32BIT | (0x1fULL << MAP_HUGE_SHIFT))

/* Picks the address for an mmap; returns it or -errno. */
static long mmap_place(struct lx_proc *p, uint64_t addr, uint64_t len,
		       uint64_t flags)
{
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (!lx_mm_user_range(p, addr, len))
			return -ENOMEM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
		    !range_free(&p->mm, addr, addr + len))
			return -EEXIST;
		return (long)addr;
	}
	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (addr && lx_mm_user_range(p, addr, len) &&
	    addr + len <= p->mm.mmap_top &&
	    range_free(&p->mm, addr, addr + len))
		return (long)addr;
	addr = lx_mm_find_free(p, len);
	return addr ? (long)addr : -ENOMEM;
}

LX_SYS(mmap)
{
	uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3];
	uint64_t off = a[5];
	int type = flags & MAP_TYPE_MASK;
	if (len == 0 || (off & (PAGE_SIZE - 1)) ||
	    (type != MAP_PRIVATE && type != MAP_SHARED &&
	     type != MAP_SHARED_VALIDATE) ||
	    (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	if (flags & MAP_HUGETLB)
		return -EINVAL;
	/* MAP_SHARED_VALIDATE is for files, and knows its flags: MAP_SYNC
	 * needs DAX, which no file here has. */
	if (type == MAP_SHARED_VALIDATE && (flags & MAP_ANONYMOUS))
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK))
		return -EOPNOTSUPP;
	if (len > max_len(t->p))
		return -ENOMEM;
	len = ALIGN_UP(len, PAGE_SIZE);
	struct lx_fd *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		f = lx_fd_get(t->p, (int)a[4]);
		if (!f)
			return -EBADF;
		if (f->kind != LX_FD_FILE && f->kind != LX_FD_DEV)
			return -ENODEV;
	}
	long at = mmap_place(t->p, addr, len, flags);
	if (at < 0)
		return at;
	if (vma_reserve(&t->p->mm, 2) < 0)
		return -ENOMEM;
	uint8_t *host = gm_range(&t->p->vm, (uint64_t)at, len);
	void *r;
	if (!host)
		return -ENOMEM;
	if (f) {
		int hflags = (type == MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED) |
			     MAP_FIXED | (flags & MAP_POPULATE);
		int hprot = PROT_READ | (prot & PROT_WRITE ? PROT_WRITE : 0);
		if (type == MAP_PRIVATE)
			hprot = PROT_READ | PROT_WRITE;
		r = mmap(host, len, hprot, hflags, f->host, (off_t)off);
	} else {
		/* Shared anonymous memory stays shared with the children a
		 * fork makes: the host mapping is shared too. */
		r = mmap(host, len, PROT_READ | PROT_WRITE,
			 (type == MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED) |
				 MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE |
				 (flags & MAP_POPULATE),
			 -1, 0);
	}
	if (r == MAP_FAILED)
		return -errno;
	if (!f)
		merge(t->p, at, len);
	struct lx_vma file = {.shared = type != MAP_PRIVATE, .off = off};
	struct stat st;
	if (f && fstat(f->host, &st) == 0) {
		file.name = f->path ? lx_mm_name(t->p, f->path) : NULL;
		file.dev = st.st_dev;
		file.ino = st.st_ino;
	}
	int err = lx_mm_map_file(t->p, at, at + len, from_linux_prot(prot),
				 f ? VMA_FILE : VMA_ANON, &file);
	return err ? err : at;
}

LX_SYS(munmap)
{
	uint64_t addr = a[0], len = a[1];
	if ((addr & (PAGE_SIZE - 1)) || len == 0)
		return -EINVAL;
	/* A length that wraps to 0 when rounded up is EINVAL, as on Linux
	 * (it once reached gm_fresh as an empty range and ended mote). */
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0 || addr + len < addr)
		return -EINVAL;
	if (!lx_mm_user_range(t->p, addr, len))
		return addr >= t->p->vm.user_size ? 0 : -EINVAL;
	if (vma_reserve(&t->p->mm, 1) < 0)
		return -ENOMEM;
	unmap_range(t->p, addr, addr + len);
	return 0;
}

/* A shadow-paging KVM (kvm_pvm) keeps its copy of a guest PTE that the
 * monitor edited from outside the guest until the host page behind it
 * changes; reloading CR3 does not resync it. Changing the host protection
 * of the range invalidates the VM's translations of it (on EPT too). The
 * host range then goes back to read-write, or to read-only if part of it
 * is a shared mapping of a read-only file: the guest cannot write there
 * either (mprotect checked that before), so the monitor never will. With
 * one vCPU, nothing touches the range in between. */
void lx_mm_drop_translations(struct lx_proc *p, uint64_t start, uint64_t len)
{
	uint8_t *h = gm_range(&p->vm, start, len);
	if (!h)
		return;
	mprotect(h, len, PROT_NONE);
	if (mprotect(h, len, PROT_READ | PROT_WRITE) < 0)
		mprotect(h, len, PROT_READ);
}

LX_SYS(mprotect)
{
	uint64_t addr = a[0], len = ALIGN_UP(a[1], PAGE_SIZE), prot = a[2];
	struct lx_mm *mm = &t->p->mm;
	if ((addr & (PAGE_SIZE - 1)) ||
	    (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC |
				PROT_GROWSDOWN | PROT_GROWSUP)))
		return -EINVAL;
	if (a[1] == 0)
		return 0;
	/* A length that wrapped to 0 when rounded up is no range at all. */
	if (len == 0 || !lx_mm_user_range(t->p, addr, len) ||
	    !lx_mm_range_mapped(mm, addr, addr + len))
		return -ENOMEM;
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	unsigned np = from_linux_prot(prot);
	if (np && vm_mem_ensure(&t->p->vm, addr, len) < 0)
		return -ENOMEM;
	/* A shared file mapping is writable only if its file is: the host
	 * says so, with the errno Linux gives (EACCES). */
	if ((np & PT_WRITE) && mprotect(gm_range(&t->p->vm, addr, len), len,
					PROT_READ | PROT_WRITE) < 0)
		return -errno;
	/* Split at both ends, then change every VMA inside. */
	for (int i = 0; i < mm->nvmas; i++) {
		struct lx_vma v = mm->vmas[i];
		if (v.end <= addr || v.start >= addr + len)
			continue;
		uint64_t s = MAX(v.start, addr), e = MIN(v.end, addr + len);
		vma_advance(&v, s);
		v.end = e;
		v.prot = np;
		vma_cut(mm, s, e);
		vma_insert(mm, v);
	}
	vma_merge(mm);
	pt_map(&t->p->vm.pt, addr, addr, len, lx_mm_pt_prot(np));
	lx_mm_drop_translations(t->p, addr, len);
	lx_mm_fit_files(t->p, addr, addr + len, false);
	mm->tlb_stale = true;
	return 0;
}

/* Grows [old, old + olen) to nlen where it is: anonymous memory gets
 * fresh pages after it, a file mapping the file's next pages. */
static long grow_in_place(struct lx_proc *p, const struct lx_vma *keep,
			  uint64_t old, uint64_t olen, uint64_t nlen)
{
	uint64_t tail = old + olen;
	if (keep->kind != VMA_FILE) {
		if (gm_fresh(&p->vm, tail, nlen - olen) < 0)
			return -ENOMEM;
		merge(p, tail, nlen - olen);
		int err =
			lx_mm_map(p, tail, old + nlen, keep->prot, keep->kind);
		return err ? err : (long)old;
	}
	/* One file VMA still (the range after it was free, so it ended at
	 * tail): it maps consecutive pages of its file. */
	if (keep->prot && vm_mem_ensure(&p->vm, tail, nlen - olen) < 0)
		return -ENOMEM;
	/* A failure leaves the mapping as it was, its tail fresh memory. */
	int err = gm_grow_file(&p->vm, old, olen, nlen);
	if (err) {
		merge(p, tail, nlen - olen);
		return err;
	}
	lx_vma_find(&p->mm, old)->end = old + nlen;
	pt_map(&p->vm.pt, tail, tail, nlen - olen, lx_mm_pt_prot(keep->prot));
	lx_mm_fit_files(p, tail, old + nlen, false);
	p->mm.tlb_stale = true;
	return (long)old;
}

/* Moves [old, old + olen) to [to, to + nlen). The host moves the pages
 * without copying (a file mapping grows with the file's next pages,
 * anonymous memory with fresh ones); the old range gets fresh anonymous
 * memory again. */
static long move_to(struct lx_proc *p, const struct lx_vma *keep, uint64_t old,
		    uint64_t olen, uint64_t to, uint64_t nlen)
{
	uint64_t moved = MIN(olen, nlen);
	bool file = keep->kind == VMA_FILE;
	int err = file ? gm_move_file(&p->vm, old, olen, to, nlen)
		       : gm_move(&p->vm, old, moved, to);
	if (err)
		return err;
	/* The pages are at `to` now, the old range a hole: there is no going
	 * back, so a host failure to fill what the move left is fatal. */
	if (!file && nlen > moved) {
		gm_fresh_or_die(&p->vm, to + moved, nlen - moved);
		merge(p, to + moved, nlen - moved);
	}
	unmap_range(p, old, old + olen);
	struct lx_vma at = *keep; /* the name, the file offset of `to` */
	at.off += old - keep->start;
	err = lx_mm_map_file(p, to, to + nlen, keep->prot, keep->kind, &at);
	return err ? err : (long)to;
}

LX_SYS(mremap)
{
	uint64_t old = a[0], olen = ALIGN_UP(a[1], PAGE_SIZE);
	uint64_t nlen = ALIGN_UP(a[2], PAGE_SIZE), flags = a[3], naddr = a[4];
	struct lx_proc *p = t->p;
	if ((old & (PAGE_SIZE - 1)) || nlen == 0 ||
	    (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	if (nlen > max_len(p) || olen > max_len(p))
		return -ENOMEM;
	struct lx_vma *v = lx_vma_find(&p->mm, old);
	if (!v || olen == 0 || old + olen > v->end)
		return -EFAULT;
	struct lx_vma keep = *v;
	if (vma_reserve(&p->mm, 2) < 0)
		return -ENOMEM;
	if (!(flags & MREMAP_FIXED) && nlen <= olen) {
		if (nlen < olen)
			unmap_range(p, old + nlen, old + olen);
		return (long)old;
	}
	if (!(flags & MREMAP_FIXED) && lx_mm_user_range(p, old, nlen) &&
	    range_free(&p->mm, old + olen, old + nlen) &&
	    old + nlen <= p->mm.mmap_top) {
		long r = grow_in_place(p, &keep, old, olen, nlen);
		if (r >= 0 || !(flags & MREMAP_MAYMOVE))
			return r;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	long to;
	if (flags & MREMAP_FIXED) {
		if ((naddr & (PAGE_SIZE - 1)) ||
		    !lx_mm_user_range(p, naddr, nlen) ||
		    (naddr < old + olen && naddr + nlen > old))
			return -EINVAL;
		to = (long)naddr;
	} else {
		to = (long)lx_mm_find_free(p, nlen);
		if (!to)
			return -ENOMEM;
	}
	return move_to(p, &keep, old, olen, (uint64_t)to, nlen);
}

LX_SYS(madvise)
{
	uint64_t addr = a[0], len = ALIGN_UP(a[1], PAGE_SIZE);
	int advice = (int)a[2];
	if ((addr & (PAGE_SIZE - 1)) || (a[1] && !len))
		return -EINVAL;
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_DONTFORK:
	case MADV_DOFORK: break;
	default: return -EINVAL;
	}
	if (len == 0)
		return 0;
	if (!lx_mm_user_range(t->p, addr, len) ||
	    !lx_mm_range_mapped(&t->p->mm, addr, addr + len))
		return -ENOMEM;
	/* Advice that changes what the guest reads (DONTNEED zero-fills or
	 * reverts to the file, FREE may) or is a pure hint goes to the host
	 * range; fork-related advice is the monitor's business, not the
	 * host mapping's, and is accepted without effect. */
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_WILLNEED:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_COLD:
	case MADV_PAGEOUT:
		if (madvise(gm_range(&t->p->vm, addr, len), len, advice) < 0)
			return -errno;
	}
	return 0;
}
