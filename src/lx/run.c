/* A Linux process's VM and its vCPU loop: lx_proc_new makes the process
 * (no VM yet), lx_run_thread serves one vCPU's exits until its thread or
 * the process ends, lx_proc_free tears it down. What starts and ends a
 * whole run (the sandbox, the control socket, loading a program or a
 * snapshot) is the run layer's (src/run/). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx/elf.h"
#include "lx/load.h"
#include "lx/lx.h"
#include "lx/procfs.h"
#include "util.h"
#include "vm/exit.h"
#include "vm/layout.h"

/* In .data, not .bss: run_init writes it at start-up, and in .bss the
 * linker put it on a page of its own, past the end of exec.c's 2 MiB
 * argument buffer, which cost every monitor a page (4 KiB) for 24 bytes.
 * .data's one page is written at start-up anyway. */
struct lx_hooks lx_hooks __attribute__((section(".data")));

static void report_timing(struct lx_proc *p, uint64_t t_first)
{
	uint64_t now = mono_ns();
	msg("timing: start to first guest instruction %.1f us, run %.1f us, "
	    "%llu exits",
	    (t_first - p->opts->t_start) / 1e3, (now - t_first) / 1e3,
	    (unsigned long long)p->stats.exits);
}

/* ---- the exit handlers: one per class of exit (vm/exit.h) ---- */

static bool on_syscall(void *ctx, const struct vcpu_exit *x)
{
	struct lx_thread *t = ctx;
	t->entry = x->reason == KVM_EXIT_MMIO ? ENTRY_DOORBELL : ENTRY_SHIM;
	lx_syscall(t);
	return true;
}

static bool on_exception(void *ctx, const struct vcpu_exit *x)
{
	lx_exception(ctx);
	return true;
}

static bool on_intr(void *ctx, const struct vcpu_exit *x)
{
	struct lx_thread *t = ctx;
	/* A signal is delivered on a user context: at a return of the shim,
	 * the one that return makes. Elsewhere in the shim the next exit
	 * comes at once. */
	t->entry = ENTRY_NONE;
	return x->cpl == 3 || vcpu_leave_shim(&t->cpu) == 0;
}

static bool on_bad_doorbell(void *ctx, const struct vcpu_exit *x)
{
	struct lx_thread *t = ctx;
	/* The guest touched a page Linux would not have mapped: what Linux
	 * does is SIGSEGV. */
	lx_kill(t->p, SIGSEGV, " (access to the syscall doorbell)");
	return true;
}

/* The run failed with EFAULT: the host has no page behind a guest address.
 * Either a file under a mapping shrank (its pages past the new end leave
 * the page tables, so the guest's next touch is a #PF and SIGBUS, as on
 * Linux), or the page was briefly inaccessible (another thread's mprotect
 * drops KVM's translations by toggling the host protection, see mm.c),
 * which retrying outlasts. A page that stays missing is what Linux would
 * answer with SIGBUS too. */
#define EFAULT_RETRIES 1000

static bool on_efault(void *ctx, const struct vcpu_exit *x)
{
	struct lx_thread *t = ctx;
	if (x->efaults == 1) {
		lx_mm_files_changed(t);
	} else if (x->efaults >= EFAULT_RETRIES) {
		lx_kill(t->p, SIGBUS, " (the memory behind a mapping is gone)");
		lx_kick_others(t);
	} else {
		sched_yield();
	}
	return false;
}

/* Hypercalls of native guests (none is defined), a triple fault, port I/O
 * the ABI does not define, a failed run: the monitor's internal error. */
static bool on_internal_error(void *ctx, const struct vcpu_exit *x)
{
	struct lx_thread *t = ctx;
	vcpu_report(&t->cpu, x);
	lx_proc_exit(t->p, MOTE_EXIT_FAIL);
	return false;
}

static vm_exit_handler *const exit_handlers[VMX_NR] = {
	[VMX_SYSCALL] = on_syscall,
	[VMX_EXCEPTION] = on_exception,
	[VMX_HYPERCALL] = on_internal_error,
	[VMX_INTR] = on_intr,
	[VMX_SHUTDOWN] = on_internal_error,
	[VMX_BAD_IO] = on_internal_error,
	[VMX_BAD_DOORBELL] = on_bad_doorbell,
	[VMX_UNEXPECTED] = on_internal_error,
	[VMX_EFAULT] = on_efault,
	[VMX_RUN_FAILED] = on_internal_error,
};

