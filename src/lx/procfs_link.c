/* The symlinks of the guest's /proc and /dev (self, thread-self, exe,
 * cwd, root, fd/N, /dev/fd, /dev/std*): followed here, never by the host
 * (procfs.c has the tree). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/procfs_tree.h"
#include "util.h"

/* The text of an fd's link, as Linux writes it. */
static int fd_link(struct lx_proc *p, int fd, char *out)
{
	enum lx_fd_kind kind;
	char *path;
	int h = procfs_fd_copy(p, fd, &kind, &path);
	if (h < 0)
		return h == -EBADF ? -ENOENT : h;
	struct stat st;
	int err = fstat(h, &st) < 0 ? -errno : 0;
	if (err) {
	} else if (path) {
		snprintf(out, PATH_MAX, "%s", path);
	} else if (S_ISFIFO(st.st_mode)) {
		snprintf(out, PATH_MAX, "pipe:[%lu]", (unsigned long)st.st_ino);
	} else if (S_ISSOCK(st.st_mode)) {
		snprintf(out, PATH_MAX, "socket:[%lu]",
			 (unsigned long)st.st_ino);
	} else if (S_ISCHR(st.st_mode) || (st.st_mode & S_IFMT) == 0) {
		/* A terminal's /dev path or an anon_inode:[...] name: the
		 * host's own text says what the object is. */
		char hp[64];
		snprintf(hp, sizeof(hp), "/proc/self/fd/%d", h);
		ssize_t n = readlink(hp, out, PATH_MAX - 1);
		out[n > 0 ? n : 0] = 0;
		if (n <= 0)
			snprintf(out, PATH_MAX, "anon_inode:[unknown]");
	} else {
		/* A host file the guest was given (stdio redirected by
		 * mote's caller): it has no guest path. */
		snprintf(out, PATH_MAX, "host:[%lu]", (unsigned long)st.st_ino);
	}
	close(h);
	free(path);
	return err;
}

/* A link's target text into out (PATH_MAX); relative for self and
 * thread-self, as on Linux. */
int procfs_link_text(struct lx_proc *p, const struct node *n, char *out)
{
	switch (n->which) {
	case L_SELF: snprintf(out, PATH_MAX, "%d", (int)p->task.pid); return 0;
	case L_THREAD_SELF:
		snprintf(out, PATH_MAX, "%d/task/%d", (int)p->task.pid,
			 (int)procfs_self_tid(p));
		return 0;
	case L_EXE: snprintf(out, PATH_MAX, "%s", p->task.exe); return 0;
	case L_CWD: snprintf(out, PATH_MAX, "%s", p->fs.cwd); return 0;
	case L_ROOT: snprintf(out, PATH_MAX, "/"); return 0;
	case L_DEVFD: snprintf(out, PATH_MAX, "/proc/self/fd"); return 0;
	case L_DEVSTD:
		snprintf(out, PATH_MAX, "/proc/self/fd/%d", n->fd);
		return 0;
	}
	return fd_link(p, n->fd, out);
}

/* Whether link n leads to a guest path that lookups may continue from:
 * every link but exe and the fds of host objects. */
bool procfs_path_link(struct lx_proc *p, const struct node *n)
{
	if (n->which == L_EXE)
		return false;
	if (n->which != L_FD)
		return true;
	pthread_mutex_lock(&p->fdt.lock);
	struct lx_fd *f = lx_fd_get(p, n->fd);
	bool r = f && f->path &&
		 (f->kind == LX_FD_PROC || f->kind == LX_FD_PROCDIR);
	pthread_mutex_unlock(&p->fdt.lock);
	return r;
}

/* The absolute path link n (whose own path is guest[0, len)) leads to,
 * followed by `rest`, into out (PATH_MAX). */
static int link_join(struct lx_proc *p, const struct node *n, const char *guest,
		     size_t len, const char *rest, char *out)
{
	char text[PATH_MAX];
	int err = procfs_link_text(p, n, text);
	if (err)
		return err;
	size_t dir = 0;
	if (text[0] != '/')
		for (size_t i = 0; i < len; i++)
			if (guest[i] == '/')
				dir = i;
	int k = snprintf(out, PATH_MAX, "%.*s/%s%s", (int)dir, guest, text,
			 rest);
	return k >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int lx_procfs_hop(struct lx_proc *p, const char *guest, char *out)
{
	struct node n;
	const char *rest;
	if (!lx_procfs_owns(guest) || procfs_parse(p, guest, &n, &rest) < 0 ||
	    n.type != N_LINK || !*rest)
		return 0;
	if (!procfs_path_link(p, &n)) {
		/* A directory opened by the guest continues from its path. */
		char *path = NULL;
		enum lx_fd_kind kind = LX_FD_OTHER;
		int h = n.which == L_FD ? procfs_fd_copy(p, n.fd, &kind, &path)
					: -1;
		if (h >= 0)
			close(h);
		int err = path && (kind == LX_FD_DIR || kind == LX_FD_PATH)
				  ? 0
				  : -ENOTDIR;
		if (!err &&
		    snprintf(out, PATH_MAX, "%s%s", path, rest) >= PATH_MAX)
			err = -ENAMETOOLONG;
		free(path);
		return err ? err : 1;
	}
	int err = link_join(p, &n, guest, rest - guest, rest, out);
	return err ? err : 1;
}

int lx_procfs_follow(struct lx_proc *p, struct lx_path *lp)
{
	for (int i = 0; i < MAX_HOPS; i++) {
		struct node n;
		const char *rest;
		char to[PATH_MAX];
		if (!lx_procfs_owns(lp->guest) ||
		    procfs_parse(p, lp->guest, &n, &rest) < 0 ||
		    n.type != N_LINK || !procfs_path_link(p, &n))
			return 0;
		int err =
			link_join(p, &n, lp->guest, strlen(lp->guest), "", to);
		if (!err)
			err = lx_path_lookup(p, AT_FDCWD, to, false, lp);
		if (err)
			return err;
	}
	return -ELOOP;
}

long lx_procfs_readlink(struct lx_proc *p, const char *guest, char *buf,
			size_t max)
{
	struct node n;
	const char *rest;
	char text[PATH_MAX];
	int err = procfs_parse(p, guest, &n, &rest);
	if (!err && n.type != N_LINK)
		err = -EINVAL;
	if (!err)
		err = procfs_link_text(p, &n, text);
	if (err)
		return err;
	size_t len = MIN(strlen(text), max);
	memcpy(buf, text, len);
	return (long)len;
}
