/* The signal syscalls that are not delivery: rt_sigreturn (the frame
 * signal.c built, checked as the kernel checks it), rt_sigpending,
 * rt_sigsuspend and pause, sigaltstack, alarm and the interval timers. */
#define _GNU_SOURCE
#include <asm/unistd_64.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "lx/sigframe.h"
#include "lx/subsys.h"
#include "util.h"
#include "vm/layout.h"

LX_SYS(rt_sigreturn)
{
	struct lx_proc *p = t->p;
	struct kvm_regs u;
	lx_user_context(t, &u);
	uint64_t frame = u.rsp - 8; /* the handler's ret popped pretcode */
	const struct lx_rt_sigframe *f =
		gm_user(&p->vm, frame, sizeof(*f), GM_READ);
	if (!f) {
		lx_kill(p, SIGSEGV, " (bad signal frame in rt_sigreturn)");
		return -EFAULT;
	}
	const struct lx_sigcontext *mc = &f->uc.mc;
	struct kvm_regs r = {
		.r8 = mc->r8,
		.r9 = mc->r9,
		.r10 = mc->r10,
		.r11 = mc->r11,
		.r12 = mc->r12,
		.r13 = mc->r13,
		.r14 = mc->r14,
		.r15 = mc->r15,
		.rdi = mc->rdi,
		.rsi = mc->rsi,
		.rbp = mc->rbp,
		.rbx = mc->rbx,
		.rdx = mc->rdx,
		.rax = mc->rax,
		.rcx = mc->rcx,
		.rsp = mc->rsp,
		.rip = mc->rip,
		.rflags = mc->eflags,
	};
	if (r.rip >= (1ULL << 47) || r.rsp >= (1ULL << 47)) {
		lx_kill(p, SIGSEGV, " (rt_sigreturn to a bad address)");
		return -EFAULT;
	}
	if (mc->fpstate) {
		uint64_t fsize = lx_sig_xsave_size(&p->vm);
		const uint8_t *fph =
			gm_user(&p->vm, mc->fpstate, fsize, GM_READ);
		struct kvm_xsave xs = {0};
		if (!fph) {
			lx_kill(p, SIGSEGV, " (bad FPU state in rt_sigreturn)");
			return -EFAULT;
		}
		memcpy(xs.region, fph, fsize);
		/* KVM refuses state the CPU would fault on: that is the
		 * guest's bad frame. */
		if (vcpu_try_set_fpu(&t->cpu, &xs) < 0) {
			lx_kill(p, SIGSEGV, " (bad FPU state in rt_sigreturn)");
			return -EFAULT;
		}
	}
	t->sigmask = f->uc.sigmask & ~(BIT(SIGKILL) | BIT(SIGSTOP));
	if (f->uc.stack.flags != SS_DISABLE && f->uc.stack.size) {
		t->altstack_sp = f->uc.stack.sp;
		t->altstack_size = f->uc.stack.size;
		t->altstack_flags = f->uc.stack.flags & SS_AUTODISARM_LX;
	}
	lx_set_user(t, &r);
	return (long)r.rax;
}

LX_SYS(rt_sigpending)
{
	if (a[1] > 8)
		return -EINVAL;
	uint64_t set = lx_signal_pending(t) & t->sigmask;
	void *h = gm_user(&t->p->vm, a[0], a[1], GM_WRITE);
	if (!h)
		return -EFAULT;
	memcpy(h, &set, a[1]);
	return 0;
}

/* Waits for a host signal without losing one that arrives between the
 * check and the wait. */
static long wait_signal(struct lx_thread *t)
{
	sigset_t all, old, none;
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (!(lx_signal_pending(t) & ~t->sigmask) && !t->p->task.exited)
		sigsuspend(&none);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return -EINTR;
}

LX_SYS(rt_sigsuspend)
{
	uint64_t mask;
	if (a[1] != 8)
		return -EINVAL;
	const uint64_t *g = gm_user(&t->p->vm, a[0], 8, GM_READ);
	if (!g)
		return -EFAULT;
	mask = *g & ~(BIT(SIGKILL) | BIT(SIGSTOP));
	/* The frame of the handler this wakes for keeps the old mask. */
	t->saved_mask = t->sigmask;
	t->saved_mask_valid = true;
	t->sigmask = mask;
	for (;;) {
		wait_signal(t);
		/* A kick for exit_group ends the wait as well. */
		if ((lx_signal_pending(t) & ~t->sigmask) || t->p->task.exited)
			break;
	}
	return -EINTR;
}

LX_SYS(pause)
{
	for (;;) {
		wait_signal(t);
		if ((lx_signal_pending(t) & ~t->sigmask) || t->p->task.exited)
			return -EINTR;
	}
}

