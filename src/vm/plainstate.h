/* A plain VM's state for mote boot's snapshots (docs/boot.md,
 * "Snapshots"): every vCPU's architectural state as KVM holds it, the
 * in-kernel irqchip and PIT and kvmclock; read from a held VM, written
 * into a new one made on the snapshot's memory, and framed as records of
 * the state stream (stream.h), checked as they are read. */
#ifndef MOTE_VM_PLAINSTATE_H
#define MOTE_VM_PLAINSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "stream.h"
#include "vm/vm.h"

#define PLAIN_TAG_CPU STREAM_TAG('B', 'C', 'P', 'U')
#define PLAIN_TAG_VM  STREAM_TAG('B', 'V', 'M', ' ')

/* The MSRs a vCPU's state holds at most (KVM's index list is about 100
 * on the kernels tried). */
#define PLAIN_MSRS_MAX 512

/* Which MSRs are saved: KVM_GET_MSR_INDEX_LIST less those this KVM will
 * not read on this VM's vCPUs (features the guest is not shown). Made
 * once, before the sandbox, from vCPU c. */
struct plain_msrs {
	bool ok; /* listed: a snapshot may be taken */
	unsigned n;
	uint32_t idx[PLAIN_MSRS_MAX];
};
/* 0, or -1 with errno (E2BIG: more than PLAIN_MSRS_MAX), ok then false:
 * the guest runs, its snapshots fail with a reason. */
int plain_msrs_probe(struct vcpu *c, struct plain_msrs *m);

/* One vCPU: everything KVM_SET_* takes back. */
struct plain_cpu {
	uint32_t id;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[PLAIN_MSRS_MAX];
	struct kvm_xsave xsave; /* last: newer headers end it with a
				   flexible array */
};

/* The VM's own: PIC master, slave and IOAPIC, the PIT, kvmclock. */
struct plain_vmstate {
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* Reads vCPU c, held out of KVM_RUN with its last exit completed (the
 * caller's job), the MSRs of m included. 0, or -1 with what failed in
 * err. */
int plain_cpu_save(struct vcpu *c, const struct plain_msrs *m,
		   struct plain_cpu *s, char *err, size_t errlen);
/* Sets s into c, a vCPU just made (vm_plain_vcpu) in a VM whose irqchip
 * is set: special registers (the APIC base among them) before the LAPIC,
 * the LAPIC before the MSRs (the TSC deadline needs its timer mode),
 * the events last. 0, or -1 with the call KVM refused in err. */
int plain_cpu_load(struct vcpu *c, const struct plain_cpu *s, char *err,
		   size_t errlen);
/* The VM's state, its vCPUs held. 0 or -1 (err). */
int plain_vm_save(struct vm *vm, struct plain_vmstate *s, char *err,
		  size_t errlen);
/* The irqchip and the PIT, before the vCPUs' state. 0 or -1 (err). */
int plain_vm_load_chips(struct vm *vm, const struct plain_vmstate *s, char *err,
			size_t errlen);
/* kvmclock, after the vCPUs' state. 0 or -1 (err). */
int plain_vm_load_clock(struct vm *vm, const struct plain_vmstate *s, char *err,
			size_t errlen);

/* The records: one BCPU per vCPU, one BVM. The readers check what they
 * can without KVM (the id below ncpus, the MSR count within bounds, the
 * irqchip ids in order) and return false on a malformed record. */
void plain_cpu_write(struct wbuf *w, const struct plain_cpu *s);
bool plain_cpu_read(struct rbuf *r, unsigned ncpus, struct plain_cpu *s);
void plain_vm_write(struct wbuf *w, const struct plain_vmstate *s);
bool plain_vm_read(struct rbuf *r, struct plain_vmstate *s);

#endif
