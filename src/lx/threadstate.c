/* The thread subsystem's hooks (subsys.h): each live thread's own state
 * and its vCPU's registers; in a fork's child, the one thread that lives
 * on. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx/lx.h"
#include "lx/subsys.h"
#include "util.h"

/* What a thread's record holds besides its vCPU. */
struct thread_rec {
	int32_t id; /* its vCPU (and TSS page) */
	int32_t tid;
	uint8_t owner;
	uint64_t sigmask, clear_child_tid, robust_list, robust_len;
	uint64_t saved_mask;
	uint8_t saved_mask_valid;
	uint64_t altstack_sp, altstack_size;
	int32_t altstack_flags;
	char comm[16];
	uint64_t pending; /* signals for this thread alone */
	siginfo_t info[65];
};

static void put_thread(struct wbuf *w, const struct thread_rec *o,
		       const struct vcpu_state *vs)
{
	uint32_t xs = sizeof(vs->xsave);
	W(w, o->id);
	W(w, o->tid);
	W(w, o->owner);
	W(w, o->sigmask);
	W(w, o->clear_child_tid);
	W(w, o->robust_list);
	W(w, o->robust_len);
	W(w, o->saved_mask);
	W(w, o->saved_mask_valid);
	W(w, o->altstack_sp);
	W(w, o->altstack_size);
	W(w, o->altstack_flags);
	W(w, o->comm);
	W(w, o->pending);
	W(w, o->info);
	W(w, vs->regs);
	W(w, vs->sregs);
	W(w, vs->tsc);
	W(w, xs);
	w_bytes(w, &vs->xsave, xs);
}

/* One thread, parked at a user point or (self) stopped in the syscall
 * that asked for the save. */
static int save_thread(struct lx_thread *t, const struct lx_save *s,
		       struct wbuf *w, struct vcpu_state *vs)
{
	vcpu_save(&t->cpu, vs);
	if (t == s->self) {
		/* It resumes in user mode, returning from its syscall. */
		lx_user_context(t, &vs->regs);
		vs->regs.rax = (uint64_t)s->self_ret;
		vcpu_user_segments(&vs->sregs);
	} else if (vcpu_user_state(&t->cpu, vs) < 0) {
		return -1; /* lx_park parks only at a user point */
	}
	struct thread_rec o = {
		.id = t->cpu.id,
		.tid = t->tid,
		.owner = t->owner,
		.sigmask = t->sigmask,
		.clear_child_tid = t->clear_child_tid,
		.robust_list = t->robust_list,
		.robust_len = t->robust_len,
		.saved_mask = t->saved_mask,
		.saved_mask_valid = t->saved_mask_valid,
		.altstack_sp = t->altstack_sp,
		.altstack_size = t->altstack_size,
		.altstack_flags = t->altstack_flags,
		.pending = t->tpending | t->own_pending,
	};
	memcpy(o.comm, t->comm, sizeof(o.comm));
	for (int sig = 1; sig < 65; sig++)
		o.info[sig] = (t->own_pending & (1ULL << (sig - 1)))
				      ? t->own_info[sig]
				      : t->tinfo[sig];
	put_thread(w, &o, vs);
	return 0;
}

static int thread_save(struct lx_proc *p, const struct lx_save *s,
		       struct wbuf *w)
{
	uint32_t n = 0;
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		n += t && t->live && t->running;
	}
	W(w, n);
	struct vcpu_state *vs = malloc(sizeof(*vs));
	if (!vs) {
		snprintf(s->err, s->errlen, "out of memory");
		return -1;
	}
	int err = 0;
	for (int i = 0; i < SYS_MAX_VCPUS && !err; i++) {
		struct lx_thread *t = p->threads[i];
		if (!t || !t->live || !t->running)
			continue;
		if (t != s->self && !t->parked) {
			snprintf(s->err, s->errlen, "thread %d did not stop",
				 (int)t->tid);
			err = -1;
		} else if (save_thread(t, s, w, vs) < 0) {
			snprintf(s->err, s->errlen,
				 "cannot read vCPU %d: it did not stop at a "
				 "user-mode instruction",
				 t->cpu.id);
			err = -1;
		}
	}
	free(vs);
	return err;
}

static void get_thread(struct rbuf *r, struct thread_rec *o,
		       struct vcpu_state *vs)
{
	uint32_t xs;
	R(r, o->id);
	R(r, o->tid);
	R(r, o->owner);
	R(r, o->sigmask);
	R(r, o->clear_child_tid);
	R(r, o->robust_list);
	R(r, o->robust_len);
	R(r, o->saved_mask);
	R(r, o->saved_mask_valid);
	R(r, o->altstack_sp);
	R(r, o->altstack_size);
	R(r, o->altstack_flags);
	R(r, o->comm);
	R(r, o->pending);
	R(r, o->info);
	o->comm[15] = 0;
	R(r, vs->regs);
	R(r, vs->sregs);
	R(r, vs->tsc);
	R(r, xs);
	if (xs != sizeof(vs->xsave) || o->id < 0 || o->id >= SYS_MAX_VCPUS ||
	    o->tid <= 0 || o->owner > 1)
		r->bad = true;
	r_bytes(r, &vs->xsave, sizeof(vs->xsave));
}

