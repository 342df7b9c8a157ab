/* The guest's view of the file system: its root and volumes, its cwd and
 * umask, and the resolution of guest paths under them (path.c). */
#ifndef MOTE_LX_VFS_H
#define MOTE_LX_VFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lx_proc;
struct lx_thread;

struct lx_mount {
	char *guest; /* absolute guest path, no trailing slash ("" = /) */
	size_t len;
	int host_fd; /* O_PATH directory */
	bool rw;
};

struct lx_fs {
	struct lx_mount *mounts; /* [0] is the root, then volumes */
	int nmounts;
	char cwd[PATH_MAX]; /* absolute guest path */
	mode_t umask;
};

/* path.c: guest path resolution under the root and volumes. */
struct lx_path {
	int dirfd;	      /* host directory fd to resolve rel against */
	const char *rel;      /* path relative to dirfd ("." for the top) */
	bool rw;	      /* the mount allows writes */
	char guest[PATH_MAX]; /* the normalised absolute guest path */
};
int lx_fs_init(struct lx_proc *p);
void lx_fs_fini(struct lx_proc *p);
/* Resolves (dirfd, gpath) lexically to a mount and a relative path.
 * Returns 0 or -errno (EBADF, ENOTDIR, ENAMETOOLONG, ENOENT for ""). */
int lx_path_lookup(struct lx_proc *p, long dirfd, const char *gpath,
		   bool empty_ok, struct lx_path *out);
/* Opens a resolved path with openat2 confined to its mount. */
int lx_path_open(const struct lx_path *lp, int flags, mode_t mode);
/* Copies a guest path string; returns 0 or -EFAULT / -ENAMETOOLONG. */
int lx_get_path(struct lx_proc *p, uint64_t gva, char buf[PATH_MAX]);

#endif
