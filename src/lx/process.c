/* Guest processes are monitor processes: fork, wait, kill, process groups.
 *
 * fork() in the guest is fork() of the monitor: the child inherits guest
 * memory copy-on-write at the same host addresses, opens a VM of its own on
 * it (a KVM VM cannot be used from another process), and resumes the guest
 * on a fresh vCPU with the caller's registers. Guest pids are the monitors'
 * host pids (but after a restore: tree.c maps them), so the host's process
 * tree is the guest's and `ps` shows it; wait4 is the host's wait4 on the
 * child monitor, whose exit status is the guest's. Signals between guest
 * processes are host signals between their monitors, confined to the VM
 * tree (tree.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/lx.h"
#include "lx/subsys.h"
#include "util.h"

#define CSIGNAL_MASK 0xffULL

/* What clone() without CLONE_VM accepts: the flags glibc's and musl's fork,
 * vfork and posix_spawn use. Namespaces and the rest are refused. */
#define FORK_FLAGS                                                             \
	(CSIGNAL_MASK | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |            \
	 CLONE_PARENT_SETTID | CLONE_VFORK | CLONE_VM)

static int put_pid(struct lx_proc *p, uint64_t gva, pid_t pid)
{
	pid_t *h = gm_user(&p->vm, gva, sizeof(pid_t), GM_WRITE);
	if (!h)
		return -EFAULT;
	*h = pid;
	return 0;
}

/* ---- the task subsystem's hooks (subsys.h) ---- */

static int task_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	uint8_t has_rl = p->task.rlimits != NULL;
	W(w, p->task.pid);
	w_str(w, p->task.exe);
	W(w, p->task.comm);
	W(w, has_rl);
	if (has_rl)
		w_bytes(w, p->task.rlimits,
			RLIM_NLIMITS * sizeof(struct rlimit));
	return 0;
}

static int task_restore(struct lx_proc *p, struct rbuf *r)
{
	pid_t pid;
	char comm[16];
	uint8_t has_rl;
	struct rlimit rl[RLIM_NLIMITS];
	R(r, pid);
	char *exe = r_str(r);
	R(r, comm);
	R(r, has_rl);
	if (has_rl)
		R(r, rl);
	bool ok = !r->bad && pid > 0 && exe && exe[0] == '/';
	for (int i = 0; ok && has_rl && i < RLIM_NLIMITS; i++)
		ok = rl[i].rlim_cur <= rl[i].rlim_max;
	if (!ok) {
		free(exe);
		return lx_state_bad("process record");
	}
	p->task.restored = true;
	p->task.pid = pid;
	if (p->task.tree)
		lx_tree_set_gpid(p->task.tree, p->task.tree_slot, pid);
	p->task.start_ns = mono_ns();
	snprintf(p->task.exe, sizeof(p->task.exe), "%s", exe);
	free(exe);
	memcpy(p->task.comm, comm, sizeof(comm));
	p->task.comm[15] = 0;
	if (has_rl) {
		if (!lx_rlimits(p))
			return -1;
		memcpy(p->task.rlimits, rl, sizeof(rl));
	}
	int fd = lx_fs_reopen(p, p->task.exe, O_RDONLY);
	p->task.exe_fd = fd < 0 ? -1 : fd_high(fd);
	return 0;
}

/* The child's identity, first: the layers above (lx_hooks.forked) and the
 * tree key on its pid. */
static int task_fork(struct lx_proc *p, const struct lx_fork *f)
{
	/* The parent's pid as its guest knows it (a restored parent keeps
	 * its snapshot's), for getppid while that parent lives; its host
	 * pid as it was before the fork (getppid() here could already be a
	 * reaper's, if the parent has exited). */
	p->task.guest_ppid = p->task.pid;
	p->task.host_ppid = f->parent_host;
	p->task.pid = lx_tree_fill(p->task.tree, f->slot, getpid());
	f->t->tid = p->task.pid;
	p->task.forked = true;
	p->task.restored = false;
	p->task.tree_slot = f->slot;
	/* A vfork child's own end of its parent's wait is not the
	 * grandchild's business: it would hold that parent up. */
	if (p->task.vfork_fd >= 0)
		close(p->task.vfork_fd);
	p->task.vfork_fd = f->vfork_fd;
	lx_tree_set_proc_pid(p->task.tree, f->slot);
	p->task.start_ns = mono_ns();
	if (lx_hooks.forked)
		lx_hooks.forked(p);
	return 0;
}