static void serve_exit(struct lx_thread *t, const struct vcpu_exit *x)
{
	struct lx_proc *p = t->p;
	__atomic_fetch_add(&p->stats.exits, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->stats.exit_class[x->class], 1, __ATOMIC_RELAXED);
	if (vm_exit_dispatch(exit_handlers, t, x) && !p->task.exited &&
	    !t->exiting)
		lx_signal_deliver(t);
}

/* The thread that ends the process waits for every other one. */
static void wait_all(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	pthread_mutex_lock(&p->lock);
	t->running = false;
	p->nrunning--;
	pthread_cond_broadcast(&p->gone);
	while (!p->task.exited || p->nrunning > 0)
		lx_rekick_wait(p, t);
	pthread_mutex_unlock(&p->lock);
}

void lx_run_thread(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	uint64_t t_first = mono_ns();
	while (!p->task.exited && !t->exiting) {
		/* From here on, a host signal ends a blocking call (block.c);
		 * one before has kicked the vCPU (vcpu_kick). */
		lx_block_clear();
		/* Parked only where the user context is whole: inside the
		 * shim, the next exit comes at once. */
		if (lx_held(p) && vcpu_at_user_point(&t->cpu)) {
			lx_park(t);
			continue;
		}
		struct vcpu_exit x = vcpu_run(&t->cpu);
		serve_exit(t, &x);
		if (p->task.exited)
			lx_kick_others(t);
	}
	if (!t->owner)
		return;
	wait_all(t);
	if (p->opts->timing)
		report_timing(p, t_first);
	if (p->task.forked) {
		if (p->trace)
			fflush(p->trace);
		lx_exit_process(p);
	}
}

/* The children just killed are reaped here rather than left to the
 * host's init, which may take its time: once mote has exited, nothing of
 * the run is left. A child that does not die soon is left to init. */
static void reap_children(void)
{
	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0)
			return;
		if (r == 0)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
}

struct lx_proc *lx_proc_new(const struct lx_opts *o)
{
	return lx_proc_new_in(o, NULL);
}

struct lx_proc *lx_proc_new_in(const struct lx_opts *o, struct lx_tree *tree)
{
	struct lx_proc *p = calloc(1, sizeof(*p));
	struct lx_thread *t = calloc(1, sizeof(*t));
	if (!p || !t)
		die(MOTE_EXIT_FAIL, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->mm.lock, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->threads[0] = t;
	p->nlive = p->nrunning = 1;
	t->live = t->running = t->owner = true;
	t->host = pthread_self();
	t->host_tid = (pid_t)syscall(SYS_gettid);
	p->opts = o;
	p->trace = o->trace;
	p->task.pid = getpid();
	p->task.vfork_fd = -1;
	p->task.exe_fd = -1;
	p->task.snap_fd = -1;
	p->task.tree = tree ? tree : lx_tree_create(o->pids);
	if (!p->task.tree)
		die(MOTE_EXIT_FAIL, "cannot map the process table: %s",
		    strerror(errno));
	p->vm.kvm_fd = p->vm.vm_fd = -1;
	t->p = p;
	t->tid = p->task.pid;
	t->cpu.fd = -1;
	if (getrandom(p->task.genid, sizeof(p->task.genid), 0) !=
	    sizeof(p->task.genid))
		die(MOTE_EXIT_FAIL, "getrandom: %s", strerror(errno));
	/* --snapshot: the file is opened now, as the user who ran mote;
	 * the sandboxed monitor could not open it later. */
	if (o->snapshot) {
		p->task.snap_fd = fd_high(
			open(o->snapshot, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
		if (p->task.snap_fd < 0)
			die(MOTE_EXIT_FAIL,
			    "--snapshot %s: %s (give a writable file path)",
			    o->snapshot, strerror(errno));
	}
	return p;
}

void lx_proc_free(struct lx_proc *p)
{
	/* The other threads' host threads may still be unwinding (after
	 * saying they are done): their structs and p stay allocated until
	 * the process exits. */
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i])
			vcpu_destroy(&p->threads[i]->cpu);
	lx_fd_fini(p);
	lx_fs_fini(p);
	lx_mm_fini(p);
	if (p->task.exe_fd >= 0)
		close(p->task.exe_fd);
	if (p->task.snap_fd >= 0)
		close(p->task.snap_fd);
	p->task.exe_fd = p->task.snap_fd = -1;
	vm_destroy(&p->vm);
	/* The VM tree ends with its first process, as a container does with
	 * its init. (A forked process ends in lx_run_thread and stays in the
	 * tree until reaped: a zombie can still be signalled.) */
	lx_tree_kill_all(p->task.tree);
	reap_children();
}
