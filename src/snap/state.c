/* The state section of a snapshot: written and read in one order, side
 * by side here so that the two cannot drift apart (docs/snapshot.md). */
#define _GNU_SOURCE
#include "snap/state.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_VMAS    (1U << 20)
#define MAX_FDS	    (1U << 20)
#define MAX_VOLUMES 4096
#define MAX_PORTS   65536

/* ---- the run's options ---- */

/* The absolute host path of mount i (0: the root), as its directory fd
 * has it now: the command line may have given a relative one. */
static void w_mount(struct wbuf *w, struct lx_proc *p, int i, const char *given)
{
	char link[64], path[PATH_MAX];
	ssize_t n = -1;
	if (i < p->fs.nmounts) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d",
			 p->fs.mounts[i].host_fd);
		n = readlink(link, path, sizeof(path) - 1);
	}
	if (n > 0 && path[0] == '/') {
		path[n] = 0;
		w_str(w, path);
	} else {
		w_str(w, given);
	}
}

static void w_opts(struct wbuf *w, struct lx_proc *p)
{
	const struct lx_opts *o = p->opts;
	uint32_t nvol = (uint32_t)o->nvolumes, nports = (uint32_t)o->nnet_ports;
	uint8_t net = o->net, aslr = o->aslr, fsize_set = o->fsize_set;
	W(w, o->memory);
	W(w, o->pids);
	W(w, o->max_fds);
	w_mount(w, p, 0, o->root);
	W(w, nvol);
	for (uint32_t i = 0; i < nvol; i++) {
		uint8_t rw = o->volumes[i].rw;
		w_mount(w, p, (int)i + 1, o->volumes[i].host);
		w_str(w, o->volumes[i].guest);
		W(w, rw);
	}
	W(w, net);
	W(w, nports);
	w_bytes(w, o->net_ports, nports * sizeof(uint16_t));
	W(w, aslr);
	W(w, fsize_set);
	W(w, o->fsize);
}

static void r_opts(struct rbuf *r, struct snap_state *s)
{
	R(r, s->memory);
	R(r, s->pids);
	R(r, s->max_fds);
	s->root = r_str(r);
	R(r, s->nvolumes);
	if (s->nvolumes > MAX_VOLUMES)
		r->bad = true;
	if (r->bad)
		return;
	s->volumes = calloc(s->nvolumes + 1, sizeof(*s->volumes));
	for (uint32_t i = 0; s->volumes && i < s->nvolumes && !r->bad; i++) {
		uint8_t rw;
		s->volumes[i].host = r_str(r);
		s->volumes[i].guest = r_str(r);
		R(r, rw);
		s->volumes[i].rw = rw;
		if (!s->volumes[i].host || !s->volumes[i].guest)
			r->bad = true;
	}
	R(r, s->net);
	R(r, s->nports);
	if (s->nports > MAX_PORTS || !s->volumes)
		r->bad = true;
	if (r->bad)
		return;
	s->ports = calloc(s->nports + 1, sizeof(uint16_t));
	if (!s->ports) {
		r->bad = true;
		return;
	}
	r_bytes(r, s->ports, s->nports * sizeof(uint16_t));
	R(r, s->aslr);
	R(r, s->fsize_set);
	R(r, s->fsize);
}

/* ---- the process ---- */

static void w_proc(struct wbuf *w, struct lx_proc *p)
{
	uint32_t umask = p->fs.umask;
	uint8_t has_rl = p->task.rlimits != NULL;
	W(w, p->task.pid);
	w_str(w, p->task.exe);
	W(w, p->task.comm);
	w_str(w, p->fs.cwd);
	W(w, umask);
	W(w, p->fdt.nofile_cur);
	W(w, p->fdt.nofile_max);
	W(w, has_rl);
	if (has_rl)
		w_bytes(w, p->task.rlimits,
			RLIM_NLIMITS * sizeof(struct rlimit));
	W(w, p->sig.act);
	W(w, p->sig.pending);
	W(w, p->sig.info);
	W(w, p->sig.rt_extra);
	W(w, p->vm.pt.pool);
	struct lx_mm *mm = &p->mm;
	W(w, mm->brk_start);
	W(w, mm->brk);
	W(w, mm->brk_max);
	W(w, mm->mmap_top);
	W(w, mm->stack_lo);
	W(w, mm->arg_start);
	W(w, mm->arg_end);
	W(w, mm->env_start);
	W(w, mm->env_end);
}

