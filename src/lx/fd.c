/* The guest's descriptor table.
 *
 * Guest fds are indexes into this table, never host fd numbers, so the
 * monitor's own descriptors (KVM, the VM, vCPUs, the root and volume
 * directories) cannot be named by a guest at all: close(n), dup2(x, n) or
 * read(n) on them fails with EBADF because n is not in the table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/lx.h"

enum lx_fd_kind lx_fd_kind_of(int host)
{
	struct stat st;
	if (fstat(host, &st) < 0)
		return LX_FD_OTHER;
	int fl = fcntl(host, F_GETFL);
	if (fl >= 0 && (fl & O_PATH))
		return LX_FD_PATH;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return LX_FD_FILE;
	case S_IFDIR:
		return LX_FD_DIR;
	case S_IFIFO:
		return LX_FD_PIPE;
	case S_IFCHR:
		return isatty(host) ? LX_FD_TTY : LX_FD_DEV;
	}
	return LX_FD_OTHER;
}

/* Grows the table to hold index gfd. */
static int grow(struct lx_proc *p, long gfd)
{
	if (gfd < p->nfds)
		return 0;
	int n = p->nfds ? p->nfds : 16;
	while (n <= gfd)
		n *= 2;
	struct lx_fd *v = realloc(p->fds, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = p->nfds; i < n; i++)
		v[i] = (struct lx_fd){.host = -1};
	p->fds = v;
	p->nfds = n;
	return 0;
}

int lx_fd_init(struct lx_proc *p)
{
	p->nofile_cur = LX_NOFILE;
	p->nofile_max = LX_NOFILE_MAX;
	/* The guest's stdio is the terminal's (or whatever mote was given),
	 * through duplicates so that a guest close(2) leaves the monitor its
	 * own stderr for messages. */
	for (int i = 0; i < 3; i++) {
		int h = fcntl(i, F_DUPFD_CLOEXEC, 3);
		if (h < 0)
			continue; /* closed in mote: closed in the guest */
		if (lx_fd_install_at(p, i, h, 0, lx_fd_kind_of(h), NULL) < 0)
			return -1;
	}
	return 0;
}

struct lx_fd *lx_fd_get(struct lx_proc *p, long gfd)
{
	if (gfd < 0 || gfd >= p->nfds || p->fds[gfd].host < 0)
		return NULL;
	return &p->fds[gfd];
}

int lx_fd_install_at(struct lx_proc *p, long gfd, int host, int fdflags,
		     enum lx_fd_kind kind, char *path)
{
	if (gfd < 0 || (uint64_t)gfd >= p->nofile_cur || grow(p, gfd) < 0) {
		close(host);
		free(path);
		return gfd < 0 ? -EBADF : -EMFILE;
	}
	struct lx_fd *f = &p->fds[gfd];
	if (f->host >= 0) {
		close(f->host);
		free(f->path);
	}
	*f = (struct lx_fd){host, fdflags, kind, path};
	return (int)gfd;
}

int lx_fd_install(struct lx_proc *p, int host, int fdflags,
		  enum lx_fd_kind kind, char *path, long min)
{
	long g = min < 0 ? 0 : min;
	while (g < p->nfds && p->fds[g].host >= 0)
		g++;
	return lx_fd_install_at(p, g, host, fdflags, kind, path);
}

int lx_fd_close(struct lx_proc *p, long gfd)
{
	struct lx_fd *f = lx_fd_get(p, gfd);
	if (!f)
		return -EBADF;
	int r = close(f->host);
	free(f->path);
	*f = (struct lx_fd){.host = -1};
	/* Linux releases the descriptor even when close reports an error;
	 * only EINTR is not passed on, as Linux does not either. */
	return r < 0 && errno != EINTR ? -errno : 0;
}

void lx_fd_fini(struct lx_proc *p)
{
	for (int i = 0; i < p->nfds; i++)
		if (p->fds[i].host >= 0)
			lx_fd_close(p, i);
	free(p->fds);
	p->fds = NULL;
	p->nfds = 0;
}
