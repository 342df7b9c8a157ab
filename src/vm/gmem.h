/* Guest memory, the only door into it: checked guest pointers, copies in
 * and out, and the monitor's own operations on the host mapping behind
 * user memory. No code outside vm/ adds to the guest memory base. */
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
int gm_copy_out(const struct vm *vm, uint64_t gva, const void *src, size_t len);

/* The door for a Linux guest's devices (src/dev/): the host address of
 * guest-physical RAM [gpa, gpa + len), an address a guest driver gave (a
 * virtqueue's rings, a descriptor's buffer), or NULL if the range wraps or
 * leaves the guest's RAM. len may be 0. Never dereference a
 * guest-physical address any other way. */
void *gm_phys(const struct vm *vm, uint64_t gpa, uint64_t len);

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

/* ---- changes to the host mapping behind user memory (gmap.c) ---- */

/* Replaces [gpa, gpa + len) of user memory with fresh anonymous zero
 * pages (private, MAP_NORESERVE), which also drops any file mapped there.
 * 0, or -errno: EINVAL outside user memory, else mmap's error, after which
 * the range may hold its old pages or nothing (a kernel before 6.12 unmaps
 * first); see gm_fresh_or_die. */
int gm_fresh(struct vm *vm, uint64_t gpa, uint64_t len);
/* gm_fresh where the caller has already changed its own view of the
 * range and cannot undo it: a failure ends the monitor with a message
 * naming the range (user memory must stay mapped for the VM's lifetime,
 * so that a racing vCPU or a host mapping of the monitor's own never meets
 * a hole there). */
void gm_fresh_or_die(struct vm *vm, uint64_t gpa, uint64_t len);
/* Moves the host pages of user memory [from, from + len) to [to, to +
 * len), without copying; `from` is left unmapped (the caller refills it).
 * Ranges of several host mappings move in pieces. 0 or -errno. */
int gm_move(struct vm *vm, uint64_t from, uint64_t len, uint64_t to);
/* Moves the one host mapping (a file's) at [from, from + olen) to [to, to
 * + nlen), growing it with the file's next pages; `from` is left unmapped.
 * 0 or -errno (nothing changed). */
int gm_move_file(struct vm *vm, uint64_t from, uint64_t olen, uint64_t to,
		 uint64_t nlen);
/* Grows the host file mapping that ends at gpa + olen, in place, to end at
 * gpa + nlen with the file's next pages, over the anonymous memory there.
 * 0, or -errno with the mapping as it was (its private pages kept) and
 * the range after it fresh anonymous memory again; a failure to make that
 * memory again is fatal (see gm_fresh_or_die). */
int gm_grow_file(struct vm *vm, uint64_t gpa, uint64_t olen, uint64_t nlen);

#endif
