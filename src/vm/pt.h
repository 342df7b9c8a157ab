/* Guest page tables: a 4-level x86-64 builder over the system region. */
#ifndef MOTE_VM_PT_H
#define MOTE_VM_PT_H

#include <stdbool.h>
#include <stdint.h>

/* Hardware PTE bits. */
#define PTE_P	 (1ULL << 0)
#define PTE_W	 (1ULL << 1)
#define PTE_U	 (1ULL << 2)
#define PTE_A	 (1ULL << 5) /* accessed */
#define PTE_D	 (1ULL << 6) /* dirty */
#define PTE_PS	 (1ULL << 7)
#define PTE_NX	 (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

/* Protections in the mmap sense, for pt_map. */
#define PT_READ	 1
#define PT_WRITE 2
#define PT_EXEC	 4
#define PT_USER	 8

/* The tables live in a host buffer that is also guest-physical memory at
 * sys_gpa. Intermediate tables come from a bump pool [pool, pool_end); the
 * pool is sized so that all of user memory can be mapped, so mapping a user
 * range never runs out. */
struct pt {
	uint8_t *sys;	   /* host address of the system region */
	uint64_t sys_gpa;  /* its guest-physical address */
	uint64_t pml4;	   /* offset of the PML4 in the system region */
	uint64_t pool;	   /* next free table (offset) */
	uint64_t pool_end; /* end of the pool (offset) */
	/* One bit per page of the system region still shared with other VMs
	 * (the clones of one snapshot, vm_sys_share), or NULL: such a page is
	 * made this VM's own before its first write. */
	uint8_t *shared;
};

void pt_init(struct pt *pt, uint8_t *sys, uint64_t sys_gpa, uint64_t pml4,
	     uint64_t pool, uint64_t pool_end);
/* Maps [gva, gva + len) to [gpa, gpa + len) with prot (PT_* bits; PT_READ
 * alone is a read-only mapping, 0 unmaps). gva, gpa and len are page
 * aligned. Returns 0, or -1 if gva is not canonical or the pool ran out. */
int pt_map(struct pt *pt, uint64_t gva, uint64_t gpa, uint64_t len,
	   unsigned prot);
/* The last-level entry for gva, or 0 if there is none. */
uint64_t pt_lookup(const struct pt *pt, uint64_t gva);
/* Installs a table (by offset in the system region) at a fixed PML4 or PDPT
 * slot; used for the system region's own mapping. */
void pt_set_entry(struct pt *pt, uint64_t table, unsigned idx, uint64_t val);
/* Drops every user mapping (the low half of the PML4). 0, or -1 if a
 * shared page could not be copied (ENOMEM). */
int pt_clear_user(struct pt *pt);

/* Checks tables mote did not build itself (a snapshot's): below the top
 * half, every table is a distinct page of the pool [pool_start, pool),
 * no large pages, every leaf maps a user page in [USER_MIN, user_size) at
 * its own address, or sits at one of the `extra` addresses (which the
 * caller then maps itself); the top half is empty but for entry 511 (the
 * system region's, which the caller rewrites). */
bool pt_check_user(const struct pt *pt, uint64_t pool_start, uint64_t user_size,
		   const uint64_t *extra, int nextra);

#endif
