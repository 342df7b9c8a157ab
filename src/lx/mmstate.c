/* The address space's subsystem hooks (subsys.h): the VMAs and the heap
 * and stack bounds. The pages themselves are not the address space's to
 * save: a snapshot writes them as its memory image and maps them back
 * before this restore runs, a migration sends them on their own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lx/lx.h"
#include "lx/subsys.h"
#include "util.h"
#include "vm/layout.h"

#define MAX_VMAS (1U << 20)

static int mm_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	struct lx_mm *mm = &p->mm;
	pthread_mutex_lock(&mm->lock);
	uint32_t n = (uint32_t)mm->nvmas;
	W(w, mm->brk_start);
	W(w, mm->brk);
	W(w, mm->brk_max);
	W(w, mm->mmap_top);
	W(w, mm->stack_lo);
	W(w, mm->arg_start);
	W(w, mm->arg_end);
	W(w, mm->env_start);
	W(w, mm->env_end);
	W(w, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct lx_vma *v = &mm->vmas[i];
		uint32_t prot = v->prot, kind = v->kind;
		uint8_t shared = v->shared;
		W(w, v->start);
		W(w, v->end);
		W(w, prot);
		W(w, kind);
		W(w, shared);
		w_str(w, v->name);
		W(w, v->off);
		W(w, v->dev);
		W(w, v->ino);
	}
	pthread_mutex_unlock(&mm->lock);
	return 0;
}

/* One VMA into *v (its name malloc'd); false if it is not one lx_mm could
 * hold: page-aligned, inside user memory, after `prev`. */
static bool get_vma(struct rbuf *r, struct lx_vma *v, uint64_t prev,
		    uint64_t limit)
{
	uint32_t prot, kind;
	uint8_t shared;
	R(r, v->start);
	R(r, v->end);
	R(r, prot);
	R(r, kind);
	R(r, shared);
	v->name = r_str(r);
	R(r, v->off);
	R(r, v->dev);
	R(r, v->ino);
	v->prot = prot;
	v->kind = kind;
	v->shared = shared;
	return !r->bad && v->start < v->end && v->end <= limit &&
	       v->start >= USER_MIN && v->start >= prev &&
	       !((v->start | v->end) & (PAGE_SIZE - 1)) && kind <= VMA_ELF &&
	       prot <= 7 && shared <= 1;
}

static int mm_restore(struct lx_proc *p, struct rbuf *r)
{
	struct lx_mm m = {0};
	uint32_t n;
	R(r, m.brk_start);
	R(r, m.brk);
	R(r, m.brk_max);
	R(r, m.mmap_top);
	R(r, m.stack_lo);
	R(r, m.arg_start);
	R(r, m.arg_end);
	R(r, m.env_start);
	R(r, m.env_end);
	R(r, n);
	uint64_t top = p->vm.user_size;
	if (r->bad || n > MAX_VMAS || m.brk_start > m.brk || m.brk > top ||
	    m.mmap_top > top || m.stack_lo > top || m.arg_start > m.arg_end ||
	    m.arg_end > top || m.env_start > m.env_end || m.env_end > top)
		return lx_state_bad("address-space record");
	struct lx_vma *v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -1;
	bool ok = true;
	uint64_t prev = 0;
	uint32_t got = 0;
	for (; got < n && ok; got++) {
		ok = get_vma(r, &v[got], prev, top);
		prev = v[got].end;
	}
	int err = ok ? lx_mm_restore(p, v, (int)n) : lx_state_bad("VMA list");
	if (err == -ENOMEM)
		msg("restore: out of memory for the VMA list");
	for (uint32_t i = 0; i < got; i++)
		free((char *)v[i].name);
	for (uint32_t i = 0; !err && i < n; i++) {
		if (vm_mem_ensure(&p->vm, v[i].start, v[i].end - v[i].start)) {
			msg("restore: KVM refused the guest memory");
			err = -1;
		}
	}
	free(v);
	if (err)
		return -1;
	struct lx_mm *mm = &p->mm;
	mm->brk_start = m.brk_start;
	mm->brk = m.brk;
	mm->brk_max = m.brk_max;
	mm->mmap_top = m.mmap_top;
	mm->stack_lo = m.stack_lo;
	mm->arg_start = m.arg_start;
	mm->arg_end = m.arg_end;
	mm->env_start = m.env_start;
	mm->env_end = m.env_end;
	return 0;
}

/* The parent held the lock across fork(): the child's copy is made anew. */
static int mm_fork(struct lx_proc *p, const struct lx_fork *f)
{
	pthread_mutex_init(&p->mm.lock, NULL);
	return 0;
}

const struct lx_subsys lx_mm_subsys = {
	.name = "address-space",
	.tag = STREAM_TAG('M', 'M', ' ', ' '),
	.save = mm_save,
	.restore = mm_restore,
	.fork = mm_fork,
};
