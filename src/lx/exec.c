/* execve: a new program in the same VM, same pid, same descriptors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx/load.h"
#include "lx/procfs.h"
#include "util.h"

#define MAX_STRINGS	 (1 << 17)
#define MAX_SCRIPT_DEPTH 4   /* nested #! interpreters, as Linux allows */
#define BINPRM_BUF	 256 /* how much of a #! line Linux reads */

/* A vector of strings copied out of the guest. */
struct strv {
	char **v;
	size_t n;
	size_t bytes; /* total, NULs included */
};

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int strv_push(struct strv *s, const char *str)
{
	size_t len = strlen(str) + 1;
	if (s->n + 1 >= MAX_STRINGS || s->bytes + len > LX_ARG_MAX)
		return -E2BIG;
	char **v = realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	s->v = v;
	if (!(v[s->n] = strdup(str)))
		return -ENOMEM;
	v[++s->n] = NULL;
	s->bytes += len;
	return 0;
}

/* Copies a NULL-terminated array of guest string pointers (NULL = empty).
 * The bounce buffer is the call's own, not a static one: two threads may
 * execve at once, and its pages go back to the host when it is freed
 * (malloc maps a block this size on its own). */
static int copy_strv(struct lx_proc *p, uint64_t gva, struct strv *out)
{
	int err = 0;
	out->v = calloc(1, sizeof(char *)); /* NULL-terminated even if empty */
	char *buf = malloc(LX_ARG_MAX);
	if (!out->v || !buf) {
		free(buf);
		return -ENOMEM;
	}
	for (uint64_t i = 0; gva && !err; i++) {
		const uint64_t *ptr =
			gm_user(&p->vm, gva + i * 8, sizeof(uint64_t), GM_READ);
		if (!ptr) {
			err = -EFAULT;
			break;
		}
		if (!*ptr)
			break;
		long n = gm_strncpy(&p->vm, buf, *ptr, LX_ARG_MAX);
		if (n < 0) {
			err = n == -ENAMETOOLONG ? -E2BIG : (int)n;
			break;
		}
		err = strv_push(out, buf);
	}
	free(buf);
	return err;
}

/* The #! line of a script: interpreter and optional single argument. */
static int parse_shebang(const char *buf, size_t n, char *interp, char *arg)
{
	char line[BINPRM_BUF + 1];
	memcpy(line, buf + 2, n - 2);
	line[n - 2] = 0;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	char *s = line + strspn(line, " \t");
	size_t len = strcspn(s, " \t");
	if (len == 0)
		return -ENOEXEC;
	memcpy(interp, s, len);
	interp[len] = 0;
	s += len;
	s += strspn(s, " \t");
	size_t alen = strlen(s);
	while (alen && (s[alen - 1] == ' ' || s[alen - 1] == '\t'))
		alen--;
	memcpy(arg, s, alen);
	arg[alen] = 0;
	return 0;
}

/* Opens the guest path for execution: a regular file the user may
 * execute. */
static int open_exec(struct lx_proc *p, long dirfd, const char *path, int flags,
		     char *guest_path)
{
	struct lx_path lp;
	int err = lx_path_lookup(p, dirfd, path, flags & AT_EMPTY_PATH, &lp);
	if (!err)
		err = lx_procfs_follow(p, &lp);
	if (err)
		return err;
	/* /proc/self/exe (busybox re-runs itself through it) and
	 * /proc/self/fd/N are the monitor's. */
	bool proc = lx_procfs_owns(lp.guest);
	int fd = proc ? lx_procfs_open_exec(p, &lp, guest_path)
		      : lx_path_open(&lp,
				     O_RDONLY | O_CLOEXEC |
					     O_NONBLOCK | /* no FIFO hangs */
					     (flags & AT_SYMLINK_NOFOLLOW
						      ? O_NOFOLLOW
						      : 0),
				     0);
	if (fd < 0)
		return fd == -ELOOP && (flags & AT_SYMLINK_NOFOLLOW) ? -ELOOP
								     : fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    syscall(SYS_faccessat2, fd, "", X_OK, AT_EMPTY_PATH) < 0) {
		close(fd);
		return -EACCES;
	}
	if (!proc)
		snprintf(guest_path, PATH_MAX, "%s", lp.guest);
	return fd;
}

/* Finds the ELF to load, following #! lines: argv grows by the
 * interpreter (and its argument) in front of the script's path. */