static void r_proc(struct rbuf *r, struct snap_state *s)
{
	R(r, s->pid);
	s->exe = r_str(r);
	R(r, s->comm);
	s->cwd = r_str(r);
	R(r, s->umask);
	R(r, s->nofile_cur);
	R(r, s->nofile_max);
	R(r, s->has_rlimits);
	if (s->has_rlimits)
		r_bytes(r, s->rlimits, sizeof(s->rlimits));
	R(r, s->sigact);
	R(r, s->sig_pending);
	R(r, s->sig_info);
	R(r, s->rt_extra);
	R(r, s->pt_pool);
	R(r, s->brk_start);
	R(r, s->brk);
	R(r, s->brk_max);
	R(r, s->mmap_top);
	R(r, s->stack_lo);
	R(r, s->arg_start);
	R(r, s->arg_end);
	R(r, s->env_start);
	R(r, s->env_end);
	s->comm[15] = 0;
	if (!s->exe || !s->cwd)
		r->bad = true;
}

/* ---- the address space ---- */

static uint64_t vma_pages(const struct lx_vma *v)
{
	return (v->end - v->start) / PAGE_SIZE;
}

static void w_vmas(struct wbuf *w, const struct snap_state *s)
{
	W(w, s->nvmas);
	for (uint32_t i = 0; i < s->nvmas; i++) {
		const struct snap_vma *sv = &s->vmas[i];
		const struct lx_vma *v = &sv->v;
		uint32_t prot = v->prot, kind = v->kind;
		uint8_t shared = v->shared;
		W(w, v->start);
		W(w, v->end);
		W(w, prot);
		W(w, kind);
		W(w, shared);
		w_str(w, v->name);
		W(w, v->off);
		W(w, v->dev);
		W(w, v->ino);
		W(w, sv->src);
		if (sv->src == SRC_IMAGE)
			continue;
		W(w, sv->fsize);
		W(w, sv->mtime_s);
		W(w, sv->mtime_ns);
		if (sv->src == SRC_FILE)
			w_bytes(w, sv->bitmap, (vma_pages(v) + 7) / 8);
	}
}

static void r_vma(struct rbuf *r, struct snap_vma *sv, uint64_t limit)
{
	struct lx_vma *v = &sv->v;
	uint32_t prot, kind;
	uint8_t shared;
	R(r, v->start);
	R(r, v->end);
	R(r, prot);
	R(r, kind);
	R(r, shared);
	sv->name = r_str(r);
	R(r, v->off);
	R(r, v->dev);
	R(r, v->ino);
	R(r, sv->src);
	v->prot = prot;
	v->kind = kind;
	v->shared = shared;
	v->name = sv->name;
	if (v->start >= v->end || v->end > limit || v->start < USER_MIN ||
	    (v->start | v->end) & (PAGE_SIZE - 1) || kind > VMA_ELF ||
	    prot > 7 || sv->src > SRC_SHARED) {
		r->bad = true;
		return;
	}
	if (sv->src == SRC_IMAGE)
		return;
	R(r, sv->fsize);
	R(r, sv->mtime_s);
	R(r, sv->mtime_ns);
	if (!sv->name)
		r->bad = true;
	if (sv->src != SRC_FILE || r->bad)
		return;
	size_t n = (vma_pages(v) + 7) / 8;
	if (n > r->n - r->off) {
		r->bad = true;
		return;
	}
	sv->bitmap = malloc(n);
	if (!sv->bitmap)
		r->bad = true;
	else
		r_bytes(r, sv->bitmap, n);
}

