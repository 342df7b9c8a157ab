/* Path and metadata syscalls: stat, getdents64, readlink, access, the
 * working directory; and the confined lookups fsopen.c and fswrite.c
 * share.
 *
 * Every guest path goes through lx_path_lookup and is opened with
 * lx_path_open, so the host kernel resolves it inside its mount. What acts
 * on an object holds an O_PATH fd of it and calls the host with
 * AT_EMPTY_PATH; what acts on a name holds its parent directory and passes
 * one plain component, which the host never follows. After each open the
 * file system is checked: the host's kernel pseudo file systems (/proc,
 * /sys, ...) are not files the guest may see. Device nodes open only from
 * a short list, decided on an O_PATH fd before the real open. The guest's
 * /proc and the usual /dev names are the monitor's own (procfs.c).
 */
#define _GNU_SOURCE
#include <asm/unistd_64.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/procfs.h"
#include "util.h"

#define CONFIGFS_MAGIC 0x62656570
#define FUSECTL_MAGIC  0x65735543

/* Interfaces to the host kernel rather than files: reading them leaks the
 * host, writing them changes it. */
static const unsigned long host_only_fs[] = {
	PROC_SUPER_MAGIC,    SYSFS_MAGIC,    DEBUGFS_MAGIC,
	SECURITYFS_MAGIC,    BPF_FS_MAGIC,   CGROUP_SUPER_MAGIC,
	CGROUP2_SUPER_MAGIC, TRACEFS_MAGIC,  CONFIGFS_MAGIC,
	FUSECTL_MAGIC,	     PSTOREFS_MAGIC, EFIVARFS_MAGIC,
	BINFMTFS_MAGIC,	     SELINUX_MAGIC,  SMACK_MAGIC,
	AAFS_MAGIC,	     NSFS_MAGIC,     RDTGROUP_SUPER_MAGIC,
};

/* -ENOENT if host fd `fd` is on a host pseudo file system. */
int lx_fs_check_host_fs(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(host_only_fs); i++)
		if ((unsigned long)sf.f_type == host_only_fs[i])
			return -ENOENT;
	return 0;
}

bool lx_fs_dev_allowed(const struct stat *st)
{
	static const unsigned ok[][2] = {
		{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0},
	};
	if (!S_ISCHR(st->st_mode))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (major(st->st_rdev) == ok[i][0] &&
		    minor(st->st_rdev) == ok[i][1])
			return true;
	/* The terminal mote runs on: the guest already has it as stdio. */
	for (int fd = 0; fd < 3; fd++) {
		struct stat s;
		if (isatty(fd) && fstat(fd, &s) == 0 && S_ISCHR(s.st_mode) &&
		    s.st_rdev == st->st_rdev)
			return true;
	}
	return false;
}

void lx_fs_fd_mount(struct lx_proc *p, const struct lx_fd *f, int *mount,
		    bool *rw)
{
	struct lx_path lp;
	*mount = -1;
	*rw = false;
	if (f->path && lx_path_lookup(p, AT_FDCWD, f->path, false, &lp) == 0) {
		*mount = lp.dirfd;
		*rw = lp.rw;
	}
}

/* The guest's /proc is the monitor's (procfs.c), and read-only. */
static bool is_proc(const struct lx_path *lp)
{
	return strncmp(lp->guest, "/proc", 5) == 0 &&
	       (lp->guest[5] == 0 || lp->guest[5] == '/');
}

static bool is_procfs_fd(const struct lx_fd *f)
{
	return f->kind == LX_FD_PROC || f->kind == LX_FD_PROCDIR;
}

/* A final '/' asks for a directory; lx_path_lookup drops it. */
bool lx_fs_trailing_slash(const char *path)
{
	size_t n = strlen(path);
	return n > 1 && path[n - 1] == '/';
}

static int borrow_fd(struct lx_proc *p, long gfd, struct lx_fs_obj *o)
{
	struct lx_fd *f = lx_fd_get(p, gfd);
	if (!f)
		return -EBADF;
	o->fd = f->host;
	lx_fs_fd_mount(p, f, &o->mount, &o->rw);
	o->synth = is_procfs_fd(f);
	if (o->synth) {
		o->fd = -1;
		lx_procfs_fstat(p, f, &o->st);
		return 0;
	}
	return fstat(o->fd, &o->st) < 0 ? -errno : 0;
}

