/* Signals: the process's dispositions and pending signals, their delivery
 * (signal.c), signalfd (sigfd.c). */
#ifndef MOTE_LX_SIGSTATE_H
#define MOTE_LX_SIGSTATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/vm.h"

struct lx_proc;
struct lx_thread;
struct lx_fd;

struct lx_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* The process's signal state (signal.c); p->lock guards it. */
struct lx_sigstate {
	struct lx_sigaction act[64];
	uint64_t pending;      /* signals for the process, bit sig-1 */
	siginfo_t info[65];    /* the siginfo of each pending one */
	uint32_t rt_extra[65]; /* queued real-time signals beyond one */
};

/* sigfd.c: signalfd. notify marks the signalfds whose mask has sig
 * readable (async-signal-safe); fork gives a fork's child signalfds of its
 * own; read serves read() on one. */
void lx_sigfd_notify(int sig);
void lx_sigfd_fork(struct lx_proc *p);
long lx_sigfd_read(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		   uint64_t count);
/* Snapshots: the mask of the signalfd behind host fd `host` (false: not
 * one); a new one with `mask` for a restored process, its flags
 * SFD_NONBLOCK or 0: the guest's end to install, or -errno. */
bool lx_sigfd_mask(int host, uint64_t *mask);
int lx_sigfd_restore(struct lx_proc *p, uint64_t mask, int flags);

/* signal.c */
/* Catches every host signal for the guest; the handlers record. */
void lx_signal_init(struct lx_proc *p);
/* Makes the host's SIGCHLD handling of the monitor follow the guest's
 * (ignoring it reaps children automatically). */
void lx_signal_sync_chld(struct lx_proc *p);
/* Around fork(): host signals held, so that the child starts with none
 * of the parent's pending and loses none sent to it. */
void lx_signal_fork_begin(struct lx_thread *t);
void lx_signal_fork_end(bool child);
/* The thread (and vCPU) the calling host thread runs (NULL: none), for
 * the host signal handler. */
void lx_signal_thread(struct lx_thread *t);
/* The registers the guest sees in user mode at this exit. */
void lx_user_context(struct lx_thread *t, struct kvm_regs *u);
/* Queues a signal for one thread of this process and wakes it. */
void lx_signal_thread_raise(struct lx_thread *target, int sig,
			    const siginfo_t *si);
/* The process's pending signals (ignored ones dropped). */
uint64_t lx_signal_pending(struct lx_thread *t);
/* Queues a signal for the process, siginfo optional. */
void lx_signal_raise(struct lx_proc *p, int sig, const siginfo_t *si);
/* Delivers the next deliverable signal, or restarts an interrupted syscall,
 * before the vCPU resumes. */
void lx_signal_deliver(struct lx_thread *t);
/* Queues a CPU fault's signal if the guest handles it; otherwise leaves
 * the kill to the caller. */
bool lx_signal_fault(struct lx_thread *t, int sig, int code, uint64_t addr);
bool lx_signal_restartable(uint64_t nr);
/* Ends the process as if killed by `sig` (reports like a shell does). */
void lx_kill(struct lx_proc *p, int sig, const char *why);

#endif
