/* Signals: host signals to the monitor become guest signals, delivered
 * into the guest with Linux's x86-64 frame.
 *
 * A signal for the guest process is a host signal to its monitor (another
 * guest's kill, the terminal's Ctrl-C, a child's exit, a broken pipe, the
 * guest's own alarm). The monitor catches every signal it can; the handler
 * only records it and makes the vCPU leave KVM_RUN. Between two exits the
 * run loop delivers what the guest has not blocked: the default action
 * (terminate, stop, ignore), or a frame on the guest's stack (siginfo,
 * ucontext, the XSAVE state) and a jump to its handler, which returns
 * through sa_restorer to rt_sigreturn (sigsys.c). A host syscall the signal
 * interrupted is restarted or fails with EINTR as SA_RESTART says.
 */
#define _GNU_SOURCE
#include <asm/unistd_64.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "lx/sigframe.h"
#include "util.h"
#include "vm/layout.h"

/* ---- the host side ---- */

/* The one guest process of this monitor, its pending signals and their
 * siginfo. Written by the host handler, read by the run loop. */
static struct lx_proc *cur_proc;
static _Atomic uint64_t host_pending;
static siginfo_t host_info[65];
/* Real-time signals queue: how many more of each arrived than the one
 * its bit records. */
static _Atomic uint32_t host_rt_extra[65];
#define SIGRT_FIRST 32
/* The guest thread the calling host thread runs. */
static _Thread_local struct lx_thread *cur_thread;

/* Signals a fault in the monitor itself raises: never the guest's. */
static bool monitor_fault(int sig, const siginfo_t *si)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
	case SIGSYS: return si->si_code > 0;
	}
	return false;
}

/* A page of guest memory the host has no page for: a file mapped by the
 * guest shrank under it (by another process) while the monitor copied
 * from it. Linux would fail the syscall with EFAULT; the monitor cannot
 * undo a half-done call, so the guest dies of the SIGBUS its own touch
 * would have raised, with a one-line report (from the first process, as
 * lx_kill does). */
static bool guest_page_gone(int sig, const siginfo_t *si)
{
	return sig == SIGBUS && cur_proc &&
	       gm_holds(&cur_proc->vm, si->si_addr);
}

static void on_host_signal(int sig, siginfo_t *si, void *uc)
{
	if (lx_hooks.trap)
		lx_hooks.trap(sig, si);
	if (monitor_fault(sig, si)) {
		static const char gone[] =
			"mote: guest killed by SIGBUS (a file it mapped shrank "
			"while mote read the mapping for a syscall)\n";
		if (guest_page_gone(sig, si)) {
			/* The guest's death, not a crash of mote: no core. */
			prctl(PR_SET_DUMPABLE, 0);
			if (!cur_proc->task.forked) {
				ssize_t n = write(STDERR_FILENO, gone,
						  sizeof(gone) - 1);
				(void)n;
			}
		}
		/* A bug in mote: die of it, with the default action. The
		 * run's dir goes first (nothing else would remove it). */
		if (lx_hooks.dying)
			lx_hooks.dying();
		signal(sig, SIG_DFL);
		return;
	}
	struct lx_thread *t = cur_thread;
	/* A kick: from this monitor, or another monitor of the tree asking
	 * it to look at the hold word (hold.c), with the tree's cookie. */
	bool kick =
		sig == LX_SIG_KICK &&
		((si->si_code == SI_TKILL && si->si_pid == getpid()) ||
		 (si->si_code == SI_QUEUE && cur_proc && cur_proc->task.tree &&
		  (uint64_t)(uintptr_t)si->si_value.sival_ptr ==
			  lx_tree_cookie(cur_proc->task.tree)));
	/* The kernel's SIGXFSZ for a write beyond RLIMIT_FSIZE (limit.c) is
	 * the writing thread's, as on Linux. */
	bool xfsz = sig == SIGXFSZ && si->si_code == SI_USER &&
		    si->si_pid == getpid();
	if (!kick) {
		/* The sender (or the child, for SIGCHLD) as the guest knows
		 * it: a restored process's pid is not its monitor's. */
		siginfo_t in = *si;
		bool has_pid = sig == SIGCHLD || si->si_code == SI_USER ||
			       si->si_code == SI_QUEUE ||
			       si->si_code == SI_TKILL;
		if (has_pid && cur_proc && cur_proc->task.tree)
			in.si_pid = lx_tree_guest_pid(cur_proc->task.tree,
						      si->si_pid);
		/* Another process's tgkill names this thread alone. */
		if ((si->si_code == SI_TKILL || xfsz) && t) {
			t->tinfo[sig] = in;
			__atomic_fetch_or(&t->tpending, BIT(sig),
					  __ATOMIC_SEQ_CST);
		} else {
			host_info[sig] = in;
			uint64_t was = atomic_fetch_or(&host_pending, BIT(sig));
			if (sig >= SIGRT_FIRST && (was & BIT(sig)))
				atomic_fetch_add(&host_rt_extra[sig], 1);
		}
		lx_sigfd_notify(sig);
	}
	if (t)
		vcpu_kick(&t->cpu);
	lx_block_signal(uc);
}

