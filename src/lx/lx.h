/* The Linux personality: a Linux process served by the monitor. */
#ifndef MOTE_LX_LX_H
#define MOTE_LX_LX_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <sys/types.h>
#include <time.h>

#include "vm/exit.h"
#include "vm/layout.h"
#include "vm/vm.h"

/* ---- options (filled by the CLI) ---- */

struct lx_volume {
	const char *host;
	const char *guest; /* absolute, normalised */
	bool rw;
};

struct lx_opts {
	uint64_t memory;  /* bytes of guest memory (--memory) */
	uint32_t pids;	  /* --pids: guest processes at most */
	const char *root; /* --root, default "/" */
	bool root_rw;	  /* the root is writable (the OCI runtime's rootfs) */
	const char *hostname; /* uname's nodename, or NULL: the host's */
	struct lx_volume *volumes;
	int nvolumes;
	char **envp;	  /* the guest environment, NULL-terminated */
	const char *cwd;  /* --cwd, default "/" */
	FILE *trace;	  /* --trace, or NULL */
	bool timing;	  /* --timing: report start-up time at exit */
	bool aslr;	  /* random load bases (off with --no-aslr) */
	bool no_sandbox;  /* --no-sandbox: no seccomp, Landlock, limits */
	uint64_t t_start; /* mono_ns() at the start of main() */
	char **argv;	  /* the program and its arguments */
	/* The OCI runtime finds the program in the guest root itself:
	 * program is the host path to open (else argv[0] is looked up in
	 * the host's PATH) and exe its guest path (/proc/self/exe, a
	 * script's path for its interpreter). */
	const char *program, *exe;

	/* --net: host AF_INET/AF_INET6 sockets; --net=PORTS: the only ports
	 * it may listen on (none listed: any). */
	bool net;
	const uint16_t *net_ports;
	int nnet_ports;

	/* Limits (limit.c). */
	uint64_t timeout_ns; /* --timeout: the run's wall-clock cap, 0: none */
	const char *timeout_arg; /* --timeout as given, for the message */
	/* The host CPUs the guest's threads may run on: --cpus N of mote's
	 * own, else all of mote's (a cpu_set_t; empty: the thread's own). */
	uint64_t cpus[16];
	int ncpus;
	bool fsize_set;	  /* --max-file-size given: */
	uint64_t fsize;	  /* RLIMIT_FSIZE, soft and hard */
	uint32_t max_fds; /* --max-fds: RLIMIT_NOFILE hard, 0: LX_NOFILE_MAX */

	/* --snapshot FILE: where a guest's write to /dev/mote-snapshot
	 * saves it (opened before the sandbox), or NULL. */
	const char *snapshot;

	const char *name; /* --name: the run's id, or NULL (generated) */
	bool merge;	  /* --merge: guest anonymous memory into KSM */
};

#define LX_DEFAULT_MEMORY (1ULL << 30)
#define LX_DEFAULT_PIDS	  256
/* Exactly the environment a guest gets without --env-inherit. */
#define LX_DEFAULT_PATH                                                        \
	"/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

#define LX_EXIT_TIMEOUT 124 /* --timeout elapsed, as timeout(1) says */

struct lx_proc;
struct lx_thread;
/* A process with one thread (the owner, threads[0]) and no VM yet
 * (run.c); lx_run_thread serves a thread's vCPU until it ends (the owner's
 * call returns once the whole process has ended); lx_proc_free tears
 * down what lx made (VM, fds, the rest of the process tree). Starting and
 * ending a whole run is the run layer's (src/run/run.h). */
struct lx_proc *lx_proc_new(const struct lx_opts *o);
void lx_run_thread(struct lx_thread *t);
void lx_proc_free(struct lx_proc *p);

/* What lx needs from the layers above it (src/run/ fills it in), so that
 * lx calls none of them: each may be NULL. */
struct lx_hooks {
	/* In a fork's child, before its VM exists: the parent's control
	 * socket is not the child's. */
	void (*forked)(struct lx_proc *p);
	/* The monitor is about to die of a host signal or a watchdog: what
	 * must not be left behind (the run's control dir) goes now.
	 * Async-signal-safe. */
	void (*dying)(void);
	/* From the host signal handler, first: if (sig, si) is the
	 * sandbox's seccomp trap, reports it and does not return. */
	void (*trap)(int sig, const siginfo_t *si);
};
extern struct lx_hooks lx_hooks;

/* ---- files ---- */

