/* Which pages of user memory changed: dirty tracking for migration's
 * pre-copy (docs/migration.md).
 *
 * While it is on, two kinds of writes are seen. The guest's: KVM logs
 * them per memory slot (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG). The
 * monitor's own, which KVM never sees because they go through the host
 * mapping: every door into guest memory that may write (gm_user with
 * GM_WRITE, gm_copy_out, gm_range, and gmap.c's fresh pages and moves)
 * marks the pages it touches. Those doors hand out a pointer that is
 * written after the mark, maybe much later (a read() that blocks), so
 * their marks are sticky: every collection reports them again, until
 * tracking stops, so the last one, taken with every vCPU held and no host
 * call in flight, sees the final bytes. gmap.c's operations are whole
 * when they return and mark after, once. The system region (page tables,
 * the vCPUs' pages) is not tracked: a migration sends it whole, while
 * the VM is paused. */
#ifndef MOTE_VM_DIRTY_H
#define MOTE_VM_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Starts tracking (all bitmaps clear; a collection right after reports
 * only what was written since). 0, or -errno (KVM refused the logging
 * flag, or no memory for the bitmaps). */
int vm_dirty_start(struct vm *vm);
/* Stops it; the slots go back to unlogged. Harmless when it is off. */
void vm_dirty_stop(struct vm *vm);
bool vm_dirty_on(const struct vm *vm);
/* ORs into out (one bit per page of user memory, bit i of word i/64 for
 * the page at i * 4096; vm_dirty_words(vm) words) every page written
 * since the last collection, and every sticky mark. 0, or -errno. */
int vm_dirty_collect(struct vm *vm, uint64_t *out);
uint64_t vm_dirty_words(const struct vm *vm);

/* For vm/ only: marks [gpa, gpa + len) (inside user memory) written,
 * sticky or once, if tracking is on. */
void vm_dirty_mark(const struct vm *vm, uint64_t gpa, uint64_t len,
		   bool sticky);
/* gm_range without the mark, for gmap.c, which marks once it is done, and
 * for reading. */
void *gm_span(const struct vm *vm, uint64_t gpa, uint64_t len);
/* Registers again every user memory slot in use, logged while tracking
 * is on (vm.c). 0, or -1 with errno. */
int vm_set_user_slots(struct vm *vm);

#endif
