/* /dev/mote-snapshot: the guest's own door to snapshots.
 *
 * A write of any bytes saves a snapshot of the process to the file given
 * with --snapshot FILE (EPERM without one) and returns the count, both in
 * the running VM and in every VM later restored from that snapshot, which
 * resume as if returning from the same write. A read gives the VM
 * generation: 32 hex digits and a newline, drawn at random when the VM
 * starts and again in every restored VM, so a guest can tell that it is a
 * clone and must reseed what it derived from randomness before the
 * snapshot (docs/snapshot.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snap/snap.h"
#include "util.h"

#define HOLD_TIMEOUT_MS 2000

/* A memfd holding the generation line, which reads (and lseek, fstat,
 * poll) are served from; writes are the snapshot's. */
static int gen_file(struct lx_proc *p)
{
	char line[34];
	for (int i = 0; i < 16; i++)
		snprintf(line + 2 * i, 3, "%02x", p->task.genid[i]);
	line[32] = '\n';
	int fd = memfd_create("mote-snapshot", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, line, 33, 0) != 33) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int snap_dev_reopen(struct lx_proc *p, long gfd, int fdflags, int64_t off)
{
	int fd = gen_file(p);
	if (fd < 0)
		return fd;
	if (off > 0)
		lseek(fd, off, SEEK_SET);
	char *path = strdup(SNAP_DEV);
	if (!path) {
		close(fd);
		return -ENOMEM;
	}
	return lx_fd_install_at(p, gfd, fd, fdflags, LX_FD_SNAP, path);
}

long snap_dev_open(struct lx_thread *t, int flags)
{
	/* Like a device node: a shell's `> /dev/mote-snapshot` (O_CREAT,
	 * O_TRUNC) opens it; O_EXCL finds it exists. */
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (flags & (O_DIRECTORY | O_TMPFILE))
		return -ENOTDIR;
	if (flags & O_PATH)
		return -ENXIO;
	int fd = gen_file(t->p);
	if (fd < 0)
		return fd;
	char *path = strdup(SNAP_DEV);
	if (!path) {
		close(fd);
		return -ENOMEM;
	}
	return lx_fd_install(t->p, fd, flags & O_CLOEXEC ? FD_CLOEXEC : 0,
			     LX_FD_SNAP, path, 0);
}

long snap_dev_write(struct lx_thread *t, uint64_t count)
{
	struct lx_proc *p = t->p;
	if (p->task.snap_fd < 0)
		return -EPERM;
	char err[256];
	long ret = (long)MIN(count, (uint64_t)LONG_MAX);
	if (lx_hold(p, t, HOLD_TIMEOUT_MS) < 0) {
		lx_release(p);
		msg("snapshot: a thread did not stop within %d ms; no "
		    "snapshot taken",
		    HOLD_TIMEOUT_MS);
		return -EBUSY;
	}
	int r = snap_save(p, p->task.snap_fd, t, ret, err, sizeof(err));
	lx_release(p);
	if (r < 0) {
		msg("snapshot: %s", err);
		return -EIO;
	}
	return ret;
}

static long dev_write(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		      uint64_t count, bool at)
{
	return snap_dev_write(t, count);
}

const struct lx_fd_ops snap_dev_ops = {
	.path = SNAP_DEV,
	.open = snap_dev_open,
	.write = dev_write,
	.writev = lx_fd_opv_einval,
	.reopen = snap_dev_reopen,
};
