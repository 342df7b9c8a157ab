/* The guest memory map: one place that says where everything lives. */
#ifndef MOTE_VM_LAYOUT_H
#define MOTE_VM_LAYOUT_H

#include <stdint.h>

/*
 * Guest-physical layout (KVM memory slots: slot 0 is the system region;
 * user memory is cut into chunks of at least 64 MiB, chunk i in slot 1 + i,
 * each registered the first time the guest maps memory in it (vm.c,
 * vm_mem_ensure), so that a large --memory costs nothing until used):
 *
 *   [0, user_size)                 user memory, identity-mapped (GVA == GPA)
 *                                  at CPL 3 as the app maps it; page 0..
 *                                  USER_MIN stays unmapped so NULL faults
 *   [user_size, user_size + sys)   the system region: shim code, GDT, IDT,
 *                                  per-vCPU TSS + supervisor stack, page
 *                                  tables. Mapped supervisor-only at
 *                                  SYS_GVA; page tables are not mapped at all
 *
 * Identity-mapping user memory keeps a guest pointer one addition away from
 * its host address, and lets fork and snapshot treat guest memory as one
 * flat range.
 */
#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define HUGE_SIZE (2ULL << 20)

#define USER_MIN 0x10000ULL /* like vm.mmap_min_addr */

/* The system region is mapped in the top 2 GiB, like a kernel image. */
#define SYS_GVA 0xffffffff80000000ULL

/* Offsets inside the system region. */
#define SYS_PML4      0x0000ULL
#define SYS_GDT	      0x1000ULL
#define SYS_IDT	      0x2000ULL
#define SYS_SHIM      0x3000ULL /* one page of shim code */
#define SYS_TRAMP     0x4000ULL /* the CPL-3 syscall trampoline (see below) */
#define SYS_PT_SYS    0x5000ULL /* the PT that maps the system region */
#define SYS_PD_SYS    0x6000ULL /* the PD that maps the system region */
#define SYS_PDPT_SYS  0x7000ULL /* the PDPT for the top 512 GiB */
#define SYS_VCPU      0x8000ULL /* one page per vCPU: TSS + stack */
#define SYS_MAX_VCPUS 64
#define SYS_PT_POOL   (SYS_VCPU + SYS_MAX_VCPUS * PAGE_SIZE)

/* On KVMs where `syscall` does not switch to CPL 0 (kvm_pvm), LSTAR points
 * at a user-mode trampoline in the first, otherwise unmapped, 64 KiB: it
 * stores one byte to the doorbell page, whose guest-physical address no
 * memory slot backs, so KVM exits with KVM_EXIT_MMIO, then jumps back to
 * RCX. Both pages sit below USER_MIN, where gm_user never lets a syscall
 * argument point. */
#define TRAMP_GVA    0x8000ULL
#define DOORBELL_GVA 0x9000ULL

/* RFLAGS bits a user may set: CF PF AF ZF SF TF DF OF AC ID, as Linux
 * restores from a signal frame; IF is always on. */
#define USER_RFLAGS 0x254dd5ULL

/* GDT selectors, the same numbers Linux uses so that signal frames and
 * programs that look at CS/SS see familiar values. */
#define SEL_KCODE   0x10
#define SEL_KDATA   0x18
#define SEL_UCODE32 0x23
#define SEL_UDATA   0x2b
#define SEL_UCODE   0x33
#define SEL_TSS	    0x40
#define GDT_ENTRIES 10

/* Size of the page-table pool for a given user size: enough PTs, PDs and
 * PDPTs to map all of user memory with 4 KiB pages. */
static inline uint64_t layout_pt_pool_pages(uint64_t user_size)
{
	uint64_t pts = (user_size + HUGE_SIZE - 1) / HUGE_SIZE;
	uint64_t pds = (user_size + (1ULL << 30) - 1) >> 30;
	uint64_t pdpts = (user_size + (1ULL << 39) - 1) >> 39;
	return pts + pds + pdpts;
}

static inline uint64_t layout_sys_size(uint64_t user_size)
{
	uint64_t s = SYS_PT_POOL + layout_pt_pool_pages(user_size) * PAGE_SIZE;
	return (s + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
}

#endif