/* Thread o on vCPU o->id, with registers vs. The owner runs on the
 * calling host thread (threads[0] until now), as the first thread of a
 * run does; the others get host threads of their own later
 * (lx_thread_start_all). */
static int add_thread(struct lx_proc *p, struct lx_thread *first,
		      const struct thread_rec *o, const struct vcpu_state *vs)
{
	struct lx_thread *t = o->owner ? first : calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->p = p;
	if (vcpu_create_user(&p->vm, &t->cpu, o->id, vs) < 0) {
		msg("restore: cannot create vCPU %d: %s", o->id,
		    strerror(errno));
		if (!o->owner)
			free(t);
		return -1;
	}
	t->tid = o->tid;
	t->owner = o->owner;
	t->unstarted = !o->owner;
	t->live = t->running = true;
	t->sigmask = o->sigmask;
	t->clear_child_tid = o->clear_child_tid;
	t->robust_list = o->robust_list;
	t->robust_len = o->robust_len;
	t->saved_mask = o->saved_mask;
	t->saved_mask_valid = o->saved_mask_valid;
	t->altstack_sp = o->altstack_sp;
	t->altstack_size = o->altstack_size;
	t->altstack_flags = o->altstack_flags;
	memcpy(t->comm, o->comm, sizeof(t->comm));
	t->tpending = o->pending;
	memcpy(t->tinfo, o->info, sizeof(t->tinfo));
	p->threads[o->id] = t;
	/* A signalfd (back already, with the fds) is readable while one of
	 * its signals is pending for any thread. */
	for (int sig = 1; sig <= 64; sig++)
		if (o->pending & (1ULL << (sig - 1)))
			lx_sigfd_notify(sig);
	return 0;
}

static int thread_restore(struct lx_proc *p, struct rbuf *r)
{
	uint32_t n;
	R(r, n);
	if (r->bad || n == 0 || n > SYS_MAX_VCPUS)
		return lx_state_bad("thread record");
	struct vcpu_state *vs = malloc(sizeof(*vs));
	if (!vs)
		return -1;
	struct lx_thread *first = p->threads[0];
	p->threads[0] = NULL;
	uint64_t ids = 0;
	int owners = 0, err = 0;
	for (uint32_t i = 0; i < n && !err; i++) {
		struct thread_rec o;
		get_thread(r, &o, vs);
		/* One owner, ids apart: checked before the vCPU exists. */
		if (r->bad || (ids & (1ULL << o.id)) || (o.owner && owners++)) {
			err = lx_state_bad("thread record");
			break;
		}
		ids |= 1ULL << o.id;
		err = add_thread(p, first, &o, vs);
	}
	free(vs);
	if (!err && owners != 1)
		err = lx_state_bad("thread record");
	if (err) {
		/* The owner's thread is the caller's: back where it was. */
		for (int i = 0; i < SYS_MAX_VCPUS; i++)
			if (p->threads[i] == first)
				p->threads[i] = NULL;
		if (!p->threads[0])
			p->threads[0] = first;
		return -1;
	}
	p->nlive = p->nrunning = (int)n;
	return 0;
}

/* Only the calling thread lives on, on vCPU 0: the parent's vCPU fds are
 * closed and the locks, perhaps held by threads that are not here, made
 * anew. The registers it resumes with are the caller's, returning 0. */
static int thread_fork(struct lx_proc *p, const struct lx_fork *f)
{
	struct lx_thread *t = f->t;
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		p->threads[i] = NULL;
		if (!o)
			continue;
		vcpu_destroy(&o->cpu);
		if (o != t)
			free(o);
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->threads[0] = t;
	t->live = t->running = t->owner = true;
	t->host = pthread_self();
	t->host_tid = (pid_t)syscall(SYS_gettid);
	t->exiting = false;
	t->tpending = t->own_pending = 0;
	p->nlive = p->nrunning = 1;
	struct vcpu_state *st = f->st;
	st->regs.rax = 0;
	if (f->stack)
		st->regs.rsp = f->stack;
	/* The parent stopped half-way through the doorbell store; the child
	 * starts where the trampoline would have jumped. */
	if (p->vm.doorbell && (st->sregs.cs.selector & 3) == 3)
		st->regs.rip = st->regs.rcx;
	return 0;
}

const struct lx_subsys lx_thread_subsys = {
	.name = "thread",
	.tag = STREAM_TAG('T', 'H', 'R', 'D'),
	.save = thread_save,
	.restore = thread_restore,
	.fork = thread_fork,
};
