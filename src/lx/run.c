/* mote run: load a Linux program into a fresh microVM and serve it. */
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

#include "ctl/ctl.h"
#include "lx/elf.h"
#include "lx/load.h"
#include "lx/lx.h"
#include "lx/procfs.h"
#include "sandbox.h"
#include "util.h"
#include "vm/exit.h"
#include "vm/layout.h"

#define ARG_MAX_BYTES (2ULL << 20)

/* The program named on the command line, found and opened on the host. */
struct image {
	char path[PATH_MAX];
	struct lx_image im;
	bool script; /* starts with #!: resolved in the guest by setup() */
	char **argv; /* the guest's argv: the options' or the script's */
};

/* Finds the program like a shell: a name with a slash is a path, anything
 * else is looked up in the host's PATH. */
static int find_program(const char *name, char *out, size_t outlen)
{
	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = LX_DEFAULT_PATH;
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(out, outlen, "%.*s/%s", (int)n, n ? path : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

static int open_image(const char *name, struct image *img)
{
	char *path = img->path;
	img->im = (struct lx_image){.fd = -1};
	img->script = false;
	img->argv = NULL;
	if (find_program(name, path, sizeof(img->path)) < 0) {
		msg("%s: command not found", name);
		return MOTE_EXIT_NOENT;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		msg("%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return e == ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_NOEXEC;
	}
	img->im.fd = fd;
	if (!S_ISREG(st.st_mode)) {
		msg("%s: not a regular file", path);
		return MOTE_EXIT_NOEXEC;
	}
	if (access(path, X_OK) < 0) {
		msg("%s: permission denied (not executable: chmod +x %s)", path,
		    path);
		return MOTE_EXIT_NOEXEC;
	}
	char head[2];
	if (pread(fd, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!') {
		img->script = true;
		return 0;
	}
	enum elf_error err = lx_image_parse(&img->im, fd);
	if (err) {
		msg("%s: %s", path, elf_strerror(err));
		return MOTE_EXIT_NOEXEC;
	}
	return 0;
}

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
	if (vm_exit_dispatch(exit_handlers, t, x) && !p->exited && !t->exiting)
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
	while (!p->exited || p->nrunning > 0)
		lx_wait_gone(p, t);
	pthread_mutex_unlock(&p->lock);
}

void lx_run_thread(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	uint64_t t_first = mono_ns();
	while (!p->exited && !t->exiting) {
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
		if (p->exited)
			lx_kick_others(t);
	}
	if (!t->owner)
		return;
	wait_all(t);
	if (p->opts->timing)
		report_timing(p, t_first);
	if (p->forked) {
		if (p->trace)
			fflush(p->trace);
		lx_exit_process(p);
	}
}

/* A #! script runs as execve would run it inside the guest: by its
 * absolute path (so with --root it must be inside the root, where its
 * interpreter opens it), the interpreter found in the guest root. */
static int resolve_script(struct lx_proc *p, struct image *img)
{
	char exe[PATH_MAX];
	lx_image_close(&img->im);
	int err = lx_resolve_script(p, p->exe, p->opts->argv, &img->argv,
				    &img->im, exe);
	if (err) {
		msg("%s: cannot run this script in the guest: %s (its #! "
		    "interpreter and the script itself must be inside "
		    "--root)",
		    img->path, strerror(-err));
		return err == -ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_NOEXEC;
	}
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	return 0;
}

static int setup(struct lx_proc *p, struct image *img, uint64_t *rsp)
{
	const struct lx_opts *o = p->opts;
	/* What the program needs from the guest root (a script's
	 * interpreter, a dynamic loader) is found before any VM exists: a
	 * program that cannot run says so whatever the host's KVM. */
	if (lx_fs_init(p) < 0 || lx_fd_init(p) < 0)
		return MOTE_EXIT_FAIL;
	int err;
	if (img->script && (err = resolve_script(p, img)))
		return err;
	enum elf_error why;
	err = lx_image_open_interp(p, &img->im, &why);
	if (err) {
		lx_interp_error(img->path, &img->im, err, why);
		return err == -ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_NOEXEC;
	}
	enum vm_error ve = vm_create(&p->vm, o->memory);
	if (ve) {
		if (ve == VM_EKVM)
			msg("%s: %s", vm_strerror(ve), strerror(errno));
		else
			msg("%s", vm_strerror(ve));
		return MOTE_EXIT_FAIL;
	}
	err = lx_mm_init(p);
	if (!err)
		err = lx_image_load(p, &img->im);
	if (err) {
		msg("%s: %s", img->path,
		    err == -ENOMEM ? elf_strerror(ELF_ENOFIT) : strerror(-err));
		return MOTE_EXIT_NOEXEC;
	}
	*rsp = lx_image_stack(p, &img->im, img->argv, o->envp, o->argv[0]);
	if (!*rsp) {
		msg("arguments and environment too long for the stack");
		return MOTE_EXIT_FAIL;
	}
	return 0;
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
	struct lx_proc *p = calloc(1, sizeof(*p));
	struct lx_thread *t = calloc(1, sizeof(*t));
	if (!p || !t)
		die(MOTE_EXIT_FAIL, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->mm_lock, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->threads[0] = t;
	p->nlive = p->nrunning = 1;
	t->live = t->running = t->owner = true;
	t->host = pthread_self();
	t->host_tid = (pid_t)syscall(SYS_gettid);
	p->opts = o;
	p->trace = o->trace;
	p->pid = getpid();
	p->vfork_fd = -1;
	p->exe_fd = -1;
	p->snap_fd = -1;
	p->tree = lx_tree_create(o->pids);
	if (!p->tree)
		die(MOTE_EXIT_FAIL, "cannot map the process table: %s",
		    strerror(errno));
	p->vm.kvm_fd = p->vm.vm_fd = -1;
	t->p = p;
	t->tid = p->pid;
	t->cpu.fd = -1;
	if (getrandom(p->genid, sizeof(p->genid), 0) != sizeof(p->genid))
		die(MOTE_EXIT_FAIL, "getrandom: %s", strerror(errno));
	/* --snapshot: the file is opened now, as the user who ran mote;
	 * the sandboxed monitor could not open it later. */
	if (o->snapshot) {
		p->snap_fd = fd_high(
			open(o->snapshot, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
		if (p->snap_fd < 0)
			die(MOTE_EXIT_FAIL,
			    "--snapshot %s: %s (give a writable file path)",
			    o->snapshot, strerror(errno));
	}
	return p;
}

int lx_proc_run(struct lx_proc *p, struct lx_thread *t)
{
	lx_signal_init(p);
	lx_signal_thread(t);
	if (sandbox_enter(p) < 0) {
		lx_proc_free(p);
		return MOTE_EXIT_FAIL;
	}
	/* After the sandbox: the watchdog thread inherits Landlock, which
	 * binds only the threads that exist when it is entered. */
	lx_limit_start(p);
	lx_thread_start_all(p);
	ctl_serve(p);
	lx_run_thread(t);
	lx_signal_thread(NULL);
	int status = p->status;
	if (p->trace)
		lx_trace_summary(p);
	lx_proc_free(p);
	return status;
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
	if (p->exe_fd >= 0)
		close(p->exe_fd);
	if (p->snap_fd >= 0)
		close(p->snap_fd);
	p->exe_fd = p->snap_fd = -1;
	vm_destroy(&p->vm);
	/* The VM tree ends with its first process, as a container does with
	 * its init. (A forked process ends in lx_run_thread and stays in the
	 * tree until reaped: a zombie can still be signalled.) */
	lx_tree_kill_all(p->tree);
	reap_children();
	ctl_stop(p);
}

int lx_run(const struct lx_opts *o)
{
	struct image img = {.im = {.fd = -1}};
	int status = lx_limit_cpus(o) < 0 ? MOTE_EXIT_FAIL
					  : open_image(o->program ? o->program
								  : o->argv[0],
						       &img);
	if (status)
		goto out_image;
	struct lx_proc *p = lx_proc_new(o);
	struct lx_thread *t = p->threads[0];
	/* /proc/self/exe is absolute; the path the host found is the one the
	 * guest sees (its root is / unless --root says otherwise). */
	if (o->exe)
		snprintf(p->exe, sizeof(p->exe), "%s", o->exe);
	else if (!realpath(img.path, p->exe))
		snprintf(p->exe, sizeof(p->exe), "%s", img.path);
	lx_procfs_set_comm(p, img.path);
	uint64_t rsp;
	img.argv = (char **)o->argv;
	status = setup(p, &img, &rsp);
	/* Once the program is known (a script's is resolved in setup), and
	 * before the guest starts: a name a live run holds is refused. */
	if (!status)
		status = ctl_start(p, o->name);
	if (!status &&
	    vcpu_create(&p->vm, &t->cpu, 0, lx_image_entry(&img.im), rsp) < 0) {
		msg("cannot create vCPU: %s", strerror(errno));
		status = MOTE_EXIT_FAIL;
	}
	if (status) {
		lx_proc_free(p);
		goto out_image;
	}
	p->exe_fd = fd_high(fcntl(img.im.fd, F_DUPFD_CLOEXEC, 3));
	lx_image_close(&img.im);
	status = lx_proc_run(p, t);
out_image:
	lx_image_close(&img.im);
	if (img.argv && img.argv != o->argv) {
		for (char **a = img.argv; *a; a++)
			free(*a);
		free(img.argv);
	}
	return status;
}
