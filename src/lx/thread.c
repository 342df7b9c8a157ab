/* Guest threads are vCPUs, each run by a host thread of the monitor;
 * futex is the host's futex on the same bytes.
 *
 * clone(CLONE_VM | CLONE_THREAD ...) gives the new thread a vCPU of the
 * same VM (a fresh one, or one a finished thread left: KVM cannot destroy
 * a vCPU) with the caller's user context and the new stack and TLS, and a
 * host thread that runs it in parallel. Guest memory is one host mapping,
 * so a guest futex word is a host futex word: FUTEX_WAIT in one vCPU
 * thread and FUTEX_WAKE in another meet in the host kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"
#include "vm/layout.h"

/* What glibc's and musl's pthread_create pass, beyond the required
 * CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD. */
#define THREAD_REQUIRED                                                        \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_OPTIONAL                                                        \
	(CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |                  \
	 CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED)

struct start {
	struct lx_thread *t;
	sem_t ready;
	uint64_t flags, ptid, ctid;
};

static long host_futex(void *addr, int op, uint32_t val, const void *ts,
		       void *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static void *thread_main(void *arg)
{
	struct start *st = arg;
	struct lx_thread *t = st->t;
	struct lx_proc *p = t->p;
	t->host_tid = (pid_t)syscall(SYS_gettid);
	/* A restored thread keeps the tid its guest knows (the snapshot's). */
	if (!t->tid)
		t->tid = t->host_tid;
	lx_signal_thread(t);
	/* Both tid words are written before the thread runs guest code: one
	 * written later could land after the thread has exited and the
	 * kernel-side clear of CLONE_CHILD_CLEARTID, and a join would wait
	 * for ever. */
	if (st->flags & CLONE_CHILD_SETTID) {
		pid_t *h = gm_user(&p->vm, st->ctid, sizeof(pid_t), GM_WRITE);
		if (h)
			*h = t->tid;
	}
	if (st->flags & CLONE_PARENT_SETTID) {
		pid_t *h = gm_user(&p->vm, st->ptid, sizeof(pid_t), GM_WRITE);
		if (h)
			*h = t->tid;
	}
	sem_post(&st->ready); /* st is the parent's: not touched after */
	lx_run_thread(t);
	lx_signal_thread(NULL);
	pthread_mutex_lock(&p->lock);
	t->running = false;
	p->nrunning--;
	pthread_cond_broadcast(&p->gone);
	/* The owner may be blocked in a host call the last kick missed; it
	 * must get out to end the process. */
	struct lx_thread *owner = NULL;
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->owner)
			owner = p->threads[i];
	while (p->task.exited && owner && owner->running)
		lx_rekick_wait(p, t);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* A slot for the new thread: one a finished thread left (its vCPU is
 * reused), else the first never used. With p->lock held. */
static struct lx_thread *slot(struct lx_proc *p, bool *reuse)
{
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (t && !t->live && t->cpu.fd >= 0 && !t->running) {
			*reuse = true;
			return t;
		}
	}
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		if (p->threads[i])
			continue;
		struct lx_thread *t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->p = p;
		t->cpu.fd = -1;
		t->cpu.id = i;
		p->threads[i] = t;
		*reuse = false;
		return t;
	}
	return NULL;
}

