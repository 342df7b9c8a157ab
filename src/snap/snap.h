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
int snap_save(struct lx_proc *p, int fd, struct lx_thread *self,
	      long self_ret, char *err, size_t errlen);

/* mote restore FILE [options]: the command. */
int snap_restore_main(int argc, char **argv, uint64_t t_start);

#endif
