/* The snapshot's own records in its state section, written and read side
 * by side here so that the two cannot drift apart (docs/snapshot.md):
 * the run's options and where the image's pages come from. */
#define _GNU_SOURCE
#include "snap/state.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_FILES   (1U << 20)
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

static void w_opts_body(struct wbuf *w, struct lx_proc *p)
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
	w_str(w, p->task.exe);
	w_str(w, p->fs.cwd);
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
	s->exe = r_str(r);
	s->cwd = r_str(r);
	if (!s->exe || !s->cwd || s->exe[0] != '/' || s->cwd[0] != '/')
		r->bad = true;
}

/* ---- the image ---- */

static uint64_t pages_of(const struct snap_file *f)
{
	return (f->end - f->start) / PAGE_SIZE;
}

void snap_image_write(struct wbuf *w, const struct snap_state *s)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_IMAGE);
	W(w, s->pt_pool);
	W(w, s->nfiles);
	for (uint32_t i = 0; i < s->nfiles; i++) {
		const struct snap_file *f = &s->files[i];
		W(w, f->start);
		W(w, f->end);
		W(w, f->src);
		W(w, f->fsize);
		W(w, f->mtime_s);
		W(w, f->mtime_ns);
		if (f->src == SRC_FILE)
			w_bytes(w, f->bitmap, (pages_of(f) + 7) / 8);
	}
	w_rec_end(w, mark);
}

static void r_file(struct rbuf *r, struct snap_file *f, uint64_t prev,
		   uint64_t limit)
{
	R(r, f->start);
	R(r, f->end);
	R(r, f->src);
	R(r, f->fsize);
	R(r, f->mtime_s);
	R(r, f->mtime_ns);
	if (r->bad || f->start >= f->end || f->end > limit ||
	    f->start < USER_MIN || f->start < prev ||
	    (f->start | f->end) & (PAGE_SIZE - 1) ||
	    (f->src != SRC_FILE && f->src != SRC_SHARED)) {
		r->bad = true;
		return;
	}
	if (f->src != SRC_FILE)
		return;
	size_t n = (pages_of(f) + 7) / 8;
	if (n > r->n - r->off) {
		r->bad = true;
		return;
	}
	f->bitmap = malloc(n);
	if (!f->bitmap)
		r->bad = true;
	else
		r_bytes(r, f->bitmap, n);
}

static void r_image(struct rbuf *r, struct snap_state *s)
{
	R(r, s->pt_pool);
	R(r, s->nfiles);
	if (r->bad || s->nfiles > MAX_FILES) {
		r->bad = true;
		return;
	}
	s->files = calloc(s->nfiles + 1, sizeof(*s->files));
	if (!s->files) {
		r->bad = true;
		return;
	}
	uint64_t prev = 0;
	for (uint32_t i = 0; i < s->nfiles && !r->bad; i++) {
		r_file(r, &s->files[i], prev, s->h.user_size);
		prev = s->files[i].end;
	}
}

/* ---- pipes and the tree ---- */

void snap_pipes_write(struct wbuf *w, struct lx_proc *p)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_PIPES);
	lx_fd_pipes_save(p, w);
	w_rec_end(w, mark);
}

/* One entry's messages: lengths, then the bytes, in at most `cap`. */
static void r_msgs(struct rbuf *r, struct snap_pipe *pp)
{
	if (pp->nmsg > (r->n - r->off) / 4 || (!pp->has_data && pp->nmsg) ||
	    (!pp->sock && pp->nmsg > 1)) {
		r->bad = true;
		return;
	}
	pp->lens = calloc(pp->nmsg + 1, sizeof(uint32_t));
	if (!pp->lens) {
		r->bad = true;
		return;
	}
	uint64_t total = 0;
	for (uint32_t m = 0; m < pp->nmsg && !r->bad; m++) {
		R(r, pp->lens[m]);
		total += pp->lens[m];
	}
	if (r->bad || total > pp->cap || total > r->n - r->off) {
		r->bad = true;
		return;
	}
	pp->len = (uint32_t)total;
	pp->data = total ? malloc(total) : NULL;
	if (total && !pp->data)
		r->bad = true;
	else
		r_bytes(r, pp->data, total);
}

/* A count of at most max entries of at least `each` bytes of what is
 * left, into *n, and room for them (size bytes each): NULL (r->bad, *n 0)
 * if the count cannot be right. */
static void *r_count(struct rbuf *r, uint32_t *n, uint32_t max, size_t each,
		     size_t size)
{
	R(r, *n);
	void *v = NULL;
	if (!r->bad && *n <= max && *n <= (r->n - r->off) / each)
		v = calloc(*n + 1, size);
	if (!v) {
		r->bad = true;
		*n = 0;
	}
	return v;
}

static void r_pipes(struct rbuf *r, struct snap_state *s)
{
	/* 23 bytes each at least. */
	s->pipes = r_count(r, &s->npipes, SNAP_PIPE_MAX, 23, sizeof(*s->pipes));
	for (uint32_t i = 0; i < s->npipes && !r->bad; i++) {
		struct snap_pipe *pp = &s->pipes[i];
		R(r, pp->ino);
		R(r, pp->sock);
		R(r, pp->end);
		R(r, pp->type);
		R(r, pp->cap);
		R(r, pp->has_data);
		R(r, pp->nmsg);
		if (r->bad || pp->sock > 1 || pp->end > pp->sock ||
		    pp->has_data > 1 || pp->cap > LX_PIPE_CAP_MAX ||
		    (pp->sock ? pp->type != SOCK_STREAM &&
					pp->type != SOCK_DGRAM &&
					pp->type != SOCK_SEQPACKET
			      : pp->type != 0)) {
			r->bad = true;
			break;
		}
		for (uint32_t j = 0; j < i; j++)
			r->bad |= s->pipes[j].ino == pp->ino &&
				  s->pipes[j].sock == pp->sock &&
				  s->pipes[j].end == pp->end;
		if (!r->bad)
			r_msgs(r, pp);
	}
}

