/* open and openat: a guest path looked up inside its mount (fs.c), the
 * flags checked against the mount and the policy (no host pseudo file
 * systems, devices only from fs.c's list), the file created with the
 * guest's umask, and the guest fd installed; the guest's /proc and
 * special files go to their own tables (procfs.c, fdkind.c). */
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

#define KERNEL_O_LARGEFILE 0100000 /* glibc's O_LARGEFILE is 0 on x86-64 */
#define TMPFILE_BIT	   (O_TMPFILE & ~O_DIRECTORY)
#define OPEN_VALID                                                             \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |        \
	 O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | KERNEL_O_LARGEFILE |      \
	 O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH |  \
	 O_TMPFILE)
#define O_PATH_VALID (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Attempts at an open whose file changed between the probe and the open. */
#define OPEN_TRIES 4

static bool write_intent(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY ||
	       (flags & (O_TRUNC | TMPFILE_BIT));
}

/* Decides an open of the existing object `st`, seen through an O_PATH
 * probe, before anything with side effects happens. */
static int open_policy(const struct lx_path *lp, int flags,
		       const struct stat *st)
{
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (flags & O_PATH)
		return 0;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return lx_fs_dev_allowed(st) ? 0 : -EACCES;
	if (S_ISDIR(st->st_mode) && !(flags & TMPFILE_BIT) &&
	    ((flags & O_CREAT) || (flags & O_ACCMODE) != O_RDONLY))
		return -EISDIR;
	if (write_intent(flags) && !lp->rw)
		return -EROFS;
	return 0;
}

/* Opens with the guest's umask applied to what gets created. */
static int open_umask(struct lx_proc *p, const struct lx_path *lp, int flags,
		      mode_t mode)
{
	mode_t old = umask(p->fs.umask);
	int fd = lx_path_open(lp, flags | O_NOCTTY, mode);
	umask(old);
	return fd;
}

/* O_CREAT of a name the probe did not find. -EAGAIN: look again. */
static int open_create(struct lx_proc *p, const struct lx_path *lp, int flags,
		       mode_t mode)
{
	if (!lp->rw)
		return -EROFS;
	int fd = open_umask(p, lp, flags | O_EXCL, mode);
	/* Without the guest's O_EXCL, EEXIST is a dangling symlink, whose
	 * target Linux creates (here inside the mount), or a racing creator:
	 * either way what gets opened is checked below. */
	if (fd == -EEXIST && !(flags & O_EXCL))
		fd = open_umask(p, lp, flags, mode);
	if (fd < 0)
		return fd;
	struct stat st;
	int err = lx_fs_check_host_fs(fd);
	if (!err && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
		err = -EAGAIN;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The real open found what the probe saw (an O_TMPFILE file is new). */
static bool same_file(int fd, const struct stat *want, bool tmpfile)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev)
		return false;
	return tmpfile ? S_ISREG(st.st_mode) : st.st_ino == want->st_ino;
}

/* Reopens what the probe saw with the guest's flags. */
static int open_real(struct lx_proc *p, const struct lx_path *lp, int flags,
		     mode_t mode, const struct stat *st)
{
	bool tmpfile = flags & TMPFILE_BIT, creat = flags & O_CREAT;
	flags &= ~O_CREAT;
	int fd = tmpfile ? open_umask(p, lp, flags, mode)
			 : lx_path_open(lp, flags | O_NOCTTY, 0);
	if (fd == -ENOENT && creat)
		return -EAGAIN; /* removed since the probe: create it */
	if (fd >= 0 && !same_file(fd, st, tmpfile)) {
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

/* One attempt: probe with O_PATH, decide, then open for real. */
static int open_once(struct lx_proc *p, const struct lx_path *lp, int flags,
		     mode_t mode)
{
	int probe = lx_path_open(
		lp, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0);
	if (probe == -ENOENT && (flags & O_CREAT))
		return open_create(p, lp, flags, mode);
	if (probe < 0)
		return probe;
	struct stat st;
	int err = lx_fs_check_host_fs(probe);
	if (!err && fstat(probe, &st) < 0)
		err = -errno;
	if (!err)
		err = open_policy(lp, flags, &st);
	if (!err && (flags & O_PATH))
		return probe;
	close(probe);
	return err ? err : open_real(p, lp, flags, mode, &st);
}

static long do_open(struct lx_thread *t, long dirfd, uint64_t gpath, int flags,
		    mode_t mode)
{
	struct lx_proc *p = t->p;
	char path[PATH_MAX];
	struct lx_path lp;
	int err = lx_get_path(p, gpath, path);
	if (!err)
		err = lx_path_lookup(p, dirfd, path, false, &lp);
	if (err)
		return err;
	/* Like open(2), not openat2(2): unknown bits are ignored. */
	flags &= OPEN_VALID;
	if (flags & O_PATH)
		flags &= O_PATH_VALID;
	if (!(flags & O_NOFOLLOW) && (err = lx_procfs_follow(p, &lp)) < 0)
		return err;
	if (lx_procfs_owns(lp.guest))
		return lx_procfs_open(t, &lp, flags, mode);
	long special;
	if (lx_fd_open_special(t, lp.guest, flags, &special))
		return special;
	if (lx_fs_trailing_slash(path)) {
		if (flags & O_CREAT)
			return -EISDIR;
		flags |= O_DIRECTORY;
	}
	int fd = -EAGAIN;
	for (int i = 0; i < OPEN_TRIES && fd == -EAGAIN; i++)
		fd = open_once(p, &lp, flags, mode & 07777);
	if (fd < 0)
		return fd;
	char *gp = strdup(lp.guest);
	if (!gp) {
		close(fd);
		return -ENOMEM;
	}
	return lx_fd_install(p, fd, flags & O_CLOEXEC ? FD_CLOEXEC : 0,
			     lx_fd_kind_of(fd), gp, 0);
}

int lx_fs_reopen(struct lx_proc *p, const char *gpath, int flags)
{
	struct lx_path lp;
	int err = lx_path_lookup(p, AT_FDCWD, gpath, false, &lp);
	if (err)
		return err;
	if (lx_procfs_owns(lp.guest))
		return -ENOENT;
	flags &= ~(O_CREAT | O_EXCL | O_TRUNC | TMPFILE_BIT);
	int fd = -EAGAIN;
	for (int i = 0; i < OPEN_TRIES && fd == -EAGAIN; i++)
		fd = open_once(p, &lp, flags | O_CLOEXEC, 0);
	return fd == -EAGAIN ? -ENOENT : fd;
}

LX_SYS(open)
{
	return do_open(t, AT_FDCWD, a[0], (int)a[1], (mode_t)a[2]);
}

LX_SYS(openat)
{
	return do_open(t, (long)(int)a[0], a[1], (int)a[2], (mode_t)a[3]);
}
