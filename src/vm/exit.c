/* Classification of KVM exits. */
#include "vm/exit.h"

#include <errno.h>

#include "mote/abi.h"
#include "util.h"

#define PAGE_MASK_4K (~0xfffULL)

enum vm_exit vm_exit_classify(const struct kvm_run *run, unsigned cpl,
			      uint64_t doorbell_gpa)
{
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		if (!doorbell_gpa ||
		    (run->mmio.phys_addr & PAGE_MASK_4K) != doorbell_gpa)
			return VMX_UNEXPECTED;
		if (!run->mmio.is_write || run->mmio.len != 1 ||
		    run->mmio.phys_addr != doorbell_gpa)
			return VMX_BAD_DOORBELL;
		return VMX_SYSCALL;
	case KVM_EXIT_IO:
		if (cpl != 0 || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.size != 1 || run->io.count != 1)
			return VMX_BAD_IO;
		switch (run->io.port) {
		case MOTE_PORT_SYSCALL: return VMX_SYSCALL;
		case MOTE_PORT_EXCEPTION: return VMX_EXCEPTION;
		case MOTE_PORT_HYPERCALL: return VMX_HYPERCALL;
		}
		return VMX_BAD_IO;
	case KVM_EXIT_INTR: return VMX_INTR;
	case KVM_EXIT_SHUTDOWN: return VMX_SHUTDOWN;
	}
	return VMX_UNEXPECTED;
}

struct vcpu_exit vm_exit_of(int err, const struct kvm_run *run,
			    uint64_t doorbell_gpa)
{
	struct vcpu_exit x = {.cpl = run->s.regs.sregs.cs.selector & 3,
			      .reason = run->exit_reason,
			      .err = err};
	if (!err)
		x.class = vm_exit_classify(run, x.cpl, doorbell_gpa);
	else if (err == EINTR || err == EAGAIN)
		x.class = VMX_INTR;
	else if (err == EFAULT)
		x.class = VMX_EFAULT;
	else
		x.class = VMX_RUN_FAILED;
	return x;
}

bool vm_exit_dispatch(vm_exit_handler *const table[VMX_NR], void *ctx,
		      const struct vcpu_exit *x)
{
	vm_exit_handler *h =
		(unsigned)x->class < VMX_NR ? table[x->class] : NULL;
	return (h ? h : table[VMX_UNEXPECTED])(ctx, x);
}

static const char *const names[] = {
	[VMX_SYSCALL] = "syscall",
	[VMX_EXCEPTION] = "exception",
	[VMX_HYPERCALL] = "native hypercall (none is defined)",
	[VMX_INTR] = "interrupted",
	[VMX_SHUTDOWN] = "shutdown (triple fault)",
	[VMX_BAD_IO] = "bad port I/O",
	[VMX_BAD_DOORBELL] = "bad access to the syscall doorbell",
	[VMX_UNEXPECTED] = "unexpected exit",
	[VMX_EFAULT] = "no host page behind guest memory",
	[VMX_RUN_FAILED] = "KVM_RUN failed",
};
_Static_assert(ARRAY_SIZE(names) == VMX_NR, "exit names");

const char *vm_exit_name(enum vm_exit e)
{
	return (unsigned)e < VMX_NR ? names[e] : "?";
}

static const char *const reasons[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_S390_SIEIC] = "S390_SIEIC",
	[KVM_EXIT_S390_RESET] = "S390_RESET",
	[KVM_EXIT_DCR] = "DCR",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
};

const char *kvm_exit_reason_name(unsigned reason)
{
	if (reason < ARRAY_SIZE(reasons) && reasons[reason])
		return reasons[reason];
	return "OTHER";
}
