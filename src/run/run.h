/* The run layer: one lifecycle for every way a VM starts.
 *
 * Above lx (the Linux personality), snap, ctl and the sandbox, and the
 * only code that composes them: lx calls none of them, and learns what it
 * must from above through lx_hooks, which run_init fills in.
 *
 *   mote run, mote oci   run_program: find and load the program into a
 *                        new VM, then run_proc
 *   mote restore         snap/restore.c builds the process from the
 *                        snapshot, then run_proc
 *   mote receive         a migrated VM's snapshot, then as mote restore
 *
 * run_proc is the rest, the same for all: the control socket's name,
 * signals, the sandbox, limits and watchdog, the vCPU threads, the control
 * thread, the run loop, and the teardown.
 */
#ifndef MOTE_RUN_H
#define MOTE_RUN_H

#include <stdnoreturn.h>

#include "lx/lx.h"
#include "vm/vm.h"

/* Once, before any VM: lx's hooks and the special files of the layers
 * above (/dev/mote-snapshot). */
void run_init(void);

/* Runs the program of `o` in a new microVM. Returns mote's exit status:
 * the guest's status, 128 + signal, or a MOTE_EXIT_* code. */
int run_program(const struct lx_opts *o);

/* A process whose VM and vCPUs stand (t is its owner thread): takes its
 * control socket's name (`name`, may be NULL), runs it to the end and
 * frees it. Returns as run_program. */
int run_proc(struct lx_proc *p, struct lx_thread *t, const char *name);
/* The same for a process of a restored tree other than its first: no
 * control socket of its own, and it ends as a forked process does. */
noreturn void run_proc_forked(struct lx_proc *p, struct lx_thread *t);

/* Frees a process that never ran (an error while it was being built). */
void run_abort(struct lx_proc *p);

/* mote restore: starts `count` VMs from the snapshot at `file` (snap/
 * builds each process, run_proc runs it). `o` holds what the command line
 * sets (t_start, --timing, --timeout, --cpus, --snapshot); the rest of the
 * run's options (memory, root, volumes, network, limits) are the
 * snapshot's. `name` names the VM (with a count, NAME-1...NAME-count), or
 * NULL. Returns mote's exit status: the guest's, or with a count the first
 * clone's that is not 0. */
int run_restore(const char *file, const char *name, unsigned count,
		struct lx_opts *o);
/* run_restore of a post-copy's file (snap/postcopy.h): pc's pages come
 * while the VM runs. */
struct postcopy;
int run_restore_lazy(const char *file, const char *name, unsigned count,
		     struct lx_opts *o, struct postcopy *pc);

/* mote receive: waits on listen_addr for one VM that mote migrate sends,
 * authenticated with the key in keyfile, then runs it as run_restore
 * does (receive.c). Returns mote's exit status. */
int run_receive(const char *listen_addr, const char *keyfile, const char *name,
		struct lx_opts *o);

#endif
