/* Process identity, time, limits, randomness, and signal state. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define ARCH_SET_GS   0x1001
#define ARCH_SET_FS   0x1002
#define ARCH_GET_FS   0x1003
#define ARCH_GET_GS   0x1004
#define USER_ADDR_MAX (1ULL << 47)

static int get(struct lx_thread *t, void *v, uint64_t gva, size_t len)
{
	return gm_copy_in(&t->p->vm, v, gva, len);
}

LX_SYS(arch_prctl)
{
	uint64_t v;
	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= USER_ADDR_MAX)
			return -EPERM;
		if (a[0] == ARCH_SET_FS)
			vcpu_set_fs(&t->cpu, a[1]);
		else
			vcpu_set_gs(&t->cpu, a[1]);
		return 0;
	case ARCH_GET_FS:
		v = vcpu_sregs(&t->cpu)->fs.base;
		return lx_put(t, a[1], &v, sizeof(v));
	case ARCH_GET_GS:
		v = vcpu_sregs(&t->cpu)->gs.base;
		return lx_put(t, a[1], &v, sizeof(v));
	}
	return -EINVAL;
}

LX_SYS(set_robust_list)
{
	if (a[1] != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	t->robust_list = a[0];
	t->robust_len = a[1];
	return 0;
}

/* ---- resource limits: kept per VM; RLIMIT_FSIZE is also the monitor's
 * own (limit.c), the others are never applied to the monitor ---- */

struct rlimit *lx_rlimits(struct lx_proc *p)
{
	if (!p->task.rlimits) {
		p->task.rlimits = calloc(RLIM_NLIMITS, sizeof(struct rlimit));
		if (!p->task.rlimits)
			return NULL;
		for (int r = 0; r < RLIM_NLIMITS; r++)
			getrlimit(r, &p->task.rlimits[r]);
		p->task.rlimits[RLIMIT_NOFILE] =
			(struct rlimit){p->fdt.nofile_cur, p->fdt.nofile_max};
		p->task.rlimits[RLIMIT_AS] =
			(struct rlimit){p->vm.user_size, p->vm.user_size};
		/* The host's hard limit bounds what it can hold. */
		struct rlimit *fs = &p->task.rlimits[RLIMIT_FSIZE];
		if (p->opts && p->opts->fsize_set)
			fs->rlim_cur = fs->rlim_max =
				MIN(p->opts->fsize, fs->rlim_max);
	}
	return p->task.rlimits;
}

LX_SYS(prlimit64)
{
	struct lx_proc *p = t->p;
	int res = (int)a[1];
	if (a[0] != 0 && (pid_t)a[0] != p->task.pid)
		return -ESRCH;
	if (res < 0 || res >= RLIM_NLIMITS)
		return -EINVAL;
	struct rlimit *lim = lx_rlimits(p);
	if (!lim)
		return -ENOMEM;
	struct rlimit nl;
	if (a[2] && get(t, &nl, a[2], sizeof(nl)) < 0)
		return -EFAULT;
	if (a[3] && lx_put(t, a[3], &lim[res], sizeof(lim[res])) < 0)
		return -EFAULT;
	if (!a[2])
		return 0;
	if (nl.rlim_cur > nl.rlim_max)
		return -EINVAL;
	/* Raising a hard limit needs CAP_SYS_RESOURCE, which a guest never
	 * has. */
	if (nl.rlim_max > lim[res].rlim_max)
		return -EPERM;
	if (res == RLIMIT_FSIZE) {
		int err = lx_limit_fsize(nl.rlim_cur);
		if (err)
			return err;
	}
	lim[res] = nl;
	if (res == RLIMIT_NOFILE) {
		p->fdt.nofile_cur = nl.rlim_cur;
		p->fdt.nofile_max = nl.rlim_max;
	}
	return 0;
}

LX_SYS(getrlimit)
{
	const uint64_t b[4] = {0, a[0], 0, a[1]};
	return a[1] ? lx_sys_prlimit64(t, b) : -EFAULT;
}

