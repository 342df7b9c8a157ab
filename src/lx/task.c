/* Per-task state and accounting: resource usage, times, priorities and
 * scheduling parameters, prctl, memory locking, membarrier, capabilities.
 * Every call that names another task accepts only the guest's own: its
 * threads and the processes of this mote run. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

/* A pid or tid the guest may act on: 0 (the caller), one of its threads,
 * or a process of this run. */
static bool own_task(struct lx_thread *t, pid_t who)
{
	struct lx_proc *p = t->p;
	if (who == 0 || who == p->task.pid || who == t->tid)
		return true;
	bool found = false;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->live &&
		    p->threads[i]->tid == who)
			found = true;
	pthread_mutex_unlock(&p->lock);
	return found || lx_tree_has(p->task.tree, who);
}

/* The host's id for a pid or tid own_task accepted: a restored process
 * keeps the ids of its snapshot (its guest knows them), which are not its
 * monitor's. */
static pid_t host_id(struct lx_thread *t, pid_t who)
{
	struct lx_proc *p = t->p;
	if (who == 0 || !p->task.restored)
		return who;
	if (who == p->task.pid)
		return getpid();
	pid_t host = who;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->live &&
		    p->threads[i]->tid == who)
			host = p->threads[i]->host_tid;
	pthread_mutex_unlock(&p->lock);
	return host;
}

/* ---- usage ---- */

LX_SYS(getrusage)
{
	int who = (int)a[0];
	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN &&
	    who != RUSAGE_THREAD)
		return -EINVAL;
	struct rusage ru;
	/* The host's figures: the monitor's are its guest's (the vCPU
	 * thread's for RUSAGE_THREAD, the reaped child monitors' for
	 * RUSAGE_CHILDREN). */
	if (getrusage(who, &ru) < 0)
		return -errno;
	return lx_put(t, a[1], &ru, sizeof(ru));
}

LX_SYS(times)
{
	struct tms tm;
	clock_t now = times(&tm);
	if (a[0] && lx_put(t, a[0], &tm, sizeof(tm)) < 0)
		return -EFAULT;
	return now;
}

/* ---- priorities ---- */

/* The host task a getpriority/setpriority target names. PRIO_PGRP and
 * PRIO_USER name the caller's own process only (its group or its user
 * with who 0 or its own id): other members could be host processes. */
static int prio_target(struct lx_thread *t, uint64_t which, uint64_t who,
		       pid_t *host)
{
	switch (which) {
	case PRIO_PROCESS:
		if (!own_task(t, (pid_t)who))
			return -ESRCH;
		*host = host_id(t, (pid_t)who);
		return 0;
	case PRIO_PGRP:
		if ((pid_t)who != 0 && (pid_t)who != lx_getpgrp(t->p))
			return -ESRCH;
		*host = getpid();
		return 0;
	case PRIO_USER:
		if ((uid_t)who != 0 && (uid_t)who != getuid())
			return -ESRCH;
		*host = getpid();
		return 0;
	}
	return -EINVAL;
}

LX_SYS(getpriority)
{
	pid_t host;
	int err = prio_target(t, a[0], a[1], &host);
	if (err)
		return err;
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)host);
	if (nice == -1 && errno)
		return -errno;
	return 20 - nice; /* the syscall's form: 1 (nice 19) to 40 (-20) */
}

LX_SYS(setpriority)
{
	pid_t host;
	int err = prio_target(t, a[0], a[1], &host);
	if (err)
		return err;
	return setpriority(PRIO_PROCESS, (id_t)host, (int)a[2]) < 0 ? -errno
								    : 0;
}

LX_SYS(sched_getparam)
{
	if (!a[1] || (pid_t)a[0] < 0)
		return -EINVAL;
	if (!own_task(t, (pid_t)a[0]))
		return -ESRCH;
	struct sched_param sp;
	if (sched_getparam(host_id(t, (pid_t)a[0]), &sp) < 0)
		return -errno;
	return lx_put(t, a[1], &sp, sizeof(sp));
}

LX_SYS(sched_getscheduler)
{
	if ((pid_t)a[0] < 0)
		return -EINVAL;
	if (!own_task(t, (pid_t)a[0]))
		return -ESRCH;
	int r = sched_getscheduler(host_id(t, (pid_t)a[0]));
	return r < 0 ? -errno : r;
}