long lx_clone_thread(struct lx_thread *t, uint64_t flags, uint64_t stack,
		     uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct lx_proc *p = t->p;
	if ((flags & THREAD_REQUIRED) != THREAD_REQUIRED ||
	    (flags & ~(uint64_t)(THREAD_REQUIRED | THREAD_OPTIONAL | 0xff)))
		return -EINVAL;
	if ((flags & CLONE_SETTLS) && tls >= (1ULL << 47))
		return -EPERM;
	struct vcpu_state *vs = malloc(sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	vcpu_save(&t->cpu, vs);
	/* The new thread starts in user mode where the caller returns. */
	lx_user_context(t, &vs->regs);
	vs->regs.rax = 0;
	if (stack)
		vs->regs.rsp = stack;
	vcpu_user_segments(&vs->sregs);
	if (flags & CLONE_SETTLS)
		vs->sregs.fs.base = tls;

	pthread_mutex_lock(&p->lock);
	bool reuse = false;
	struct lx_thread *nt = slot(p, &reuse);
	long err = nt ? 0 : -EAGAIN;
	if (!err &&
	    (reuse ? vcpu_load(&nt->cpu, vs)
		   : vcpu_create_from(&p->vm, &nt->cpu, nt->cpu.id, vs)) < 0)
		err = -EAGAIN;
	free(vs);
	if (err) {
		pthread_mutex_unlock(&p->lock);
		return err;
	}
	nt->sigmask = t->sigmask;
	memcpy(nt->comm, t->comm, sizeof(nt->comm));
	nt->tpending = 0;
	nt->altstack_sp = nt->altstack_size = 0;
	nt->altstack_flags = 0;
	nt->clear_child_tid = flags & CLONE_CHILD_CLEARTID ? ctid : 0;
	nt->robust_list = nt->robust_len = 0;
	nt->exiting = false;
	nt->entry = ENTRY_NONE;
	nt->tid = 0;
	nt->live = nt->running = true;
	p->nlive++;
	p->nrunning++;
	pthread_mutex_unlock(&p->lock);

	struct start st = {.t = nt, .flags = flags, .ptid = ptid, .ctid = ctid};
	sem_init(&st.ready, 0, 0);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&nt->host, &attr, thread_main, &st) != 0) {
		pthread_mutex_lock(&p->lock);
		nt->live = nt->running = false;
		p->nlive--;
		p->nrunning--;
		pthread_mutex_unlock(&p->lock);
		pthread_attr_destroy(&attr);
		return -EAGAIN;
	}
	pthread_attr_destroy(&attr);
	while (sem_wait(&st.ready) < 0 && errno == EINTR)
		;
	sem_destroy(&st.ready);
	return nt->tid;
}

void lx_thread_start_all(struct lx_proc *p)
{
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (!t || !t->unstarted)
			continue;
		t->unstarted = false;
		struct start st = {.t = t};
		sem_init(&st.ready, 0, 0);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t->host, &attr, thread_main, &st) != 0) {
			/* The guest's thread is lost: end the process rather
			 * than run it with a thread missing. */
			msg("cannot start a host thread for guest thread %d",
			    (int)t->tid);
			pthread_mutex_lock(&p->lock);
			t->live = t->running = false;
			p->nlive--;
			p->nrunning--;
			pthread_mutex_unlock(&p->lock);
			lx_proc_exit(p, MOTE_EXIT_FAIL);
		} else {
			while (sem_wait(&st.ready) < 0 && errno == EINTR)
				;
		}
		pthread_attr_destroy(&attr);
		sem_destroy(&st.ready);
	}
}

/* ---- the end of threads ---- */

void lx_kick(struct lx_thread *o)
{
	/* By host tid (pthread_kill on a detached thread that has just
	 * finished would touch freed memory); the handler knows the kick by
	 * its sender, this process. */
	syscall(SYS_tgkill, getpid(), o->host_tid, LX_SIG_KICK);
}

void lx_kick_others(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (o && o != t && o->running)
			lx_kick(o);
	}
	pthread_mutex_unlock(&p->lock);
}

void lx_proc_exit(struct lx_proc *p, int status)
{
	pthread_t self = pthread_self();
	pthread_mutex_lock(&p->lock);
	if (!p->task.exited) {
		p->task.exited = true;
		p->task.status = status;
	}
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (o && o->running && !pthread_equal(o->host, self))
			lx_kick(o);
	}
	pthread_mutex_unlock(&p->lock);
}

void lx_rekick_wait(struct lx_proc *p, struct lx_thread *self)
{
	/* A kick that lands while its target is in monitor code, just before
	 * a blocking host call, is lost: kick again until it is out. */
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (o && o != self && o->running &&
		    (o->exiting || p->task.exited))
			lx_kick(o);
	}
	lx_gone_timedwait(p, 5);
}

void lx_gone_timedwait(struct lx_proc *p, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000L;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->gone, &p->lock, &ts);
}

void lx_exec_single(struct lx_thread *t)
{
	/* Linux's de_thread: the other threads end before the new image
	 * (even the main one; its host thread then waits for the process to
	 * end, as it always does). */
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (!o || o == t || !o->live)
			continue;
		o->live = false;
		o->exiting = true;
		p->nlive--;
		if (o->running)
			lx_kick(o);
	}
	for (;;) {
		bool busy = false;
		for (int i = 0; i < SYS_MAX_VCPUS; i++) {
			struct lx_thread *o = p->threads[i];
			busy |= o && o != t && o->running;
		}
		if (!busy)
			break;
		lx_rekick_wait(p, t);
	}
	pthread_mutex_unlock(&p->lock);
	t->tid = p->task.pid;
}

