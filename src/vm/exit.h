/* Classification of KVM exits: a pure function over the exit record, so it
 * can be tested and fuzzed without KVM. */
#ifndef MOTE_VM_EXIT_H
#define MOTE_VM_EXIT_H

#include <linux/kvm.h>
#include <stdint.h>

enum vm_exit {
	VMX_SYSCALL,   /* the shim forwarded a Linux syscall */
	VMX_EXCEPTION, /* the shim took an exception */
	VMX_HYPERCALL, /* a native guest's hypercall */
	VMX_INTR,      /* KVM_RUN was interrupted (signal, kick) */
	VMX_SHUTDOWN,  /* triple fault */
	VMX_BAD_IO,    /* port I/O the ABI does not define, or not from CPL 0 */
	VMX_BAD_DOORBELL, /* the guest read the doorbell or wrote it oddly */
	VMX_UNEXPECTED,	  /* anything else: an internal error */
	VMX_NR,
};

/* `cpl` is the privilege level the vCPU was at (CS.RPL of the sync'd
 * sregs): only CPL 0 (the shim) may make hypercalls. `doorbell_gpa` is the
 * syscall doorbell's guest-physical address, or 0 if the VM has none: a
 * one-byte write there is a syscall (see vm/layout.h). */
enum vm_exit vm_exit_classify(const struct kvm_run *run, unsigned cpl,
			      uint64_t doorbell_gpa);
const char *vm_exit_name(enum vm_exit e);
/* The name of a KVM_EXIT_* reason, for reports. */
const char *kvm_exit_reason_name(unsigned reason);

#endif