LX_SYS(sched_get_priority_max)
{
	int r = sched_get_priority_max((int)a[0]);
	return r < 0 ? -errno : r;
}

LX_SYS(sched_get_priority_min)
{
	int r = sched_get_priority_min((int)a[0]);
	return r < 0 ? -errno : r;
}

/* ---- prctl ---- */

#define COMM_LEN 16

/* The thread's name: what PR_SET_NAME gave, else the executable's base
 * name, as exec sets it on Linux. */
static void comm_of(struct lx_thread *t, char out[COMM_LEN])
{
	memset(out, 0, COMM_LEN);
	if (t->comm[0]) {
		memcpy(out, t->comm, COMM_LEN - 1);
		return;
	}
	const char *b = strrchr(t->p->task.exe, '/');
	b = b ? b + 1 : t->p->task.exe;
	memcpy(out, b, MIN(strlen(b), COMM_LEN - 1));
}

static long set_name(struct lx_thread *t, uint64_t gva)
{
	char buf[COMM_LEN] = {0};
	/* Linux copies at most 15 bytes, a NUL or not. */
	long n = gm_strncpy(&t->p->vm, buf, gva, COMM_LEN - 1);
	if (n == -EFAULT)
		return -EFAULT;
	buf[COMM_LEN - 1] = 0;
	memcpy(t->comm, buf, COMM_LEN);
	return 0;
}

static long get_int_out(struct lx_thread *t, int option, uint64_t gva)
{
	int v = 0;
	if (prctl(option, &v, 0, 0, 0) < 0)
		return -errno;
	return lx_put(t, gva, &v, sizeof(v));
}

LX_SYS(prctl)
{
	char name[COMM_LEN];
	long r;
	switch (a[0]) {
	case PR_SET_NAME: return set_name(t, a[1]);
	case PR_GET_NAME:
		comm_of(t, name);
		return lx_put(t, a[1], name, COMM_LEN);
	/* These are the monitor's own on the vCPU's host thread, with the
	 * meaning they have for the guest: the parent's death signal is a
	 * host signal to the monitor, which is the guest's; no_new_privs
	 * and dumpability hold for the guest's process. */
	case PR_SET_PDEATHSIG:
		if (a[1] > 64)
			return -EINVAL;
		r = prctl(PR_SET_PDEATHSIG, a[1], 0, 0, 0);
		return r < 0 ? -errno : 0;
	case PR_GET_PDEATHSIG: return get_int_out(t, PR_GET_PDEATHSIG, a[1]);
	case PR_SET_NO_NEW_PRIVS:
	case PR_GET_NO_NEW_PRIVS:
	case PR_SET_DUMPABLE:
	case PR_GET_DUMPABLE:
		if (a[0] == PR_SET_DUMPABLE && a[1] > 1)
			return -EINVAL;
		r = prctl((int)a[0], a[1], a[2], a[3], a[4]);
		return r < 0 ? -errno : r;
	}
	return -EINVAL;
}

/* ---- memory locking: accepted, no effect (guest memory is the
 * monitor's; locking it would pin host memory for a guest) ---- */

/* Linux's checks: a wrapping range is EINVAL, an unmapped page ENOMEM. */
static long mapped_range(struct lx_thread *t, uint64_t addr, uint64_t len)
{
	uint64_t start = ALIGN_DOWN(addr, PAGE_SIZE);
	uint64_t end = start + ALIGN_UP(len + (addr - start), PAGE_SIZE);
	if (end < start || len + (addr - start) < len)
		return -EINVAL;
	struct lx_mm *mm = &t->p->mm;
	long r = -ENOMEM;
	pthread_mutex_lock(&t->p->mm.lock);
	uint64_t pos = start;
	for (int i = 0; i < mm->nvmas && pos < end; i++) {
		if (mm->vmas[i].end <= pos)
			continue;
		if (mm->vmas[i].start > pos)
			break;
		pos = mm->vmas[i].end;
	}
	if (pos >= end)
		r = 0;
	pthread_mutex_unlock(&t->p->mm.lock);
	return r;
}

