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

#include "lx/fd.h"
#include "lx/mm.h"
#include "lx/sigstate.h"
#include "lx/task.h"
#include "lx/vfs.h"

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
/* The same, for a process of an existing tree (a restored tree's). */
struct lx_tree;
struct lx_proc *lx_proc_new_in(const struct lx_opts *o, struct lx_tree *tree);
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
	/* A parked thread, while the run is held: a tree snapshot's request
	 * for this process's part is served (snap_tree_serve). */
	void (*tree_request)(struct lx_proc *p);
};
extern struct lx_hooks lx_hooks;

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
	struct ctl_run *ctl;
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
/* Waits, as lx_hold does, for this process's threads alone (the hold word
 * is set already). */
int lx_hold_local(struct lx_proc *p, struct lx_thread *self, int timeout_ms);
/* Ends the hold: every parked thread of the tree goes on. */
void lx_release(struct lx_proc *p);
/* The run loop's side: waits while the run is held. */
void lx_park(struct lx_thread *t);

/* fault.c: handles an exception exit; ends the process. */
void lx_exception(struct lx_thread *t);
/* The syscall handlers, grouped by file. */
#define LX_SYS(name) long lx_sys_##name(struct lx_thread *t, const uint64_t *a)
#include "lx/sys_list.h"

#endif
