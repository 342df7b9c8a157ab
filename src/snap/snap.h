/* Snapshots of a running process (docs/snapshot.md): save writes one,
 * restore starts VMs from one. */
#ifndef MOTE_SNAP_SNAP_H
#define MOTE_SNAP_SNAP_H

#include <stddef.h>

#include "lx/lx.h"

/* Writes a snapshot of p to fd (a regular file, truncated first). The run
 * must be held (lx_hold) with every thread but `self` parked; self is the
 * vCPU thread that asked through /dev/mote-snapshot, stopped in that
 * write, whose return value in the snapshot is `self_ret` (NULL: the
 * control socket asked). Returns 0, or -1 with a one-line reason in err. */
int snap_save(struct lx_proc *p, int fd, struct lx_thread *self, long self_ret,
	      char *err, size_t errlen);

/* /dev/mote-snapshot (dev.c). */
#define SNAP_DEV "/dev/mote-snapshot"
long snap_dev_open(struct lx_thread *t, int flags);
/* A write of count bytes to it: takes the snapshot. */
long snap_dev_write(struct lx_thread *t, uint64_t count);
/* Installs it at gfd in a restored process (a new generation). */
int snap_dev_reopen(struct lx_proc *p, long gfd, int fdflags, int64_t off);

/* mote restore: starts `count` VMs from the snapshot at `file`. `o`
 * holds what the command line sets (t_start, --timing, --timeout,
 * --cpus, --snapshot); the rest of the run's options (memory, root,
 * volumes, network, limits) are the snapshot's. `name` names the VM (with
 * a count, NAME-1...NAME-count), or NULL. Returns mote's exit status: the
 * guest's, or with a count the first clone's that is not 0. */
int snap_restore(const char *file, const char *name, unsigned count,
		 struct lx_opts *o);

#endif
