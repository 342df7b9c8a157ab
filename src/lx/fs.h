/* Confined lookups shared by the path syscalls (fs.c, fswrite.c). */
#ifndef MOTE_LX_FS_H
#define MOTE_LX_FS_H

#include <stdbool.h>
#include <sys/stat.h>

#include "lx/lx.h"

/* An object a guest path (or fd) names, held by a host fd. */
struct lx_fs_obj {
	int fd; /* O_PATH fd (owned) or a guest fd's host fd (borrowed) */
	bool owned;
	bool synth; /* a node of the guest's /proc: fd is -1, st made up */
	int mount;  /* host fd of its mount (tells mounts apart), or -1 */
	bool rw;    /* on a mount that allows writes */
	struct stat st;
	struct lx_path lp; /* the lookup, when owned */
};

/* A name to create, remove or rename: its parent directory and last
 * component. last is NULL (and fd -1) when the path is the top of a mount. */
struct lx_fs_parent {
	int fd;		   /* O_PATH directory */
	const char *last;  /* a single component: never ".", ".." or with '/' */
	bool slash;	   /* the guest path ended in '/' */
	struct lx_path lp; /* lp.dirfd is the mount, lp.rw its mode */
};

/* Resolves the guest path string `path` against dirfd (AT_FDCWD or a guest
 * fd) to an O_PATH fd of the object, following a final symlink unless
 * AT_SYMLINK_NOFOLLOW is in `at`; with AT_EMPTY_PATH an empty path names
 * dirfd itself. Host pseudo file systems give -ENOENT; the guest's /proc
 * is procfs.c's (o->synth).
 * Returns 0 (release with lx_fs_obj_put) or -errno. */
int lx_fs_obj_path(struct lx_proc *p, long dirfd, const char *path, int at,
		   struct lx_fs_obj *o);
/* The same for a path in guest memory at gva (-EFAULT if unreadable). */
int lx_fs_obj_at(struct lx_proc *p, long dirfd, uint64_t gva, int at,
		 struct lx_fs_obj *o);
void lx_fs_obj_put(struct lx_fs_obj *o);

/* Resolves the guest path string `path` against dirfd to its parent
 * directory. Returns 0 or -errno; release with lx_fs_parent_put in both
 * cases. */
int lx_fs_parent_path(struct lx_proc *p, long dirfd, const char *path,
		      struct lx_fs_parent *pa);
/* The same for a path in guest memory at gva. */
int lx_fs_parent_at(struct lx_proc *p, long dirfd, uint64_t gva,
		    struct lx_fs_parent *pa);
void lx_fs_parent_put(struct lx_fs_parent *pa);

/* The devices any Linux process may open, even on a read-only root: null,
 * zero, full, random, urandom, tty and mote's own terminal. */
bool lx_fs_dev_allowed(const struct stat *st);
/* -ENOENT if host fd `fd` is on a host pseudo file system (/proc, /sys,
 * ...), 0 if not, or -errno. */
int lx_fs_check_host_fs(int fd);
/* A final '/' asks for a directory; lx_path_lookup drops it. */
bool lx_fs_trailing_slash(const char *path);

/* Opens the existing guest path gpath (absolute) as the guest's open(2)
 * would, with the same checks (never creating or truncating): for
 * snapshots, which reopen files by path. A host fd or -errno. */
int lx_fs_reopen(struct lx_proc *p, const char *gpath, int flags);

/* The mount a guest fd's file was opened on: sets *mount (-1 if none, as
 * for stdio and pipes) and *rw. */
void lx_fs_fd_mount(struct lx_proc *p, const struct lx_fd *f, int *mount,
		    bool *rw);

#endif