static void r_vmas(struct rbuf *r, struct snap_state *s)
{
	R(r, s->nvmas);
	if (s->nvmas > MAX_VMAS || r->bad) {
		r->bad = true;
		return;
	}
	s->vmas = calloc(s->nvmas + 1, sizeof(*s->vmas));
	if (!s->vmas) {
		r->bad = true;
		return;
	}
	uint64_t prev = 0;
	for (uint32_t i = 0; i < s->nvmas && !r->bad; i++) {
		r_vma(r, &s->vmas[i], s->h.user_size);
		/* Sorted and apart, as lx_mm keeps them. */
		if (s->vmas[i].v.start < prev)
			r->bad = true;
		prev = s->vmas[i].v.end;
	}
}

/* ---- threads ---- */

static void w_threads(struct wbuf *w, const struct snap_state *s)
{
	W(w, s->nthreads);
	for (uint32_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		uint32_t xs = sizeof(t->vs->xsave);
		W(w, t->id);
		W(w, t->tid);
		W(w, t->owner);
		W(w, t->sigmask);
		W(w, t->clear_child_tid);
		W(w, t->robust_list);
		W(w, t->robust_len);
		W(w, t->saved_mask);
		W(w, t->saved_mask_valid);
		W(w, t->altstack_sp);
		W(w, t->altstack_size);
		W(w, t->altstack_flags);
		W(w, t->comm);
		W(w, t->pending);
		W(w, t->info);
		W(w, t->vs->regs);
		W(w, t->vs->sregs);
		W(w, t->vs->tsc);
		W(w, xs);
		w_bytes(w, &t->vs->xsave, xs);
	}
}

static void r_thread(struct rbuf *r, struct snap_thread *t)
{
	uint32_t xs;
	R(r, t->id);
	R(r, t->tid);
	R(r, t->owner);
	R(r, t->sigmask);
	R(r, t->clear_child_tid);
	R(r, t->robust_list);
	R(r, t->robust_len);
	R(r, t->saved_mask);
	R(r, t->saved_mask_valid);
	R(r, t->altstack_sp);
	R(r, t->altstack_size);
	R(r, t->altstack_flags);
	R(r, t->comm);
	R(r, t->pending);
	R(r, t->info);
	t->comm[15] = 0;
	t->vs = calloc(1, sizeof(*t->vs));
	if (!t->vs) {
		r->bad = true;
		return;
	}
	R(r, t->vs->regs);
	R(r, t->vs->sregs);
	R(r, t->vs->tsc);
	R(r, xs);
	if (xs != sizeof(t->vs->xsave) || t->id < 0 || t->id >= SYS_MAX_VCPUS) {
		r->bad = true;
		return;
	}
	r_bytes(r, &t->vs->xsave, xs);
}

static void r_threads(struct rbuf *r, struct snap_state *s)
{
	R(r, s->nthreads);
	if (r->bad || s->nthreads == 0 || s->nthreads > SYS_MAX_VCPUS ||
	    s->nthreads != s->h.nthreads) {
		r->bad = true;
		return;
	}
	s->threads = calloc(s->nthreads, sizeof(*s->threads));
	if (!s->threads) {
		r->bad = true;
		return;
	}
	int owners = 0;
	uint64_t ids = 0;
	for (uint32_t i = 0; i < s->nthreads && !r->bad; i++) {
		r_thread(r, &s->threads[i]);
		if (r->bad)
			break;
		owners += s->threads[i].owner;
		if (ids & (1ULL << s->threads[i].id))
			r->bad = true;
		ids |= 1ULL << s->threads[i].id;
	}
	if (owners != 1)
		r->bad = true;
}

/* ---- fds ---- */

/* Whether host fds a and b are the same file, open the same way. */
static bool same_open(int a, int b)
{
	struct stat sa, sb;
	int fa = fcntl(a, F_GETFL), fb = fcntl(b, F_GETFL);
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && fa >= 0 &&
	       (fa & O_ACCMODE) == (fb & O_ACCMODE) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && sa.st_rdev == sb.st_rdev;
}