LX_SYS(setrlimit)
{
	const uint64_t b[4] = {0, a[0], a[1], 0};
	return a[1] ? lx_sys_prlimit64(t, b) : -EFAULT;
}

/* ---- identity ---- */

LX_SYS(uname)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	if (t->p->opts->hostname)
		snprintf(u.nodename, sizeof(u.nodename), "%s",
			 t->p->opts->hostname);
	return lx_put(t, a[0], &u, sizeof(u));
}

LX_SYS(sysinfo)
{
	struct lx_proc *p = t->p;
	struct sysinfo si = {0};
	struct sysinfo host;
	if (sysinfo(&host) == 0)
		memcpy(si.loads, host.loads, sizeof(si.loads));
	si.uptime = (long)((mono_ns() - p->vm.boot_ns) / 1000000000ULL);
	uint64_t used = 0;
	for (int i = 0; i < p->mm.nvmas; i++)
		used += p->mm.vmas[i].end - p->mm.vmas[i].start;
	si.totalram = p->vm.user_size;
	si.freeram = p->vm.user_size > used ? p->vm.user_size - used : 0;
	si.procs = 1;
	si.mem_unit = 1;
	return lx_put(t, a[0], &si, sizeof(si));
}

LX_SYS(getpid)
{
	return t->p->task.pid;
}
LX_SYS(gettid)
{
	return t->tid;
}
LX_SYS(getppid)
{
	return lx_getppid(t->p);
}
LX_SYS(getuid)
{
	return getuid();
}
LX_SYS(geteuid)
{
	return geteuid();
}
LX_SYS(getgid)
{
	return getgid();
}
LX_SYS(getegid)
{
	return getegid();
}

LX_SYS(getgroups)
{
	int size = (int)a[0];
	gid_t g[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, g);
	if (n < 0)
		return -errno;
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return n;
	if (size < n)
		return -EINVAL;
	int err = lx_put(t, a[1], g, n * sizeof(gid_t));
	return err ? err : n;
}

LX_SYS(getrandom)
{
	uint64_t len = a[1];
	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if (len > INT32_MAX)
		len = INT32_MAX;
	void *h = gm_user(&t->p->vm, a[0], len, GM_WRITE);
	if (!h)
		return -EFAULT;
	ssize_t n = getrandom(h, len, (unsigned)a[2]);
	return n < 0 ? -errno : n;
}

/* ---- time ---- */

static bool clock_ok(uint64_t clk)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI: return true;
	}
	return false;
}

LX_SYS(clock_gettime)
{
	struct timespec ts;
	if (!clock_ok(a[0]))
		return -EINVAL;
	clock_gettime((clockid_t)a[0], &ts);
	return lx_put(t, a[1], &ts, sizeof(ts));
}

LX_SYS(clock_getres)
{
	struct timespec ts;
	if (!clock_ok(a[0]))
		return -EINVAL;
	clock_getres((clockid_t)a[0], &ts);
	return a[1] ? lx_put(t, a[1], &ts, sizeof(ts)) : 0;
}