/* The shared mappings of the host's /proc/self/maps that lie in the
 * host range of p's shared anonymous VMA v. */
static void shared_in(struct wbuf *w, struct lx_proc *p, const struct lx_vma *v,
		      FILE *maps, uint32_t *n)
{
	uint64_t len = v->end - v->start;
	uint8_t *h = gm_range(&p->vm, v->start, len);
	if (!h)
		return;
	uint64_t hs = (uint64_t)(uintptr_t)h, he = hs + len;
	char line[512];
	rewind(maps);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long lo, hi, off, ino;
		char perms[8];
		unsigned maj, min;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &lo, &hi,
			   perms, &off, &maj, &min, &ino) != 7 ||
		    perms[3] != 's' || !ino)
			continue;
		uint64_t a = MAX(lo, hs), b = MIN(hi, he);
		if (a >= b)
			continue;
		struct snap_shm e = {v->start + (a - hs), v->start + (b - hs),
				     ino, off + (a - lo)};
		W(w, e);
		(*n)++;
	}
}

void snap_shared_write(struct wbuf *w, struct lx_proc *p)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_SHARED);
	uint32_t n = 0;
	size_t at = w->n;
	W(w, n);
	FILE *maps = fopen("/proc/self/maps", "re");
	for (int i = 0; maps && i < p->mm.nvmas; i++) {
		const struct lx_vma *v = &p->mm.vmas[i];
		if (v->kind == VMA_ANON && v->shared)
			shared_in(w, p, v, maps, &n);
	}
	if (maps)
		fclose(maps);
	if (!w->oom && w->d)
		memcpy(w->d + at, &n, sizeof(n));
	w_rec_end(w, mark);
}

static void r_shared(struct rbuf *r, struct snap_state *s)
{
	s->shm = r_count(r, &s->nshm, UINT32_MAX, sizeof(struct snap_shm),
			 sizeof(*s->shm));
	r_bytes(r, s->shm, s->nshm * sizeof(*s->shm));
	uint64_t prev = 0;
	for (uint32_t i = 0; i < s->nshm && !r->bad; i++) {
		const struct snap_shm *e = &s->shm[i];
		r->bad |= e->start < USER_MIN || e->start < prev ||
			  e->start >= e->end || e->end > s->h.user_size ||
			  ((e->start | e->end | e->off) & (PAGE_SIZE - 1)) ||
			  e->off > (1ULL << 46);
		prev = e->end;
	}
}

void snap_tree_write(struct wbuf *w, const struct snap_proc *procs, uint32_t n)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_TREE);
	W(w, n);
	w_bytes(w, procs, n * sizeof(*procs));
	w_rec_end(w, mark);
}

static void r_tree(struct rbuf *r, struct snap_state *s)
{
	s->procs = r_count(r, &s->nprocs, SNAP_PROCS_MAX,
			   sizeof(struct snap_proc), sizeof(*s->procs));
	r->bad |= s->nprocs < 1;
	r_bytes(r, s->procs, s->nprocs * sizeof(*s->procs));
	for (uint32_t i = 0; i < s->nprocs && !r->bad; i++) {
		const struct snap_proc *q = &s->procs[i];
		r->bad |= (q->base & (PAGE_SIZE - 1)) || (i == 0) != !q->base ||
			  q->pid <= 0 || q->ppid < 0 || q->pgid < 0 ||
			  q->sid < 0;
		for (uint32_t j = 0; j < i; j++)
			r->bad |= s->procs[j].pid == q->pid ||
				  s->procs[j].base == q->base;
	}
}

/* ---- the section ---- */

void snap_opts_write(struct wbuf *w, struct lx_proc *p)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_OPTS);
	w_opts_body(w, p);
	w_rec_end(w, mark);
}

bool snap_state_read(struct snap_state *s)
{
	struct rbuf r = {.d = s->state, .n = s->state_len}, body;
	if (!r_rec(&r, SNAP_TAG_OPTS, &body))
		return false;
	r_opts(&body, s);
	if (!r_done(&body) || !r_rec(&r, SNAP_TAG_IMAGE, &body))
		return false;
	r_image(&body, s);
	if (!r_done(&body) || !r_rec(&r, SNAP_TAG_PIPES, &body))
		return false;
	r_pipes(&body, s);
	if (!r_done(&body) || !r_rec(&r, SNAP_TAG_SHARED, &body))
		return false;
	r_shared(&body, s);
	if (!r_done(&body))
		return false;
	/* A tree's first process names the others. */
	if (r_rec_peek(&r) == SNAP_TAG_TREE) {
		if (!r_rec(&r, SNAP_TAG_TREE, &body))
			return false;
		r_tree(&body, s);
		if (!r_done(&body))
			return false;
	}
	s->lx_off = r.off;
	return true;
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
	for (uint32_t i = 0; s->files && i < s->nfiles; i++)
		free(s->files[i].bitmap);
	free(s->files);
	for (uint32_t i = 0; s->pipes && i < s->npipes; i++) {
		free(s->pipes[i].data);
		free(s->pipes[i].lens);
	}
	free(s->pipes);
	free(s->shm);
	free(s->procs);
	free(s->state);
	memset(s, 0, sizeof(*s));
}