/* 0-2 if guest fd gfd (host fd h) is mote's own stdin, stdout or stderr:
 * the same file open the same way, its own number first (stdout and
 * stderr are often one terminal). */
static int stdio_of(int gfd, int h)
{
	if (gfd < 3 && same_open(h, gfd))
		return gfd;
	for (int i = 0; i < 3; i++)
		if (same_open(h, i))
			return i;
	return -1;
}

static void w_fds(struct wbuf *w, struct lx_proc *p)
{
	pthread_mutex_lock(&p->fdt.lock);
	uint32_t n = 0;
	for (int i = 0; i < p->fdt.top; i++)
		n += p->fdt.slot[i].used;
	W(w, n);
	for (int i = 0; i < p->fdt.top; i++) {
		const struct lx_fd *f = &p->fdt.slot[i];
		if (!f->used)
			continue;
		struct stat st = {0};
		fstat(f->host, &st);
		int32_t gfd = i, fdflags = f->fdflags;
		int32_t flags = fcntl(f->host, F_GETFL);
		uint32_t kind = f->kind;
		int64_t off = f->kind == LX_FD_FILE || f->kind == LX_FD_DIR ||
					      f->kind == LX_FD_SNAP
				      ? lseek(f->host, 0, SEEK_CUR)
				      : -1;
		int32_t stdio = f->path ? -1 : stdio_of(i, f->host);
		uint64_t dev = st.st_dev, ino = st.st_ino;
		W(w, gfd);
		W(w, kind);
		W(w, fdflags);
		W(w, flags);
		W(w, off);
		w_str(w, f->path);
		W(w, stdio);
		W(w, dev);
		W(w, ino);
	}
	pthread_mutex_unlock(&p->fdt.lock);
}

static void r_fds(struct rbuf *r, struct snap_state *s)
{
	R(r, s->nfds);
	if (s->nfds > MAX_FDS || r->bad) {
		r->bad = true;
		return;
	}
	s->fds = calloc(s->nfds + 1, sizeof(*s->fds));
	if (!s->fds) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < s->nfds && !r->bad; i++) {
		struct snap_fd *f = &s->fds[i];
		R(r, f->gfd);
		R(r, f->kind);
		R(r, f->fdflags);
		R(r, f->flags);
		R(r, f->offset);
		f->path = r_str(r);
		R(r, f->stdio);
		R(r, f->dev);
		R(r, f->ino);
		if (f->gfd < 0 || f->kind > LX_FD_SNAP || f->stdio > 2 ||
		    (f->path && f->path[0] != '/'))
			r->bad = true;
	}
}

void snap_state_write(struct wbuf *w, struct lx_proc *p,
		      const struct snap_state *s)
{
	w_opts(w, p);
	w_proc(w, p);
	w_vmas(w, s);
	w_threads(w, s);
	w_fds(w, p);
}

bool snap_state_read(struct rbuf *r, struct snap_state *s)
{
	r_opts(r, s);
	if (!r->bad)
		r_proc(r, s);
	if (!r->bad)
		r_vmas(r, s);
	if (!r->bad)
		r_threads(r, s);
	if (!r->bad)
		r_fds(r, s);
	return !r->bad && r->off == r->n;
}

void snap_state_free(struct snap_state *s)
{
	free(s->root);
	for (uint32_t i = 0; s->volumes && i < s->nvolumes; i++) {
		free((char *)s->volumes[i].host);
		free((char *)s->volumes[i].guest);
	}
	free(s->volumes);
	free(s->ports);
	free(s->exe);
	free(s->cwd);
	for (uint32_t i = 0; s->vmas && i < s->nvmas; i++) {
		free(s->vmas[i].name);
		free(s->vmas[i].bitmap);
	}
	free(s->vmas);
	for (uint32_t i = 0; s->threads && i < s->nthreads; i++)
		free(s->threads[i].vs);
	free(s->threads);
	for (uint32_t i = 0; s->fds && i < s->nfds; i++)
		free(s->fds[i].path);
	free(s->fds);
	memset(s, 0, sizeof(*s));
}
