/* Classification of KVM exits: a pure function over the exit record, so it
 * can be tested and fuzzed without KVM. */
#ifndef MOTE_VM_EXIT_H
#define MOTE_VM_EXIT_H

#include <linux/kvm.h>
#include <stdbool.h>
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
	VMX_EFAULT,	  /* KVM_RUN found no host page behind guest memory */
	VMX_RUN_FAILED,	  /* KVM_RUN failed otherwise: a host fault */
	VMX_NR,
};

/* What one KVM_RUN came back with (vcpu_run). */
struct vcpu_exit {
	enum vm_exit class;
	unsigned cpl;	  /* the vCPU's privilege level (CS.RPL) */
	unsigned reason;  /* KVM's exit_reason, when err is 0 */
	int err;	  /* errno of a failed KVM_RUN, or 0 */
	unsigned efaults; /* VMX_EFAULT in a row, this one included */
};

/* `cpl` is the privilege level the vCPU was at (CS.RPL of the sync'd
 * sregs): only CPL 0 (the shim) may make hypercalls. `doorbell_gpa` is the
 * syscall doorbell's guest-physical address, or 0 if the VM has none: a
 * one-byte write there is a syscall (see vm/layout.h). */
enum vm_exit vm_exit_classify(const struct kvm_run *run, unsigned cpl,
			      uint64_t doorbell_gpa);
/* The exit of one KVM_RUN: `err` is 0 if it returned 0, else its errno
 * (EINTR and EAGAIN are a kick, EFAULT a missing host page); `run` holds
 * the exit record and the sync'd registers. Pure, like vm_exit_classify;
 * efaults is left 0 for vcpu_run to count. */
struct vcpu_exit vm_exit_of(int err, const struct kvm_run *run,
			    uint64_t doorbell_gpa);

/* An exit handler: ctx is the caller's (the thread of the vCPU). Returns
 * whether the vCPU is at a point where signals may be delivered. */
typedef bool vm_exit_handler(void *ctx, const struct vcpu_exit *x);
/* Calls the handler of x's class, or table[VMX_UNEXPECTED] for a class
 * out of range or without one. */
bool vm_exit_dispatch(vm_exit_handler *const table[VMX_NR], void *ctx,
		      const struct vcpu_exit *x);

const char *vm_exit_name(enum vm_exit e);
/* The name of a KVM_EXIT_* reason, for reports. */
const char *kvm_exit_reason_name(unsigned reason);

#endif
