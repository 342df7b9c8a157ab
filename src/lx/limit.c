/* Limits of a run beyond --memory and --pids: --timeout, --cpus and the
 * guest's RLIMIT_FSIZE (--max-file-size).
 *
 * --timeout is a watchdog thread of the first monitor: when the time is
 * up it ends the first process's guest with status 124 (its vCPU threads
 * are kicked out of KVM_RUN or a blocking host call, even spinning at
 * CPL 3 without exits), SIGKILLs every other process of the VM tree, and
 * if the first monitor has not exited half a second later, ends it with
 * _exit(124): nothing the guest does can hold mote up.
 *
 * RLIMIT_FSIZE is the host's: each monitor process carries its guest
 * process's soft limit (inherited through fork, kept across execve, as
 * Linux keeps an rlimit per process), so the kernel itself cuts every
 * write path short (write, pwrite, writev, truncate, fallocate, splice,
 * sendfile, copy_file_range) and sends the SIGXFSZ the guest gets
 * (signal.c). The host's hard limit stays mote's own; the guest's hard
 * limit is kept here, and the host's soft one never exceeds it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

_Static_assert(sizeof(((struct lx_opts *)0)->cpus) == sizeof(cpu_set_t),
	       "lx_opts.cpus is a cpu_set_t");

/* ---- --cpus ---- */

static const cpu_set_t *vm_cpus(const struct lx_opts *o)
{
	const cpu_set_t *set = (const cpu_set_t *)o->cpus;
	return CPU_COUNT(set) ? set : NULL;
}

int lx_limit_cpus(const struct lx_opts *o)
{
	const cpu_set_t *set = vm_cpus(o);
	if (!set || sched_setaffinity(0, sizeof(*set), set) == 0)
		return 0;
	msg("--cpus %d: cannot confine mote to its CPUs: %s", o->ncpus,
	    strerror(errno));
	return -1;
}

int lx_limit_affinity(struct lx_proc *p, const void *mask, size_t len,
		      void *out)
{
	cpu_set_t *set = out;
	CPU_ZERO(set);
	memcpy(set, mask, MIN(len, sizeof(*set)));
	const cpu_set_t *vm = vm_cpus(p->opts);
	if (vm)
		CPU_AND(set, set, vm);
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

/* ---- --timeout ---- */

/* Ends this process's guest with status 124, unless it has ended on its
 * own meanwhile (false). The message goes out under the lock, so before
 * the first monitor can report and exit. */
static bool stop_guest(struct lx_proc *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec++;
	bool locked = pthread_mutex_timedlock(&p->lock, &ts) == 0;
	bool stop = !locked || !p->task.exited;
	if (stop) {
		msg("--timeout %ss elapsed: the guest was stopped",
		    p->opts->timeout_arg);
		p->task.status = LX_EXIT_TIMEOUT;
		p->task.exited = true;
	}
	for (int i = 0; locked && stop && i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *o = p->threads[i];
		if (o && o->running)
			lx_kick(o);
	}
	if (locked)
		pthread_mutex_unlock(&p->lock);
	return stop;
}

static void *watchdog(void *arg)
{
	struct lx_proc *p = arg;
	const struct lx_opts *o = p->opts;
	uint64_t end = o->t_start + o->timeout_ns;
	struct timespec ts = {(time_t)(end / 1000000000),
			      (long)(end % 1000000000)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	if (!stop_guest(p))
		return NULL;
	lx_tree_kill_all(p->task.tree);
	/* The vCPU threads leave their run loops and the first one returns
	 * the status from run_program. One that does not within a while (a host
	 * call no kick ends) is ended with the process. */
	nanosleep(&(struct timespec){0, 500000000}, NULL);
	/* A vCPU thread may hold the trace's lock, forever: no waiting. */
	if (p->trace && ftrylockfile(p->trace) == 0) {
		fflush_unlocked(p->trace);
		funlockfile(p->trace);
	}
	if (lx_hooks.dying)
		lx_hooks.dying();
	_exit(LX_EXIT_TIMEOUT);
}

static void start_watchdog(struct lx_proc *p)
{
	/* No guest signal lands on this thread: it has no vCPU. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_t th;
	int err = pthread_create(&th, NULL, watchdog, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die(MOTE_EXIT_FAIL, "--timeout: cannot start its thread: %s",
		    strerror(err));
	pthread_detach(th);
}

/* ---- RLIMIT_FSIZE ---- */

/* The host's limit with `soft` as its soft one (its hard one bounds it). */
static int host_fsize(uint64_t soft)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_FSIZE, &r) < 0)
		return -errno;
	r.rlim_cur = soft < r.rlim_max ? soft : r.rlim_max;
	return setrlimit(RLIMIT_FSIZE, &r) < 0 ? -errno : 0;
}

int lx_limit_fsize(uint64_t soft)
{
	return host_fsize(soft);
}

void lx_own_write_begin(struct lx_proc *p, struct lx_own_write *w)
{
	struct rlimit *lim = lx_rlimits(p);
	w->active = lim && lim[RLIMIT_FSIZE].rlim_cur != RLIM_INFINITY;
	if (!w->active)
		return;
	sigset_t xfsz;
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, &w->old);
	w->lifted = lim[RLIMIT_FSIZE].rlim_cur < lim[RLIMIT_FSIZE].rlim_max;
	if (w->lifted)
		host_fsize(lim[RLIMIT_FSIZE].rlim_max);
}

void lx_own_write_end(struct lx_proc *p, struct lx_own_write *w, bool efbig)
{
	if (!w->active)
		return;
	if (w->lifted)
		host_fsize(lx_rlimits(p)[RLIMIT_FSIZE].rlim_cur);
	if (efbig) {
		/* The kernel's SIGXFSZ for this thread: taken before any
		 * other, as a thread's own signals come first. */
		sigset_t xfsz;
		sigemptyset(&xfsz);
		sigaddset(&xfsz, SIGXFSZ);
		sigtimedwait(&xfsz, NULL, &(struct timespec){0, 0});
	}
	pthread_sigmask(SIG_SETMASK, &w->old, NULL);
}

void lx_limit_start(struct lx_proc *p)
{
	struct rlimit *lim = lx_rlimits(p);
	if (!lim)
		die(MOTE_EXIT_FAIL, "out of memory");
	int err = host_fsize(lim[RLIMIT_FSIZE].rlim_cur);
	if (err)
		die(MOTE_EXIT_FAIL, "cannot set the file-size limit: %s",
		    strerror(-err));
	if (p->opts->timeout_ns)
		start_watchdog(p);
}
