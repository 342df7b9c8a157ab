/* The KVM virtual machine and its vCPUs: memory, long-mode setup, the run. */
#ifndef MOTE_VM_VM_H
#define MOTE_VM_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "vm/exit.h"
#include "vm/pt.h"

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;	    /* mmap size of struct kvm_run */
	uint8_t *mem;	    /* host address of guest-physical 0 */
	uint64_t user_size; /* bytes of user memory at GPA 0 */
	uint64_t sys_size;  /* bytes of system region after it */
	bool from_file;	    /* mem is a snapshot's image (vm_create_from) */
	struct pt pt;	    /* the guest page tables */
	/* User memory is registered with KVM in chunks, each its own memory
	 * slot, when the guest first maps something there: slot set-up costs
	 * time in proportion to its size, and most guests touch a few
	 * regions of a large address space. */
	uint64_t chunk_size;
	uint8_t *chunk_live; /* one flag per chunk */
	/* How a CPL-3 `syscall` reaches the monitor: through the shim (out +
	 * sysretq), or through the doorbell trampoline on KVMs that do not
	 * enter CPL 0 on syscall (see layout.h). */
	bool doorbell;
	uint64_t doorbell_gpa;
	struct kvm_cpuid2 *cpuid; /* what the guest sees */
	uint64_t xcr0;
	bool smep, smap, fsgsbase, umip;
	bool msr_filter; /* KVM_X86_SET_MSR_FILTER denies every guest MSR
			  * (not on kvm_pvm, see deny_msrs) */
	/* Dirty tracking for migration (vm/dirty.h): one bit per user page
	 * in sticky and once, KVM's log of one slot in kvm. */
	struct vm_dirty {
		bool on;
		uint64_t *sticky, *once, *kvm;
	} dirty;
	/* The monitor's view of the guest's time. */
	uint64_t boot_ns; /* CLOCK_MONOTONIC at vm_create */
	/* While a post-copy brings the memory in (snap/postcopy.h), a page
	 * is found by its host address until it has come: what moves host
	 * mappings (gm_move, gm_move_file) or copies them (fork) calls
	 * this first, and it waits until every page is here. NULL: none. */
	void (*settle)(struct vm *vm);
};

/* Waits for vm->settle, if any. */
static inline void vm_settle(struct vm *vm)
{
	if (vm->settle)
		vm->settle(vm);
}

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	unsigned efaults; /* KVM_RUNs in a row that ended in EFAULT */
};

/* Why vm_create failed, so that the caller prints the right hint. */
enum vm_error {
	VM_OK = 0,
	VM_ENOKVM,   /* /dev/kvm does not exist */
	VM_EACCES,   /* /dev/kvm exists but may not be opened */
	VM_EVERSION, /* the KVM API or a capability we need is missing */
	VM_ENOMEM,   /* the host refused the guest memory */
	VM_EKVM,     /* another KVM ioctl failed; errno says why */
};

/* Creates a VM with user_size bytes of user memory (a multiple of 2 MiB) and
 * the system region: page tables, GDT, IDT, shim. Returns VM_OK or the
 * reason, with errno set for VM_EKVM. */
enum vm_error vm_create(struct vm *vm, uint64_t user_size);
/* The same on the memory image of a snapshot: [off, off + user_size +
 * sys_size) of fd, mapped copy-on-write, system region included (nothing
 * is written to it). */
enum vm_error vm_create_from(struct vm *vm, uint64_t user_size, int fd,
			     uint64_t off);
void vm_destroy(struct vm *vm);
/* Registers with KVM every chunk of user memory that [gpa, gpa + len)
 * touches. Returns 0 or -ENOMEM. */
int vm_mem_ensure(struct vm *vm, uint64_t gpa, uint64_t len);
/* Why there is no /dev/kvm, and the fix, from the KVM modules loaded
 * (the dir /sys/module) and the CPU's flags (the file /proc/cpuinfo): a VM
 * without nested virtualization needs it turned on at its host, a
 * machine with VT-x or AMD-V the module loaded. */
const char *vm_enokvm_hint(const char *modules, const char *cpuinfo);

/* shim.c: the ABI version in a shim's trailer (its last 16 bytes:
 * "MOTE-ABI" and the version), or -1 if it has none; vm_shim_check dies
 * unless the built-in shim's is MOTE_ABI_VERSION. */
int64_t vm_shim_abi(const uint8_t *blob, size_t len);
void vm_shim_check(void);
/* A one-line explanation with the fix, for vm_create's error. */
const char *vm_strerror(enum vm_error e);
/* Prints the one line for e (with errno's text for VM_EKVM). */
void vm_error_msg(enum vm_error e);

