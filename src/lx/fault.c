/* Guest exceptions: turned into the signal Linux would send. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lx/lx.h"
#include "mote/abi.h"
#include "shim/shim.h"
#include "util.h"
#include "vm/layout.h"

#define PF_WRITE (1U << 1)
#define PF_USER	 (1U << 2)
#define PF_INSN	 (1U << 4)

/* The signal Linux sends for each exception vector taken at CPL 3. */
static int vector_signal(unsigned v)
{
	switch (v) {
	case 0:	 /* #DE divide error */
	case 16: /* #MF x87 */
	case 19: /* #XM SIMD */ return SIGFPE;
	case 1: /* #DB */
	case 3: /* #BP int3 */ return SIGTRAP;
	case 6: /* #UD */ return SIGILL;
	case 12: /* #SS */
	case 17: /* #AC alignment check */ return SIGBUS;
	default: /* #OF #BR #NP #GP #PF and the rest */ return SIGSEGV;
	}
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22",	 "23",
	"24",  "25",  "26",  "27",  "#HV", "#VC", "#SX", "31",
};

#define LSTAR_GVA (SYS_GVA + SYS_SHIM + SHIM_OFF_SYSCALL)
/* Some KVMs (kvm_pvm) run the instruction at LSTAR after `syscall` without
 * switching to CPL 0. The fetch from the supervisor-only shim page then
 * faults at CPL 3 with RIP == CR2 == LSTAR, and the #PF stub brings the
 * call here. The registers are exactly those `syscall` left, so serving it
 * from this path is equivalent; a guest that jumps to LSTAR on purpose gets
 * no more than a syscall. */
static bool is_syscall_trap(struct lx_thread *t, const struct mote_exc_frame *f)
{
	return f->vector == 14 && (f->cs & 3) == 3 && f->rip == LSTAR_GVA &&
	       vcpu_sregs(&t->cpu)->cr2 == LSTAR_GVA && (f->error & PF_INSN);
}

static bool canonical_user(uint64_t a)
{
	return a < (1ULL << 47);
}

/* Serves the call, then turns the exception frame into the return that
 * `sysretq` would have made: RIP = RCX, RFLAGS = R11. */
static void syscall_by_trap(struct lx_thread *t, struct mote_exc_frame *f)
{
	lx_syscall(t);
	if (t->p->task.exited || t->replaced)
		return;
	struct kvm_regs *r = vcpu_regs(&t->cpu);
	if (!canonical_user(r->rcx)) {
		char why[64];
		snprintf(why, sizeof(why), " at rip %#llx (bad return address)",
			 r->rcx);
		lx_kill(t->p, SIGSEGV, why);
		return;
	}
	f->rip = r->rcx;
	f->rflags = (r->r11 & USER_RFLAGS) | 0x202;
}

/* The si_code Linux gives each fault. */
static int fault_code(const struct mote_exc_frame *f)
{
	switch (f->vector) {
	case 0: return FPE_INTDIV;
	case 6: return ILL_ILLOPN;
	case 1: return TRAP_BRKPT;
	case 17: return BUS_ADRALN;
	}
	return SI_KERNEL;
}

void lx_kill(struct lx_proc *p, int sig, const char *why)
{
	/* Like a shell, say nothing for the signals that end pipelines and
	 * interactive programs as a matter of course. */
	if (sig != SIGPIPE && sig != SIGINT && !p->task.forked)
		msg("guest killed by %s%s%s",
		    sigabbrev_np(sig) ? "SIG" : "signal ",
		    sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", why);
	p->task.term_sig = sig;
	lx_proc_exit(p, 128 + sig);
}

/* `int n` at CPL 3 is #GP through the DPL-0 gates (#BP, #OF for n = 3, 4,
 * whose gates are DPL 3), as on Linux; kvm_pvm raises #UD for it instead.
 * Make that what the hardware would have raised. */
static void int_n_fault(struct lx_thread *t, struct mote_exc_frame *f)
{
	const uint8_t *ip = gm_user(&t->p->vm, f->rip, 2, GM_READ);
	if (f->vector != 6 || !ip || ip[0] != 0xcd)
		return;
	if (ip[1] == 3 || ip[1] == 4) {
		f->vector = ip[1]; /* a trap: it returns past the instruction */
		f->rip += 2;
	} else {
		f->vector = 13;
		f->error = (uint64_t)ip[1] << 3 | 2; /* an IDT selector */
	}
}

void lx_exception(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	uint64_t rsp = vcpu_regs(&t->cpu)->rsp;
	struct mote_exc_frame *f =
		gm_sys(&p->vm, rsp, sizeof(struct mote_exc_frame));
	if (!f || f->vector >= 32) {
		msg("internal error: exception exit with a bad frame at "
		    "%#" PRIx64 "; vCPU %d registers:",
		    rsp, t->cpu.id);
		vcpu_dump(&t->cpu);
		lx_proc_exit(p, MOTE_EXIT_FAIL);
		return;
	}
	if ((f->cs & 3) != 3) {
		msg("internal error: %s in the shim at rip %#" PRIx64
		    " (error code %#" PRIx64 ", cr2 %#llx); vCPU %d registers:",
		    vector_names[f->vector], f->rip, f->error,
		    vcpu_sregs(&t->cpu)->cr2, t->cpu.id);
		vcpu_dump(&t->cpu);
		lx_proc_exit(p, MOTE_EXIT_FAIL);
		return;
	}
	if (is_syscall_trap(t, f)) {
		t->entry = ENTRY_TRAP;
		t->trap_rsp = f->rsp;
		syscall_by_trap(t, f);
		return;
	}
	int_n_fault(t, f);
	int sig = vector_signal(f->vector);
	int code = fault_code(f);
	uint64_t cr2 = vcpu_sregs(&t->cpu)->cr2;
	/* The user context is the faulting instruction, also for a signal
	 * that arrives while a page fault is resolved. */
	t->entry = ENTRY_FAULT;
	t->trap_rip = f->rip;
	t->trap_rsp = f->rsp;
	t->trap_rflags = f->rflags;
	/* A #PF is Linux's page fault: a page to map now (a file that grew),
	 * or SIGSEGV / SIGBUS by what the address space holds there. */
	if (f->vector == 14) {
		sig = lx_mm_fault(t, cr2, (unsigned)f->error, &code);
		if (!sig)
			return;
	}
	t->fault_vector = f->vector;
	t->fault_error = f->error;
	t->fault_addr = f->vector == 14 ? cr2 : 0;
	if (lx_signal_fault(t, sig, code,
			    f->vector == 14   ? cr2
			    : f->vector == 13 ? 0
					      : f->rip))
		return; /* the guest's handler runs */
	char why[160];
	if (f->vector == 14) {
		const char *acc = f->error & PF_INSN	? "execute of"
				  : f->error & PF_WRITE ? "write to"
							: "read of";
		snprintf(why, sizeof(why), " at rip %#" PRIx64 " (%s %#llx)",
			 f->rip, acc, vcpu_sregs(&t->cpu)->cr2);
	} else {
		snprintf(why, sizeof(why), " at rip %#" PRIx64 " (%s)", f->rip,
			 vector_names[f->vector]);
	}
	lx_kill(p, sig, why);
}
