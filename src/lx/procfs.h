/* The guest's /proc and the few /dev names the monitor serves itself
 * (procfs.c: the tree and its hooks; procgen.c: the files' contents). */
#ifndef MOTE_LX_PROCFS_H
#define MOTE_LX_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "lx/fs.h"
#include "lx/lx.h"

/* True if the normalised guest path `guest` is the monitor's: anything
 * under /proc, and /dev/{null,zero,full,random,urandom,tty,fd,stdin,
 * stdout,stderr}. The host's own /proc is never reached. */
bool lx_procfs_owns(const char *guest);

/* lx_path_lookup's hook: if a symlink of the tree (/proc/self,
 * /proc/PID/cwd, fd/N, /dev/fd...) is followed by more components, writes
 * the absolute path it leads to into `out` (PATH_MAX) and returns 1; 0 if
 * there is none, or -errno (ENOENT, ENOTDIR). */
int lx_procfs_hop(struct lx_proc *p, const char *guest, char *out);

/* Follows a final symlink of the tree that leads to a guest path
 * (/proc/self, cwd, root, /dev/stdin...), looking lp up again. Links to
 * objects without a path (exe, fd/N) are left for open and stat. Returns 0
 * or -errno (ELOOP). */
int lx_procfs_follow(struct lx_proc *p, struct lx_path *lp);

/* open(2) of an owned path (after lx_procfs_follow unless O_NOFOLLOW):
 * installs the guest fd and returns it, or -errno. */
long lx_procfs_open(struct lx_thread *t, const struct lx_path *lp, int flags,
		    mode_t mode);
/* The object of an owned path for the stat-like calls. Synthetic nodes
 * get o->synth with o->fd -1; the rest an O_PATH host fd. */
int lx_procfs_obj(struct lx_proc *p, const struct lx_path *lp, int at,
		  struct lx_fs_obj *o);
/* readlink of an owned path: the target's length (not NUL-terminated, at
 * most max bytes) or -EINVAL (no link), -ENOENT. */
long lx_procfs_readlink(struct lx_proc *p, const char *guest, char *buf,
			size_t max);
/* A host fd (O_RDONLY, close-on-exec) of an owned path for execve, with
 * its guest path in `exe` (PATH_MAX), or -errno. */
int lx_procfs_open_exec(struct lx_proc *p, const struct lx_path *lp, char *exe);

/* The stat of a guest fd of kind LX_FD_PROC or LX_FD_PROCDIR. */
void lx_procfs_fstat(struct lx_proc *p, const struct lx_fd *f, struct stat *st);
/* getdents64 on an LX_FD_PROCDIR fd into guest memory at buf. */
long lx_procfs_getdents(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
			unsigned count);

/* Records where the strings of a new image's stack lie (for cmdline,
 * environ), from the initial stack at sp. */
void lx_procfs_note_stack(struct lx_proc *p, uint64_t sp);
/* Records the command name (comm) of a new image from the path exec'd. */
void lx_procfs_set_comm(struct lx_proc *p, const char *path);

/* ---- between procfs.c and procgen.c ---- */

/* A growing text buffer; on allocation failure it stops growing and
 * remembers (err). */
struct sbuf {
	char *s;
	size_t len, cap;
	bool err;
};
void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_add(struct sbuf *b, const void *data, size_t n);

/* The generated files. */
enum procgen {
	G_MAPS,
	G_STATUS,
	G_STAT,
	G_STATM,
	G_CMDLINE,
	G_ENVIRON,
	G_COMM,
	G_LIMITS,
	G_CPUINFO,
	G_MEMINFO,
	G_UPTIME,
	G_LOADAVG,
	G_VERSION,
	G_SYSSTAT,
	G_FILESYSTEMS,
	G_MOUNTS,
	G_OSTYPE,
	G_OSRELEASE,
	G_HOSTNAME,
	G_PIDMAX,
	G_NGEN
};

/* Writes file `g` of thread `tid`'s process (the caller's own, whatever
 * thread of it tid names) into b. */
void lx_procgen(struct lx_proc *p, pid_t tid, enum procgen g, struct sbuf *b);
/* The CPUs the guest may run on (the run's --cpus, else the caller's
 * affinity), as a count and, into ids (up to max), their numbers. */
int lx_procgen_cpus(struct lx_proc *p, int *ids, int max);
/* proccpu.c: /proc/cpuinfo from the CPUID the guest sees. */
void lx_procgen_cpuinfo(struct lx_proc *p, struct sbuf *b);
/* The thread of p with guest tid `tid`, or NULL. With p->lock held. */
struct lx_thread *lx_procfs_thread(struct lx_proc *p, pid_t tid);

#endif
