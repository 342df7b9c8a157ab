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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

enum lx_fd_kind lx_fd_kind_of(int host)
{
	struct stat st;
	if (fstat(host, &st) < 0)
		return LX_FD_OTHER;
	int fl = fcntl(host, F_GETFL);
	if (fl >= 0 && (fl & O_PATH))
		return LX_FD_PATH;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG: return LX_FD_FILE;
	case S_IFDIR: return LX_FD_DIR;
	case S_IFIFO: return LX_FD_PIPE;
	case S_IFSOCK: return LX_FD_SOCK;
	case S_IFCHR: return isatty(host) ? LX_FD_TTY : LX_FD_DEV;
	}
	return LX_FD_OTHER;
}

/* The table has room for the hard limit from the start, so that a slot
 * never moves under a thread that holds a pointer to it; the pages are
 * touched only as fds are used. */
int lx_fd_init(struct lx_proc *p)
{
	uint64_t max =
		p->opts && p->opts->max_fds ? p->opts->max_fds : LX_NOFILE_MAX;
	/* Below the monitor's own descriptors (fd_high), with room for the
	 * monitor's short-lived ones. */
	p->fdt.nofile_max = MIN(max, (uint64_t)fd_high_floor() - 16);
	p->fdt.nofile_cur = MIN(LX_NOFILE, p->fdt.nofile_max);
	p->fdt.cap = (int)p->fdt.nofile_max;
	void *v = mmap(NULL, p->fdt.cap * sizeof(struct lx_fd),
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v == MAP_FAILED)
		return -1;
	p->fdt.slot = v;
	pthread_mutex_init(&p->fdt.lock, NULL);
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
	if (gfd < 0 || gfd >= p->fdt.cap || !p->fdt.slot[gfd].used)
		return NULL;
	return &p->fdt.slot[gfd];
}

/* With fd_lock held. */
static int install_locked(struct lx_proc *p, long gfd, int host, int fdflags,
			  enum lx_fd_kind kind, char *path)
{
	if (gfd < 0 || (uint64_t)gfd >= p->fdt.nofile_cur) {
		close(host);
		free(path);
		return gfd < 0 ? -EBADF : -EMFILE;
	}
	struct lx_fd *f = &p->fdt.slot[gfd];
	if (f->used) {
		close(f->host);
		free(f->path);
	}
	*f = (struct lx_fd){.host = host,
			    .fdflags = fdflags,
			    .kind = kind,
			    .path = path,
			    .used = true};
	if (gfd >= p->fdt.top)
		p->fdt.top = (int)gfd + 1;
	return (int)gfd;
}

int lx_fd_install_at(struct lx_proc *p, long gfd, int host, int fdflags,
		     enum lx_fd_kind kind, char *path)
{
	pthread_mutex_lock(&p->fdt.lock);
	int r = install_locked(p, gfd, host, fdflags, kind, path);
	pthread_mutex_unlock(&p->fdt.lock);
	return r;
}

int lx_fd_install(struct lx_proc *p, int host, int fdflags,
		  enum lx_fd_kind kind, char *path, long min)
{
	pthread_mutex_lock(&p->fdt.lock);
	long g = min < 0 ? 0 : min;
	while (g < p->fdt.cap && p->fdt.slot[g].used)
		g++;
	int r = install_locked(p, g, host, fdflags, kind, path);
	pthread_mutex_unlock(&p->fdt.lock);
	return r;
}

int lx_fd_close(struct lx_proc *p, long gfd)
{
	pthread_mutex_lock(&p->fdt.lock);
	struct lx_fd *f = lx_fd_get(p, gfd);
	if (!f) {
		pthread_mutex_unlock(&p->fdt.lock);
		return -EBADF;
	}
	int host = f->host;
	free(f->path);
	*f = (struct lx_fd){.host = -1};
	pthread_mutex_unlock(&p->fdt.lock);
	/* Linux releases the descriptor even when close reports an error;
	 * only EINTR is not passed on, as Linux does not either. */
	int r = close(host);
	return r < 0 && errno != EINTR ? -errno : 0;
}

void lx_fd_fini(struct lx_proc *p)
{
	if (!p->fdt.slot)
		return;
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used)
			lx_fd_close(p, i);
	munmap(p->fdt.slot, p->fdt.cap * sizeof(struct lx_fd));
	p->fdt.slot = NULL;
	p->fdt.top = 0;
}
