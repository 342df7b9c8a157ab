/* vCPUs: creation in long mode, the run, their registers and FPU state,
 * save and load for fork, threads and snapshots. */
#define _GNU_SOURCE
#include "vm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/shim.h"
#include "util.h"
#include "vm/exit.h"
#include "vm/layout.h"

#define CR0_PE	       (1ULL << 0)
#define CR0_MP	       (1ULL << 1)
#define CR0_ET	       (1ULL << 4)
#define CR0_NE	       (1ULL << 5)
#define CR0_WP	       (1ULL << 16)
#define CR0_AM	       (1ULL << 18)
#define CR0_PG	       (1ULL << 31)
#define CR4_PAE	       (1ULL << 5)
#define CR4_OSFXSR     (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_UMIP       (1ULL << 11)
#define CR4_FSGSBASE   (1ULL << 16)
#define CR4_OSXSAVE    (1ULL << 18)
#define CR4_SMEP       (1ULL << 20)
#define CR4_SMAP       (1ULL << 21)
#define CR3_PWT	       (1ULL << 3)
#define EFER_SCE       (1ULL << 0)
#define EFER_LME       (1ULL << 8)
#define EFER_LMA       (1ULL << 10)
#define EFER_NXE       (1ULL << 11)

#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_SFMASK	   0xc0000084
#define MSR_FS_BASE	   0xc0000100
#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_PAT		   0x277
#define MSR_IA32_TSC	   0x10

/* RFLAGS bits cleared on syscall entry: TF, IF, DF, AC, NT like Linux. */
#define SFMASK_BITS 0x47700ULL

/* The vCPU's page in the system region: its TSS, and its supervisor stack
 * growing down from the end of the page. Filled when the vCPU is created,
 * so a VM touches one such page per vCPU it uses. */
static void setup_tss(struct vm *vm, int id)
{
	uint8_t *page = vm->mem + vm->user_size + SYS_VCPU + id * PAGE_SIZE;
	uint64_t top = SYS_GVA + SYS_VCPU + (uint64_t)(id + 1) * PAGE_SIZE;
	memcpy(page + 4, &top, 8);  /* RSP0 */
	memcpy(page + 36, &top, 8); /* IST1 */
	uint16_t iomap = 104;	    /* I/O bitmap beyond the limit: none */
	memcpy(page + 102, &iomap, 2);
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->dpl = sel & 3;
	s->s = 1;
	s->l = code;
	s->db = !code;
	s->g = 1;
}