static int resolve(struct lx_proc *p, long dirfd, const char *path, int flags,
		   struct strv *argv, struct lx_image *im, char *exe)
{
	char cur[PATH_MAX], interp[BINPRM_BUF], iarg[BINPRM_BUF];
	snprintf(cur, sizeof(cur), "%s", path);
	for (int depth = 0; depth <= MAX_SCRIPT_DEPTH; depth++) {
		int fd = open_exec(p, dirfd, cur, flags, exe);
		if (fd < 0)
			return fd;
		char head[BINPRM_BUF];
		ssize_t n = pread(fd, head, sizeof(head), 0);
		if (n >= 2 && head[0] == '#' && head[1] == '!') {
			close(fd);
			int err = parse_shebang(head, n, interp, iarg);
			if (err)
				return err;
			/* argv[0] is replaced by interp [iarg] path. */
			struct strv nv = {0};
			err = strv_push(&nv, interp);
			if (!err && iarg[0])
				err = strv_push(&nv, iarg);
			/* The interpreter opens the script by name: relative
			 * to a dirfd it would not find it, so it gets the
			 * absolute guest path (Linux passes /dev/fd/N/...). */
			bool at_dirfd = dirfd != AT_FDCWD && cur[0] != '/';
			if (!err)
				err = strv_push(&nv, at_dirfd ? exe : cur);
			for (size_t i = 1; !err && i < argv->n; i++)
				err = strv_push(&nv, argv->v[i]);
			strv_free(argv);
			*argv = nv;
			if (err)
				return err;
			snprintf(cur, sizeof(cur), "%s", interp);
			dirfd = AT_FDCWD;
			flags = 0;
			continue;
		}
		int err = -ENOEXEC;
		enum elf_error e = lx_image_parse(im, fd);
		/* Linux says only ENOENT for a missing loader; the line names
		 * it. */
		if (!e && (err = lx_image_open_interp(p, im, &e)))
			lx_interp_error(exe, im, err, e);
		if (err)
			lx_image_close(im);
		return err;
	}
	return -ELOOP;
}

/* Past this point the old image is gone: a failure ends the process, as
 * on Linux. */
static long replace_image(struct lx_thread *t, struct lx_image *im,
			  struct strv *argv, struct strv *envp,
			  const char *execfn)
{
	struct lx_proc *p = t->p;
	lx_exec_single(t);
	if (lx_mm_reset(p) < 0 || lx_image_load(p, im) < 0) {
		lx_kill(p, SIGSEGV, " (execve could not map the new image)");
		return -ENOMEM;
	}
	uint64_t rsp = lx_image_stack(p, im, argv->v, envp->v, execfn);
	if (!rsp) {
		lx_kill(p, SIGSEGV, " (execve: no room for the new stack)");
		return -E2BIG;
	}
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used &&
		    (p->fdt.slot[i].fdflags & FD_CLOEXEC))
			lx_fd_close(p, i);
	/* Handlers point into the old image; ignored signals stay ignored. */
	for (int s = 0; s < 64; s++)
		if (p->sig.act[s].handler != (uint64_t)(uintptr_t)SIG_IGN)
			p->sig.act[s] = (struct lx_sigaction){0};
	t->clear_child_tid = 0;
	t->comm[0] = 0;
	t->altstack_sp = t->altstack_size = 0;
	t->altstack_flags = 0;
	t->robust_list = t->robust_len = 0;
	if (p->task.vfork_fd >= 0) {
		close(p->task.vfork_fd); /* the vfork parent may go on */
		p->task.vfork_fd = -1;
	}
	if (p->task.forked)
		lx_tree_set_execd(p->task.tree, p->task.tree_slot);
	struct kvm_regs r = {
		.rip = lx_image_entry(im), .rsp = rsp, .rflags = 0x202};
	vcpu_set_fs(&t->cpu, 0);
	vcpu_set_gs(&t->cpu, 0);
	lx_set_user(t, &r);
	return 0;
}

static long do_exec(struct lx_thread *t, long dirfd, uint64_t gpath,
		    uint64_t gargv, uint64_t genvp, uint64_t flags)
{
	struct lx_proc *p = t->p;
	char path[PATH_MAX], exe[PATH_MAX];
	if (flags & ~(uint64_t)(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	int err = lx_get_path(p, gpath, path);
	if (err)
		return err;
	struct strv argv = {0}, envp = {0};
	struct lx_image im = {.fd = -1};
	err = copy_strv(p, gargv, &argv);
	if (!err)
		err = copy_strv(p, genvp, &envp);
	if (!err && argv.bytes + envp.bytes > LX_ARG_MAX)
		err = -E2BIG;
	if (!err)
		err = resolve(p, dirfd, path, (int)flags, &argv, &im, exe);
	if (!err) {
		snprintf(p->task.exe, sizeof(p->task.exe), "%s", exe);
		lx_procfs_set_comm(p, path);
		int nfd = fd_high(fcntl(im.fd, F_DUPFD_CLOEXEC, 3));
		if (nfd >= 0) {
			if (p->task.exe_fd >= 0)
				close(p->task.exe_fd);
			p->task.exe_fd = nfd;
		}
		err = (int)replace_image(t, &im, &argv, &envp, path);
	}
	lx_image_close(&im);
	strv_free(&argv);
	strv_free(&envp);
	return err;
}

int lx_resolve_script(struct lx_proc *p, const char *path, char *const *args,
		      char ***argv, struct lx_image *im, char *exe)
{
	struct strv v = {0};
	int err = 0;
	for (size_t i = 0; args[i] && !err; i++)
		err = strv_push(&v, args[i]);
	if (!err)
		err = resolve(p, AT_FDCWD, path, 0, &v, im, exe);
	if (err) {
		strv_free(&v);
		return err;
	}
	*argv = v.v;
	return 0;
}

LX_SYS(execve)
{
	return do_exec(t, AT_FDCWD, a[0], a[1], a[2], 0);
}

LX_SYS(execveat)
{
	return do_exec(t, (long)(int)a[0], a[1], a[2], a[3], a[4]);
}
