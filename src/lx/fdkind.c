/* The special guest files, one operations table per fd kind.
 *
 * Most guest fds are served by their host fd. A few kinds are the
 * monitor's own: a signalfd (sigfd.c), a /proc directory (procfs.c), and
 * the special files of the layers above lx (/dev/mote-snapshot, which the
 * run layer registers: src/run/run.c). read, write and open by path ask
 * this table, never the kind itself. */
#include <errno.h>
#include <string.h>

#include "lx/lx.h"

long lx_fd_op_einval(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at)
{
	return -EINVAL;
}

long lx_fd_opv_einval(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt)
{
	return -EINVAL;
}

static long sigfd_read(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		       uint64_t count, bool at)
{
	return at ? -EINVAL : lx_sigfd_read(t, f, buf, count);
}

/* A /proc directory's host fd is a memfd, not a directory. */
static long dir_read(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at)
{
	return -EISDIR;
}

static long dir_readv(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt)
{
	return -EISDIR;
}

static const struct lx_fd_ops sigfd_ops = {
	.read = sigfd_read,
	.write = lx_fd_op_einval,
	.readv = lx_fd_opv_einval,
	.writev = lx_fd_opv_einval,
};

static const struct lx_fd_ops procdir_ops = {
	.read = dir_read,
	.readv = dir_readv,
};

static const struct lx_fd_ops *kinds[LX_FD_NKINDS] = {
	[LX_FD_SFD] = &sigfd_ops,
	[LX_FD_PROCDIR] = &procdir_ops,
};

void lx_fd_kind_register(enum lx_fd_kind kind, const struct lx_fd_ops *ops)
{
	if ((unsigned)kind < LX_FD_NKINDS)
		kinds[kind] = ops;
}

const struct lx_fd_ops *lx_fd_ops(enum lx_fd_kind kind)
{
	return (unsigned)kind < LX_FD_NKINDS ? kinds[kind] : NULL;
}

bool lx_fd_open_special(struct lx_thread *t, const char *guest, int flags,
			long *ret)
{
	for (int k = 0; k < LX_FD_NKINDS; k++)
		if (kinds[k] && kinds[k]->path && kinds[k]->open &&
		    !strcmp(guest, kinds[k]->path)) {
			*ret = kinds[k]->open(t, flags);
			return true;
		}
	return false;
}