static void setup_sregs(struct vcpu *c, struct kvm_sregs *s)
{
	struct vm *vm = c->vm;
	seg(&s->cs, SEL_UCODE, 11, true);
	seg(&s->ss, SEL_UDATA, 3, false);
	seg(&s->ds, SEL_UDATA, 3, false);
	seg(&s->es, SEL_UDATA, 3, false);
	seg(&s->fs, SEL_UDATA, 3, false);
	seg(&s->gs, SEL_UDATA, 3, false);
	memset(&s->tr, 0, sizeof(s->tr));
	s->tr.selector = SEL_TSS;
	s->tr.base = SYS_GVA + SYS_VCPU + (uint64_t)c->id * PAGE_SIZE;
	s->tr.limit = 103;
	s->tr.type = 11; /* busy 64-bit TSS */
	s->tr.present = 1;
	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.type = 2;
	s->ldt.unusable = 1;
	s->gdt.base = SYS_GVA + SYS_GDT;
	s->gdt.limit = GDT_ENTRIES * 8 - 1;
	s->idt.base = SYS_GVA + SYS_IDT;
	s->idt.limit = SHIM_VECTORS * 16 - 1;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s->cr3 = vm->pt.sys_gpa + SYS_PML4;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
	/* KVM_SET_SREGS refuses a CR4 bit the guest's CPUID lacks: UMIP is
	 * missing on AMD before Zen 2 (Intel's KVM emulates it). */
	if (vm->umip)
		s->cr4 |= CR4_UMIP;
	if (vm->fsgsbase)
		s->cr4 |= CR4_FSGSBASE;
	if (vm->smep)
		s->cr4 |= CR4_SMEP;
	if (vm->smap)
		s->cr4 |= CR4_SMAP;
	s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

static int setup_msrs(struct vcpu *c)
{
	static const uint32_t idx[] = {
		MSR_STAR,    MSR_LSTAR,	  MSR_CSTAR,	      MSR_SFMASK,
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_PAT};
	union {
		struct kvm_msrs h;
		uint8_t buf[sizeof(struct kvm_msrs) +
			    ARRAY_SIZE(idx) * sizeof(struct kvm_msr_entry)];
	} m = {0};
	uint64_t lstar = c->vm->doorbell
				 ? TRAMP_GVA
				 : SYS_GVA + SYS_SHIM + SHIM_OFF_SYSCALL;
	const uint64_t val[ARRAY_SIZE(idx)] = {
		((uint64_t)(SEL_UCODE32 & ~3) << 48) |
			((uint64_t)SEL_KCODE << 32),
		lstar, lstar,
		/* The trampoline runs at CPL 3 and jumps straight back: RFLAGS
		 * must come through unmasked. */
		c->vm->doorbell ? 0 : SFMASK_BITS, 0, 0, 0,
		0x0007040600070406ULL, /* the power-on PAT */
	};
	/* SYSRET to 64-bit code takes CS = STAR[63:48] + 16, SS = + 8, with
	 * RPL 3: 0x20 + 16 = 0x30 | 3 = SEL_UCODE, 0x28 | 3 = SEL_UDATA. */
	_Static_assert(((SEL_UCODE32 & ~3) + 16 + 3) == SEL_UCODE, "STAR");
	_Static_assert(((SEL_UCODE32 & ~3) + 8 + 3) == SEL_UDATA, "STAR");
	m.h.nmsrs = ARRAY_SIZE(idx);
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
		m.h.entries[i].index = idx[i];
		m.h.entries[i].data = val[i];
	}
	return kvm_ioctl(c->fd, KVM_SET_MSRS, &m) == (int)ARRAY_SIZE(idx) ? 0
									  : -1;
}

/* Creates the vCPU and what every vCPU needs: CPUID, the syscall MSRs,
 * XCR0. Registers are left to the caller, through the sync area. */
static int vcpu_open(struct vm *vm, struct vcpu *c, int id)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->id = id;
	c->fd = -1;
	if (id < 0 || id >= SYS_MAX_VCPUS) {
		errno = EINVAL;
		return -1;
	}
	setup_tss(vm, id);
	c->fd = fd_high(
		kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(long)id));
	if (c->fd < 0)
		return -1;
	c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, 0);
	if (c->run == MAP_FAILED)
		goto err_close;
	struct kvm_xcrs xcrs = {.nr_xcrs = 1};
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = vm->xcr0;
	if (kvm_ioctl(c->fd, KVM_SET_CPUID2, (void *)vm->cpuid) < 0 ||
	    setup_msrs(c) < 0 || kvm_ioctl(c->fd, KVM_SET_XCRS, &xcrs) < 0 ||
	    kvm_ioctl(c->fd, KVM_GET_SREGS, (void *)vcpu_sregs(c)) < 0)
		goto err_unmap;
	c->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;

err_unmap:
	munmap(c->run, vm->run_size);
err_close:
	close(c->fd);
	c->fd = -1;
	return -1;
}