void lx_signal_init(struct lx_proc *p)
{
	cur_proc = p;
	struct sigaction sa = {.sa_sigaction = on_host_signal,
			       .sa_flags = SA_SIGINFO};
	/* No SA_RESTART: a blocking host call must return so that the guest
	 * sees the signal. SIGSYS stays deliverable: a syscall the sandbox
	 * refuses in a handler is reported, not a silent default death. */
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSYS);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &sa, NULL);
	}
	lx_signal_sync_chld(p);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void collect(struct lx_thread *t);
static sigset_t fork_saved;

void lx_signal_fork_begin(struct lx_thread *t)
{
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* as in lx_signal_init */
	sigprocmask(SIG_BLOCK, &all, &fork_saved);
	collect(t);
}

void lx_signal_fork_end(bool child)
{
	if (child)
		atomic_store(&host_pending, 0);
	sigprocmask(SIG_SETMASK, &fork_saved, NULL);
}

void lx_signal_sync_chld(struct lx_proc *p)
{
	/* SIGCHLD ignored (or SA_NOCLDWAIT) means children are reaped by
	 * themselves: the host does exactly that for the monitor if its own
	 * SIGCHLD is ignored. */
	const struct lx_sigaction *sa = &p->sig.act[SIGCHLD - 1];
	struct sigaction hs = {.sa_sigaction = on_host_signal,
			       .sa_flags = SA_SIGINFO};
	sigfillset(&hs.sa_mask);
	sigdelset(&hs.sa_mask, SIGSYS); /* as in lx_signal_init */
	if (sa->handler == (uint64_t)(uintptr_t)SIG_IGN ||
	    (sa->flags & SA_NOCLDWAIT)) {
		hs.sa_handler = SIG_IGN;
		hs.sa_flags = 0;
	}
	sigaction(SIGCHLD, &hs, NULL);
}

void lx_signal_thread(struct lx_thread *t)
{
	cur_thread = t;
}

/* ---- pending and deliverable ---- */

static uint64_t take_host(void)
{
	return atomic_exchange(&host_pending, 0);
}

static void collect(struct lx_thread *t)
{
	uint64_t got = take_host();
	struct lx_proc *p = t->p;
	if (!got)
		return;
	for (int sig = 1; got && sig <= 64; sig++) {
		if (!(got & BIT(sig)))
			continue;
		got &= ~BIT(sig);
		if (sig >= SIGRT_FIRST && (p->sig.pending & BIT(sig)))
			p->sig.rt_extra[sig]++;
		p->sig.pending |= BIT(sig);
		p->sig.info[sig] = host_info[sig];
		if (sig >= SIGRT_FIRST)
			p->sig.rt_extra[sig] +=
				atomic_exchange(&host_rt_extra[sig], 0);
	}
}

void lx_signal_raise(struct lx_proc *p, int sig, const siginfo_t *si)
{
	pthread_mutex_lock(&p->lock);
	if (sig >= SIGRT_FIRST && (p->sig.pending & BIT(sig)))
		p->sig.rt_extra[sig]++;
	p->sig.pending |= BIT(sig);
	if (si)
		p->sig.info[sig] = *si;
	else
		p->sig.info[sig] =
			(siginfo_t){.si_signo = sig, .si_code = SI_USER};
	pthread_mutex_unlock(&p->lock);
	lx_sigfd_notify(sig);
}

