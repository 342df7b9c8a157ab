/* File operations beyond read and write: memfd_create, in-kernel copies
 * (copy_file_range, sendfile, splice, tee), fallocate, flock, fadvise64,
 * statfs, extended attributes and close_range. All act on the host fds
 * behind guest fds, which the path policy opened; paths go through it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/lx.h"
#include "util.h"

#define MAX_RW	      0x7ffff000ULL /* Linux's MAX_RW_COUNT */
#define MFD_NAME_MAX  249
#define MFD_NOEXEC_LX 0x0008U
#define MFD_EXEC_LX   0x0010U
#define XATTR_NAME_LX 255
#define XATTR_SIZE_LX 65536
#define PROC_FD_PATH  32

static struct lx_fd *fd_of(struct lx_thread *t, uint64_t gfd)
{
	struct lx_fd *f = lx_fd_get(t->p, (long)(int)gfd);
	return f;
}

/* ---- memfd ---- */

LX_SYS(memfd_create)
{
	char name[MFD_NAME_MAX + 1];
	unsigned flags = (unsigned)a[1];
	/* Huge pages cannot back guest memory mapped in 4 KiB pages. */
	if (a[1] & ~(uint64_t)(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_LX |
			       MFD_EXEC_LX))
		return -EINVAL;
	long n = gm_strncpy(&t->p->vm, name, a[0], sizeof(name));
	if (n == -EFAULT)
		return -EFAULT;
	if (n < 0)
		return -EINVAL;
	int h = memfd_create(name, flags | MFD_CLOEXEC);
	if (h < 0)
		return -errno;
	return lx_fd_install(t->p, h, flags & MFD_CLOEXEC ? FD_CLOEXEC : 0,
			     LX_FD_FILE, NULL, 0);
}

/* ---- in-kernel copies ---- */

/* An optional guest loff_t: *p is NULL for none, else a copy in v. */
static int get_off(struct lx_thread *t, uint64_t gva, loff_t *v, loff_t **p)
{
	*p = NULL;
	if (!gva)
		return 0;
	const loff_t *g = gm_user(&t->p->vm, gva, sizeof(*g), GM_READ);
	if (!g)
		return -EFAULT;
	*v = *g;
	*p = v;
	return 0;
}

static long put_off(struct lx_thread *t, uint64_t gva, const loff_t *v, long r)
{
	if (!v || r < 0)
		return r;
	loff_t *g = gm_user(&t->p->vm, gva, sizeof(*g), GM_WRITE);
	if (!g)
		return -EFAULT;
	*g = *v;
	return r;
}

/* Both guest fds of a copy; a signalfd's reads are the monitor's. */
static int two_fds(struct lx_thread *t, uint64_t in, uint64_t out, int *hin,
		   int *hout)
{
	struct lx_fd *fi = fd_of(t, in), *fo = fd_of(t, out);
	if (!fi || !fo)
		return -EBADF;
	if (fi->kind == LX_FD_SFD || fo->kind == LX_FD_SFD)
		return -EINVAL;
	*hin = fi->host;
	*hout = fo->host;
	return 0;
}

LX_SYS(copy_file_range)
{
	int in, out;
	loff_t oi, oo, *pi, *po;
	if (a[5])
		return -EINVAL;
	int err = two_fds(t, a[0], a[2], &in, &out);
	if (!err)
		err = get_off(t, a[1], &oi, &pi);
	if (!err)
		err = get_off(t, a[3], &oo, &po);
	if (err)
		return err;
	ssize_t r = copy_file_range(in, pi, out, po, MIN(a[4], MAX_RW), 0);
	if (r < 0)
		return -errno;
	long ret = put_off(t, a[1], pi, r);
	return ret < 0 ? ret : put_off(t, a[3], po, r);
}

LX_SYS(sendfile)
{
	int in, out;
	loff_t off, *po;
	int err = two_fds(t, a[1], a[0], &in, &out);
	if (!err)
		err = get_off(t, a[2], &off, &po);
	if (err)
		return err;
	ssize_t r = sendfile(out, in, po, MIN(a[3], MAX_RW));
	return put_off(t, a[2], po, r < 0 ? -errno : r);
}

