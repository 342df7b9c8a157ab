/* Guest path resolution, confined to the root and the volumes.
 *
 * A guest path is first made absolute (against the cwd or a dirfd's path)
 * and normalised lexically ("." and ".." collapse like `cd -L`; ".." never
 * climbs above "/"). The longest volume whose guest path is a prefix picks
 * the host directory; the rest is resolved by the kernel with openat2 and
 * RESOLVE_IN_ROOT, so symlinks inside that directory (absolute ones too)
 * cannot lead outside it, and RESOLVE_NO_MAGICLINKS keeps /proc magic links
 * from reaching the monitor's own files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx/lx.h"
#include "lx/procfs.h"
#include "lx/subsys.h"
#include "util.h"

#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int add_mount(struct lx_fs *fs, const char *host, const char *guest,
		     bool rw)
{
	int fd = fd_high(open(host, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0) {
		msg("%s: %s (a --root or --volume must be an existing "
		    "directory)",
		    host, strerror(errno));
		return -1;
	}
	struct lx_mount *m = &fs->mounts[fs->nmounts++];
	m->guest = strdup(strcmp(guest, "/") == 0 ? "" : guest);
	m->len = strlen(m->guest);
	m->host_fd = fd;
	m->rw = rw;
	return m->guest ? 0 : -1;
}

int lx_fs_init(struct lx_proc *p)
{
	const struct lx_opts *o = p->opts;
	struct lx_fs *fs = &p->fs;
	fs->mounts = calloc(o->nvolumes + 1, sizeof(*fs->mounts));
	if (!fs->mounts)
		return -1;
	fs->umask = 022;
	if (add_mount(fs, o->root ? o->root : "/", "/", o->root_rw) < 0)
		return -1;
	for (int i = 0; i < o->nvolumes; i++)
		if (add_mount(fs, o->volumes[i].host, o->volumes[i].guest,
			      o->volumes[i].rw) < 0)
			return -1;
	snprintf(fs->cwd, sizeof(fs->cwd), "%s", o->cwd ? o->cwd : "/");
	return 0;
}

void lx_fs_fini(struct lx_proc *p)
{
	for (int i = 0; i < p->fs.nmounts; i++) {
		close(p->fs.mounts[i].host_fd);
		free(p->fs.mounts[i].guest);
	}
	free(p->fs.mounts);
	p->fs.mounts = NULL;
	p->fs.nmounts = 0;
}

int lx_get_path(struct lx_proc *p, uint64_t gva, char buf[PATH_MAX])
{
	long n = gm_strncpy(&p->vm, buf, gva, PATH_MAX);
	return n < 0 ? (int)n : 0;
}

/* A directory, opened normally or with O_PATH, can anchor *at() calls. */
static bool fd_is_dir(const struct lx_fd *f)
{
	struct stat st;
	if (f->kind == LX_FD_DIR || f->kind == LX_FD_PROCDIR)
		return true;
	return f->kind == LX_FD_PATH && fstat(f->host, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Appends `path` to the absolute, normalised `out` (length *len),
 * collapsing "." and "..". */
static int normalise(char *out, size_t *len, const char *path)
{
	while (*path) {
		while (*path == '/')
			path++;
		size_t n = strcspn(path, "/");
		if (n == 0)
			break;
		if (n == 1 && path[0] == '.') {
			/* nothing */
		} else if (n == 2 && path[0] == '.' && path[1] == '.') {
			while (*len > 0 && out[*len - 1] != '/')
				(*len)--;
			if (*len > 0)
				(*len)--;
		} else {
			if (*len + 1 + n >= PATH_MAX)
				return -ENAMETOOLONG;
			out[(*len)++] = '/';
			memcpy(out + *len, path, n);
			*len += n;
		}
		path += n;
	}
	out[*len] = 0;
	return 0;
}

/* The guest's /proc has symlinks the monitor follows itself (procfs.c):
 * one in the middle of the path is replaced by where it leads. */
static int follow_proc(struct lx_proc *p, char *guest, size_t *len)
{
	char to[PATH_MAX];
	for (int i = 0; i < 40; i++) {
		int r = lx_procfs_hop(p, guest, to);
		if (r <= 0)
			return r;
		*len = 0;
		guest[0] = 0;
		if ((r = normalise(guest, len, to)) < 0)
			return r;
	}
	return -ELOOP;
}

int lx_path_lookup(struct lx_proc *p, long dirfd, const char *gpath,
		   bool empty_ok, struct lx_path *out)
{
	if (!gpath[0] && !empty_ok)
		return -ENOENT;
	size_t len = 0;
	int err;
	out->guest[0] = 0;
	if (gpath[0] != '/') {
		const char *base = p->fs.cwd;
		if (dirfd != AT_FDCWD) {
			struct lx_fd *f = lx_fd_get(p, dirfd);
			if (!f)
				return -EBADF;
			if (!f->path ||
			    (!fd_is_dir(f) && !(gpath[0] == 0 && empty_ok)))
				return -ENOTDIR;
			base = f->path;
		}
		if ((err = normalise(out->guest, &len, base)) < 0)
			return err;
	}
	if ((err = normalise(out->guest, &len, gpath)) < 0)
		return err;
	if ((err = follow_proc(p, out->guest, &len)) < 0)
		return err;
	if (len == 0) {
		out->guest[0] = '/';
		out->guest[1] = 0;
	}
	/* The longest matching mount wins; mounts[0] (the root, "") matches
	 * everything. */
	const struct lx_mount *best = &p->fs.mounts[0];
	for (int i = 1; i < p->fs.nmounts; i++) {
		const struct lx_mount *m = &p->fs.mounts[i];
		if (m->len > best->len &&
		    strncmp(out->guest, m->guest, m->len) == 0 &&
		    (len == m->len || out->guest[m->len] == '/'))
			best = m;
	}
	out->dirfd = best->host_fd;
	out->rw = best->rw;
	out->rel = out->guest + best->len;
	while (*out->rel == '/')
		out->rel++;
	if (!*out->rel)
		out->rel = ".";
	return 0;
}

int lx_path_open(const struct lx_path *lp, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
				? mode
				: 0,
		.resolve = RESOLVE_FLAGS,
	};
	long fd = syscall(SYS_openat2, lp->dirfd, lp->rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* ---- the vfs subsystem's hooks (subsys.h): the cwd and umask; the
 * mounts are the run's options, which the caller restores first ---- */

static int vfs_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	uint32_t umask = p->fs.umask;
	w_str(w, p->fs.cwd);
	W(w, umask);
	return 0;
}

static int vfs_restore(struct lx_proc *p, struct rbuf *r)
{
	uint32_t umask;
	char *cwd = r_str(r);
	R(r, umask);
	if (r->bad || !cwd || cwd[0] != '/') {
		free(cwd);
		return lx_state_bad("cwd record");
	}
	snprintf(p->fs.cwd, sizeof(p->fs.cwd), "%s", cwd);
	free(cwd);
	p->fs.umask = umask & 0777;
	return 0;
}

const struct lx_subsys lx_vfs_subsys = {
	.name = "cwd",
	.tag = STREAM_TAG('V', 'F', 'S', ' '),
	.save = vfs_save,
	.restore = vfs_restore,
};
