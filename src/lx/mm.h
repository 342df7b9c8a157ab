/* The address space: VMAs, brk and the mmap area (mm.c), page faults
 * and file mappings (mmpage.c). Callers of the functions below the line
 * hold p->mm.lock. */
#ifndef MOTE_LX_MM_H
#define MOTE_LX_MM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct lx_proc;
struct lx_thread;

enum lx_vma_kind { VMA_ANON, VMA_FILE, VMA_STACK, VMA_BRK, VMA_ELF };

struct lx_vma {
	uint64_t start, end; /* page aligned */
	unsigned prot;	     /* PT_READ | PT_WRITE | PT_EXEC */
	enum lx_vma_kind kind;
	bool shared; /* MAP_SHARED */
	/* What /proc/PID/maps names (VMA_FILE, VMA_ELF): the guest path
	 * (interned by lx_mm_name, or NULL), the file's offset at start, its
	 * device and inode. */
	const char *name;
	uint64_t off, dev, ino;
};

struct lx_mm {
	pthread_mutex_t lock; /* the address space */
	struct lx_vma *vmas;  /* sorted, non-overlapping */
	int nvmas, cap;
	uint64_t brk_start, brk, brk_max;
	uint64_t mmap_top; /* mmap allocates top-down below this */
	uint64_t stack_lo; /* lowest address of the stack area */
	bool tlb_stale;	   /* permissions were reduced: flush before resume */
	/* The strings of the initial stack, for /proc/PID/cmdline, environ. */
	uint64_t arg_start, arg_end, env_start, env_end;
	char **names; /* the VMAs' names, interned */
	int nnames;
};

/* mm.c */
int lx_mm_init(struct lx_proc *p);
void lx_mm_fini(struct lx_proc *p);
/* The VMAs of a restored snapshot (sorted, apart), names interned; the
 * page tables and memory behind them are the snapshot's. */
int lx_mm_restore(struct lx_proc *p, const struct lx_vma *v, int n);
/* Empties the address space for a new image (execve). */
int lx_mm_reset(struct lx_proc *p);
/* Maps [start, end) into the guest as kind with prot, recording a VMA. */
int lx_mm_map(struct lx_proc *p, uint64_t start, uint64_t end, unsigned prot,
	      enum lx_vma_kind kind);
/* The same for a mapping of a file: `file` gives name, off, dev, ino and
 * shared (NULL: none). */
int lx_mm_map_file(struct lx_proc *p, uint64_t start, uint64_t end,
		   unsigned prot, enum lx_vma_kind kind,
		   const struct lx_vma *file);
/* The interned copy of a mapping's name (NULL if there is no room). */
const char *lx_mm_name(struct lx_proc *p, const char *name);
/* Finds `len` free bytes top-down; returns the address or 0. */
uint64_t lx_mm_find_free(struct lx_proc *p, uint64_t len);
/* Applies any pending TLB flush to the vCPU before it resumes. */
void lx_mm_sync(struct lx_thread *t);

/* mmpage.c */
/* Resolves a #PF at CPL 3 on addr with the CPU's error code `err`: returns
 * 0 if the guest may retry the access (the page was mapped meanwhile),
 * else the signal Linux sends, with its si_code in *code. */
int lx_mm_fault(struct lx_thread *t, uint64_t addr, unsigned err, int *code);
/* Files under mappings may have shrunk or grown (a truncate, or KVM_RUN
 * failing with EFAULT): pages past their end leave the page tables,
 * pages back within it return. */
void lx_mm_files_changed(struct lx_thread *t);

/* ---- shared by mm.c and mmpage.c ---- */

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