LX_SYS(splice)
{
	int in, out;
	loff_t oi, oo, *pi, *po;
	int err = two_fds(t, a[0], a[2], &in, &out);
	if (!err)
		err = get_off(t, a[1], &oi, &pi);
	if (!err)
		err = get_off(t, a[3], &oo, &po);
	if (err)
		return err;
	ssize_t r = splice(in, pi, out, po, MIN(a[4], MAX_RW), (unsigned)a[5]);
	if (r < 0)
		return -errno;
	long ret = put_off(t, a[1], pi, r);
	return ret < 0 ? ret : put_off(t, a[3], po, r);
}

LX_SYS(tee)
{
	int in, out;
	int err = two_fds(t, a[0], a[1], &in, &out);
	if (err)
		return err;
	ssize_t r = tee(in, out, MIN(a[2], MAX_RW), (unsigned)a[3]);
	return r < 0 ? -errno : r;
}

/* ---- space, locks, advice ---- */

LX_SYS(fallocate)
{
	struct lx_fd *f = fd_of(t, a[0]);
	if (!f)
		return -EBADF;
	int r = fallocate(f->host, (int)a[1], (off_t)a[2], (off_t)a[3]);
	return r < 0 ? -errno : 0;
}

LX_SYS(flock)
{
	struct lx_fd *f = fd_of(t, a[0]);
	if (!f)
		return -EBADF;
	return lx_block(SYS_flock, f->host, (int)a[1], 0, 0, 0, 0);
}

LX_SYS(fadvise64)
{
	struct lx_fd *f = fd_of(t, a[0]);
	if (!f)
		return -EBADF;
	return -posix_fadvise(f->host, (off_t)a[1], (off_t)a[2], (int)a[3]);
}

/* ---- statfs: a read-only mount says so in f_flags ---- */

static long put_statfs(struct lx_thread *t, uint64_t gva, int host, bool ro)
{
	struct statfs sf;
	if (fstatfs(host, &sf) < 0)
		return -errno;
	if (ro)
		sf.f_flags |= ST_RDONLY;
	void *g = gm_user(&t->p->vm, gva, sizeof(sf), GM_WRITE);
	if (!g)
		return -EFAULT;
	memcpy(g, &sf, sizeof(sf));
	return 0;
}

LX_SYS(statfs)
{
	struct lx_fs_obj o;
	int err = lx_fs_obj_at(t->p, AT_FDCWD, a[0], 0, &o);
	if (err)
		return err;
	long r = put_statfs(t, a[1], o.fd, !o.rw);
	lx_fs_obj_put(&o);
	return r;
}

LX_SYS(fstatfs)
{
	struct lx_fd *f = fd_of(t, a[0]);
	if (!f)
		return -EBADF;
	int mount;
	bool rw;
	lx_fs_fd_mount(t->p, f, &mount, &rw);
	return put_statfs(t, a[1], f->host, mount >= 0 && !rw);
}

/* ---- extended attributes: reads pass through under the path policy;
 * writes only on an rw volume ---- */

/* The object a path or fd call names, reached by its host fd. */
struct xobj {
	struct lx_fs_obj o;
	char path[PROC_FD_PATH]; /* /proc/self/fd/N for a path's O_PATH fd */
	int fd;			 /* or the guest fd's host fd */
	bool rw;
};

static int xobj_get(struct lx_thread *t, const uint64_t *a, int kind,
		    struct xobj *x)
{
	x->o.owned = false;
	x->path[0] = 0;
	if (kind == 'f') {
		struct lx_fd *f = fd_of(t, a[0]);
		if (!f)
			return -EBADF;
		int mount;
		lx_fs_fd_mount(t->p, f, &mount, &x->rw);
		x->fd = f->host;
		return 0;
	}
	int at = kind == 'l' ? AT_SYMLINK_NOFOLLOW : 0;
	int err = lx_fs_obj_at(t->p, AT_FDCWD, a[0], at, &x->o);
	if (err)
		return err;
	/* An O_PATH fd has no xattr calls of its own; its /proc link
	 * reaches the very inode, a symlink included. */
	snprintf(x->path, sizeof(x->path), "/proc/self/fd/%d", x->o.fd);
	x->rw = x->o.rw;
	return 0;
}

static int xattr_name(struct lx_thread *t, uint64_t gva, char *name)
{
	long n = gm_strncpy(&t->p->vm, name, gva, XATTR_NAME_LX + 1);
	if (n == -EFAULT)
		return -EFAULT;
	return n <= 0 ? -ERANGE : 0;
}