LX_SYS(gettimeofday)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
	if (a[0] && lx_put(t, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	struct timezone tz = {0, 0};
	if (a[1] && lx_put(t, a[1], &tz, sizeof(tz)) < 0)
		return -EFAULT;
	return 0;
}

LX_SYS(time)
{
	time_t now = time(NULL);
	if (a[0] && lx_put(t, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

static struct timespec ts_minus(struct timespec a, struct timespec b)
{
	struct timespec r = {a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec};
	if (r.tv_nsec < 0) {
		r.tv_sec--;
		r.tv_nsec += 1000000000L;
	}
	return r.tv_sec < 0 ? (struct timespec){0, 0} : r;
}

static long sleep_fn(void *arg, const struct timespec *left,
		     const sigset_t *hmask)
{
	(void)arg;
	return ppoll(NULL, 0, left, hmask) < 0 ? -errno : 0;
}

/* A sleep ends early only for a signal the guest would take (lx_wait), as
 * on Linux: a kick for a signal it blocks does not cut it short. An
 * absolute time is turned into the time left on its clock. */
static long do_sleep(struct lx_thread *t, clockid_t clk, int flags,
		     uint64_t req_gva, uint64_t rem_gva)
{
	struct timespec req, now, t0;
	if (get(t, &req, req_gva, sizeof(req)) < 0)
		return -EFAULT;
	if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= 1000000000L)
		return -EINVAL;
	if (flags & TIMER_ABSTIME) {
		clock_gettime(clk, &now);
		req = ts_minus(req, now);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long r = lx_wait(t, NULL, &req, sleep_fn, NULL);
	if (r == -EINTR && rem_gva && !(flags & TIMER_ABSTIME)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		struct timespec rem = ts_minus(req, ts_minus(now, t0));
		if (lx_put(t, rem_gva, &rem, sizeof(rem)) < 0)
			return -EFAULT;
	}
	return r;
}

LX_SYS(nanosleep)
{
	return do_sleep(t, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

LX_SYS(clock_nanosleep)
{
	if (!clock_ok(a[0]) || a[0] == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	if (a[1] & ~(uint64_t)TIMER_ABSTIME)
		return -EINVAL;
	return do_sleep(t, (clockid_t)a[0], (int)a[1], a[2], a[3]);
}

/* ---- signal dispositions and masks (delivery: signal.c) ---- */

#define SIGSET_SIZE 8
#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

LX_SYS(rt_sigaction)
{
	int sig = (int)a[0];
	if (a[3] != SIGSET_SIZE || sig < 1 || sig > 64)
		return -EINVAL;
	struct lx_sigaction *sa = &t->p->sig.act[sig - 1];
	struct lx_sigaction old = *sa, nsa;
	if (a[1]) {
		if (get(t, &nsa, a[1], sizeof(nsa)) < 0)
			return -EFAULT;
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
	}
	if (a[2] && lx_put(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	if (a[1]) {
		nsa.mask &= ~UNBLOCKABLE;
		*sa = nsa;
		/* Ignoring a signal discards it if pending, blocked or not. */
		if (nsa.handler == (uint64_t)(uintptr_t)SIG_IGN ||
		    (nsa.handler == (uint64_t)(uintptr_t)SIG_DFL &&
		     (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH)))
			t->p->sig.pending &=
				~(lx_signal_pending(t) & (1ULL << (sig - 1)));
		if (sig == SIGCHLD)
			lx_signal_sync_chld(t->p);
	}
	return 0;
}

LX_SYS(rt_sigprocmask)
{
	uint64_t set, old = t->sigmask;
	if (a[3] != SIGSET_SIZE)
		return -EINVAL;
	if (a[1]) {
		if (get(t, &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
		switch (a[0]) {
		case SIG_BLOCK: t->sigmask |= set; break;
		case SIG_UNBLOCK: t->sigmask &= ~set; break;
		case SIG_SETMASK: t->sigmask = set; break;
		default: return -EINVAL;
		}
		t->sigmask &= ~UNBLOCKABLE;
	}
	if (a[2] && lx_put(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/* ---- scheduling ---- */

LX_SYS(sched_getaffinity)
{
	uint64_t len = a[1];
	if (a[0] != 0 && (pid_t)a[0] != t->tid && (pid_t)a[0] != t->p->task.pid)
		return -ESRCH;
	/* Linux copies nr_cpu_ids bits rounded up to a long. */
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	size_t n = ALIGN_UP((uint64_t)(ncpu + 7) / 8, sizeof(uint64_t));
	if (len < n || (len & (sizeof(uint64_t) - 1)))
		return -EINVAL;
	cpu_set_t set;
	if (n > sizeof(set) || sched_getaffinity(0, sizeof(set), &set) < 0)
		return -EINVAL;
	int err = lx_put(t, a[2], &set, n);
	return err ? err : (long)n;
}

LX_SYS(sched_yield)
{
	sched_yield();
	return 0;
}
