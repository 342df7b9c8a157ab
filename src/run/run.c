/* The run layer (run.h): the one lifecycle of a run, and mote run's way
 * in: the program found on the host, loaded into a new VM, run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lx/elf.h"
#include "lx/load.h"
#include "lx/lx.h"
#include "lx/procfs.h"
#include "run/run.h"
#include "sandbox.h"
#include "snap/snap.h"
#include "util.h"

static void trap(int sig, const siginfo_t *si)
{
	if (sandbox_trapped(sig, si))
		sandbox_violation(si);
}

void run_init(void)
{
	lx_hooks = (struct lx_hooks){
		.forked = ctl_forked,
		.dying = ctl_remove_now,
		.trap = trap,
		.tree_request = snap_tree_serve,
	};
	lx_fd_kind_register(LX_FD_SNAP, &snap_dev_ops);
}

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

/* A #! script runs as execve would run it inside the guest: by its
 * absolute path (so with --root it must be inside the root, where its
 * interpreter opens it), the interpreter found in the guest root. */
static int resolve_script(struct lx_proc *p, struct image *img)
{
	char exe[PATH_MAX];
	lx_image_close(&img->im);
	int err = lx_resolve_script(p, p->task.exe, p->opts->argv, &img->argv,
				    &img->im, exe);
	if (err) {
		msg("%s: cannot run this script in the guest: %s (its #! "
		    "interpreter and the script itself must be inside "
		    "--root)",
		    img->path, strerror(-err));
		return err == -ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_NOEXEC;
	}
	snprintf(p->task.exe, sizeof(p->task.exe), "%s", exe);
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
		vm_error_msg(ve);
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

int run_proc(struct lx_proc *p, struct lx_thread *t, const char *name)
{
	/* Before the guest starts: a name a live run holds is refused. */
	int status = ctl_start(p, name);
	if (status) {
		run_abort(p);
		return status;
	}
	lx_signal_init(p);
	lx_signal_thread(t);
	if (sandbox_enter(p) < 0) {
		run_abort(p);
		return MOTE_EXIT_FAIL;
	}
	/* After the sandbox: the watchdog thread inherits Landlock, which
	 * binds only the threads that exist when it is entered. */
	lx_limit_start(p);
	lx_thread_start_all(p);
	ctl_serve(p);
	lx_run_thread(t);
	lx_signal_thread(NULL);
	/* A post-copy still under way ends first: its source takes the VM
	 * for lost until the receiver has had every page, and the post-copy
	 * thread wakes its waiters in the memory that run_abort unmaps. */
	vm_settle(&p->vm);
	status = p->task.status;
	if (p->trace)
		lx_trace_summary(p);
	run_abort(p);
	return status;
}

void run_proc_forked(struct lx_proc *p, struct lx_thread *t)
{
	lx_signal_init(p);
	lx_signal_thread(t);
	if (sandbox_enter(p) < 0)
		_exit(MOTE_EXIT_FAIL);
	/* The first process's watchdog ends the whole tree (--timeout). */
	struct rlimit *lim = lx_rlimits(p);
	if (!lim || lx_limit_fsize(lim[RLIMIT_FSIZE].rlim_cur) < 0)
		_exit(MOTE_EXIT_FAIL);
	lx_thread_start_all(p);
	lx_run_thread(t);
	/* A forked process ends in lx_run_thread; one that did not get
	 * that far ends here. */
	_exit(MOTE_EXIT_FAIL);
}

void run_abort(struct lx_proc *p)
{
	/* The control thread first: a request under way (a migration's
	 * round reads guest memory while the guest runs, and may see it end)
	 * finishes before the memory goes. */
	ctl_stop(p);
	lx_proc_free(p);
}

int run_program(const struct lx_opts *o)
{
	struct image img = {.im = {.fd = -1}};
	int status = lx_limit_cpus(o) < 0
			     ? MOTE_EXIT_FAIL
			     : open_image(o->program ? o->program : o->argv[0],
					  &img);
	if (status)
		goto out_image;
	struct lx_proc *p = lx_proc_new(o);
	struct lx_thread *t = p->threads[0];
	/* /proc/self/exe is absolute; the path the host found is the one the
	 * guest sees (its root is / unless --root says otherwise). */
	if (o->exe)
		snprintf(p->task.exe, sizeof(p->task.exe), "%s", o->exe);
	else if (!realpath(img.path, p->task.exe))
		snprintf(p->task.exe, sizeof(p->task.exe), "%s", img.path);
	lx_procfs_set_comm(p, img.path);
	uint64_t rsp;
	img.argv = (char **)o->argv;
	status = setup(p, &img, &rsp);
	if (!status &&
	    vcpu_create(&p->vm, &t->cpu, 0, lx_image_entry(&img.im), rsp) < 0) {
		msg("cannot create vCPU: %s", strerror(errno));
		status = MOTE_EXIT_FAIL;
	}
	if (status) {
		run_abort(p);
		goto out_image;
	}
	p->task.exe_fd = fd_high(fcntl(img.im.fd, F_DUPFD_CLOEXEC, 3));
	lx_image_close(&img.im);
	status = run_proc(p, t, o->name);
out_image:
	lx_image_close(&img.im);
	if (img.argv && img.argv != o->argv) {
		for (char **a = img.argv; *a; a++)
			free(*a);
		free(img.argv);
	}
	return status;
}
