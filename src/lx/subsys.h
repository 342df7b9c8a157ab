/* The subsystems of the Linux personality, each with the state it keeps
 * in lx_proc and three hooks: save (its records in a state stream),
 * restore (from them, into a process whose VM and file-system view
 * exist), and fork (in a fork's child, before its VM exists).
 *
 * subsys.c lists them in the one order every hook runs in. A snapshot
 * writes each one's records between its own (src/snap/), and a migration
 * is to send the same records down a socket: a hook sees only its own
 * record, whole, through a stream.h reader, never the file around it. */
#ifndef MOTE_LX_SUBSYS_H
#define MOTE_LX_SUBSYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream.h"

struct lx_proc;
struct lx_thread;
struct vcpu_state;

/* What a save knows beyond the process: the run is held (lx_hold), every
 * thread parked but `self`, the vCPU thread that asked for the save,
 * stopped in its syscall, which is to return `self_ret` (self NULL: the
 * control socket asked). A failing hook writes one line into err. */
struct lx_save {
	struct lx_thread *self;
	long self_ret;
	char *err;
	size_t errlen;
};

/* A fork's child: `t` is the thread that called fork, the child's only
 * one, with its registers in *st; the clone flags and addresses it gave;
 * its slot in the process tree, its end of a vfork's wait (or -1), and
 * its parent's host pid. */
struct lx_fork {
	struct lx_thread *t;
	struct vcpu_state *st;
	uint64_t flags, ctid, stack;
	int slot, vfork_fd;
	pid_t parent_host;
};

struct lx_subsys {
	const char *name;
	uint32_t tag; /* its record's STREAM_TAG */
	/* Writes the record's body; 0, or -1 with err set. */
	int (*save)(struct lx_proc *p, const struct lx_save *s, struct wbuf *w);
	/* Reads the body back into p, checking every value as hostile
	 * input: 0, or -1 after a one-line message (msg). */
	int (*restore)(struct lx_proc *p, struct rbuf *r);
	/* 0, or -1 after a message: the child cannot go on. */
	int (*fork)(struct lx_proc *p, const struct lx_fork *f);
};

/* Every subsystem's records, in order: 0, or -1 with err set. */
int lx_state_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w);
/* Reads every subsystem's record from r, in order: 0, or -1 after a
 * message naming the record at fault. */
int lx_state_restore(struct lx_proc *p, struct rbuf *r);
/* Runs every subsystem's fork hook in a fork's child: 0 or -1. */
int lx_state_fork(struct lx_proc *p, const struct lx_fork *f);

/* Each subsystem's hooks (in the file of its code). */
extern const struct lx_subsys lx_task_subsys;	/* process.c */
extern const struct lx_subsys lx_vfs_subsys;	/* path.c */
extern const struct lx_subsys lx_sig_subsys;	/* sigsys.c */
extern const struct lx_subsys lx_fd_subsys;	/* fdstate.c */
extern const struct lx_subsys lx_mm_subsys;	/* mmstate.c */
extern const struct lx_subsys lx_thread_subsys; /* threadstate.c */

/* Restore's one-line complaint about a record (subsys.c). */
int lx_state_bad(const char *what);

#endif
