/* A plain VM's state for mote boot's snapshots (plainstate.h): the KVM
 * calls that read and set it, in the order KVM needs, and its records. */
#define _GNU_SOURCE
#include "vm/plainstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* KVM_GET_MSRS or KVM_SET_MSRS of n entries at e: how many KVM took. */
static int msrs_io(struct vcpu *c, unsigned long req, struct kvm_msr_entry *e,
		   uint32_t n)
{
	size_t sz = sizeof(struct kvm_msrs) + n * sizeof(*e);
	struct kvm_msrs *m = calloc(1, sz);
	if (!m)
		return -1;
	m->nmsrs = n;
	memcpy(m->entries, e, n * sizeof(*e));
	int r = kvm_ioctl(c->fd, req, m);
	if (r > 0)
		memcpy(e, m->entries, (size_t)r * sizeof(*e));
	free(m);
	return r;
}

int plain_msrs_probe(struct vcpu *c, struct plain_msrs *m)
{
	m->n = 0;
	m->ok = false;
	/* nmsrs 0 first: KVM says how many there are (E2BIG). */
	struct kvm_msr_list head = {0};
	if (kvm_ioctl(c->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &head) == 0 ||
	    errno != E2BIG)
		return -1;
	struct kvm_msr_list *l =
		calloc(1, sizeof(*l) + head.nmsrs * sizeof(uint32_t));
	if (!l)
		return -1;
	l->nmsrs = head.nmsrs;
	int r = kvm_ioctl(c->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l);
	/* One at a time: KVM_GET_MSRS stops at the first it refuses. */
	for (uint32_t i = 0; r == 0 && i < l->nmsrs; i++) {
		struct kvm_msr_entry e = {.index = l->indices[i]};
		if (msrs_io(c, KVM_GET_MSRS, &e, 1) != 1)
			continue;
		if (m->n == PLAIN_MSRS_MAX) {
			errno = E2BIG;
			r = -1;
		} else {
			m->idx[m->n++] = l->indices[i];
		}
	}
	free(l);
	m->ok = r == 0;
	return r;
}

/* One vCPU ioctl, its name in err if it fails. */
static int cpu_io(struct vcpu *c, unsigned long req, void *arg,
		  const char *name, char *err, size_t errlen)
{
	if (kvm_ioctl(c->fd, req, arg) >= 0)
		return 0;
	snprintf(err, errlen, "%s of vCPU %d: %s", name, c->id,
		 strerror(errno));
	return -1;
}

#define CPU_IO(c, req, arg) cpu_io(c, req, arg, #req, err, errlen)

int plain_cpu_save(struct vcpu *c, const struct plain_msrs *m,
		   struct plain_cpu *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->id = (uint32_t)c->id;
	if (!m->ok) {
		snprintf(err, errlen,
			 "this KVM's MSRs could not be listed at start, or "
			 "are more than %d",
			 PLAIN_MSRS_MAX);
		return -1;
	}
	if (CPU_IO(c, KVM_GET_REGS, &s->regs) ||
	    CPU_IO(c, KVM_GET_SREGS, &s->sregs) ||
	    CPU_IO(c, KVM_GET_XSAVE, &s->xsave) ||
	    CPU_IO(c, KVM_GET_XCRS, &s->xcrs) ||
	    CPU_IO(c, KVM_GET_LAPIC, &s->lapic) ||
	    CPU_IO(c, KVM_GET_MP_STATE, &s->mp) ||
	    CPU_IO(c, KVM_GET_VCPU_EVENTS, &s->events) ||
	    CPU_IO(c, KVM_GET_DEBUGREGS, &s->dregs))
		return -1;
	for (unsigned i = 0; i < m->n; i++)
		s->msrs[i].index = m->idx[i];
	s->nmsrs = m->n;
	int r = msrs_io(c, KVM_GET_MSRS, s->msrs, s->nmsrs);
	if (r != (int)s->nmsrs) {
		snprintf(err, errlen, "KVM_GET_MSRS of vCPU %d: %s", c->id,
			 r < 0 ? strerror(errno) : "an MSR it read before");
		return -1;
	}
	return 0;
}

