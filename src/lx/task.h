/* The task: who a guest process is (pid, executable, limits), its place in
 * the run's process tree (tree.c), its limits (limit.c) and its end. */
#ifndef MOTE_LX_TASK_H
#define MOTE_LX_TASK_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

struct lx_proc;
struct lx_thread;
struct lx_opts;

/* Who the process is and how it ended (process.c, tree.c, exec.c). */
struct lx_task {
	pid_t pid;
	char exe[PATH_MAX];	/* guest path of the executable */
	int exe_fd;		/* the executable itself, for /proc/self/exe */
	char comm[16];		/* the command name, for /proc/PID/comm */
	uint64_t start_ns;	/* mono_ns() when it started (fork) */
	struct rlimit *rlimits; /* the guest's, once it set or read one */
	bool exited;
	int status;   /* mote's exit status once exited */
	int term_sig; /* the signal that ended it, or 0 */
	/* The process tree of this mote run (tree.c). */
	struct lx_tree *tree;
	int tree_slot;
	bool forked;   /* a child of a guest fork: exits like one */
	int vfork_fd;  /* a vfork child's end of the parent's wait, or -1 */
	bool restored; /* restored from a snapshot: pid and tids are
			  the snapshot's, not the host's */
	pid_t guest_ppid, host_ppid; /* a fork's parent, as the guest and
					the host know it (0: not forked) */
	int snap_fd;		     /* --snapshot's file, or -1 */
	uint8_t genid[16]; /* the VM generation: new at start and restore */
};

/* tree.c: the guest processes of one mote run, shared by their monitors. */
struct lx_tree;

/* A tree snapshot (snap/tree.c): the saver asks one monitor at a time for
 * its part, through this request in the shared table and the snapshot's
 * fd sent over the tree's socket pair; each part leaves its ids in its
 * entry. */
enum { LX_REQ_IDLE, LX_REQ_POSTED, LX_REQ_CLAIMED, LX_REQ_DONE, LX_REQ_FAILED };
struct lx_tree_req {
	_Atomic uint32_t state; /* LX_REQ_* (a futex word) */
	_Atomic int32_t saver;	/* the monitor saving the tree, or 0 */
	int32_t slot;		/* the monitor asked */
	uint32_t gen;		/* the snapshot's number */
	uint8_t first;		/* the first process's part: with the tree */
	uint8_t stream;		/* into a migration's stream */
	uint64_t base, end;	/* where its part starts; where it ended */
	uint64_t size;		/* the whole file's (the first part's) */
	char err[256];
};
struct lx_tree_part {
	uint32_t gen; /* the snapshot it was saved in */
	uint64_t base;
	int32_t ppid, pgid, sid; /* as the guest knew them */
};
struct lx_tree_req *lx_tree_req(struct lx_tree *t);
/* The tree's socket pair: end 0 sends, end 1 receives. */
int lx_tree_sock(const struct lx_tree *t, int end);
uint32_t lx_tree_max(const struct lx_tree *t);
/* The live monitor in slot (its host pid, its guest pid in *gpid), or 0;
 * -1 while a fork into it is under way. */
pid_t lx_tree_slot_pid(struct lx_tree *t, int slot, pid_t *gpid);
struct lx_tree_part *lx_tree_part(struct lx_tree *t, int slot);
struct lx_tree *lx_tree_create(uint32_t max);
/* Claims a slot for a process about to be forked: the slot or -EAGAIN. */
int lx_tree_reserve(struct lx_tree *t);
/* Enters a forked process's host pid in its slot (its parent and the
 * child both do); returns its guest pid. */
pid_t lx_tree_fill(struct lx_tree *t, int slot, pid_t pid);
/* A restored process's guest pid: its snapshot's. */
void lx_tree_set_gpid(struct lx_tree *t, int slot, pid_t gpid);
/* A member's guest pid from its host pid, and back. A pid that is no
 * member's comes back as it is (the host's own process group, say); a
 * member's host pid that is not also its guest pid gives -1 from
 * lx_tree_host_pid. lx_tree_guest_pid is async-signal-safe. */