static bool ignored(struct lx_proc *p, int sig)
{
	uint64_t h = p->sig.act[sig - 1].handler;
	if (h == (uint64_t)(uintptr_t)SIG_IGN)
		return true;
	if (h != (uint64_t)(uintptr_t)SIG_DFL)
		return false;
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
	case SIGCONT: return true;
	}
	return false;
}

/* The thread's own pending signals join its view of the process's. */
static void collect_thread(struct lx_thread *t)
{
	uint64_t got = __atomic_exchange_n(&t->tpending, 0, __ATOMIC_SEQ_CST);
	for (int sig = 1; got && sig <= 64; sig++)
		if (got & BIT(sig)) {
			got &= ~BIT(sig);
			t->own_pending |= BIT(sig);
			t->own_info[sig] = t->tinfo[sig];
		}
}

uint64_t lx_signal_pending(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	collect(t);
	collect_thread(t);
	/* Ignored signals are discarded on arrival, as Linux does. */
	for (int sig = 1; sig <= 64; sig++) {
		if (!ignored(p, sig))
			continue;
		if ((p->sig.pending & BIT(sig)) && !(t->sigmask & BIT(sig))) {
			p->sig.pending &= ~BIT(sig);
			p->sig.rt_extra[sig] = 0;
		}
		if ((t->own_pending & BIT(sig)) && !(t->sigmask & BIT(sig)))
			t->own_pending &= ~BIT(sig);
	}
	uint64_t r = p->sig.pending | t->own_pending;
	pthread_mutex_unlock(&p->lock);
	return r;
}

void lx_signal_thread_raise(struct lx_thread *target, int sig,
			    const siginfo_t *si)
{
	target->tinfo[sig] = *si;
	__atomic_fetch_or(&target->tpending, BIT(sig), __ATOMIC_SEQ_CST);
	lx_sigfd_notify(sig);
	if (target != cur_thread)
		lx_kick(target);
}

/* ---- the user context at this exit ---- */

/* The registers the guest would see now, in user mode: after a syscall
 * that is its return, whichever way the call came in. */
void lx_user_context(struct lx_thread *t, struct kvm_regs *u)
{
	*u = *vcpu_regs(&t->cpu);
	switch (t->entry) {
	case ENTRY_NONE:
		/* After rt_sigreturn or execve on the shim's path, the vCPU
		 * is at the shim's iretq, its user context in the frame. */
		vcpu_user_regs(&t->cpu, u);
		break;
	case ENTRY_DOORBELL: u->rip = u->rcx; break;
	case ENTRY_SHIM:
		u->rip = u->rcx;
		u->rflags = u->r11;
		break;
	case ENTRY_TRAP:
		u->rip = u->rcx;
		u->rflags = u->r11;
		u->rsp = t->trap_rsp;
		break;
	case ENTRY_FAULT:
		u->rip = t->trap_rip;
		u->rflags = t->trap_rflags;
		u->rsp = t->trap_rsp;
		break;
	}
}

/* ---- default actions ---- */

static bool stops(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

static void default_action(struct lx_thread *t, int sig)
{
	if (stops(sig)) {
		/* Stop the monitor with the same signal, so the parent's
		 * waitpid(WUNTRACED) sees it; SIGCONT resumes it here. */
		signal(sig, SIG_DFL);
		raise(sig);
		lx_signal_init(t->p);
		return;
	}
	lx_kill(t->p, sig, "");
}

/* ---- frames ---- */

uint64_t lx_sig_xsave_size(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
		if (e->function == 0xd && e->index == 0 && e->ecx >= 576 &&
		    e->ecx <= 4096)
			return e->ecx;
	}
	return 512 + 64 + 256; /* legacy + header + AVX */
}

bool lx_sig_on_altstack(const struct lx_thread *t, uint64_t sp)
{
	return t->altstack_size && sp > t->altstack_sp &&
	       sp <= t->altstack_sp + t->altstack_size;
}

/* The vCPU's XSAVE image (fsize bytes) at fph, framed as the kernel's
 * signal frames frame it. */
static void put_fpstate(struct lx_thread *t, uint8_t *fph, uint64_t fsize)
{
	struct kvm_xsave xs;
	vcpu_get_fpu(&t->cpu, &xs);
	memcpy(fph, xs.region, fsize);
	/* The software-reserved bytes of the FXSAVE area say an XSAVE
	 * image follows. */
	uint32_t sw[4] = {FP_XSTATE_MAGIC1, (uint32_t)fsize + 4,
			  (uint32_t)t->p->vm.xcr0, (uint32_t)fsize};
	memcpy(fph + 464, sw, sizeof(sw));
	uint32_t m2 = FP_XSTATE_MAGIC2;
	memcpy(fph + fsize, &m2, 4);
}

