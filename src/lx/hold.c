/* Holding a run: every vCPU out of KVM_RUN and kept out (mote pause, and
 * the quiet point a snapshot is taken at).
 *
 * The hold is one futex word in the tree's shared page, so it reaches every
 * monitor of the run: the holder sets it and kicks every thread; a thread
 * sees it at the top of its run loop, after the exit it was serving is
 * finished and any signal delivered, and parks there on the futex. A
 * thread blocked in a host call (read, futex, poll) is interrupted by the
 * kick and its syscall restarted once the hold ends (lx_syscall), as
 * Linux's freezer does, so a parked thread's user context is always whole:
 * that is what a snapshot saves. Other monitors of the tree get the kick
 * as a SIGRTMAX carrying the tree's cookie, which a guest cannot forge.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

bool lx_held(struct lx_proc *p)
{
	return p->task.tree &&
	       atomic_load(lx_tree_hold_word(p->task.tree)) != 0;
}

static void futex_wait_hold(struct lx_proc *p, int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	syscall(SYS_futex, lx_tree_hold_word(p->task.tree), FUTEX_WAIT, 1, &ts,
		NULL, 0);
}

void lx_park(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	t->parked = true;
	p->nparked++;
	pthread_cond_broadcast(&p->gone);
	pthread_mutex_unlock(&p->lock);
	/* A kick from another monitor reaches one thread: it passes the
	 * word on to the others. */
	lx_kick_others(t);
	while (lx_held(p) && !p->task.exited && !t->exiting) {
		/* A tree snapshot may ask this monitor for its part. */
		if (lx_hooks.tree_request)
			lx_hooks.tree_request(p);
		futex_wait_hold(p, 100);
	}
	pthread_mutex_lock(&p->lock);
	t->parked = false;
	p->nparked--;
	pthread_mutex_unlock(&p->lock);
}

/* Threads of p (but self) still to park; kicks them. With p->lock held. */
static int unparked(struct lx_proc *p, struct lx_thread *self)
{
	int n = 0;
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (!o || o == self || !o->running || o->parked)
			continue;
		lx_kick(o);
		n++;
	}
	return n;
}

int lx_hold(struct lx_proc *p, struct lx_thread *self, int timeout_ms)
{
	atomic_store(lx_tree_hold_word(p->task.tree), 1);
	lx_tree_kick_others(p->task.tree);
	return lx_hold_local(p, self, timeout_ms);
}

int lx_hold_local(struct lx_proc *p, struct lx_thread *self, int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	pthread_mutex_lock(&p->lock);
	int left;
	while ((left = unparked(p, self)) > 0 && !p->task.exited &&
	       mono_ns() < end) {
		/* A kick that lands just before a blocking call is lost:
		 * kick again every few milliseconds. */
		lx_gone_timedwait(p, 5);
	}
	pthread_mutex_unlock(&p->lock);
	return left > 0 && !p->task.exited ? -ETIMEDOUT : 0;
}

void lx_release(struct lx_proc *p)
{
	atomic_store(lx_tree_hold_word(p->task.tree), 0);
	syscall(SYS_futex, lx_tree_hold_word(p->task.tree), FUTEX_WAKE, INT_MAX,
		NULL, NULL, 0);
}