LX_SYS(mlock)
{
	return mapped_range(t, a[0], a[1]);
}

LX_SYS(munlock)
{
	return mapped_range(t, a[0], a[1]);
}

LX_SYS(mlock2)
{
	if (a[2] & ~(uint64_t)MLOCK_ONFAULT)
		return -EINVAL;
	return mapped_range(t, a[0], a[1]);
}

LX_SYS(mlockall)
{
	uint64_t all = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;
	if (!a[0] || (a[0] & ~all) || a[0] == MCL_ONFAULT)
		return -EINVAL;
	return 0;
}

LX_SYS(munlockall)
{
	return 0;
}

/* ---- membarrier ----
 *
 * The guest's threads are host threads of the monitor, in KVM_RUN on its
 * mm while they run guest code, so the host's membarrier is a real barrier
 * for them: a private expedited one IPIs the CPUs running them, and the
 * interrupt takes each vCPU out of guest mode, which serialises it. The
 * commands are the host's, registrations included (per process, like
 * Linux's per mm; one thing differs: mote's exec does not drop them). The
 * rseq ones are refused, as rseq is. */
#define MB_ALLOWED                                                             \
	(MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |             \
	 MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED |                            \
	 MEMBARRIER_CMD_PRIVATE_EXPEDITED |                                    \
	 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED |                           \
	 MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE |                          \
	 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)
#define MB_GET_REGISTRATIONS (1 << 9)

static long host_membarrier(int cmd)
{
	long r = syscall(SYS_membarrier, cmd, 0, 0);
	return r < 0 ? -errno : r;
}

LX_SYS(membarrier)
{
	int cmd = (int)a[0];
	if (a[1])
		return -EINVAL;
	if (cmd == MEMBARRIER_CMD_QUERY) {
		long r = host_membarrier(MEMBARRIER_CMD_QUERY);
		return r < 0 ? r : (r & MB_ALLOWED);
	}
	if (cmd == MB_GET_REGISTRATIONS)
		return host_membarrier(cmd);
	if (cmd <= 0 || (cmd & (cmd - 1)) || !(cmd & MB_ALLOWED))
		return -EINVAL;
	return host_membarrier(cmd);
}

/* ---- capabilities: the host's (none for a user that is not root) ---- */

/* Linux's cap_validate_magic: the number of 32-bit words of each set,
 * or -EINVAL after telling the caller the version to use. */
static int cap_words(struct lx_thread *t, uint64_t hdr)
{
	uint32_t *v = gm_user(&t->p->vm, hdr, 8, GM_WRITE);
	if (!v)
		return -EFAULT;
	switch (*v) {
	case _LINUX_CAPABILITY_VERSION_1: return 1;
	case _LINUX_CAPABILITY_VERSION_2:
	case _LINUX_CAPABILITY_VERSION_3: return 2;
	}
	*v = _LINUX_CAPABILITY_VERSION_3;
	return -EINVAL;
}

static long host_caps(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

LX_SYS(capget)
{
	int words = cap_words(t, a[0]);
	if (!a[1] || words < 0)
		return !a[1] && words == -EINVAL ? 0 : words;
	const int32_t *pid = gm_user(&t->p->vm, a[0] + 4, 4, GM_READ);
	if (*pid < 0)
		return -EINVAL;
	if (!own_task(t, *pid))
		return -ESRCH;
	struct __user_cap_data_struct d[2];
	long err = host_caps(d);
	return err ? err : lx_put(t, a[1], d, words * sizeof(d[0]));
}

LX_SYS(capset)
{
	int words = cap_words(t, a[0]);
	if (words < 0)
		return words;
	const int32_t *pid = gm_user(&t->p->vm, a[0] + 4, 4, GM_READ);
	if (*pid != 0 && *pid != t->tid)
		return -EPERM;
	const void *g = gm_user(&t->p->vm, a[1], words * 12, GM_READ);
	if (!g)
		return -EFAULT;
	/* The guest may not change the monitor's capabilities; asking for
	 * the sets it has is no change, which Linux allows. */
	struct __user_cap_data_struct d[2];
	long err = host_caps(d);
	if (err)
		return err;
	return memcmp(g, d, words * 12) ? -EPERM : 0;
}
