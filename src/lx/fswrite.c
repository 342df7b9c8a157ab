/* Syscalls that change the file system: mkdir, unlink, rename, link,
 * symlink, chmod, chown, utimensat, truncate.
 *
 * Each is refused with EROFS, before the host sees it, unless its object
 * is on a volume mounted rw. Names are changed through their parent's
 * confined fd, objects through their O_PATH fd (see fs.c). chown may only
 * give a file to the user running mote, as an unprivileged process could.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lx/fs.h"

#define NR_FCHMODAT2 452 /* Linux 6.6; not in every libc's headers yet */

/* An fd the guest may change through: a file of a rw mount. */
static int fd_writable(struct lx_proc *p, const struct lx_fd *f)
{
	int mount;
	bool rw;
	/* Linux refuses O_PATH fds here before anything else. */
	if (f->kind == LX_FD_PATH)
		return -EBADF;
	lx_fs_fd_mount(p, f, &mount, &rw);
	return rw ? 0 : -EROFS;
}

/* mkdir, symlink and link create pa->last: as on Linux, an existing name
 * answers EEXIST before a read-only mount answers EROFS. */
static int may_create(const struct lx_fs_parent *pa)
{
	struct stat st;
	if (!pa->last ||
	    fstatat(pa->fd, pa->last, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	return pa->lp.rw ? 0 : -EROFS;
}

/* A trailing '/' on a name to remove or rename asks for a directory. */
static int want_dir(const struct lx_fs_parent *pa, int isdir_err)
{
	struct stat st;
	if (fstatat(pa->fd, pa->last, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? isdir_err : -ENOTDIR;
}

/* ---- names: mkdir, unlink, rmdir, rename, link, symlink ---- */

static long do_mkdir(struct lx_thread *t, long dirfd, uint64_t gpath,
		     mode_t mode)
{
	struct lx_fs_parent pa;
	int err = lx_fs_parent_at(t->p, dirfd, gpath, &pa);
	if (!err)
		err = may_create(&pa);
	if (!err) {
		mode_t old = umask(t->p->fs.umask);
		if (mkdirat(pa.fd, pa.last, mode & 07777) < 0)
			err = -errno;
		umask(old);
	}
	lx_fs_parent_put(&pa);
	return err;
}

LX_SYS(mkdir)
{
	return do_mkdir(t, AT_FDCWD, a[0], (mode_t)a[1]);
}

LX_SYS(mkdirat)
{
	return do_mkdir(t, (long)(int)a[0], a[1], (mode_t)a[2]);
}

static long do_unlink(struct lx_thread *t, long dirfd, uint64_t gpath,
		      int flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	struct lx_fs_parent pa;
	int err = lx_fs_parent_at(t->p, dirfd, gpath, &pa);
	if (!err && !pa.last)
		err = (flags & AT_REMOVEDIR) ? -EBUSY : -EISDIR;
	if (!err && !pa.lp.rw)
		err = -EROFS;
	if (!err && pa.slash && !(flags & AT_REMOVEDIR))
		err = want_dir(&pa, -EISDIR);
	if (!err && unlinkat(pa.fd, pa.last, flags) < 0)
		err = -errno;
	lx_fs_parent_put(&pa);
	return err;
}

LX_SYS(unlink)
{
	return do_unlink(t, AT_FDCWD, a[0], 0);
}
LX_SYS(rmdir)
{
	return do_unlink(t, AT_FDCWD, a[0], AT_REMOVEDIR);
}

LX_SYS(unlinkat)
{
	return do_unlink(t, (long)(int)a[0], a[1], (int)a[2]);
}

static long do_rename(struct lx_thread *t, long olddir, uint64_t oldpath,
		      long newdir, uint64_t newpath, unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_EXCHANGE) &&
	    (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
		return -EINVAL;
	/* A whiteout is a device node, and the guest makes none. */
	if (flags & RENAME_WHITEOUT)
		return -EPERM;
	struct lx_fs_parent from, to = {.fd = -1};
	int err = lx_fs_parent_at(t->p, olddir, oldpath, &from);
	if (!err)
		err = lx_fs_parent_at(t->p, newdir, newpath, &to);
	if (!err && (!from.last || !to.last))
		err = -EBUSY;
	if (!err && from.lp.dirfd != to.lp.dirfd)
		err = -EXDEV;
	if (!err && !from.lp.rw)
		err = -EROFS;
	if (!err && (from.slash || to.slash))
		err = want_dir(&from, 0);
	if (!err && renameat2(from.fd, from.last, to.fd, to.last, flags) < 0)
		err = -errno;
	lx_fs_parent_put(&from);
	lx_fs_parent_put(&to);
	return err;
}

LX_SYS(rename)
{
	return do_rename(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

LX_SYS(renameat)
{
	return do_rename(t, (long)(int)a[0], a[1], (long)(int)a[2], a[3], 0);
}

LX_SYS(renameat2)
{
	return do_rename(t, (long)(int)a[0], a[1], (long)(int)a[2], a[3],
			 (unsigned)a[4]);
}

/* The source of a link: its parent and name, unless it is to be followed
 * or is an fd (AT_EMPTY_PATH): then an fd of the object itself, since the
 * host must never follow a guest symlink outside the confinement. */
struct link_src {
	struct lx_fs_parent pa;
	struct lx_fs_obj o;
	bool by_fd;
	int mount;
};

static int link_src_get(struct lx_proc *p, long dirfd, uint64_t gpath,
			int flags, struct link_src *s)
{
	char path[PATH_MAX];
	s->pa.fd = -1;
	s->o.owned = false;
	int err = lx_get_path(p, gpath, path);
	if (err)
		return err;
	s->by_fd = (flags & AT_SYMLINK_FOLLOW) ||
		   (!path[0] && (flags & AT_EMPTY_PATH));
	if (s->by_fd) {
		err = lx_fs_obj_path(p, dirfd, path, flags & AT_EMPTY_PATH,
				     &s->o);
		s->mount = s->o.mount;
		return err;
	}
	err = lx_fs_parent_path(p, dirfd, path, &s->pa);
	s->mount = s->pa.lp.dirfd;
	return !err && !s->pa.last ? -EPERM : err; /* a mount's top: a dir */
}

static void link_src_put(struct link_src *s)
{
	lx_fs_obj_put(&s->o);
	lx_fs_parent_put(&s->pa);
}

static long do_link(struct lx_thread *t, long olddir, uint64_t oldpath,
		    long newdir, uint64_t newpath, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct link_src s;
	struct lx_fs_parent to = {.fd = -1};
	int err = link_src_get(t->p, olddir, oldpath, flags, &s);
	if (!err)
		err = lx_fs_parent_at(t->p, newdir, newpath, &to);
	if (!err)
		err = may_create(&to);
	if (!err && s.mount != to.lp.dirfd)
		err = -EXDEV;
	if (!err &&
	    (s.by_fd ? linkat(s.o.fd, "", to.fd, to.last, AT_EMPTY_PATH)
		     : linkat(s.pa.fd, s.pa.last, to.fd, to.last, 0)) < 0)
		err = -errno;
	link_src_put(&s);
	lx_fs_parent_put(&to);
	return err;
}

LX_SYS(link)
{
	return do_link(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

LX_SYS(linkat)
{
	return do_link(t, (long)(int)a[0], a[1], (long)(int)a[2], a[3],
		       (int)a[4]);
}

static long do_symlink(struct lx_thread *t, uint64_t target, long dirfd,
		       uint64_t gpath)
{
	char to[PATH_MAX];
	struct lx_fs_parent pa = {.fd = -1};
	int err = lx_get_path(t->p, target, to);
	if (!err && !to[0])
		err = -ENOENT;
	if (!err)
		err = lx_fs_parent_at(t->p, dirfd, gpath, &pa);
	if (!err)
		err = may_create(&pa);
	/* The target is only text: it is resolved, confined, when used. */
	if (!err && symlinkat(to, pa.fd, pa.last) < 0)
		err = -errno;
	lx_fs_parent_put(&pa);
	return err;
}

LX_SYS(symlink)
{
	return do_symlink(t, a[0], AT_FDCWD, a[1]);
}

LX_SYS(symlinkat)
{
	return do_symlink(t, a[0], (long)(int)a[1], a[2]);
}

/* ---- objects: chmod, chown, utimensat, truncate ---- */

/* chmod of the object behind an O_PATH fd: fchmodat2's AT_EMPTY_PATH
 * where the host has it (Linux 6.6), else, as glibc does, through the fd's
 * /proc/self/fd link (fchmod refuses O_PATH fds). Asked once: forks
 * inherit the answer. */
static int chmod_fd(int fd, mode_t mode)
{
	static bool no_fchmodat2;
	if (!no_fchmodat2) {
		if (syscall(NR_FCHMODAT2, fd, "", mode, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOSYS)
			return -errno;
		no_fchmodat2 = true;
	}
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return fchmodat(AT_FDCWD, path, mode, 0) == 0 ? 0 : -errno;
}

static long do_chmod(struct lx_thread *t, long dirfd, uint64_t gpath,
		     mode_t mode)
{
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, dirfd, gpath, 0, &o);
	if (err)
		return err;
	if (!o.rw)
		err = -EROFS;
	else
		err = chmod_fd(o.fd, mode & 07777);
	lx_fs_obj_put(&o);
	return err;
}

LX_SYS(chmod)
{
	return do_chmod(t, AT_FDCWD, a[0], (mode_t)a[1]);
}

LX_SYS(fchmodat)
{
	return do_chmod(t, (long)(int)a[0], a[1], (mode_t)a[2]);
}

LX_SYS(fchmod)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	if (!f)
		return -EBADF;
	int err = fd_writable(t->p, f);
	if (!err && fchmod(f->host, (mode_t)a[1] & 07777) < 0)
		err = -errno;
	return err;
}

/* Only to the user running mote, or -1 (unchanged). */
static int chown_policy(uint64_t uid, uint64_t gid)
{
	uid_t u = (uid_t)uid;
	gid_t g = (gid_t)gid;
	if ((u != (uid_t)-1 && u != getuid()) ||
	    (g != (gid_t)-1 && g != getgid()))
		return -EPERM;
	return 0;
}

static long do_chown(struct lx_thread *t, long dirfd, uint64_t gpath,
		     uint64_t uid, uint64_t gid, int at)
{
	if (at & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, dirfd, gpath, at, &o);
	if (err)
		return err;
	err = o.rw ? chown_policy(uid, gid) : -EROFS;
	if (!err &&
	    fchownat(o.fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) < 0)
		err = -errno;
	lx_fs_obj_put(&o);
	return err;
}

LX_SYS(chown)
{
	return do_chown(t, AT_FDCWD, a[0], a[1], a[2], 0);
}

LX_SYS(lchown)
{
	return do_chown(t, AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW);
}

LX_SYS(fchownat)
{
	return do_chown(t, (long)(int)a[0], a[1], a[2], a[3], (int)a[4]);
}

LX_SYS(fchown)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	if (!f)
		return -EBADF;
	int err = fd_writable(t->p, f);
	if (!err)
		err = chown_policy(a[1], a[2]);
	if (!err && fchown(f->host, (uid_t)a[1], (gid_t)a[2]) < 0)
		err = -errno;
	return err;
}

static bool nsec_valid(long ns)
{
	return ns == UTIME_NOW || ns == UTIME_OMIT ||
	       (ns >= 0 && ns < 1000000000L);
}

/* utimensat(fd, NULL, ...): the fd itself (a Linux extension). */
static long utimes_fd(struct lx_thread *t, long gfd, const struct timespec *ts,
		      int at)
{
	struct lx_fd *f = lx_fd_get(t->p, gfd);
	if (!f)
		return -EBADF;
	if (at)
		return -EINVAL;
	int err = fd_writable(t->p, f);
	if (!err && futimens(f->host, ts) < 0)
		err = -errno;
	return err;
}

LX_SYS(utimensat)
{
	long dirfd = (long)(int)a[0];
	int at = (int)a[3];
	struct timespec ts[2];
	if (a[2]) {
		const struct timespec *g =
			gm_user(&t->p->vm, a[2], sizeof(ts), GM_READ);
		if (!g)
			return -EFAULT;
		memcpy(ts, g, sizeof(ts));
		/* Linux returns before it even looks at the path. */
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0;
		if (!nsec_valid(ts[0].tv_nsec) || !nsec_valid(ts[1].tv_nsec))
			return -EINVAL;
	}
	if (at & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	const struct timespec *tp = a[2] ? ts : NULL;
	if (!a[1] && dirfd != AT_FDCWD)
		return utimes_fd(t, dirfd, tp, at);
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, dirfd, a[1], at, &o);
	if (err)
		return err;
	if (!o.rw)
		err = -EROFS;
	else if (utimensat(o.fd, "", tp, AT_EMPTY_PATH) < 0)
		err = -errno;
	lx_fs_obj_put(&o);
	return err;
}

/* Truncates the regular file o, opened for writing only to do so. */
static int truncate_obj(const struct lx_fs_obj *o, off_t len)
{
	int fd = lx_path_open(&o->lp, O_WRONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0 || st.st_dev != o->st.st_dev ||
	    st.st_ino != o->st.st_ino)
		err = -EAGAIN; /* replaced since it was looked up */
	else if (ftruncate(fd, len) < 0)
		err = -errno;
	close(fd);
	return err;
}

LX_SYS(truncate)
{
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, AT_FDCWD, a[0], 0, &o);
	if (err)
		return err;
	if (S_ISDIR(o.st.st_mode))
		err = -EISDIR;
	else if (!S_ISREG(o.st.st_mode))
		err = -EINVAL;
	else if (!o.rw)
		err = -EROFS;
	else
		err = truncate_obj(&o, (off_t)a[1]);
	lx_fs_obj_put(&o);
	if (!err)
		lx_mm_files_changed(t); /* its mappings see the new size */
	return err;
}

LX_SYS(ftruncate)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)a[0]);
	if (!f)
		return -EBADF;
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	/* The host checks the fd is open for writing, which only a rw mount,
	 * an allowed device or mote's own stdio can give. */
	if (ftruncate(f->host, (off_t)a[1]) < 0)
		return -errno;
	lx_mm_files_changed(t); /* its mappings see the new size */
	return 0;
}