/* Writes the frame for `sig` below the interrupted context u and returns
 * the registers that enter the handler, or 0 if the frame cannot be
 * written (then the guest dies of SIGSEGV, as on Linux). */
static int build_frame(struct lx_thread *t, int sig, const struct kvm_regs *u,
		       struct kvm_regs *h)
{
	struct lx_proc *p = t->p;
	const struct lx_sigaction *sa = &p->sig.act[sig - 1];
	if (!(sa->flags & SA_RESTORER_LX))
		return -1;
	uint64_t sp = u->rsp - REDZONE;
	if ((sa->flags & SA_ONSTACK) && t->altstack_size &&
	    !lx_sig_on_altstack(t, u->rsp))
		sp = t->altstack_sp + t->altstack_size;
	uint64_t fsize = lx_sig_xsave_size(&p->vm);
	uint64_t fp = ALIGN_DOWN(sp - fsize - 4, 64);
	uint64_t frame = ALIGN_DOWN(fp - sizeof(struct lx_rt_sigframe), 16) - 8;
	uint8_t *fph = gm_user(&p->vm, fp, fsize + 4, GM_WRITE);
	struct lx_rt_sigframe *f = gm_user(&p->vm, frame, sizeof(*f), GM_WRITE);
	if (!fph || !f)
		return -1;
	put_fpstate(t, fph, fsize);
	memset(f, 0, sizeof(*f));
	f->pretcode = sa->restorer;
	f->info = t->deliver_info;
	f->info.si_signo = sig;
	struct lx_ucontext *uc = &f->uc;
	uc->flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	uc->stack = (struct lx_stack){t->altstack_sp, t->altstack_flags, 0,
				      t->altstack_size};
	if (!t->altstack_size)
		uc->stack.flags = SS_DISABLE;
	struct lx_sigcontext *mc = &uc->mc;
	*mc = (struct lx_sigcontext){
		.r8 = u->r8,
		.r9 = u->r9,
		.r10 = u->r10,
		.r11 = u->r11,
		.r12 = u->r12,
		.r13 = u->r13,
		.r14 = u->r14,
		.r15 = u->r15,
		.rdi = u->rdi,
		.rsi = u->rsi,
		.rbp = u->rbp,
		.rbx = u->rbx,
		.rdx = u->rdx,
		.rax = u->rax,
		.rcx = u->rcx,
		.rsp = u->rsp,
		.rip = u->rip,
		.eflags = u->rflags,
		.cs = SEL_UCODE,
		.ss = SEL_UDATA,
	};
	mc->fpstate = fp;
	mc->trapno = t->fault_vector;
	mc->err = t->fault_error;
	mc->cr2 = t->fault_addr;
	mc->oldmask = t->sigmask;
	uc->sigmask = t->saved_mask_valid ? t->saved_mask : t->sigmask;
	t->saved_mask_valid = false;

	*h = (struct kvm_regs){0};
	h->rip = sa->handler;
	h->rsp = frame;
	h->rdi = (uint64_t)sig;
	h->rsi = frame + offsetof(struct lx_rt_sigframe, info);
	h->rdx = frame + offsetof(struct lx_rt_sigframe, uc);
	h->rflags =
		u->rflags & ~(uint64_t)(0x100 | 0x400 | 0x40000); /* TF DF AC */
	/* As Linux's __save_altstack: the frame keeps the old stack (for
	 * rt_sigreturn), the thread has none until then. */
	if (t->altstack_flags & SS_AUTODISARM_LX) {
		t->altstack_sp = t->altstack_size = 0;
		t->altstack_flags = 0;
	}
	return 0;
}

