/* The tree of the guest's /proc inside lx (procfs.c, procfs_link.c,
 * procfs_dir.c): its nodes, and what the three files share. Not for use
 * outside them (the rest of lx uses procfs.h). */
#ifndef MOTE_LX_PROCFS_TREE_H
#define MOTE_LX_PROCFS_TREE_H

#include "lx/procfs.h"

#define PROC_DEV makedev(0, 23) /* st_dev of the tree's nodes */
#define MAX_HOPS 40		/* symlinks followed in one lookup */

enum ntype { N_DIR, N_FILE, N_LINK, N_DEV };
enum ndir { D_ROOT, D_PID, D_TID, D_FD, D_TASK, D_SYS, D_SYSKERNEL };
enum nlink {
	L_SELF,
	L_THREAD_SELF,
	L_EXE,
	L_CWD,
	L_ROOT,
	L_FD,
	L_DEVFD,
	L_DEVSTD, /* /dev/stdin, stdout, stderr */
};

/* A node of the tree. */
struct node {
	enum ntype type;
	int which; /* enum ndir, procgen or nlink, or the index in devs[] */
	pid_t tid; /* whose node it is (the pid for the process's), or 0 */
	int fd;	   /* L_FD: the guest fd */
};

struct ent {
	const char *name;
	enum ntype type;
	int which;
};

/* The entries of directory d (its count in *n), or NULL. */
const struct ent *procfs_dir_table(enum ndir d, size_t *n);
/* The guest tid of the calling host thread. */
pid_t procfs_self_tid(struct lx_proc *p);
/* A copy of guest fd `fd`: a host duplicate (close it), its kind and a
 * copy of its path (free it). -EBADF if it is not open. */
int procfs_fd_copy(struct lx_proc *p, int fd, enum lx_fd_kind *kind,
		   char **path);
/* Parses an owned path into its node. A symlink followed by more
 * components stops there, with *rest at the '/' of the remainder; else
 * *rest is "". 0 or -errno. */
int procfs_parse(struct lx_proc *p, const char *guest, struct node *n,
		 const char **rest);
/* A link's target text into out (PATH_MAX); relative for self and
 * thread-self, as on Linux. */
int procfs_link_text(struct lx_proc *p, const struct node *n, char *out);
/* Whether link n leads to a guest path that lookups may continue from:
 * every link but exe and the fds of host objects. */
bool procfs_path_link(struct lx_proc *p, const struct node *n);
/* The inode number of a node's path. */
uint64_t procfs_path_ino(const char *s);

#endif