int plain_cpu_load(struct vcpu *c, const struct plain_cpu *s, char *err,
		   size_t errlen)
{
	/* KVM_SET_* take const data but are declared on void *. */
	struct plain_cpu *w = (struct plain_cpu *)s;
	if (CPU_IO(c, KVM_SET_SREGS, &w->sregs) ||
	    CPU_IO(c, KVM_SET_REGS, &w->regs) ||
	    CPU_IO(c, KVM_SET_XCRS, &w->xcrs) ||
	    CPU_IO(c, KVM_SET_XSAVE, &w->xsave) ||
	    CPU_IO(c, KVM_SET_LAPIC, &w->lapic))
		return -1;
	int r = msrs_io(c, KVM_SET_MSRS, w->msrs, s->nmsrs);
	if (r != (int)s->nmsrs) {
		snprintf(err, errlen, "KVM_SET_MSRS of vCPU %d: %s %#x", c->id,
			 r < 0 ? strerror(errno) : "refused MSR",
			 r >= 0 ? s->msrs[r].index : 0);
		return -1;
	}
	return CPU_IO(c, KVM_SET_MP_STATE, &w->mp) ||
			       CPU_IO(c, KVM_SET_DEBUGREGS, &w->dregs) ||
			       CPU_IO(c, KVM_SET_VCPU_EVENTS, &w->events)
		       ? -1
		       : 0;
}

/* One VM ioctl, its name in err if it fails. */
static int vm_io(struct vm *vm, unsigned long req, void *arg, const char *name,
		 char *err, size_t errlen)
{
	if (kvm_ioctl(vm->vm_fd, req, arg) >= 0)
		return 0;
	snprintf(err, errlen, "%s: %s", name, strerror(errno));
	return -1;
}

#define VM_IO(vm, req, arg) vm_io(vm, req, arg, #req, err, errlen)

int plain_vm_save(struct vm *vm, struct plain_vmstate *s, char *err,
		  size_t errlen)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < 3; i++) {
		s->chip[i].chip_id = i;
		if (VM_IO(vm, KVM_GET_IRQCHIP, &s->chip[i]))
			return -1;
	}
	return VM_IO(vm, KVM_GET_PIT2, &s->pit) ||
			       VM_IO(vm, KVM_GET_CLOCK, &s->clock)
		       ? -1
		       : 0;
}

int plain_vm_load_chips(struct vm *vm, const struct plain_vmstate *s, char *err,
			size_t errlen)
{
	struct plain_vmstate *w = (struct plain_vmstate *)s;
	for (unsigned i = 0; i < 3; i++)
		if (VM_IO(vm, KVM_SET_IRQCHIP, &w->chip[i]))
			return -1;
	return VM_IO(vm, KVM_SET_PIT2, &w->pit);
}

int plain_vm_load_clock(struct vm *vm, const struct plain_vmstate *s, char *err,
			size_t errlen)
{
	/* The clock alone: the guest's time goes on from the snapshot's
	 * (flags such as KVM_CLOCK_TSC_STABLE are KVM's to say, not to
	 * set). */
	struct kvm_clock_data c = {.clock = s->clock.clock};
	return VM_IO(vm, KVM_SET_CLOCK, &c);
}

/* ---- records ---- */

void plain_cpu_write(struct wbuf *w, const struct plain_cpu *s)
{
	size_t mark = w_rec_begin(w, PLAIN_TAG_CPU);
	W(w, s->id);
	W(w, s->regs);
	W(w, s->sregs);
	W(w, s->xcrs);
	W(w, s->lapic);
	W(w, s->mp);
	W(w, s->events);
	W(w, s->dregs);
	W(w, s->nmsrs);
	w_bytes(w, s->msrs, s->nmsrs * sizeof(s->msrs[0]));
	w_bytes(w, &s->xsave, sizeof(struct kvm_xsave));
	w_rec_end(w, mark);
}

bool plain_cpu_read(struct rbuf *r, unsigned ncpus, struct plain_cpu *s)
{
	struct rbuf b;
	if (!r_rec(r, PLAIN_TAG_CPU, &b))
		return false;
	R(&b, s->id);
	R(&b, s->regs);
	R(&b, s->sregs);
	R(&b, s->xcrs);
	R(&b, s->lapic);
	R(&b, s->mp);
	R(&b, s->events);
	R(&b, s->dregs);
	R(&b, s->nmsrs);
	if (s->id >= ncpus || s->nmsrs > PLAIN_MSRS_MAX ||
	    s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return false;
	r_bytes(&b, s->msrs, s->nmsrs * sizeof(s->msrs[0]));
	r_bytes(&b, &s->xsave, sizeof(struct kvm_xsave));
	return r_done(&b);
}

void plain_vm_write(struct wbuf *w, const struct plain_vmstate *s)
{
	size_t mark = w_rec_begin(w, PLAIN_TAG_VM);
	W(w, s->chip);
	W(w, s->pit);
	W(w, s->clock);
	w_rec_end(w, mark);
}

bool plain_vm_read(struct rbuf *r, struct plain_vmstate *s)
{
	struct rbuf b;
	if (!r_rec(r, PLAIN_TAG_VM, &b))
		return false;
	R(&b, s->chip);
	R(&b, s->pit);
	R(&b, s->clock);
	for (uint32_t i = 0; i < 3; i++)
		if (s->chip[i].chip_id != i)
			return false;
	return r_done(&b);
}