int vcpu_create(struct vm *vm, struct vcpu *c, int id, uint64_t rip,
		uint64_t rsp)
{
	if (vcpu_open(vm, c, id) < 0)
		return -1;
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	if (kvm_ioctl(c->fd, KVM_SET_FPU, &fpu) < 0) {
		vcpu_destroy(c);
		return -1;
	}
	/* The first KVM_RUN loads these from the sync area. */
	setup_sregs(c, vcpu_sregs(c));
	*vcpu_regs(c) =
		(struct kvm_regs){.rip = rip, .rsp = rsp, .rflags = 0x202};
	c->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

/* KVM_GET_MSRS or KVM_SET_MSRS of one MSR. */
static int msr_io(struct vcpu *c, unsigned long req, uint32_t idx,
		  uint64_t *val)
{
	union {
		struct kvm_msrs h;
		uint8_t buf[sizeof(struct kvm_msrs) +
			    sizeof(struct kvm_msr_entry)];
	} m = {0};
	m.h.nmsrs = 1;
	m.h.entries[0].index = idx;
	m.h.entries[0].data = *val;
	if (kvm_ioctl(c->fd, req, &m) != 1)
		return -1;
	*val = m.h.entries[0].data;
	return 0;
}

/* immediate_exit is cleared after KVM_RUN: a kick that came before has
 * ended this run, one that comes from now on (while the monitor serves
 * the exit) ends the next. */
int vcpu_run_raw(struct vcpu *c)
{
	int err = ioctl(c->fd, KVM_RUN, 0) < 0 ? errno : 0;
	c->run->immediate_exit = 0;
	return err;
}

struct vcpu_exit vcpu_run(struct vcpu *c)
{
	int err = vcpu_run_raw(c);
	/* c->run is read again: a fork's child runs on a new vCPU. */
	struct vcpu_exit x = vm_exit_of(err, c->run, c->vm->doorbell_gpa);
	c->efaults = x.class == VMX_EFAULT ? c->efaults + 1 : 0;
	x.efaults = c->efaults;
	return x;
}

void vcpu_report(struct vcpu *c, const struct vcpu_exit *x)
{
	if (x->class == VMX_RUN_FAILED)
		msg("internal error: KVM_RUN: %s", strerror(x->err));
	else
		msg("internal error: %s (exit reason %s); vCPU %d registers:",
		    vm_exit_name(x->class), kvm_exit_reason_name(x->reason),
		    c->id);
	vcpu_dump(c);
}

noreturn void vcpu_fatal(struct vcpu *c, const char *what, int err)
{
	msg("internal error: %s: %s; vCPU %d registers:", what, strerror(err),
	    c->id);
	vcpu_dump(c);
	exit(MOTE_EXIT_FAIL);
}

void vcpu_get_fpu(struct vcpu *c, struct kvm_xsave *xs)
{
	if (kvm_ioctl(c->fd, KVM_GET_XSAVE, xs) < 0)
		vcpu_fatal(c, "KVM_GET_XSAVE", errno);
}

int vcpu_try_set_fpu(struct vcpu *c, const struct kvm_xsave *xs)
{
	return kvm_ioctl(c->fd, KVM_SET_XSAVE, (void *)xs);
}

int vcpu_complete_io(struct vcpu *c)
{
	unsigned why = c->run->exit_reason;
	if (why != KVM_EXIT_IO && why != KVM_EXIT_MMIO)
		return 0;
	c->run->immediate_exit = 1;
	int err = vcpu_run_raw(c);
	if (err != EINTR) {
		errno = err ? err : EIO;
		return -1;
	}
	/* KVM leaves the reason as it was: say the exit is finished, so that
	 * nothing finishes it a second time. */
	c->run->exit_reason = KVM_EXIT_INTR;
	return 0;
}

void vcpu_save(struct vcpu *c, struct vcpu_state *s)
{
	if (vcpu_complete_io(c) < 0)
		vcpu_fatal(c, "KVM_RUN to complete an exit", errno);
	s->regs = *vcpu_regs(c);
	s->sregs = *vcpu_sregs(c);
	s->tsc = 0;
	vcpu_get_fpu(c, &s->xsave);
	if (msr_io(c, KVM_GET_MSRS, MSR_IA32_TSC, &s->tsc) < 0)
		vcpu_fatal(c, "KVM_GET_MSRS of the TSC", errno);
}

void vcpu_user_segments(struct kvm_sregs *s)
{
	seg(&s->cs, SEL_UCODE, 11, true);
	seg(&s->ss, SEL_UDATA, 3, false);
}

int vcpu_load(struct vcpu *c, const struct vcpu_state *s)
{
	if (vcpu_try_set_fpu(c, &s->xsave) < 0)
		return -1;
	/* Wherever the vCPU stopped (even in the shim), it resumes in user
	 * mode with the saved registers and segment bases. */
	vcpu_sregs(c)->fs.base = s->sregs.fs.base;
	vcpu_sregs(c)->gs.base = s->sregs.gs.base;
	vcpu_sregs_dirty(c);
	c->run->immediate_exit = 0;
	vcpu_set_user(c, &s->regs);
	return 0;
}

int vcpu_create_from(struct vm *vm, struct vcpu *c, int id,
		     const struct vcpu_state *s)
{
	uint64_t tsc = s->tsc;
	if (vcpu_open(vm, c, id) < 0)
		return -1;
	if (vcpu_try_set_fpu(c, &s->xsave) < 0 ||
	    msr_io(c, KVM_SET_MSRS, MSR_IA32_TSC, &tsc) < 0) {
		vcpu_destroy(c);
		return -1;
	}
	struct kvm_sregs sr = s->sregs;
	/* Its own TSS: the one field of the saved state that is per vCPU. */
	sr.tr.base = SYS_GVA + SYS_VCPU + (uint64_t)id * PAGE_SIZE;
	*vcpu_sregs(c) = sr;
	*vcpu_regs(c) = s->regs;
	c->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

bool vcpu_at_user_point(const struct vcpu *c)
{
	const struct kvm_regs *r = &c->run->s.regs.regs;
	uint64_t shim = SYS_GVA + SYS_SHIM;
	return (c->run->s.regs.sregs.cs.selector & 3) == 3 ||
	       r->rip == shim + SHIM_OFF_SYSRET ||
	       r->rip == shim + SHIM_OFF_IRET ||
	       r->rip == shim + SHIM_OFF_EXC_RET;
}

/* The user context a vCPU stopped in the shim returns to: r and s become
 * what its sysretq or iretq would load. 0, or -1 if it is elsewhere. */
static int shim_return(const struct vcpu *c, struct kvm_regs *r,
		       struct kvm_sregs *s)
{
	uint64_t shim = SYS_GVA + SYS_SHIM;
	const uint64_t *f;
	if ((s->cs.selector & 3) == 3) {
		/* Stopped half-way through the doorbell store: it goes on
		 * where the trampoline would have jumped (as a fork child). */
		if (c->vm->doorbell && c->run->exit_reason == KVM_EXIT_MMIO)
			r->rip = r->rcx;
		return 0;
	}
	if (r->rip == shim + SHIM_OFF_SYSRET) {
		r->rip = r->rcx;
		r->rflags = r->r11;
	} else if (r->rip == shim + SHIM_OFF_IRET &&
		   (f = gm_sys(c->vm, r->rsp, 5 * 8))) {
		r->rip = f[0];
		r->rflags = f[2];
		r->rsp = f[3];
	} else if (r->rip == shim + SHIM_OFF_EXC_RET &&
		   (f = gm_sys(c->vm, r->rsp, 7 * 8))) {
		/* struct mote_exc_frame: vector, error, then the CPU's. */
		r->rip = f[2];
		r->rflags = f[4];
		r->rsp = f[5];
	} else {
		return -1;
	}
	vcpu_user_segments(s);
	return 0;
}

int vcpu_user_state(const struct vcpu *c, struct vcpu_state *s)
{
	return shim_return(c, &s->regs, &s->sregs);
}

int vcpu_user_regs(const struct vcpu *c, struct kvm_regs *u)
{
	struct kvm_sregs s = c->run->s.regs.sregs;
	*u = c->run->s.regs.regs;
	return shim_return(c, u, &s);
}

int vcpu_leave_shim(struct vcpu *c)
{
	struct kvm_regs r = *vcpu_regs(c);
	struct kvm_sregs s = *vcpu_sregs(c);
	if ((s.cs.selector & 3) == 3)
		return 0;
	if (shim_return(c, &r, &s) < 0)
		return -1;
	r.rflags = (r.rflags & USER_RFLAGS) | 0x202;
	*vcpu_regs(c) = r;
	*vcpu_sregs(c) = s;
	c->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

int vcpu_create_user(struct vm *vm, struct vcpu *c, int id,
		     const struct vcpu_state *s)
{
	const struct kvm_sregs *sr = &s->sregs;
	if ((sr->cs.selector & 3) != 3 || sr->fs.base >= (1ULL << 47) ||
	    sr->gs.base >= (1ULL << 47)) {
		errno = EINVAL;
		return -1;
	}
	if (vcpu_create(vm, c, id, s->regs.rip, s->regs.rsp) < 0)
		return -1;
	uint64_t tsc = s->tsc;
	if (vcpu_try_set_fpu(c, &s->xsave) < 0 ||
	    msr_io(c, KVM_SET_MSRS, MSR_IA32_TSC, &tsc) < 0) {
		vcpu_destroy(c);
		return -1;
	}
	/* mote's own segments and control registers; the saved state gives
	 * the user registers and the FS and GS bases alone. */
	vcpu_sregs(c)->fs.base = sr->fs.base;
	vcpu_sregs(c)->gs.base = sr->gs.base;
	struct kvm_regs *r = vcpu_regs(c);
	*r = s->regs;
	r->rflags = (s->regs.rflags & USER_RFLAGS) | 0x202;
	return 0;
}

void vcpu_set_user(struct vcpu *c, const struct kvm_regs *want)
{
	struct vm *vm = c->vm;
	/* A doorbell exit leaves KVM half-way through the store; finish it
	 * without running the guest, so that what is set here is not
	 * overwritten by the instruction's completion. (A port-I/O exit
	 * needs no such care: KVM skips the `out` only if RIP is still on
	 * it.) */
	if (vm->doorbell && c->run->exit_reason == KVM_EXIT_MMIO &&
	    vcpu_complete_io(c) < 0)
		vcpu_fatal(c, "KVM_RUN to complete an exit", errno);
	struct kvm_regs *r = vcpu_regs(c);
	*r = *want;
	r->rflags = (want->rflags & USER_RFLAGS) | 0x202;
	if ((vcpu_sregs(c)->cs.selector & 3) == 0) {
		/* In the shim: return to user mode through an iret frame on
		 * this vCPU's supervisor stack, like an exception return. */
		uint64_t top =
			SYS_GVA + SYS_VCPU + (uint64_t)(c->id + 1) * PAGE_SIZE;
		uint64_t *f = gm_sys(vm, top - 5 * 8, 5 * 8);
		f[0] = want->rip;
		f[1] = SEL_UCODE;
		f[2] = r->rflags;
		f[3] = want->rsp;
		f[4] = SEL_UDATA;
		r->rsp = top - 5 * 8;
		r->rip = SYS_GVA + SYS_SHIM + SHIM_OFF_IRET;
		/* The user's flags are for after the iretq (the frame), not
		 * for the iretq itself: in long mode an iretq with NT set is
		 * #GP, TF would single-step it, AC would lift SMAP. */
		r->rflags = 0x2;
	}
	vcpu_regs_dirty(c);
}

void vcpu_destroy(struct vcpu *c)
{
	if (c->fd < 0)
		return;
	munmap(c->run, c->vm->run_size);
	close(c->fd);
	c->fd = -1;
}

void vcpu_set_fs(struct vcpu *c, uint64_t base)
{
	vcpu_sregs(c)->fs.base = base;
	vcpu_sregs_dirty(c);
}

void vcpu_set_gs(struct vcpu *c, uint64_t base)
{
	vcpu_sregs(c)->gs.base = base;
	vcpu_sregs_dirty(c);
}

void vcpu_flush_tlb(struct vcpu *c)
{
	/* KVM_SET_SREGS with an unchanged CR3 flushes nothing, so the PWT
	 * bit (harmless: the PML4 is ordinary write-back memory) alternates
	 * to make it a new CR3, which drops the guest's translations on
	 * EPT/NPT hosts. Shadow-paging KVMs also need the host range
	 * invalidated (see mm.c), since they keep their own copy of the
	 * entries the monitor edited. */
	vcpu_sregs(c)->cr3 ^= CR3_PWT;
	vcpu_sregs_dirty(c);
}

void vcpu_dump(struct vcpu *c)
{
	struct kvm_regs *r = vcpu_regs(c);
	struct kvm_sregs *s = vcpu_sregs(c);
	fprintf(stderr,
		"  rip %016llx rsp %016llx rflags %08llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n"
		"  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n"
		"  r13 %016llx r14 %016llx r15 %016llx\n"
		"  cs %04x ss %04x cr0 %llx cr2 %llx cr3 %llx cr4 %llx "
		"efer %llx\n",
		r->rip, r->rsp, r->rflags, r->rax, r->rbx, r->rcx, r->rdx,
		r->rsi, r->rdi, r->rbp, r->r8, r->r9, r->r10, r->r11, r->r12,
		r->r13, r->r14, r->r15, s->cs.selector, s->ss.selector, s->cr0,
		s->cr2, s->cr3, s->cr4, s->efer);
}