enum lx_fd_kind {
	LX_FD_FILE, /* regular file */
	LX_FD_DIR,  /* directory (may be the dirfd of *at() calls) */
	LX_FD_PIPE, /* pipe or FIFO */
	LX_FD_TTY,  /* the real terminal */
	LX_FD_DEV,  /* an allowed character device */
	LX_FD_PATH, /* O_PATH */
	LX_FD_SOCK, /* socket (net.c) */
	LX_FD_SFD,  /* signalfd: the monitor serves its reads (sigfd.c) */
	LX_FD_OTHER,
	LX_FD_PROC,    /* a file of the guest's /proc: a sealed memfd */
	LX_FD_PROCDIR, /* a directory of the guest's /proc (procfs.c) */
	LX_FD_SNAP,    /* /dev/mote-snapshot (snap/dev.c) */
	LX_FD_NKINDS
};

struct lx_fd;
/* fdkind.c: how the special kinds are read, written and opened, in place
 * of the host fd (a NULL member: the host fd serves that call). `at`: the
 * positional call (pread64, pwrite64). */
struct lx_fd_ops {
	const char *path; /* the guest path that opens one, or NULL */
	long (*open)(struct lx_thread *t, int flags);
	long (*read)(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at);
	long (*write)(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		      uint64_t count, bool at);
	long (*readv)(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt);
	long (*writev)(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		       uint64_t cnt);
};
void lx_fd_kind_register(enum lx_fd_kind kind, const struct lx_fd_ops *ops);
const struct lx_fd_ops *lx_fd_ops(enum lx_fd_kind kind);
/* If `guest` (an absolute guest path) is a registered kind's, opens it into
 * *ret (an fd or -errno) and returns true. */
bool lx_fd_open_special(struct lx_thread *t, const char *guest, int flags,
			long *ret);
/* Ops that refuse the call with EINVAL. */
long lx_fd_op_einval(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at);
long lx_fd_opv_einval(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt);

struct lx_fd {
	int host;    /* host fd, -1 if this slot is free */
	int fdflags; /* FD_CLOEXEC */
	enum lx_fd_kind kind;
	char *path; /* absolute guest path, or NULL (pipes, stdio); for a
		       socket, the guest path it is bound to (net.c) */
	bool used;
};

#define LX_NOFILE     1024  /* RLIMIT_NOFILE soft limit the guest starts with */
#define LX_NOFILE_MAX 65536 /* and its hard limit */

struct lx_mount {
	char *guest; /* absolute guest path, no trailing slash ("" = /) */
	size_t len;
	int host_fd; /* O_PATH directory */
	bool rw;
};

struct lx_fs {
	struct lx_mount *mounts; /* [0] is the root, then volumes */
	int nmounts;
	char cwd[PATH_MAX]; /* absolute guest path */
	mode_t umask;
};

/* ---- memory ---- */

enum lx_vma_kind { VMA_ANON, VMA_FILE, VMA_STACK, VMA_BRK, VMA_ELF };

struct lx_vma {
	uint64_t start, end; /* page aligned */
	unsigned prot;	     /* PT_READ | PT_WRITE | PT_EXEC */
	enum lx_vma_kind kind;
	bool shared; /* MAP_SHARED */
	/* What /proc/PID/maps names (VMA_FILE, VMA_ELF): the guest path
	 * (interned by lx_mm_name, or NULL), the file's offset at start, its
	 * device and inode. */
	const char *name;
	uint64_t off, dev, ino;
};

struct lx_mm {
	pthread_mutex_t lock; /* the address space */
	struct lx_vma *vmas;  /* sorted, non-overlapping */
	int nvmas, cap;
	uint64_t brk_start, brk, brk_max;
	uint64_t mmap_top; /* mmap allocates top-down below this */
	uint64_t stack_lo; /* lowest address of the stack area */
	bool tlb_stale;	   /* permissions were reduced: flush before resume */
	/* The strings of the initial stack, for /proc/PID/cmdline, environ. */
	uint64_t arg_start, arg_end, env_start, env_end;
	char **names; /* the VMAs' names, interned */
	int nnames;
};

/* ---- signals (signal.c delivers them) ---- */

struct lx_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* ---- the process and its threads ---- */

#define LX_NSYSCALLS 462

struct lx_stats {
	uint64_t calls[LX_NSYSCALLS];
	uint64_t enosys[LX_NSYSCALLS];
	uint64_t enosys_other; /* numbers beyond the table */
	uint64_t exits;
	/* For mote stats (docs/control.md): time in each syscall's handler,
	 * exits by class, #PFs lx_mm_fault resolved or refused. */
	uint64_t ns[LX_NSYSCALLS];
	uint64_t exit_class[VMX_NR];
	uint64_t faults;
};