/* Whether /dev/kvm is kvm_pvm, whose guests run CPUID at CPL 3 natively
 * (they see the host's CPUID, not the VM's table). */
bool vm_kvm_is_pvm(void);

/* What KVM_GET_SUPPORTED_CPUID says (cached per boot, see cpuid.c), or
 * NULL. The caller frees it. */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd);

/* Creates vCPU `id` in long mode, CPL 3, about to run `rip` with `rsp`. */
int vcpu_create(struct vm *vm, struct vcpu *c, int id, uint64_t rip,
		uint64_t rsp);

/* Everything of a vCPU a copy needs: for fork (and snapshots). */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t tsc;
	struct kvm_xsave xsave; /* last: newer headers end it with a
				   flexible array */
};
/* Runs the vCPU until its next exit, a kick (vcpu_kick, or a host signal)
 * or a host fault, and says which (see vm/exit.h). A kick that comes
 * while the monitor serves the exit ends the next run at once. */
struct vcpu_exit vcpu_run(struct vcpu *c);
/* KVM_RUN once, unclassified (the plain VM of mote boot classifies its own
 * exits): 0 or its errno. Not kvm_ioctl, whose retry would lose the EINTR
 * of a kick; immediate_exit is cleared after. */
int vcpu_run_raw(struct vcpu *c);
/* Prints why exit x of c is an internal error (an exit mote does not
 * serve, a failed run), and c's registers. */
void vcpu_report(struct vcpu *c, const struct vcpu_exit *x);
/* Makes the vCPU's next KVM_RUN (or the one it is in, with the signal
 * that interrupts it) return at once. Async-signal-safe; c may have no
 * vCPU yet. */
static inline void vcpu_kick(struct vcpu *c)
{
	if (c->run)
		c->run->immediate_exit = 1;
}

/* The checked and raw KVM calls on a live vCPU. A host failure that must
 * not happen (reading the registers or the FPU of a vCPU stopped in an
 * exit) ends mote through vcpu_fatal: it is never passed to the guest as
 * an errno or a signal. The raw vcpu_try_* return -1 with errno where
 * failure is legitimate (a guest's or a snapshot's bad state). */

/* Prints "internal error: what: strerror(err)" and c's registers, and
 * exits with MOTE_EXIT_FAIL. */
noreturn void vcpu_fatal(struct vcpu *c, const char *what, int err);
/* The vCPU's FPU, SSE and AVX state (the XSAVE image). Checked. */
void vcpu_get_fpu(struct vcpu *c, struct kvm_xsave *xs);
/* Loads an XSAVE image: -1 with errno if KVM refuses it (a state the CPU
 * would fault on, as a guest's signal frame may hold). */
int vcpu_try_set_fpu(struct vcpu *c, const struct kvm_xsave *xs);

/* Finishes the port-I/O or MMIO exit c stopped in, without running the
 * guest: hardware KVM completes one (advances RIP past the `out`, stores
 * the data) only on the next KVM_RUN, so registers read before are not
 * the vCPU's state. kvm_pvm completes it before the exit; there this is a
 * no-op KVM_RUN. 0, or -1 with errno if KVM_RUN failed. */
int vcpu_complete_io(struct vcpu *c);
/* Saves a vCPU stopped in an exit, its pending I/O completed first.
 * Checked: a failure is a host fault (vcpu_fatal). */
void vcpu_save(struct vcpu *c, struct vcpu_state *s);
/* Creates vCPU `id` in exactly the saved state. */
int vcpu_create_from(struct vm *vm, struct vcpu *c, int id,
		     const struct vcpu_state *s);
/* Loads a saved state into an existing vCPU (one a finished thread left:
 * KVM cannot destroy vCPUs). Its CPL must not change, so the state must be
 * user mode. */
int vcpu_load(struct vcpu *c, const struct vcpu_state *s);
/* Whether the vCPU, stopped in an exit, is at a point where its user
 * context is known: user mode, or one of the shim's returns to it. */
bool vcpu_at_user_point(const struct vcpu *c);
/* Turns the state vcpu_save took of c at such a point into the user
 * context it returns to (CPL 3, user segments). 0, or -1 elsewhere. */
int vcpu_user_state(const struct vcpu *c, struct vcpu_state *s);
/* The user-mode registers of a vCPU: its own in user mode, those the
 * shim's return it stopped at will load (after vcpu_set_user, say). 0, or
 * -1 (u then holds its registers as they are) elsewhere in the shim. */