pid_t lx_tree_guest_pid(struct lx_tree *t, pid_t host);
pid_t lx_tree_host_pid(struct lx_tree *t, pid_t guest);
void lx_tree_release(struct lx_tree *t, int slot);
/* A process marks that it has exec'd (setpgid on it then fails). */
void lx_tree_set_execd(struct lx_tree *t, int slot);
bool lx_tree_execd(struct lx_tree *t, pid_t pid);
/* A reaped process leaves the tree. */
void lx_tree_forget(struct lx_tree *t, pid_t pid);
bool lx_tree_has(struct lx_tree *t, pid_t pid);
int lx_tree_count(struct lx_tree *t);
/* Signals the members in process group pgrp (0: every member). */
int lx_tree_signal_group(struct lx_tree *t, pid_t pgrp, int sig);
/* SIGKILLs every member but the caller, forks under way included. */
void lx_tree_kill_all(struct lx_tree *t);
/* The hold word (hold.c), the kick cookie, the first monitor's pid. */
_Atomic uint32_t *lx_tree_hold_word(struct lx_tree *t);
uint64_t lx_tree_cookie(const struct lx_tree *t);
pid_t lx_tree_root(const struct lx_tree *t);
/* The pids of the live members, at most max of them; returns how many;
 * proc_out (or NULL) gets each one's pid in the host's /proc. */
int lx_tree_pids(struct lx_tree *t, pid_t *out, pid_t *proc_out, int max);
/* A forked monitor records its pid as the host's /proc knows it (in a pid
 * namespace without its own /proc, not the pid it has): proc_out of
 * lx_tree_pids gives those, for reading /proc/PID from outside. */
void lx_tree_set_proc_pid(struct lx_tree *t, int slot);
/* Sends every other member the kick that makes it look at the hold word. */
void lx_tree_kick_others(struct lx_tree *t);

/* limit.c: --cpus, --timeout and RLIMIT_FSIZE. */
/* Confines the monitor (and so every vCPU thread) to the run's CPUs. */
int lx_limit_cpus(const struct lx_opts *o);
/* Starts what holds the run's limits once set-up is done, right before
 * the first guest instruction: the guest's RLIMIT_FSIZE on the host, the
 * --timeout watchdog. */
void lx_limit_start(struct lx_proc *p);
/* A guest sched_setaffinity mask (len bytes) narrowed to the run's CPUs,
 * into set (a cpu_set_t). Returns 0 or -EINVAL if no CPU is left. */
int lx_limit_affinity(struct lx_proc *p, const void *mask, size_t len,
		      void *set);
/* Sets the guest's RLIMIT_FSIZE soft limit on the host. 0 or -errno. */
int lx_limit_fsize(uint64_t soft);
/* Around a write of the monitor's own into a regular file (a /proc
 * snapshot, --trace): the host limit is lifted to the guest's hard one
 * and the host SIGXFSZ that a write beyond it raises is not the guest's. */
struct lx_own_write {
	sigset_t old;
	bool active, lifted;
};
void lx_own_write_begin(struct lx_proc *p, struct lx_own_write *w);
void lx_own_write_end(struct lx_proc *p, struct lx_own_write *w, bool efbig);
/* misc.c: the guest's resource limits (NULL: out of memory). */
struct rlimit *lx_rlimits(struct lx_proc *p);

/* process.c: the parent's pid, the process group and the session as the
 * guest knows them. */
pid_t lx_getppid(struct lx_proc *p);
pid_t lx_getpgrp(struct lx_proc *p);
pid_t lx_getsid(struct lx_proc *p);
/* process.c: ends the monitor the way the guest process ended: exit status,
 * or (in a forked child) death by the same signal. Never returns. */
noreturn void lx_exit_process(struct lx_proc *p);

#endif
