/* Guest memory page by page: page faults on mapped pages (PROT_NONE,
 * pages past the end of a file), KVM's view of vanished pages, msync and
 * mincore.
 *
 * A page of a file mapping that lies wholly past the end of its file has
 * no host page: the host would raise SIGBUS, and KVM_RUN fails with EFAULT
 * when the guest touches it. Such pages are kept out of the guest page
 * tables, so the guest takes a #PF for them and the monitor decides, as
 * Linux's fault handler does, between mapping the page (the file grew) and
 * SIGBUS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lx/lx.h"
#include "lx/mm.h"
#include "util.h"
#include "vm/layout.h"

#define PF_WRITE (1U << 1)
#define PF_INSN	 (1U << 4)

/* True if the host has a page behind guest page `gpa` (false for a page
 * of a file mapping past the end of the file). Populating reports the
 * fault as EFAULT instead of raising SIGBUS; kernels before 5.14 lack it
 * and read one byte through the kernel instead. */
static bool page_backed(struct lx_proc *p, uint64_t gpa)
{
	uint8_t *h = gm_range(&p->vm, gpa, PAGE_SIZE);
	if (!h)
		return false;
	if (madvise(h, PAGE_SIZE, MADV_POPULATE_READ) == 0)
		return true;
	if (errno == EFAULT)
		return false;
	char c;
	struct iovec local = {&c, 1}, remote = {h, 1};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1 ||
	       errno != EFAULT;
}

/* The first page of [start, end) without a host page, or end. Pages of
 * one file VMA map consecutive file offsets, so the unbacked ones are a
 * suffix: a binary search finds it in a few probes. */
static uint64_t first_unbacked(struct lx_proc *p, uint64_t start, uint64_t end)
{
	if (page_backed(p, end - PAGE_SIZE))
		return end;
	uint64_t lo = start, hi = end - PAGE_SIZE; /* hi is unbacked */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / PAGE_SIZE / 2 * PAGE_SIZE;
		if (page_backed(p, mid))
			lo = mid + PAGE_SIZE;
		else
			hi = mid;
	}
	return hi;
}

bool lx_mm_fit_files(struct lx_proc *p, uint64_t start, uint64_t end,
		     bool expose)
{
	struct lx_mm *mm = &p->mm;
	bool hid = false;
	for (int i = 0; i < mm->nvmas; i++) {
		const struct lx_vma *v = &mm->vmas[i];
		uint64_t s = MAX(v->start, start), e = MIN(v->end, end);
		if (v->kind != VMA_FILE || !v->prot || s >= e)
			continue;
		uint64_t bad = first_unbacked(p, s, e);
		if (expose && bad > s)
			pt_map(&p->vm.pt, s, s, bad - s,
			       lx_mm_pt_prot(v->prot));
		if (bad == e)
			continue;
		pt_map(&p->vm.pt, bad, bad, e - bad, 0);
		lx_mm_drop_translations(p, bad, e - bad);
		hid = true;
	}
	if (hid)
		mm->tlb_stale = true;
	return hid;
}

void lx_mm_files_changed(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->mm.lock);
	lx_mm_fit_files(p, 0, p->vm.user_size, true);
	pthread_mutex_unlock(&p->mm.lock);
	lx_mm_sync(t);
}

static bool vma_allows(const struct lx_vma *v, unsigned err)
{
	if (err & PF_WRITE)
		return v->prot & PT_WRITE;
	if (err & PF_INSN)
		return v->prot & PT_EXEC;
	return v->prot & PT_READ;
}

static bool pte_allows(uint64_t e, unsigned err)
{
	uint64_t need = PTE_P | PTE_U | (err & PF_WRITE ? PTE_W : 0);
	return (e & need) == need && !((err & PF_INSN) && (e & PTE_NX));
}

/* A fault on a page the page tables already allow (another thread
 * changed them in between) is retried, a few times at most. */
#define SPURIOUS_MAX 16
static __thread uint64_t spurious_addr;
static __thread int spurious_count;

static int classify(struct lx_proc *p, uint64_t addr, unsigned err, int *code)
{
	uint64_t page = addr & PAGE_MASK;
	const struct lx_vma *v = lx_vma_find(&p->mm, addr);
	*code = SEGV_MAPERR;
	if (!v)
		return SIGSEGV;
	*code = SEGV_ACCERR;
	if (!vma_allows(v, err))
		return SIGSEGV;
	uint64_t e = pt_lookup(&p->vm.pt, page);
	if (pte_allows(e, err)) {
		if (spurious_addr == addr && ++spurious_count > SPURIOUS_MAX)
			return SIGSEGV;
		if (spurious_addr != addr)
			spurious_count = 0;
		spurious_addr = addr;
		lx_mm_drop_translations(p, page, PAGE_SIZE);
		p->mm.tlb_stale = true;
		return 0;
	}
	if ((e & PTE_P) || v->kind != VMA_FILE)
		return SIGSEGV;
	/* Hidden past the end of the file: there now if the file grew. */
	*code = BUS_ADRERR;
	if (!page_backed(p, page))
		return SIGBUS;
	pt_map(&p->vm.pt, page, page, PAGE_SIZE, lx_mm_pt_prot(v->prot));
	lx_mm_drop_translations(p, page, PAGE_SIZE);
	p->mm.tlb_stale = true;
	return 0;
}

int lx_mm_fault(struct lx_thread *t, uint64_t addr, unsigned err, int *code)
{
	struct lx_proc *p = t->p;
	__atomic_fetch_add(&p->stats.faults, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->mm.lock);
	int sig = classify(p, addr, err, code);
	pthread_mutex_unlock(&p->mm.lock);
	if (sig)
		spurious_addr = 0;
	else
		lx_mm_sync(t);
	return sig;
}

LX_SYS(msync)
{
	uint64_t addr = a[0], len = ALIGN_UP(a[1], PAGE_SIZE);
	int flags = (int)a[2];
	struct lx_proc *p = t->p;
	if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
	    (addr & (PAGE_SIZE - 1)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	/* A length that rounds up to 0 (like -1) is no range: Linux says 0;
	 * one that runs past the end of memory is unmapped. */
	if (addr + len < addr)
		return -ENOMEM;
	if (len == 0)
		return 0;
	if (!lx_mm_user_range(p, addr, len))
		return -ENOMEM;
	/* The host range is mapped throughout (holes hold anonymous
	 * memory), so the host syncs what is there and the holes are
	 * reported after, as Linux does. */
	if (msync(gm_range(&p->vm, addr, len), len, flags) < 0)
		return -errno;
	return lx_mm_range_mapped(&p->mm, addr, addr + len) ? 0 : -ENOMEM;
}

LX_SYS(mincore)
{
	uint64_t addr = a[0], len = a[1], vec = a[2];
	struct lx_proc *p = t->p;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (addr + len < addr)
		return -ENOMEM;
	if (len == 0)
		return 0;
	uint64_t pages = len / PAGE_SIZE + !!(len % PAGE_SIZE);
	if (!lx_mm_user_range(p, addr, pages * PAGE_SIZE))
		return -ENOMEM;
	uint8_t *out = gm_user(&p->vm, vec, pages, GM_WRITE);
	if (!out)
		return -EFAULT;
	if (!lx_mm_range_mapped(&p->mm, addr, addr + pages * PAGE_SIZE))
		return -ENOMEM;
	/* The host writes the vector itself: a page that vanished under it
	 * (a truncated file) is EFAULT, not a fault in the monitor. */
	if (mincore(gm_range(&p->vm, addr, pages * PAGE_SIZE),
		    pages * PAGE_SIZE, out) < 0)
		return -errno;
	return 0;
}
