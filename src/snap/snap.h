/* Snapshots of a running process (docs/snapshot.md): save writes one,
 * restore starts VMs from one. */
#ifndef MOTE_SNAP_SNAP_H
#define MOTE_SNAP_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lx/lx.h"

/* Writes a snapshot of p to fd (a regular file, truncated first). The run
 * must be held (lx_hold) with every thread but `self` parked; self is the
 * vCPU thread that asked through /dev/mote-snapshot, stopped in that
 * write, whose return value in the snapshot is `self_ret` (NULL: the
 * control socket asked). Returns 0, or -1 with a one-line reason in err. */
int snap_save(struct lx_proc *p, int fd, struct lx_thread *self, long self_ret,
	      char *err, size_t errlen);

/* ---- process trees (tree.c, docs/snapshot.md) ----
 *
 * A VM of several processes is saved part by part, each by its own
 * monitor, into one file: the first process's part at 0 (with the tree's
 * record naming every part), the others after it, each a snapshot of one
 * process at its own offset. snap_save takes this path by itself. */
struct snap_proc;
struct snap_part {
	uint64_t base;
	const struct snap_proc *procs; /* the first process's part only */
	uint32_t nprocs;
	/* Into a migration's stream: records, not pwrite; the parts but the
	 * first end without SIZE, and the first's SIZE says `size`. */
	bool stream;
	uint64_t size;
};
/* One part, the run held: 0 with its end offset in *end, or -1. */
int snap_save_part(struct lx_proc *p, int fd, const struct snap_part *part,
		   struct lx_thread *self, long self_ret, uint64_t *end,
		   char *err, size_t errlen);
/* The whole tree, asked for by p (the run held, p's threads parked but
 * self), into a file, or (stream) as a migration's records: 0, or -1 with
 * the reason in err. */
int snap_tree_save(struct lx_proc *p, int fd, bool stream,
		   struct lx_thread *self, long self_ret, char *err,
		   size_t errlen);
/* A stream's BOUND record: the file will be at most `bound` bytes. */
int snap_stream_bound(int fd, uint64_t bound, char *err, size_t errlen);
/* In a monitor of the tree whose threads are parked: saves its part if
 * the tree's saver asks for it (lx_hooks.tree_request). */
void snap_tree_serve(struct lx_proc *p);

/* ---- migration (docs/migration.md) ----
 *
 * A snapshot as a stream of records written into a pipe, which mote
 * migrate frames and sends: the file the receiver assembles is the one
 * snap_save would write. Each pass opens with a BOUND record (off: the
 * largest the file can be); DATA records carry `len` bytes of the file at
 * `off`, ZERO records say [off, off + len) reads as zeros now, and the
 * last pass ends with SIZE (off: the file's size).
 *
 * Post-copy: a lazy last pass sends LAZY records ([off, off + len) comes
 * later) instead of the user pages' DATA, and keeps the set; once the
 * receiver runs the VM, snap_postcopy sends those pages as DATA, the ones
 * the receiver asks for first, and ends with DONE (off: bytes sent). */
enum snap_rec_kind {
	SNAP_REC_BOUND = 1,
	SNAP_REC_DATA = 2,
	SNAP_REC_ZERO = 3,
	SNAP_REC_SIZE = 4,
	SNAP_REC_LAZY = 5,
	SNAP_REC_DONE = 6,
};
struct snap_rec {
	uint32_t kind;
	uint32_t len; /* at most SNAP_REC_MAX */
	uint64_t off;
};
#define SNAP_REC_MAX (512U << 10)

struct snap_sent {
	uint64_t pages; /* of data */
	uint64_t zeros; /* pages sent as zeros */
	uint64_t lazy;	/* pages left for post-copy */
	uint64_t asked; /* post-copy: pages the receiver asked for */
};
/* A round of pre-copy while the VM runs: the first sends every page of
 * memory and starts dirty tracking (vm/dirty.h), each later one the pages
 * written since the round before. 0, or -1 with the reason in err. */
int snap_round(struct lx_proc *p, int fd, struct snap_sent *sent, char *err,
	       size_t errlen);
/* Stops the tracking the rounds started (a migration given up). */
void snap_round_end(struct lx_proc *p);
/* snap_save into a stream: after rounds, only the pages changed since the
 * last one (the tracking ends), else all. The run must be held. lazy:
 * user pages go as LAZY records, for snap_postcopy; sent->lazy counts
 * them. */
int snap_save_stream(struct lx_proc *p, int fd, bool lazy,
		     struct snap_sent *sent, char *err, size_t errlen);
/* Post-copy's source side, after a lazy snap_save_stream, with the run
 * still held: sends every lazy page into socket fd, first those the
 * receiver asks for (16-byte requests on fd: the file's offset and
 * length), then DONE. 0, or -1 with the reason. */
int snap_postcopy(struct lx_proc *p, int fd, struct snap_sent *sent, char *err,
		  size_t errlen);
/* Forgets a lazy pass's pages (the migration was given up). */
void snap_lazy_drop(void);

/* /dev/mote-snapshot (dev.c). */
#define SNAP_DEV "/dev/mote-snapshot"
long snap_dev_open(struct lx_thread *t, int flags);
/* A write of count bytes to it: takes the snapshot. */
long snap_dev_write(struct lx_thread *t, uint64_t count);
/* Installs it at gfd in a restored process (a new generation). */
int snap_dev_reopen(struct lx_proc *p, long gfd, int fdflags, int64_t off);
/* /dev/mote-snapshot's entry in lx's fd-kind table (the run layer
 * registers it): opened by its path, written to take a snapshot. */
extern const struct lx_fd_ops snap_dev_ops;

/* restore.c, for mote restore (src/run/restore.c). snap_open reads and
 * checks the snapshot at `file` (its header, checksums, state, this
 * host's CPU) into *st: returns its fd, or -status after a message.
 * snap_opts sets the run's options the snapshot holds (memory, root,
 * volumes, network, limits) over `o`'s. snap_build makes p's VM from the
 * snapshot (its system region shared through shared_sys, a memfd from
 * vm_sys_share_make, or -1) and restores p's memory, files and threads:
 * 0, or MOTE_EXIT_FAIL after a message. */
struct snap_state;
int snap_open(const char *file, struct snap_state *st);
/* A tree's other process at file offset base (st->procs of the first):
 * 0, or -1 after a message. */
int snap_open_part(int fd, const char *file, uint64_t base,
		   struct snap_state *st);
void snap_opts(struct lx_opts *o, struct snap_state *st);
int snap_build(struct lx_proc *p, const char *path, struct snap_state *st,
	       int snap, int shared_sys);

#endif