LX_SYS(sigaltstack)
{
	struct lx_stack old = {t->altstack_sp, t->altstack_flags, 0,
			       t->altstack_size};
	struct kvm_regs u;
	lx_user_context(t, &u);
	if (!t->altstack_size)
		old.flags = SS_DISABLE;
	else if (lx_sig_on_altstack(t, u.rsp))
		old.flags |= SS_ONSTACK;
	if (a[0]) {
		const struct lx_stack *n =
			gm_user(&t->p->vm, a[0], sizeof(*n), GM_READ);
		if (!n)
			return -EFAULT;
		if (lx_sig_on_altstack(t, u.rsp))
			return -EPERM;
		int mode = n->flags & ~(int32_t)SS_AUTODISARM_LX;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->altstack_sp = t->altstack_size = 0;
			t->altstack_flags = 0;
		} else {
			/* The kernel's MINSIGSTKSZ, not the host glibc's
			 * (sysconf-based, bigger with AVX-512). */
			if (n->size < LX_MINSIGSTKSZ)
				return -ENOMEM;
			t->altstack_sp = n->sp;
			t->altstack_size = n->size;
			t->altstack_flags = n->flags & SS_AUTODISARM_LX;
		}
	}
	if (a[1]) {
		void *h = gm_user(&t->p->vm, a[1], sizeof(old), GM_WRITE);
		if (!h)
			return -EFAULT;
		memcpy(h, &old, sizeof(old));
	}
	return 0;
}

/* Timers: the monitor's own, whose SIGALRM (and SIGVTALRM, SIGPROF) are
 * the guest's. */
LX_SYS(alarm)
{
	return alarm((unsigned)a[0]);
}

LX_SYS(setitimer)
{
	struct itimerval nv, ov;
	if (a[0] > ITIMER_PROF)
		return -EINVAL;
	if (a[1]) {
		const struct itimerval *g =
			gm_user(&t->p->vm, a[1], sizeof(nv), GM_READ);
		if (!g)
			return -EFAULT;
		nv = *g;
	} else {
		memset(&nv, 0, sizeof(nv));
	}
	struct itimerval *go =
		a[2] ? gm_user(&t->p->vm, a[2], sizeof(ov), GM_WRITE) : NULL;
	if (a[2] && !go)
		return -EFAULT;
	if (setitimer((int)a[0], &nv, &ov) < 0)
		return -errno;
	if (go)
		*go = ov;
	return 0;
}

LX_SYS(getitimer)
{
	struct itimerval v;
	if (a[0] > ITIMER_PROF)
		return -EINVAL;
	struct itimerval *g = gm_user(&t->p->vm, a[1], sizeof(v), GM_WRITE);
	if (!g)
		return -EFAULT;
	if (getitimer((int)a[0], &v) < 0)
		return -errno;
	*g = v;
	return 0;
}

/* ---- the signal subsystem's hooks (subsys.h) ---- */

static int sig_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	W(w, p->sig.act);
	W(w, p->sig.pending);
	W(w, p->sig.info);
	W(w, p->sig.rt_extra);
	return 0;
}

static int sig_restore(struct lx_proc *p, struct rbuf *r)
{
	struct lx_sigstate *st = malloc(sizeof(*st));
	if (!st)
		return -1;
	R(r, st->act);
	R(r, st->pending);
	R(r, st->info);
	R(r, st->rt_extra);
	/* Dispositions, pending sets, siginfo and queue counts are all the
	 * guest's to make: no value of theirs can hurt the monitor, so
	 * only a short record is refused. */
	bool ok = !r->bad;
	if (ok) {
		memcpy(p->sig.act, st->act, sizeof(st->act));
		p->sig.pending = st->pending;
		memcpy(p->sig.info, st->info, sizeof(st->info));
		memcpy(p->sig.rt_extra, st->rt_extra, sizeof(st->rt_extra));
	}
	free(st);
	return ok ? 0 : lx_state_bad("signal record");
}

/* Signals pending at the fork are the parent's, not the child's; those
 * sent to the child since are held by the host until lx_signal_fork_end.
 * Its signalfds become its own. */
static int sig_fork(struct lx_proc *p, const struct lx_fork *f)
{
	p->sig.pending = 0;
	memset(p->sig.rt_extra, 0, sizeof(p->sig.rt_extra));
	lx_sigfd_fork(p);
	return 0;
}

const struct lx_subsys lx_sig_subsys = {
	.name = "signal",
	.tag = STREAM_TAG('S', 'I', 'G', ' '),
	.save = sig_save,
	.restore = sig_restore,
	.fork = sig_fork,
};