const struct lx_subsys lx_task_subsys = {
	.name = "process",
	.tag = STREAM_TAG('T', 'A', 'S', 'K'),
	.save = task_save,
	.restore = task_restore,
	.fork = task_fork,
};

/* The child's half: every subsystem's fork hook, then a new VM on the
 * inherited memory with the caller's state on vCPU 0, returning 0. A
 * failure here cannot be reported to the guest that called fork (that is
 * the parent), so the child ends with status 125. */
static long fork_child(const struct lx_fork *f)
{
	struct lx_thread *t = f->t;
	struct lx_proc *p = t->p;
	if (lx_state_fork(p, f) < 0)
		_exit(MOTE_EXIT_FAIL);
	if (vm_refork(&p->vm) < 0 ||
	    vcpu_create_from(&p->vm, &t->cpu, 0, f->st) < 0) {
		msg("fork: cannot create the child's VM: %s", strerror(errno));
		_exit(MOTE_EXIT_FAIL);
	}
	lx_signal_thread(t);
	uint64_t ctid = f->ctid;
	if ((f->flags & CLONE_CHILD_SETTID) &&
	    put_pid(p, ctid, p->task.pid) < 0)
		ctid = 0; /* Linux ignores a bad address here */
	if (f->flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	return 0;
}

static long do_fork(struct lx_thread *t, uint64_t flags, uint64_t stack,
		    uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct lx_proc *p = t->p;
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
		return lx_clone_thread(t, flags, stack, ptid, ctid, tls);
	if (flags & ~FORK_FLAGS)
		return -EINVAL;
	/* CLONE_VM with CLONE_VFORK is vfork, which shares memory only
	 * until exec or exit: a copy plus the wait behaves the same for every
	 * program that keeps to vfork's rules. */
	int slot = lx_tree_reserve(p->task.tree);
	if (slot < 0)
		return slot;
	struct vcpu_state *st = malloc(sizeof(*st));
	int vp[2] = {-1, -1};
	if (!st || ((flags & CLONE_VFORK) && pipe2(vp, O_CLOEXEC) < 0)) {
		free(st);
		lx_tree_release(p->task.tree, slot);
		return -ENOMEM;
	}
	vcpu_save(&t->cpu, st);
	/* A post-copy's pages must all be here: the child's copy of the
	 * mappings would not fetch the missing ones. */
	vm_settle(&p->vm);
	if (p->trace)
		fflush(p->trace);
	lx_signal_fork_begin(t);
	/* No other thread is half-way through changing the address space or
	 * the fd table while the child's copy is taken. */
	pthread_mutex_lock(&p->mm.lock);
	pthread_mutex_lock(&p->fdt.lock);
	pid_t parent_host = getpid();
	pid_t pid = fork();
	if (pid != 0) {
		pthread_mutex_unlock(&p->fdt.lock);
		pthread_mutex_unlock(&p->mm.lock);
	}
	if (pid == 0) {
		if (vp[0] >= 0)
			close(vp[0]);
		/* KVM calls fail with EINTR under a pending signal: keep
		 * them held until the child's VM stands. */
		struct lx_fork f = {.t = t,
				    .st = st,
				    .flags = flags,
				    .ctid = ctid,
				    .stack = stack,
				    .slot = slot,
				    .vfork_fd = vp[1],
				    .parent_host = parent_host};
		long r = fork_child(&f);
		lx_signal_fork_end(true);
		free(st);
		return r;
	}
	lx_signal_fork_end(false);
	int err = errno;
	free(st);
	if (vp[1] >= 0)
		close(vp[1]);
	if (pid < 0) {
		lx_tree_release(p->task.tree, slot);
		if (vp[0] >= 0)
			close(vp[0]);
		return err == ENOMEM ? -ENOMEM : -EAGAIN;
	}
	pid = lx_tree_fill(p->task.tree, slot, pid);
	if (flags & CLONE_PARENT_SETTID)
		put_pid(p, ptid, pid);
	if (vp[0] >= 0) {
		/* vfork: the parent waits until the child execs or exits,
		 * which closes the child's end. */
		char c;
		while (read(vp[0], &c, 1) < 0 && errno == EINTR)
			;
		close(vp[0]);
	}
	return pid;
}

LX_SYS(fork)
{
	return do_fork(t, SIGCHLD, 0, 0, 0, 0);
}

LX_SYS(vfork)
{
	return do_fork(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

LX_SYS(clone)
{
	/* x86-64 order: flags, stack, parent_tid, child_tid, tls. */
	return do_fork(t, a[0], a[1], a[2], a[3], a[4]);
}

LX_SYS(clone3)
{
	struct clone_args ca = {0};
	if (a[1] < CLONE_ARGS_SIZE_VER0 || a[1] > 4096)
		return -EINVAL;
	const uint8_t *g = gm_user(&t->p->vm, a[0], a[1], GM_READ);
	if (!g)
		return -EFAULT;
	memcpy(&ca, g, MIN(a[1], sizeof(ca)));
	for (uint64_t i = sizeof(ca); i < a[1]; i++)
		if (g[i])
			return -E2BIG;
	if (ca.exit_signal & ~CSIGNAL_MASK || ca.set_tid || ca.cgroup)
		return -EINVAL;
	uint64_t stack = ca.stack ? ca.stack + ca.stack_size : 0;
	return do_fork(t, ca.flags | ca.exit_signal, stack, ca.parent_tid,
		       ca.child_tid, ca.tls);
}

/* ---- waiting ---- */

#define WAIT_FLAGS                                                             \
	(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD)

LX_SYS(wait4)
{
	int status;
	struct rusage ru;
	if (a[2] & ~(uint64_t)WAIT_FLAGS)
		return -EINVAL;
	int *gs = a[1] ? gm_user(&t->p->vm, a[1], sizeof(int), GM_WRITE) : NULL;
	struct rusage *gru =
		a[3] ? gm_user(&t->p->vm, a[3], sizeof(ru), GM_WRITE) : NULL;
	if ((a[1] && !gs) || (a[3] && !gru))
		return -EFAULT;
	struct lx_tree *tr = t->p->task.tree;
	pid_t who = (pid_t)a[0];
	/* A child, or (below -1) a process group: by its host pid. */
	if (who > 0 || (who < -1 && who != INT32_MIN)) {
		pid_t h = lx_tree_host_pid(tr, who > 0 ? who : -who);
		if (h < 0)
			return -ECHILD;
		who = who > 0 ? h : -h;
	}
	long r = lx_block(SYS_wait4, who, (long)&status, (int)a[2], (long)&ru,
			  0, 0);
	if (r < 0)
		return r;
	pid_t host = (pid_t)r;
	r = lx_tree_guest_pid(tr, host);
	if (host > 0 && (WIFEXITED(status) || WIFSIGNALED(status)))
		lx_tree_forget(tr, host);
	if (r > 0 && gs)
		*gs = status;
	if (gru)
		*gru = ru;
	return r;
}

LX_SYS(waitid)
{
	siginfo_t si;
	struct rusage ru;
	if (a[3] & ~(uint64_t)(WEXITED | WSTOPPED | WCONTINUED | WNOHANG |
			       WNOWAIT | __WALL | __WCLONE | __WNOTHREAD))
		return -EINVAL;
	siginfo_t *gsi =
		a[2] ? gm_user(&t->p->vm, a[2], sizeof(si), GM_WRITE) : NULL;
	struct rusage *gru =
		a[4] ? gm_user(&t->p->vm, a[4], sizeof(ru), GM_WRITE) : NULL;
	if ((a[2] && !gsi) || (a[4] && !gru))
		return -EFAULT;
	memset(&si, 0, sizeof(si));
	struct lx_tree *tr = t->p->task.tree;
	id_t id = (id_t)a[1];
	if (((int)a[0] == P_PID || (int)a[0] == P_PGID) && (pid_t)id > 0) {
		pid_t h = lx_tree_host_pid(tr, (pid_t)id);
		if (h < 0)
			return -ECHILD;
		id = (id_t)h;
	}
	long r = lx_block(SYS_waitid, (int)a[0], id, (long)&si, (int)a[3],
			  (long)&ru, 0);
	if (r < 0)
		return r;
	pid_t host = si.si_pid;
	si.si_pid = lx_tree_guest_pid(tr, host);
	if (host && !(a[3] & WNOWAIT) &&
	    (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
	     si.si_code == CLD_DUMPED))
		lx_tree_forget(tr, host);
	if (gsi)
		*gsi = si;
	if (gru)
		*gru = ru;
	return 0;
}

/* ---- signals to other processes ---- */

/* kill(), confined to the VM tree: a pid outside it is not the guest's to
 * signal (EPERM), and process groups are the tree's members in them. */
LX_SYS(kill)
{
	struct lx_proc *p = t->p;
	pid_t pid = (pid_t)a[0];
	int sig = (int)a[1];
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (pid == p->task.pid) {
		if (sig)
			lx_signal_raise(p, sig,
					&(siginfo_t){.si_signo = sig,
						     .si_code = SI_USER,
						     .si_pid = p->task.pid,
						     .si_uid = getuid()});
		lx_kick_others(t);
		return 0;
	}
	struct lx_tree *tr = p->task.tree;
	if (pid > 0) {
		pid_t h = lx_tree_host_pid(tr, pid);
		if (!lx_tree_has(tr, h))
			return h < 0 ? -ESRCH : -EPERM;
		return kill(h, sig) < 0 ? -errno : 0;
	}
	if (pid == 0)
		return lx_tree_signal_group(tr, getpgrp(), sig);
	if (pid == -1)
		return lx_tree_signal_group(tr, 0, sig);
	if (pid == INT32_MIN)
		return -ESRCH;
	pid_t g = lx_tree_host_pid(tr, -pid);
	return g < 0 ? -ESRCH : lx_tree_signal_group(tr, g, sig);
}

/* A signal to one thread. The caller's own threads get it through the
 * host's tgkill (si_code SI_TKILL, as Linux gives); other processes' only
 * if they are in the tree. */
static long thread_kill(struct lx_thread *t, pid_t tgid, pid_t tid, int sig)
{
	struct lx_proc *p = t->p;
	if (tid <= 0 || sig < 0 || sig > 64)
		return -EINVAL;
	if (tgid == 0) {
		/* tkill: one of ours, or another process's main thread. */
		tgid = tid;
		for (int i = 0; i < SYS_MAX_VCPUS; i++)
			if (p->threads[i] && p->threads[i]->live &&
			    p->threads[i]->tid == tid)
				tgid = p->task.pid;
	}
	if (tgid == p->task.pid) {
		/* A thread of this process: queue it here, SI_TKILL. */
		for (int i = 0; i < SYS_MAX_VCPUS; i++) {
			struct lx_thread *o = p->threads[i];
			if (!o || !o->live || o->tid != tid)
				continue;
			if (sig)
				lx_signal_thread_raise(
					o, sig,
					&(siginfo_t){.si_signo = sig,
						     .si_code = SI_TKILL,
						     .si_pid = p->task.pid,
						     .si_uid = getuid()});
			return 0;
		}
		return -ESRCH;
	}
	pid_t h = lx_tree_host_pid(p->task.tree, tgid);
	if (!lx_tree_has(p->task.tree, h))
		return h < 0 ? -ESRCH : -EPERM;
	/* Its main thread's tid is its pid: the host's. */
	return syscall(SYS_tgkill, h, tid == tgid ? h : tid, sig) < 0 ? -errno
								      : 0;
}

LX_SYS(tgkill)
{
	if ((pid_t)a[0] <= 0)
		return -EINVAL;
	return thread_kill(t, (pid_t)a[0], (pid_t)a[1], (int)a[2]);
}

LX_SYS(tkill)
{
	return thread_kill(t, 0, (pid_t)a[0], (int)a[1]);
}

/* ---- process groups and sessions ---- */

/* pid 0 is the caller; anything else must be a member of the tree: its
 * host pid into *host (0 for the caller). */
static long member(struct lx_proc *p, pid_t pid, pid_t *host)
{
	*host = 0;
	if (pid < 0)
		return -EINVAL;
	if (pid == 0 || pid == p->task.pid)
		return 0;
	*host = lx_tree_host_pid(p->task.tree, pid);
	return lx_tree_has(p->task.tree, *host) ? 0 : -ESRCH;
}

/* A host process group or session id as the guest knows it. */
static long guest_id(struct lx_proc *p, pid_t r)
{
	return r < 0 ? -errno : lx_tree_guest_pid(p->task.tree, r);
}

LX_SYS(setpgid)
{
	struct lx_tree *tr = t->p->task.tree;
	pid_t pid = (pid_t)a[0], pgid = (pid_t)a[1], host;
	long err = member(t->p, pid, &host);
	if (err)
		return err;
	if (pgid < 0)
		return -EINVAL;
	/* A child that has exec'd is no longer the parent's to regroup; the
	 * host cannot tell, since the monitor never execs. */
	if (host && lx_tree_execd(tr, host))
		return -EACCES;
	/* A group is named by its leader's pid: the host's. Joining a group
	 * outside the tree (the host shell's) is refused. */
	pid_t self = pid ? pid : t->p->task.pid;
	pid_t hg = pgid == self ? (host ? host : getpid())
				: lx_tree_host_pid(tr, pgid);
	if (pgid && pgid != self &&
	    (hg < 0 || lx_tree_signal_group(tr, hg, 0) < 0))
		return -EPERM;
	return setpgid(host, pgid ? hg : 0) < 0 ? -errno : 0;
}

LX_SYS(getpgid)
{
	pid_t host;
	long err = member(t->p, (pid_t)a[0], &host);
	return err ? err : guest_id(t->p, getpgid(host));
}

LX_SYS(getpgrp)
{
	return guest_id(t->p, getpgrp());
}

LX_SYS(setsid)
{
	return guest_id(t->p, setsid());
}

LX_SYS(getsid)
{
	pid_t host;
	long err = member(t->p, (pid_t)a[0], &host);
	return err ? err : guest_id(t->p, getsid(host));
}

pid_t lx_getppid(struct lx_proc *p)
{
	pid_t pp = getppid();
	if (p->task.guest_ppid && pp == p->task.host_ppid)
		return p->task.guest_ppid;
	return lx_tree_guest_pid(p->task.tree, pp);
}

pid_t lx_getpgrp(struct lx_proc *p)
{
	return lx_tree_guest_pid(p->task.tree, getpgrp());
}

pid_t lx_getsid(struct lx_proc *p)
{
	return lx_tree_guest_pid(p->task.tree, getsid(0));
}

/* ---- the end of a process ---- */

void lx_exit_process(struct lx_proc *p)
{
	if (p->task.forked && p->task.term_sig) {
		/* Die of the same signal, so the parent's wait4 sees exactly
		 * what Linux would show, with no core file of the monitor. */
		struct rlimit none = {0, 0};
		setrlimit(RLIMIT_CORE, &none);
		signal(p->task.term_sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, p->task.term_sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(p->task.term_sig);
	}
	exit(p->task.status);
}
