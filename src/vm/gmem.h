/* Guest memory, the only door into it: checked guest pointers, copies in
 * and out, and the monitor's own view of user memory. No code outside vm/
 * adds to the guest memory base. */
#ifndef MOTE_VM_GMEM_H
#define MOTE_VM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* ---- guest pointers (gmem.c) ---- */

/* The one door into guest memory. Returns the host address of the guest
 * range [gva, gva + len) if every page of it is mapped for CPL 3 with the
 * access asked for (GM_WRITE implies read), else NULL. len may be 0 (then
 * gva must still be a user address). Never dereference a guest address any
 * other way. */
enum gm_access { GM_READ = 0, GM_WRITE = 1 };
void *gm_user(const struct vm *vm, uint64_t gva, uint64_t len,
	      enum gm_access acc);
/* Like gm_user but for the supervisor-only system region (exception frames
 * on the shim's stack). */
void *gm_sys(const struct vm *vm, uint64_t gva, uint64_t len);
/* Copies a NUL-terminated guest string of at most max bytes (including the
 * NUL) into buf. Returns its length, -EFAULT or -ENAMETOOLONG. */
long gm_strncpy(const struct vm *vm, char *buf, uint64_t gva, size_t max);
/* Copy len bytes from guest address gva into dst (copy_in), or from src
 * to gva (copy_out), through gm_user. 0, or -EFAULT (nothing copied) if
 * the guest may not read or write all of the range. */
int gm_copy_in(const struct vm *vm, void *dst, uint64_t gva, size_t len);
int gm_copy_out(const struct vm *vm, uint64_t gva, const void *src,
		size_t len);

/* ---- the monitor's own view of user memory (gmem.c) ---- */

/* The host address of user memory [gpa, gpa + len), whatever the guest
 * page tables say, or NULL if the range wraps or leaves [0, user_size).
 * For the monitor's own work on the host mapping (mmap MAP_FIXED over it,
 * mremap, madvise, mprotect, msync, mincore) and for bulk copies the
 * monitor decides on (the loader's segments and stack, a snapshot's
 * pages). Never for a pointer the guest gave: that is gm_user's. */
void *gm_range(const struct vm *vm, uint64_t gpa, uint64_t len);
/* The host address of guest-physical [gpa, gpa + len), user memory and
 * the system region after it alike, or NULL if the range wraps or leaves
 * [0, user_size + sys_size). For writing a snapshot's memory image, which
 * holds both; nothing else has business in the system region's bytes
 * (gm_sys serves the shim's stacks). */
const void *gm_image(const struct vm *vm, uint64_t gpa, uint64_t len);
/* Whether host address `host` lies in user memory. Async-signal-safe (for
 * a SIGBUS handler); false while the VM has no memory. */
bool gm_holds(const struct vm *vm, const void *host);

#endif