/* Syscalls Linux restarts after a handler with SA_RESTART. */
bool lx_signal_restartable(uint64_t nr)
{
	switch (nr) {
	case __NR_read:
	case __NR_write:
	case __NR_readv:
	case __NR_writev:
	case __NR_pread64:
	case __NR_pwrite64:
	case __NR_wait4:
	case __NR_waitid:
	case __NR_ioctl:
	case __NR_open:
	case __NR_openat:
	case __NR_fcntl:
	case __NR_flock:
	case __NR_sendfile:
	case __NR_splice:
	case __NR_tee:
	case __NR_futex:
	case __NR_sendto:
	case __NR_recvfrom:
	case __NR_accept:
	case __NR_accept4:
	case __NR_connect:
	case __NR_sendmsg:
	case __NR_recvmsg: return true;
	}
	return false;
}

/* Picks the next signal to deliver: synchronous faults first, then the
 * lowest number, as Linux does. 0 if none. */
static int next_signal(struct lx_thread *t)
{
	uint64_t ready = lx_signal_pending(t) & ~t->sigmask;
	if (!ready)
		return 0;
	static const int sync[] = {SIGSEGV, SIGBUS, SIGILL,
				   SIGTRAP, SIGFPE, SIGSYS};
	for (size_t i = 0; i < ARRAY_SIZE(sync); i++)
		if (ready & BIT(sync[i]))
			return sync[i];
	return __builtin_ctzll(ready) + 1;
}

/* Takes sig off the thread's or the process's pending set, keeping its
 * siginfo for the frame. */
static void take(struct lx_thread *t, int sig)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	if (t->own_pending & BIT(sig)) {
		t->own_pending &= ~BIT(sig);
		t->deliver_info = t->own_info[sig];
	} else {
		if (sig >= SIGRT_FIRST && p->sig.rt_extra[sig])
			p->sig.rt_extra[sig]--;
		else
			p->sig.pending &= ~BIT(sig);
		t->deliver_info = p->sig.info[sig];
	}
	pthread_mutex_unlock(&p->lock);
}

/* A process signal this thread blocks goes to a thread that does not. */
static void hand_over(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	uint64_t waiting = p->sig.pending & t->sigmask;
	for (int i = 0; waiting && i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (o && o != t && o->running && (waiting & ~o->sigmask)) {
			lx_kick(o);
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void lx_signal_deliver(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	int sig = next_signal(t);
	if (!sig && (p->sig.pending & t->sigmask))
		hand_over(t);
	struct kvm_regs u;
	uint64_t restart = t->restart_nr;
	t->restart_nr = 0;
	if (!sig && !restart)
		goto out;
	lx_user_context(t, &u);
	if (restart) {
		const struct lx_sigaction *sa =
			sig ? &p->sig.act[sig - 1] : NULL;
		bool handler = sa && sa->handler > 1;
		if (!handler || (sa->flags & SA_RESTART)) {
			/* Back to the `syscall` instruction, number in RAX. */
			u.rip -= 2;
			u.rax = restart - 1;
		}
		if (!sig) {
			lx_set_user(t, &u);
			goto out;
		}
	}
	take(t, sig);
	const struct lx_sigaction *sa = &p->sig.act[sig - 1];
	if (sa->handler == (uint64_t)(uintptr_t)SIG_DFL) {
		if (restart && !stops(sig))
			lx_set_user(t, &u);
		default_action(t, sig);
		goto out;
	}
	struct kvm_regs h;
	if (build_frame(t, sig, &u, &h) < 0) {
		lx_kill(p, SIGSEGV, " (could not write a signal frame)");
		goto out;
	}
	t->sigmask |= sa->mask;
	if (!(sa->flags & SA_NODEFER))
		t->sigmask |= BIT(sig);
	t->sigmask &= ~(BIT(SIGKILL) | BIT(SIGSTOP));
	if (sa->flags & SA_RESETHAND)
		p->sig.act[sig - 1] = (struct lx_sigaction){0};
	lx_set_user(t, &h);
out:
	t->entry = ENTRY_NONE;
	t->fault_vector = t->fault_error = t->fault_addr = 0;
}

/* A fault in the guest: its signal is forced (delivered even if blocked
 * or ignored, by killing then), with the fault's siginfo. */
bool lx_signal_fault(struct lx_thread *t, int sig, int code, uint64_t addr)
{
	struct lx_proc *p = t->p;
	if (p->sig.act[sig - 1].handler <= 1 || (t->sigmask & BIT(sig)))
		return false; /* the caller kills with the report */
	siginfo_t si = {.si_signo = sig, .si_code = code};
	si.si_addr = (void *)(uintptr_t)addr;
	lx_signal_thread_raise(t, sig, &si);
	return true;
}