/* The fd table (fd.c). */
struct lx_fdtable {
	struct lx_fd *slot; /* cap slots that never move */
	int cap;
	int top;	      /* above the highest slot ever used */
	pthread_mutex_t lock; /* install and close */
	uint64_t nofile_cur, nofile_max;
};

/* The process's signal state (signal.c); p->lock guards it. */
struct lx_sigstate {
	struct lx_sigaction act[64];
	uint64_t pending;      /* signals for the process, bit sig-1 */
	siginfo_t info[65];    /* the siginfo of each pending one */
	uint32_t rt_extra[65]; /* queued real-time signals beyond one */
};

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

/* A guest process: one VM, its threads, and the state of each subsystem
 * of the personality (subsys.c lists them, with how each is saved,
 * restored and forked). */
struct lx_proc {
	struct vm vm;
	const struct lx_opts *opts;
	struct lx_task task;
	struct lx_fdtable fdt;
	struct lx_fs fs;
	struct lx_mm mm;
	struct lx_sigstate sig;
	FILE *trace;
	struct lx_stats stats;
	/* Threads: one vCPU and one host thread each, by vCPU id. */
	pthread_mutex_t lock; /* threads, signal state, exit */
	pthread_cond_t gone;  /* a thread left its run loop */
	struct lx_thread *threads[SYS_MAX_VCPUS];
	int nlive;    /* threads that have not exited */
	int nrunning; /* host threads still in their run loop */
	int nparked;  /* of those, parked by a hold (hold.c) */
	/* The control socket (src/ctl): the first monitor's alone. */
	struct lx_ctl *ctl;
};

/* The host signal that makes a vCPU thread leave KVM_RUN or a blocking
 * host call; never a guest signal when it comes from the monitor itself. */
#define LX_SIG_KICK SIGRTMAX

/* How the syscall or fault the vCPU is stopped in reached the monitor,
 * which says where the user-mode registers are (signal.c). */
enum lx_entry {
	ENTRY_NONE,	/* not in a syscall: the vCPU is in user mode */
	ENTRY_DOORBELL, /* the MMIO doorbell trampoline, at CPL 3 */
	ENTRY_SHIM,	/* the shim's out; sysretq, at CPL 0 */
	ENTRY_TRAP,	/* the shim's #PF vector forwarding a syscall */
	ENTRY_FAULT,	/* a CPU exception in user mode */
};

struct lx_thread {
	struct lx_proc *p;
	struct vcpu cpu;
	pid_t tid;
	uint64_t sigmask;
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_len;
	bool replaced; /* the running syscall replaced the user context */
	enum lx_entry entry;
	uint64_t trap_rip, trap_rsp, trap_rflags; /* from an exception frame */
	uint64_t fault_vector, fault_error, fault_addr;
	uint64_t restart_nr; /* 1 + the syscall EINTR may restart, or 0 */
	uint64_t saved_mask; /* the mask rt_sigsuspend replaced */
	bool saved_mask_valid;
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	pthread_t host;
	pid_t host_tid;	   /* its host thread, for kicks */
	bool live;	   /* has not called exit */
	bool running;	   /* its host thread is in the run loop */
	bool exiting;	   /* leaves the run loop after this exit */
	bool owner;	   /* ends the process once every thread is out */
	bool parked;	   /* waiting in lx_park */
	bool unstarted;	   /* restored: its host thread is still to start */
	uint64_t tpending; /* signals for this thread alone, from the host
			      handler or another thread */
	siginfo_t tinfo[65];
	uint64_t own_pending; /* the same, once collected */
	siginfo_t own_info[65];
	siginfo_t deliver_info; /* of the signal being delivered */
	char comm[16];		/* PR_SET_NAME's, or "": the executable's */
};

/* A syscall handler: arguments in a[0..5]; returns the result or -errno. */
typedef long (*lx_sys_fn)(struct lx_thread *t, const uint64_t *a);

/* ---- entry points between the parts of the personality ---- */

/* syscall.c: serves the syscall the vCPU is stopped in. */
void lx_syscall(struct lx_thread *t);
/* The name of syscall nr, or NULL if the table has none. */
const char *lx_sys_name(uint64_t nr);
/* Writes the ENOSYS summary of --trace. */
void lx_trace_summary(struct lx_proc *p);

/* Replaces the user context from a syscall handler (execve, signals): the
 * dispatcher then leaves RAX alone. */
void lx_set_user(struct lx_thread *t, const struct kvm_regs *r);
/* Copies len bytes out to guest address gva (through gm_user); 0, or
 * -EFAULT if the guest may not write there. */
int lx_put(struct lx_thread *t, uint64_t gva, const void *v, size_t len);