int vcpu_user_regs(const struct vcpu *c, struct kvm_regs *u);
/* A vCPU interrupted at one of the shim's returns (a host signal's
 * KVM_RUN that only completed the exit's I/O) is put in user mode as that
 * return would have, so that a signal can be delivered now: on hardware
 * KVM no exit may come before the guest next makes a syscall. 0 (also
 * when already in user mode), or -1 when it is elsewhere in the shim. */
int vcpu_leave_shim(struct vcpu *c);
/* Creates vCPU `id` in a saved user-mode state (a snapshot's): mote's own
 * control registers and segments, the saved user registers (RFLAGS
 * limited to what a user may set), FS and GS bases, XSAVE and TSC. Fails
 * (EINVAL) on a state that is not user mode or has a non-canonical base. */
int vcpu_create_user(struct vm *vm, struct vcpu *c, int id,
		     const struct vcpu_state *s);
/* Sets CS and SS to the user-mode segments. */
void vcpu_user_segments(struct kvm_sregs *s);

/* Replaces the user-mode context of a vCPU stopped in a syscall exit (for
 * execve, signal delivery, sigreturn): every register in `r` takes effect
 * when the vCPU resumes at CPL 3 at r->rip, whichever path the syscall
 * came by. RFLAGS are limited to what a user may set. Checked: the one
 * KVM call it may make (vcpu_complete_io) failing is a host fault. */
void vcpu_set_user(struct vcpu *c, const struct kvm_regs *r);

/* For a VM made by vm_create_from: checks the page tables the image
 * brought (pt_check_user, pool is their high-water mark) and rewrites
 * every part of the system region the guest's CPL-0 view depends on, so
 * that an image can hold nothing but user memory and its mappings.
 * Returns 0, or -1 if the tables map anything else. */
int vm_adopt_image(struct vm *vm, uint64_t pool);

/* For N clones of one snapshot: a memfd holding the image's system region
 * up to its page-table high-water mark `pool` (fd at off is the image),
 * checked and rewritten as vm_adopt_image would, or -1 (errno, or a
 * damaged image). Made once, before the clones fork. */
int vm_sys_share_make(uint64_t user_size, int fd, uint64_t off, uint64_t pool);
/* Instead of vm_adopt_image in a clone: maps that memfd's pages over the
 * system region, shared with the other clones; pt.c gives this VM its own
 * copy of a page before it first writes one. Every clone walks the same
 * tables, and a walk with NPT/EPT writes (as far as copy-on-write is
 * concerned) each table page it reads: private tables cost every clone a
 * copy of each. 0, or -1 with errno. */
int vm_sys_share(struct vm *vm, int mfd, uint64_t pool);

/* Drops every user mapping from the page tables (execve) and makes KVM
 * forget its shadows of them; the caller replaces the memory behind them
 * and flushes the vCPU. Returns 0, or -1 if KVM refused (errno). */
int vm_reset_user(struct vm *vm);

/* In a child of fork(): makes a new VM on the inherited memory, with the
 * same slots. The parent's vCPUs must be closed by the caller. */
int vm_refork(struct vm *vm);
void vcpu_destroy(struct vcpu *c);

/* ioctl on a KVM fd, repeated while a host signal interrupts it (a
 * SIGSTOP/SIGCONT pair or a SIGCHLD while a forked child builds its VM).
 * Not for KVM_RUN, whose EINTR is the kick (vcpu_run). */
int kvm_ioctl(int fd, unsigned long req, void *arg);

/* The registers of a vCPU stopped in an exit, through KVM_CAP_SYNC_REGS. */
static inline struct kvm_regs *vcpu_regs(struct vcpu *c)
{
	return &c->run->s.regs.regs;
}
static inline struct kvm_sregs *vcpu_sregs(struct vcpu *c)
{
	return &c->run->s.regs.sregs;
}
/* Marks the register sets the monitor changed so KVM_RUN loads them. */
static inline void vcpu_regs_dirty(struct vcpu *c)
{
	c->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}
static inline void vcpu_sregs_dirty(struct vcpu *c)
{
	c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
}

/* Sets FS or GS base of the vCPU (arch_prctl). */
void vcpu_set_fs(struct vcpu *c, uint64_t base);
void vcpu_set_gs(struct vcpu *c, uint64_t base);
/* Makes the vCPU drop stale translations after the page tables changed. */
void vcpu_flush_tlb(struct vcpu *c);

/* Prints the registers of a vCPU to stderr, for internal-error reports. */
void vcpu_dump(struct vcpu *c);

#include "vm/gmem.h"

#endif