void lx_exit_group(struct lx_thread *t, int status)
{
	lx_proc_exit(t->p, status);
}

/* What the kernel does for a thread that ends: zero its clear_child_tid
 * word and wake one waiter (pthread_join). */
static void clear_tid(struct lx_thread *t)
{
	if (!t->clear_child_tid)
		return;
	pid_t *h =
		gm_user(&t->p->vm, t->clear_child_tid, sizeof(pid_t), GM_WRITE);
	if (!h)
		return;
	__atomic_store_n(h, 0, __ATOMIC_SEQ_CST);
	host_futex(h, FUTEX_WAKE, 1, NULL, NULL, 0);
}

LX_SYS(exit)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	bool last = p->nlive == 1;
	if (!last) {
		p->nlive--;
		t->live = false;
		t->exiting = true;
	}
	pthread_mutex_unlock(&p->lock);
	if (last) {
		lx_exit_group(t, (int)(a[0] & 0xff));
		return 0;
	}
	clear_tid(t);
	return 0;
}

LX_SYS(exit_group)
{
	lx_exit_group(t, (int)(a[0] & 0xff));
	return 0;
}

LX_SYS(set_tid_address)
{
	t->clear_child_tid = a[0];
	return t->tid;
}

/* ---- futex ---- */

#define FUTEX_CMD(op) ((op) & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

LX_SYS(futex)
{
	int op = (int)a[1];
	uint32_t val = (uint32_t)a[2];
	void *w = gm_user(&t->p->vm, a[0], sizeof(uint32_t), GM_WRITE);
	if (!w)
		return -EFAULT;
	struct timespec ts, *tsp = NULL;
	void *w2 = NULL;
	long r;
	switch (FUTEX_CMD(op)) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		if (a[3]) {
			int err = lx_get_timespec(t, a[3], &ts);
			if (err)
				return err;
			tsp = &ts;
		}
		/* The wait a signal must end (block.c). */
		return lx_block(SYS_futex, (long)w, op, val, (long)tsp, 0,
				(uint32_t)a[5]);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_UNLOCK_PI:
	case FUTEX_TRYLOCK_PI:
		r = host_futex(w, op, val, NULL, NULL, (uint32_t)a[5]);
		break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP:
		/* Argument 4 is a count here (val2), not a timeout. */
		w2 = gm_user(&t->p->vm, a[4], sizeof(uint32_t), GM_WRITE);
		if (!w2)
			return -EFAULT;
		r = host_futex(w, op, val,
			       (const void *)(uintptr_t)(uint32_t)a[3], w2,
			       (uint32_t)a[5]);
		break;
	default: return -ENOSYS;
	}
	return r < 0 ? -errno : r;
}

/* ---- scheduling ---- */

LX_SYS(sched_setaffinity)
{
	if (a[0] != 0 && (pid_t)a[0] != t->tid && (pid_t)a[0] != t->p->task.pid)
		return -ESRCH;
	if (a[1] == 0)
		return -EINVAL;
	const void *g = gm_user(&t->p->vm, a[2], a[1], GM_READ);
	if (!g)
		return -EFAULT;
	cpu_set_t set;
	/* The vCPU's host thread runs where the guest asks, within the
	 * run's CPUs (--cpus), as a cpuset confines a Linux task. */
	int err = lx_limit_affinity(t->p, g, a[1], &set);
	if (err)
		return err;
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

LX_SYS(getcpu)
{
	unsigned cpu, node;
	if (getcpu(&cpu, &node) < 0)
		return -errno;
	if (a[0]) {
		unsigned *h = gm_user(&t->p->vm, a[0], sizeof(cpu), GM_WRITE);
		if (!h)
			return -EFAULT;
		*h = cpu;
	}
	if (a[1]) {
		unsigned *h = gm_user(&t->p->vm, a[1], sizeof(node), GM_WRITE);
		if (!h)
			return -EFAULT;
		*h = node;
	}
	return 0;
}