int lx_fs_obj_path(struct lx_proc *p, long dirfd, const char *path, int at,
		   struct lx_fs_obj *o)
{
	o->owned = o->synth = false;
	if (!path[0] && (at & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
		return borrow_fd(p, dirfd, o);
	int err = lx_path_lookup(p, dirfd, path, at & AT_EMPTY_PATH, &o->lp);
	if (!err && (!(at & AT_SYMLINK_NOFOLLOW) || lx_fs_trailing_slash(path)))
		err = lx_procfs_follow(p, &o->lp);
	if (err)
		return err;
	if (lx_procfs_owns(o->lp.guest))
		return lx_procfs_obj(p, &o->lp, at, o);
	int fl = O_PATH;
	if (lx_fs_trailing_slash(path))
		fl |= O_DIRECTORY;
	else if (at & AT_SYMLINK_NOFOLLOW)
		fl |= O_NOFOLLOW;
	o->fd = lx_path_open(&o->lp, fl, 0);
	if (o->fd < 0)
		return o->fd;
	o->owned = true;
	o->mount = o->lp.dirfd;
	o->rw = o->lp.rw;
	err = lx_fs_check_host_fs(o->fd);
	if (!err && fstat(o->fd, &o->st) < 0)
		err = -errno;
	if (err)
		lx_fs_obj_put(o);
	return err;
}

int lx_fs_obj_at(struct lx_proc *p, long dirfd, uint64_t gva, int at,
		 struct lx_fs_obj *o)
{
	char path[PATH_MAX];
	o->owned = false;
	int err = lx_get_path(p, gva, path);
	return err ? err : lx_fs_obj_path(p, dirfd, path, at, o);
}

void lx_fs_obj_put(struct lx_fs_obj *o)
{
	if (o->owned)
		close(o->fd);
	o->owned = false;
}

/* Splits pa->lp in place into the parent (lp.rel) and the last component. */
static void split_last(struct lx_fs_parent *pa)
{
	char *rel = pa->lp.guest + (pa->lp.rel - pa->lp.guest);
	char *s = strrchr(rel, '/');
	if (s) {
		*s = 0;
		pa->last = s + 1;
	} else {
		pa->last = rel;
		pa->lp.rel = ".";
	}
}

int lx_fs_parent_path(struct lx_proc *p, long dirfd, const char *path,
		      struct lx_fs_parent *pa)
{
	pa->fd = -1;
	pa->last = NULL;
	int err = lx_path_lookup(p, dirfd, path, false, &pa->lp);
	if (err)
		return err;
	if (is_proc(&pa->lp))
		return -EACCES;
	pa->slash = lx_fs_trailing_slash(path);
	if (strcmp(pa->lp.rel, ".") == 0)
		return 0;
	split_last(pa);
	int fd = lx_path_open(&pa->lp, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	pa->fd = fd;
	return lx_fs_check_host_fs(fd);
}

int lx_fs_parent_at(struct lx_proc *p, long dirfd, uint64_t gva,
		    struct lx_fs_parent *pa)
{
	char path[PATH_MAX];
	pa->fd = -1;
	int err = lx_get_path(p, gva, path);
	return err ? err : lx_fs_parent_path(p, dirfd, path, pa);
}

void lx_fs_parent_put(struct lx_fs_parent *pa)
{
	if (pa->fd >= 0)
		close(pa->fd);
	pa->fd = -1;
}

/* ---- stat ---- */

_Static_assert(sizeof(struct stat) == 144, "the x86-64 kernel's struct stat");

/* Resolves for the stat calls, where Linux (6.11+) also takes a NULL path
 * with AT_EMPTY_PATH. */
static int stat_obj(struct lx_proc *p, long dirfd, uint64_t gpath, int at,
		    struct lx_fs_obj *o)
{
	if (!gpath && (at & AT_EMPTY_PATH))
		return lx_fs_obj_path(p, dirfd, "", at, o);
	return lx_fs_obj_at(p, dirfd, gpath, at, o);
}

static long do_stat(struct lx_thread *t, long dirfd, uint64_t gpath,
		    uint64_t buf, int at)
{
	if (at & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	void *h = gm_user(&t->p->vm, buf, sizeof(struct stat), GM_WRITE);
	if (!h)
		return -EFAULT;
	struct lx_fs_obj o;
	int err = stat_obj(t->p, dirfd, gpath, at, &o);
	if (err)
		return err;
	memcpy(h, &o.st, sizeof(o.st));
	lx_fs_obj_put(&o);
	return 0;
}

LX_SYS(stat)
{
	return do_stat(t, AT_FDCWD, a[0], a[1], 0);
}

LX_SYS(lstat)
{
	return do_stat(t, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

LX_SYS(newfstatat)
{
	return do_stat(t, (long)(int)a[0], a[1], a[2], (int)a[3]);
}

LX_SYS(fstat)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	if (!f)
		return -EBADF;
	void *h = gm_user(&t->p->vm, a[1], sizeof(struct stat), GM_WRITE);
	if (!h)
		return -EFAULT;
	struct stat st;
	if (is_procfs_fd(f))
		lx_procfs_fstat(t->p, f, &st);
	else if (fstat(f->host, &st) < 0)
		return -errno;
	memcpy(h, &st, sizeof(st));
	return 0;
}

/* statx of a /proc node, from its stat. */
static void statx_of(const struct stat *st, struct statx *x)
{
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = (uint32_t)st->st_blksize;
	x->stx_nlink = (uint32_t)st->st_nlink;
	x->stx_uid = st->st_uid;
	x->stx_gid = st->st_gid;
	x->stx_mode = (uint16_t)st->st_mode;
	x->stx_ino = st->st_ino;
	x->stx_atime.tv_sec = st->st_atim.tv_sec;
	x->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	x->stx_mtime = x->stx_ctime = x->stx_atime;
	x->stx_dev_major = major(st->st_dev);
	x->stx_dev_minor = minor(st->st_dev);
}

LX_SYS(statx)
{
	int at = (int)a[2];
	unsigned mask = (unsigned)a[3];
	if (at & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
		   AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((at & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE ||
	    (mask & STATX__RESERVED))
		return -EINVAL;
	struct statx *h = gm_user(&t->p->vm, a[4], sizeof(*h), GM_WRITE);
	if (!h)
		return -EFAULT;
	struct lx_fs_obj o;
	int err = stat_obj(t->p, (long)(int)a[0], a[1], at, &o);
	if (err)
		return err;
	if (o.synth)
		statx_of(&o.st, h);
	else if (statx(o.fd, "", AT_EMPTY_PATH | (at & AT_STATX_SYNC_TYPE),
		       mask, h) < 0)
		err = -errno;
	lx_fs_obj_put(&o);
	return err;
}

LX_SYS(getdents64)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	if (!f)
		return -EBADF;
	unsigned count = (unsigned)a[2];
	if (f->kind == LX_FD_PROCDIR)
		return lx_procfs_getdents(t, f, a[1], count);
	void *h = gm_user(&t->p->vm, a[1], count, GM_WRITE);
	if (!h)
		return -EFAULT;
	long n = syscall(SYS_getdents64, f->host, h, count);
	return n < 0 ? -errno : n;
}

/* ---- readlink ---- */

/* Copies a link's n bytes out; like Linux, only those are written. */
static long put_link(struct lx_proc *p, uint64_t buf, const char *link,
		     size_t n)
{
	char *h = gm_user(&p->vm, buf, n, GM_WRITE);
	if (!h)
		return -EFAULT;
	memcpy(h, link, n);
	return (long)n;
}

static long do_readlink(struct lx_thread *t, long dirfd, uint64_t gpath,
			uint64_t buf, int size)
{
	struct lx_proc *p = t->p;
	char path[PATH_MAX], link[PATH_MAX];
	if (size <= 0)
		return -EINVAL;
	size_t max = MIN((size_t)size, sizeof(link));
	int err = lx_get_path(p, gpath, path);
	if (err)
		return err;
	/* The links of /proc (exe, fd/N, ...) are the monitor's. */
	struct lx_path lp;
	if (lx_path_lookup(p, dirfd, path, true, &lp) == 0 &&
	    lx_procfs_owns(lp.guest) && (path[0] || dirfd != AT_FDCWD)) {
		long n = lx_procfs_readlink(p, lp.guest, link, max);
		return n < 0 ? n : put_link(p, buf, link, (size_t)n);
	}
	/* Linux's readlinkat takes an empty path as the fd itself. */
	struct lx_fs_obj o;
	err = lx_fs_obj_path(p, dirfd, path,
			     AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &o);
	if (err)
		return err;
	long n;
	if (!S_ISLNK(o.st.st_mode))
		n = path[0] ? -EINVAL : -ENOENT;
	else if ((n = readlinkat(o.fd, "", link, max)) < 0)
		n = -errno;
	lx_fs_obj_put(&o);
	return n < 0 ? n : put_link(p, buf, link, (size_t)n);
}

LX_SYS(readlink)
{
	return do_readlink(t, AT_FDCWD, a[0], a[1], (int)a[2]);
}

LX_SYS(readlinkat)
{
	return do_readlink(t, (long)(int)a[0], a[1], a[2], (int)a[3]);
}

/* ---- access ---- */

/* What the host cannot say for the guest's mounts and devices. */
static int access_policy(const struct lx_fs_obj *o, int mode)
{
	mode_t type = o->st.st_mode & S_IFMT;
	if (o->synth)
		return (mode & W_OK) || ((mode & X_OK) && type != S_IFDIR)
			       ? -EACCES
			       : 0;
	if ((type == S_IFCHR || type == S_IFBLK) && (mode & (R_OK | W_OK)) &&
	    !lx_fs_dev_allowed(&o->st))
		return -EACCES;
	/* As on a read-only Linux mount, only what holds data refuses. */
	if ((mode & W_OK) && !o->rw &&
	    (type == S_IFREG || type == S_IFDIR || type == S_IFLNK))
		return -EROFS;
	return 0;
}

static long do_access(struct lx_thread *t, long dirfd, uint64_t gpath, int mode,
		      int at)
{
	if (mode & ~(F_OK | R_OK | W_OK | X_OK))
		return -EINVAL;
	if (at & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, dirfd, gpath,
			       at & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &o);
	if (err)
		return err;
	err = access_policy(&o, mode);
	if (!err && !o.synth &&
	    syscall(__NR_faccessat2, o.fd, "", mode,
		    AT_EMPTY_PATH | (at & AT_EACCESS)) < 0)
		err = -errno;
	lx_fs_obj_put(&o);
	return err;
}

LX_SYS(access)
{
	return do_access(t, AT_FDCWD, a[0], (int)a[1], 0);
}

LX_SYS(faccessat)
{
	return do_access(t, (long)(int)a[0], a[1], (int)a[2], 0);
}

LX_SYS(faccessat2)
{
	return do_access(t, (long)(int)a[0], a[1], (int)a[2], (int)a[3]);
}

/* ---- working directory, umask, sync ---- */

LX_SYS(getcwd)
{
	size_t len = strlen(t->p->fs.cwd) + 1;
	if (a[1] < len)
		return -ERANGE;
	char *h = gm_user(&t->p->vm, a[0], len, GM_WRITE);
	if (!h)
		return -EFAULT;
	memcpy(h, t->p->fs.cwd, len);
	return (long)len;
}

/* The cwd must be a directory the guest may search (fd -1: a /proc
 * directory). */
static int check_cwd(int fd, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (fd >= 0 && syscall(__NR_faccessat2, fd, "", X_OK,
			       AT_EMPTY_PATH | AT_EACCESS) < 0)
		return -errno;
	return 0;
}

LX_SYS(chdir)
{
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, AT_FDCWD, a[0], 0, &o);
	if (err)
		return err;
	err = check_cwd(o.fd, &o.st);
	if (!err)
		snprintf(t->p->fs.cwd, sizeof(t->p->fs.cwd), "%s", o.lp.guest);
	lx_fs_obj_put(&o);
	return err;
}

LX_SYS(fchdir)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	struct stat st;
	if (!f)
		return -EBADF;
	if (is_procfs_fd(f))
		lx_procfs_fstat(t->p, f, &st);
	else if (fstat(f->host, &st) < 0)
		return -errno;
	if (!f->path)
		return -ENOTDIR;
	int err = check_cwd(is_procfs_fd(f) ? -1 : f->host, &st);
	if (!err)
		snprintf(t->p->fs.cwd, sizeof(t->p->fs.cwd), "%s", f->path);
	return err;
}

LX_SYS(umask)
{
	mode_t old = t->p->fs.umask;
	t->p->fs.umask = (mode_t)a[0] & 0777;
	return old;
}

static long sync_fd(struct lx_thread *t, uint64_t gfd, bool data)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)gfd);
	if (!f)
		return -EBADF;
	int r = data ? fdatasync(f->host) : fsync(f->host);
	return r < 0 ? -errno : 0;
}

LX_SYS(fsync)
{
	return sync_fd(t, a[0], false);
}
LX_SYS(fdatasync)
{
	return sync_fd(t, a[0], true);
}