static long xget(struct lx_thread *t, const uint64_t *a, int kind)
{
	char name[XATTR_NAME_LX + 1];
	uint64_t size = MIN(a[3], XATTR_SIZE_LX);
	int err = xattr_name(t, a[1], name);
	if (err)
		return err;
	void *v = size ? gm_user(&t->p->vm, a[2], size, GM_WRITE) : NULL;
	if (size && !v)
		return -EFAULT;
	struct xobj x;
	if ((err = xobj_get(t, a, kind, &x)))
		return err;
	ssize_t r = x.path[0] ? getxattr(x.path, name, v, size)
			      : fgetxattr(x.fd, name, v, size);
	lx_fs_obj_put(&x.o);
	return r < 0 ? -errno : r;
}

static long xlist(struct lx_thread *t, const uint64_t *a, int kind)
{
	uint64_t size = MIN(a[2], XATTR_SIZE_LX);
	void *v = size ? gm_user(&t->p->vm, a[1], size, GM_WRITE) : NULL;
	if (size && !v)
		return -EFAULT;
	struct xobj x;
	int err = xobj_get(t, a, kind, &x);
	if (err)
		return err;
	ssize_t r = x.path[0] ? listxattr(x.path, v, size)
			      : flistxattr(x.fd, v, size);
	lx_fs_obj_put(&x.o);
	return r < 0 ? -errno : r;
}

/* setxattr (value given) and removexattr (value NULL). */
static long xset(struct lx_thread *t, const uint64_t *a, int kind, bool set)
{
	char name[XATTR_NAME_LX + 1];
	const void *v = NULL;
	if (set && (a[4] & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	int err = xattr_name(t, a[1], name);
	if (err)
		return err;
	if (set && a[3] > XATTR_SIZE_LX)
		return -E2BIG;
	if (set && a[3] && !(v = gm_user(&t->p->vm, a[2], a[3], GM_READ)))
		return -EFAULT;
	struct xobj x;
	if ((err = xobj_get(t, a, kind, &x)))
		return err;
	long r;
	if (!x.rw)
		r = -EROFS;
	else if (set)
		r = x.path[0] ? setxattr(x.path, name, v, a[3], (int)a[4])
			      : fsetxattr(x.fd, name, v, a[3], (int)a[4]);
	else
		r = x.path[0] ? removexattr(x.path, name)
			      : fremovexattr(x.fd, name);
	if (r == -1)
		r = -errno;
	lx_fs_obj_put(&x.o);
	return r;
}

LX_SYS(getxattr)
{
	return xget(t, a, 'p');
}
LX_SYS(lgetxattr)
{
	return xget(t, a, 'l');
}
LX_SYS(fgetxattr)
{
	return xget(t, a, 'f');
}
LX_SYS(listxattr)
{
	return xlist(t, a, 'p');
}
LX_SYS(llistxattr)
{
	return xlist(t, a, 'l');
}
LX_SYS(flistxattr)
{
	return xlist(t, a, 'f');
}
LX_SYS(setxattr)
{
	return xset(t, a, 'p', true);
}
LX_SYS(lsetxattr)
{
	return xset(t, a, 'l', true);
}
LX_SYS(fsetxattr)
{
	return xset(t, a, 'f', true);
}
LX_SYS(removexattr)
{
	return xset(t, a, 'p', false);
}
LX_SYS(lremovexattr)
{
	return xset(t, a, 'l', false);
}
LX_SYS(fremovexattr)
{
	return xset(t, a, 'f', false);
}

/* ---- close_range: over the guest's table, which holds none of the
 * monitor's own fds ---- */

LX_SYS(close_range)
{
	unsigned first = (unsigned)a[0], last = (unsigned)a[1];
	/* CLOSE_RANGE_UNSHARE: the table is the process's, threads
	 * included; there is nothing to unshare it from but them, which
	 * mote does not model. */
	if (a[2] & ~(uint64_t)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	struct lx_proc *p = t->p;
	for (uint64_t fd = first; fd <= last && fd < (uint64_t)p->fdt.top;
	     fd++) {
		struct lx_fd *f = lx_fd_get(p, (long)fd);
		if (!f)
			continue;
		if (a[2] & CLOSE_RANGE_CLOEXEC)
			f->fdflags |= FD_CLOEXEC;
		else
			lx_fd_close(p, (long)fd);
	}
	return 0;
}
