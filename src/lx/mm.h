/* What mm.c and mmpage.c share about the address space; callers hold
 * p->mm_lock. */
#ifndef MOTE_LX_MM_H
#define MOTE_LX_MM_H

#include "lx/lx.h"

/* The VMA containing addr, or NULL. */
struct lx_vma *lx_vma_find(struct lx_mm *mm, uint64_t addr);
/* True if every page of [start, end) is in some VMA. */
bool lx_mm_range_mapped(const struct lx_mm *mm, uint64_t start, uint64_t end);
/* True if [start, start + len) is inside user memory without wrapping. */
bool lx_mm_user_range(const struct lx_proc *p, uint64_t start, uint64_t len);
/* The guest page-table protection for a VMA protection. */
unsigned lx_mm_pt_prot(unsigned prot);
/* Makes KVM forget its translations of [start, start + len) (see mm.c). */
void lx_mm_drop_translations(struct lx_proc *p, uint64_t start, uint64_t len);
/* Makes the guest page tables of the file mappings in [start, end) agree
 * with their files: a page wholly past the end of its file is taken out,
 * so that a touch faults into lx_mm_fault (SIGBUS) rather than failing
 * inside KVM, and gm_user refuses it; with `expose`, the pages before the
 * end are put back (the file grew). Returns true if it took any out. */
bool lx_mm_fit_files(struct lx_proc *p, uint64_t start, uint64_t end,
		     bool expose);

#endif