/* io.c: a guest timespec, checked (EFAULT) and validated (EINVAL). */
int lx_get_timespec(struct lx_thread *t, uint64_t gva, struct timespec *ts);
/* Translates cnt (<= 1024) guest iovecs at gva into host iovecs in out,
 * every buffer checked for reading (wr) or writing. Returns cnt or -errno. */
struct iovec;
int lx_get_iov(struct lx_thread *t, uint64_t gva, uint64_t cnt, bool wr,
	       struct iovec *out);
/* net.c: the ioctls of a socket fd that io.c does not serve. */
long lx_sock_ioctl(struct lx_thread *t, struct lx_fd *f, unsigned long req,
		   uint64_t arg);

/* event.c: a blocking host call under the guest's signal rules. fn makes
 * the call with `left` as its timeout (NULL: none), host signals unblocked
 * exactly while it waits, through hmask (ppoll's or epoll_pwait2's sigmask
 * argument), and returns the result or -errno. `mask`, if not NULL,
 * replaces the thread's guest signal mask for the call (ppoll, epoll_pwait).
 * Returns fn's result, 0 once `timeout` has passed, or -EINTR when a guest
 * signal is deliverable (or the thread must exit); a host EINTR for a
 * signal the guest blocks does not end the wait. */
typedef long (*lx_wait_fn)(void *arg, const struct timespec *left,
			   const sigset_t *hmask);
long lx_wait(struct lx_thread *t, const uint64_t *mask,
	     const struct timespec *timeout, lx_wait_fn fn, void *arg);

/* block.c: a host syscall that may block, made so that a kick (a signal
 * for the guest, a hold) that comes after the vCPU loop last looked ends
 * it with -EINTR even when it comes before the call has started. Returns
 * the result or -errno. lx_block_clear: the loop is about to look
 * (run.c); lx_block_signal: the host signal handler's part (ucontext_t *).
 * lx_fd_may_block: f is of a kind whose read or write can wait for ever. */
long lx_block(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void lx_block_clear(void);
void lx_block_signal(void *ucontext);
bool lx_fd_may_block(const struct lx_fd *f);

/* sigfd.c: signalfd. notify marks the signalfds whose mask has sig
 * readable (async-signal-safe); fork gives a fork's child signalfds of its
 * own; read serves read() on one. */
void lx_sigfd_notify(int sig);
void lx_sigfd_fork(struct lx_proc *p);
long lx_sigfd_read(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		   uint64_t count);

/* thread.c */
long lx_clone_thread(struct lx_thread *t, uint64_t flags, uint64_t stack,
		     uint64_t ptid, uint64_t ctid, uint64_t tls);
/* Starts the host threads of restored threads (t->unstarted). */
void lx_thread_start_all(struct lx_proc *p);
/* With p->lock held: re-kicks the threads that must leave their run loop
 * and waits a little for one to go. */
void lx_rekick_wait(struct lx_proc *p, struct lx_thread *self);
/* With p->lock held: waits on p->gone for at most ms milliseconds. */
void lx_gone_timedwait(struct lx_proc *p, long ms);
/* Ends every other thread before execve replaces the image. */
void lx_exec_single(struct lx_thread *t);
/* Ends every thread of the process with `status` (mote's exit status). */
void lx_exit_group(struct lx_thread *t, int status);
void lx_proc_exit(struct lx_proc *p, int status);
/* Makes one thread leave KVM_RUN (or a blocking call) and look. */
void lx_kick(struct lx_thread *o);
/* Makes every other thread leave KVM_RUN (or a blocking call) and look. */
void lx_kick_others(struct lx_thread *t);
/* tree.c: the guest processes of one mote run, shared by their monitors. */
struct lx_tree;
struct lx_tree *lx_tree_create(uint32_t max);
/* Claims a slot for a process about to be forked: the slot or -EAGAIN. */
int lx_tree_reserve(struct lx_tree *t);
void lx_tree_fill(struct lx_tree *t, int slot, pid_t pid);
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

/* hold.c: holding every vCPU of the run out of KVM_RUN (mote pause, and
 * snapshots, which need every thread at a point where its user context is
 * whole). A held thread's blocking syscall is interrupted and restarted
 * when the hold ends. */
/* Whether the run is held. */
bool lx_held(struct lx_proc *p);
/* Holds the run: every monitor of the tree is asked to park its threads,
 * and this returns once every thread of this process but `self` (a vCPU
 * thread that asks for its own snapshot, or NULL) has parked. Returns 0,
 * or -ETIMEDOUT if some thread did not park within timeout_ms (the hold
 * stays: it parks when its host call returns). */
int lx_hold(struct lx_proc *p, struct lx_thread *self, int timeout_ms);
/* Ends the hold: every parked thread of the tree goes on. */
void lx_release(struct lx_proc *p);
/* The run loop's side: waits while the run is held. */
void lx_park(struct lx_thread *t);

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

/* process.c: ends the monitor the way the guest process ended: exit status,
 * or (in a forked child) death by the same signal. Never returns. */
noreturn void lx_exit_process(struct lx_proc *p);

/* fault.c: handles an exception exit; ends the process. */
void lx_exception(struct lx_thread *t);
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

/* fd.c */
int lx_fd_init(struct lx_proc *p);
struct lx_fd *lx_fd_get(struct lx_proc *p, long gfd);
/* Installs host fd `host` at the lowest free guest fd >= min. Takes
 * ownership of host and path (closed/freed on failure). Returns the guest fd
 * or -EMFILE. */
int lx_fd_install(struct lx_proc *p, int host, int fdflags,
		  enum lx_fd_kind kind, char *path, long min);
/* Installs at exactly gfd, closing what was there. */
int lx_fd_install_at(struct lx_proc *p, long gfd, int host, int fdflags,
		     enum lx_fd_kind kind, char *path);
int lx_fd_close(struct lx_proc *p, long gfd);
enum lx_fd_kind lx_fd_kind_of(int host);
void lx_fd_fini(struct lx_proc *p);

/* path.c: guest path resolution under the root and volumes. */
struct lx_path {
	int dirfd;	      /* host directory fd to resolve rel against */
	const char *rel;      /* path relative to dirfd ("." for the top) */
	bool rw;	      /* the mount allows writes */
	char guest[PATH_MAX]; /* the normalised absolute guest path */
};
int lx_fs_init(struct lx_proc *p);
void lx_fs_fini(struct lx_proc *p);
/* Resolves (dirfd, gpath) lexically to a mount and a relative path.
 * Returns 0 or -errno (EBADF, ENOTDIR, ENAMETOOLONG, ENOENT for ""). */
int lx_path_lookup(struct lx_proc *p, long dirfd, const char *gpath,
		   bool empty_ok, struct lx_path *out);
/* Opens a resolved path with openat2 confined to its mount. */
int lx_path_open(const struct lx_path *lp, int flags, mode_t mode);
/* Copies a guest path string; returns 0 or -EFAULT / -ENAMETOOLONG. */
int lx_get_path(struct lx_proc *p, uint64_t gva, char buf[PATH_MAX]);

/* mm.c */
int lx_mm_init(struct lx_proc *p);
void lx_mm_fini(struct lx_proc *p);
/* The VMAs of a restored snapshot (sorted, apart), names interned; the
 * page tables and memory behind them are the snapshot's. */
int lx_mm_restore(struct lx_proc *p, const struct lx_vma *v, int n);
/* Empties the address space for a new image (execve). */
int lx_mm_reset(struct lx_proc *p);
/* Maps [start, end) into the guest as kind with prot, recording a VMA. */
int lx_mm_map(struct lx_proc *p, uint64_t start, uint64_t end, unsigned prot,
	      enum lx_vma_kind kind);
/* The same for a mapping of a file: `file` gives name, off, dev, ino and
 * shared (NULL: none). */
int lx_mm_map_file(struct lx_proc *p, uint64_t start, uint64_t end,
		   unsigned prot, enum lx_vma_kind kind,
		   const struct lx_vma *file);
/* The interned copy of a mapping's name (NULL if there is no room). */
const char *lx_mm_name(struct lx_proc *p, const char *name);
/* Finds `len` free bytes top-down; returns the address or 0. */
uint64_t lx_mm_find_free(struct lx_proc *p, uint64_t len);
/* Applies any pending TLB flush to the vCPU before it resumes. */
void lx_mm_sync(struct lx_thread *t);

/* mmpage.c */
/* Resolves a #PF at CPL 3 on addr with the CPU's error code `err`: returns
 * 0 if the guest may retry the access (the page was mapped meanwhile),
 * else the signal Linux sends, with its si_code in *code. */
int lx_mm_fault(struct lx_thread *t, uint64_t addr, unsigned err, int *code);
/* Files under mappings may have shrunk or grown (a truncate, or KVM_RUN
 * failing with EFAULT): pages past their end leave the page tables,
 * pages back within it return. */
void lx_mm_files_changed(struct lx_thread *t);

/* The syscall handlers, grouped by file. */
#define LX_SYS(name) long lx_sys_##name(struct lx_thread *t, const uint64_t *a)
#include "lx/sys_list.h"

#endif
