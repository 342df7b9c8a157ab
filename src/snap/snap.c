/* Writing a snapshot of a held process (docs/snapshot.md).
 *
 * The file is a header page, the monitor's guest-visible state as a byte
 * stream (vCPUs, signals, the address space's layout, the fd table), and
 * the guest memory image at mem_off + guest-physical address. The image is
 * sparse: a page is written only if it is non-zero and, inside a private
 * file mapping, differs from the file at that offset; restore maps the
 * image copy-on-write and the unchanged file pages from their files, so
 * every VM restored from one file shares each page it has not written.
 *
 * The caller holds the run (lx_hold), so no vCPU runs and no syscall is
 * half done; guest memory is read here as a whole range the monitor owns,
 * bounded by its own VMAs, never through a guest-supplied pointer.
 *
 * For migration the same file goes as records into a pipe (snap/snap.h),
 * and in rounds before that while the guest runs: each round, and the
 * last pass, only the pages written since the one before (vm/dirty.h),
 * with zeros for those that were sent and are zero or unmapped now.
 */
#define _GNU_SOURCE
#include "snap/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/subsys.h"
#include "snap/state.h"
#include "snap/wire.h"
#include "util.h"
#include "vm/dirty.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif

/* Consecutive pages [start, start + len). */
struct page_run {
	uint64_t start, len;
};

struct save {
	struct lx_proc *p;
	int fd;
	bool stream; /* fd takes records (snap/snap.h), not pwrite */
	/* The pages to look at, or NULL for all: a migration's round or
	 * last pass sends only what changed since the one before. A page's
	 * bit is cleared as it is seen; what is left lies outside every VMA
	 * now and goes as zeros. */
	uint64_t *only;
	bool round; /* a round: no file bitmaps are kept */
	uint64_t mem_off;
	uint64_t pages;	      /* written to the image */
	uint64_t zeros;	      /* sent as zeros (stream only) */
	struct page_run run;  /* pages waiting to be written */
	struct page_run zero; /* pages waiting to go as zeros */
	/* A lazy pass (post-copy): the user pages to send later, one bit
	 * each, instead of their data now; lrun waits to go as LAZY. */
	uint64_t *lazy;
	struct page_run lrun;
	uint64_t nlazy;
	/* A process of a tree (snap/tree.c): its part starts at base, the
	 * file is not cut to it, and it ends at end; the first process's
	 * part lists them all (procs). */
	bool part;
	uint64_t base, end, size;
	const struct snap_proc *procs;
	uint32_t nprocs;
	char *err;
	size_t errlen;
};

static int fail(struct save *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the memory image ---- */

/* Writes len bytes to the stream, waiting at most STREAM_MS for room
 * each time: a reader that stops reading must not hold the VM. */
#define STREAM_MS 30000
static int put(struct save *s, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = write(s->fd, b, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {s->fd, POLLOUT, 0};
			struct timespec ts = {STREAM_MS / 1000, 0};
			int pr = ppoll(&pfd, 1, &ts, NULL);
			if (pr == 1 || (pr < 0 && errno == EINTR))
				continue;
			errno = ETIMEDOUT;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(s, "cannot send the snapshot: %s",
				    n < 0 ? strerror(errno) : "no progress");
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int record(struct save *s, uint32_t kind, uint64_t off, uint64_t len,
		  const void *data)
{
	while (true) {
		uint64_t n = MIN(len, SNAP_REC_MAX);
		struct snap_rec r = {
			.kind = kind, .len = (uint32_t)n, .off = off};
		if (put(s, &r, sizeof(r)) < 0 || (data && put(s, data, n) < 0))
			return -1;
		off += n;
		len -= n;
		if (data)
			data = (const uint8_t *)data + n;
		if (!len)
			return 0;
	}
}

static int write_all(struct save *s, const void *buf, size_t len, off_t off)
{
	if (s->stream)
		return record(s, SNAP_REC_DATA, (uint64_t)off, len, buf);
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = pwrite(s->fd, b, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(s, "cannot write the snapshot: %s",
				    strerror(n < 0 ? errno : ENOSPC));
		b += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* The guest's pages [gpa, gpa + len), or NULL with the error set: the
 * VMA list and the run of pages lie in guest memory, or mote is wrong. */
static const uint8_t *image(struct save *s, uint64_t gpa, uint64_t len)
{
	const uint8_t *h = gm_image(&s->p->vm, gpa, len);
	if (!h)
		fail(s, "internal error: %#llx+%#llx is not guest memory",
		     (unsigned long long)gpa, (unsigned long long)len);
	return h;
}

static int flush_run(struct save *s)
{
	if (!s->run.len)
		return 0;
	const uint8_t *run = image(s, s->run.start, s->run.len);
	off_t off = (off_t)(s->mem_off + s->run.start);
	if (!run || write_all(s, run, s->run.len, off) < 0)
		return -1;
	s->pages += s->run.len / PAGE_SIZE;
	s->run.len = 0;
	return 0;
}

/* Adds the page at gpa to run r (of at most max bytes), or sends r with
 * flush and starts it anew at gpa. */
static int extend(struct save *s, struct page_run *r, uint64_t gpa,
		  uint64_t max, int (*flush)(struct save *))
{
	if (r->len && r->start + r->len == gpa && r->len < max) {
		r->len += PAGE_SIZE;
		return 0;
	}
	if (flush(s) < 0)
		return -1;
	r->start = gpa;
	r->len = PAGE_SIZE;
	return 0;
}

static int flush_lazy(struct save *s)
{
	if (!s->lrun.len)
		return 0;
	int r = record(s, SNAP_REC_LAZY, s->mem_off + s->lrun.start,
		       s->lrun.len, NULL);
	s->nlazy += s->lrun.len / PAGE_SIZE;
	s->lrun.len = 0;
	return r;
}

/* Adds the page at gpa to the image; in a lazy pass a user page is only
 * named now, and sent by snap_postcopy. */
static int keep(struct save *s, uint64_t gpa)
{
	if (s->lazy && gpa < s->p->vm.user_size) {
		bit_put(s->lazy, gpa / PAGE_SIZE, true);
		return extend(s, &s->lrun, gpa, SNAP_REC_MAX, flush_lazy);
	}
	return extend(s, &s->run, gpa, 64ULL << 20, flush_run);
}

static int flush_zeros(struct save *s)
{
	if (!s->zero.len)
		return 0;
	int r = record(s, SNAP_REC_ZERO, s->mem_off + s->zero.start,
		       s->zero.len, NULL);
	s->zeros += s->zero.len / PAGE_SIZE;
	s->zero.len = 0;
	return r;
}

/* The page at gpa is not in the image: if the receiver may hold an older
 * copy of it (a filtered pass), it is sent as zeros. */
static int drop(struct save *s, uint64_t gpa)
{
	return s->only ? extend(s, &s->zero, gpa, UINT64_MAX, flush_zeros) : 0;
}

/* Whether the page at gpa is to be looked at, and it is seen now. */
static bool take(struct save *s, uint64_t gpa)
{
	if (!s->only)
		return true;
	uint64_t pg = gpa / PAGE_SIZE;
	bool t = bit_get(s->only, pg);
	bit_put(s->only, pg, false);
	return t;
}

/* Which pages of [start, end) the host has ever had (mincore), for
 * anonymous memory: an untouched page is zero, and reading it would only
 * fault in the zero page. Not for a VM on a snapshot's image, whose pages
 * are the file's until written. NULL: ask about every page. */
static uint8_t *touched(struct save *s, uint64_t start, uint64_t end)
{
	if (s->p->vm.from_file)
		return NULL;
	size_t n = (end - start) / PAGE_SIZE;
	uint8_t *v = malloc(n ? n : 1);
	/* gm_image, not gm_range: this only reads, and is no write for a
	 * migration's dirty tracking. */
	void *h = (void *)gm_image(&s->p->vm, start, end - start);
	if (v && (!h || mincore(h, end - start, v) < 0)) {
		free(v);
		v = NULL;
	}
	return v;
}

/* Every non-zero page of [start, end). */
static int save_range(struct save *s, uint64_t start, uint64_t end, bool anon)
{
	const uint8_t *h = image(s, start, end - start);
	if (!h)
		return -1;
	uint8_t *vec = anon ? touched(s, start, end) : NULL;
	int err = 0;
	/* A lazy pass does not read the pages the host has had: that would
	 * lengthen post-copy's pause; snap_postcopy finds the zero ones. */
	bool look = !(vec && s->lazy && end <= s->p->vm.user_size);
	for (uint64_t a = start; a < end && !err; a += PAGE_SIZE) {
		if (!take(s, a))
			continue;
		if (vec && !(vec[(a - start) / PAGE_SIZE] & 1))
			err = drop(s, a);
		else if (!look || !page_is_zero(h + (a - start)))
			err = keep(s, a);
		else
			err = drop(s, a);
	}
	free(vec);
	return err;
}

/* The bytes of pg from `from` on are zero. */
static bool zero_tail(const uint8_t *pg, size_t from)
{
	for (size_t i = from; i < PAGE_SIZE; i++)
		if (pg[i])
			return false;
	return true;
}

/* Whether guest page g is what the file holds at that place: `got` bytes
 * of the file were read into `file` (fewer at its end, zeros after). */
static bool same_as_file(const uint8_t *g, const uint8_t *file, size_t got)
{
	if (got >= PAGE_SIZE)
		return !memcmp(g, file, PAGE_SIZE);
	return !memcmp(g, file, got) && zero_tail(g, got);
}

/* A private file mapping: the pages that differ from the file go to the
 * image and are marked in the bitmap restore reads. */
static int save_file_vma(struct save *s, const struct lx_vma *v,
			 struct snap_file *sv, int fd)
{
	const uint64_t chunk = 64 * PAGE_SIZE;
	const uint8_t *h = image(s, v->start, v->end - v->start);
	if (!h)
		return -1;
	uint8_t *buf = malloc(chunk);
	if (!buf)
		return fail(s, "out of memory");
	int err = 0;
	for (uint64_t a = v->start; a < v->end && !err; a += chunk) {
		uint64_t len = MIN(chunk, v->end - a);
		uint64_t foff = v->off + (a - v->start);
		ssize_t got =
			foff < sv->fsize ? pread(fd, buf, len, (off_t)foff) : 0;
		if (got < 0)
			got = 0;
		for (uint64_t o = 0; o < len && !err; o += PAGE_SIZE) {
			uint64_t pg = (a + o - v->start) / PAGE_SIZE;
			const uint8_t *g = h + (a + o - v->start);
			bool look = take(s, a + o);
			if (s->round && !look)
				continue;
			/* A page of a file mapping wholly past the end of
			 * the file is not read (the host would raise SIGBUS):
			 * it comes back as a zero page. In a program's
			 * segment such a page is its bss, anonymous memory. */
			bool past = foff + o >= sv->fsize;
			if (!past && (uint64_t)got > o &&
			    same_as_file(g, buf + o, (size_t)got - o))
				continue; /* restore maps the file's page */
			sv->bitmap[pg / 8] |= (uint8_t)(1 << (pg % 8));
			if (!look)
				continue; /* the receiver has it */
			if ((!past || v->kind == VMA_ELF) && !page_is_zero(g))
				err = keep(s, a + o);
			else
				err = drop(s, a + o);
		}
	}
	free(buf);
	return err;
}

/* Decides where a VMA's pages come from at restore and writes those that
 * the image must hold. A file mapping whose file can be reopened is added
 * to s->files. */
static int save_vma(struct save *s, const struct lx_vma *v,
		    struct snap_state *st)
{
	bool filed = (v->kind == VMA_FILE || v->kind == VMA_ELF) && v->name &&
		     v->name[0] == '/';
	int fd = -1;
	struct stat sb;
	if (filed) {
		fd = lx_fs_reopen(s->p, v->name, O_RDONLY);
		/* Only the very file that was mapped: one replaced since
		 * (or gone) leaves its pages to the image. */
		if (fd >= 0 && (fstat(fd, &sb) < 0 || sb.st_ino != v->ino ||
				sb.st_dev != v->dev || !S_ISREG(sb.st_mode))) {
			close(fd);
			fd = -1;
		}
	}
	if (filed && fd < 0 && s->only && !s->round) {
		/* A file mapping whose file is gone or replaced: its pages
		 * that were the file's were never sent, so all of them go. */
		for (uint64_t pg = v->start / PAGE_SIZE;
		     pg < v->end / PAGE_SIZE; pg++)
			bit_put(s->only, pg, true);
		return save_range(s, v->start, v->end, false);
	}
	if (fd < 0)
		return save_range(s, v->start, v->end,
				  v->kind != VMA_FILE && v->kind != VMA_ELF);
	struct snap_file *sv = &st->files[st->nfiles++];
	sv->start = v->start;
	sv->end = v->end;
	sv->fsize = (uint64_t)sb.st_size;
	sv->mtime_s = sb.st_mtim.tv_sec;
	sv->mtime_ns = sb.st_mtim.tv_nsec;
	int err = 0;
	if (v->shared) {
		sv->src = SRC_SHARED; /* the file holds every page */
	} else {
		sv->src = SRC_FILE;
		sv->bitmap = calloc((v->end - v->start) / PAGE_SIZE / 8 + 1, 1);
		err = sv->bitmap ? save_file_vma(s, v, sv, fd)
				 : fail(s, "out of memory");
	}
	close(fd);
	return err;
}

/* The pages left to look at lie outside every VMA now (unmapped since
 * they were sent): zeros. */
static int gone(struct save *s)
{
	uint64_t words = vm_dirty_words(&s->p->vm);
	for (uint64_t w = 0; w < words; w++)
		for (uint64_t b = s->only[w]; b; b &= b - 1) {
			uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(b);
			if (drop(s, pg * PAGE_SIZE) < 0)
				return -1;
		}
	return 0;
}

static int save_memory(struct save *s, struct snap_state *st)
{
	struct lx_mm *mm = &s->p->mm;
	st->files = calloc(mm->nvmas + 1, sizeof(*st->files));
	if (!st->files)
		return fail(s, "out of memory");
	for (int i = 0; i < mm->nvmas; i++)
		if (save_vma(s, &mm->vmas[i], st) < 0)
			return -1;
	if (s->only && gone(s) < 0)
		return -1;
	if (s->round)
		return flush_run(s) ?: flush_zeros(s);
	if (flush_lazy(s) < 0)
		return -1;
	/* The system region up to the last page-table page in use: GDT, IDT,
	 * shim, the vCPUs' TSS pages and stacks, the page tables. Whole: its
	 * writes are not tracked. */
	uint64_t sys = s->p->vm.user_size, *only = s->only;
	st->pt_pool = s->p->vm.pt.pool;
	s->only = NULL;
	int err = save_range(s, sys, sys + s->p->vm.pt.pool, false);
	s->only = only;
	return err ?: flush_run(s) ?: flush_zeros(s);
}

/* ---- the file ---- */

void snap_cpu_words(const struct kvm_cpuid2 *cp, struct snap_cpu *c)
{
	for (uint32_t i = 0; cp && i < cp->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cp->entries[i];
		if (e->function == 1) {
			c->l1_ecx = e->ecx;
			c->l1_edx = e->edx;
		} else if (e->function == 7 && e->index == 0) {
			c->l7_ebx = e->ebx;
			c->l7_ecx = e->ecx;
			c->l7_edx = e->edx;
		} else if (e->function == 0x80000001) {
			c->e1_ecx = e->ecx;
			c->e1_edx = e->edx;
		}
	}
}

/* A file is truncated first: the holes of the image must read as zeros.
 * A stream says how large the file may grow. */
static int begin_file(struct save *s, const struct snap_header *h)
{
	uint64_t end = h->mem_off + h->mem_len;
	if (s->stream)
		return record(s, SNAP_REC_BOUND, end + SNAP_STATE_MAX, 0, NULL);
	struct stat sb;
	if (s->part && fstat(s->fd, &sb) == 0 && (uint64_t)sb.st_size >= end)
		return 0;
	if ((!s->part && ftruncate(s->fd, 0) < 0) ||
	    ftruncate(s->fd, (off_t)end) < 0)
		return fail(s, "cannot size the snapshot file: %s",
			    strerror(errno));
	return 0;
}

/* s->only: the pages written since the last collection. */
static int collect(struct save *s)
{
	struct vm *vm = &s->p->vm;
	s->only = calloc(vm_dirty_words(vm), sizeof(uint64_t));
	int err = s->only ? vm_dirty_collect(vm, s->only) : -ENOMEM;
	return err ? fail(s, "cannot read the dirty pages: %s", strerror(-err))
		   : 0;
}

/* A stream after rounds of pre-copy sends only the pages changed since
 * the last round, and ends the tracking. With mm's lock held. */
static int stream_only(struct save *s)
{
	if (!s->stream || !vm_dirty_on(&s->p->vm))
		return 0;
	int err = collect(s);
	vm_dirty_stop(&s->p->vm);
	return err;
}

static void fill_cpu(const struct vm *vm, struct snap_cpu *c)
{
	c->xcr0 = vm->xcr0;
	c->xsave_size = sizeof(struct kvm_xsave);
	snap_cpu_words(vm->cpuid, c);
}

static int save_all(struct save *s, struct snap_state *st,
		    struct lx_thread *self, long self_ret)
{
	struct lx_proc *p = s->p;
	struct snap_header *h = &st->h;
	memcpy(h->magic, SNAP_MAGIC, 8);
	h->format = SNAP_FORMAT;
	snprintf(h->version, sizeof(h->version), "%s", MOTE_VERSION);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	h->created = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	h->user_size = p->vm.user_size;
	h->sys_size = p->vm.sys_size;
	h->mem_off = s->base + SNAP_HDR_SIZE;
	h->mem_len = p->vm.user_size + p->vm.sys_size;
	fill_cpu(&p->vm, &h->cpu);
	s->mem_off = h->mem_off;
	if (begin_file(s, h) < 0)
		return -1;
	pthread_mutex_lock(&p->mm.lock);
	int err = stream_only(s) ?: save_memory(s, st);
	pthread_mutex_unlock(&p->mm.lock);
	if (err)
		return -1;
	h->mem_pages = s->pages;
	struct wbuf w = {0};
	struct lx_save ls = {.self = self,
			     .self_ret = self_ret,
			     .err = s->err,
			     .errlen = s->errlen};
	snap_opts_write(&w, p);
	snap_image_write(&w, st);
	snap_pipes_write(&w, p);
	snap_shared_write(&w, p);
	if (s->nprocs)
		snap_tree_write(&w, s->procs, s->nprocs);
	if (lx_state_save(p, &ls, &w) < 0) {
		free(w.d);
		return -1;
	}
	if (w.oom) {
		free(w.d);
		return fail(s, "out of memory");
	}
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		h->nthreads += p->threads[i] && p->threads[i]->live &&
			       p->threads[i]->running;
	h->state_off = h->mem_off + h->mem_len;
	h->state_len = w.n;
	h->state_crc = snap_crc32(0, w.d, w.n);
	err = write_all(s, w.d, w.n, (off_t)h->state_off);
	free(w.d);
	if (err)
		return -1;
	/* The header last: a snapshot cut short has none. */
	uint8_t page[SNAP_HDR_SIZE] = {0};
	h->header_crc = 0;
	h->header_crc = snap_crc32(0, h, sizeof(*h));
	memcpy(page, h, sizeof(*h));
	if (write_all(s, page, sizeof(page), (off_t)s->base) < 0)
		return -1;
	s->end = h->state_off + h->state_len;
	/* A tree's parts but its first end without a size: the first,
	 * written last, gives the whole file's. */
	if (s->stream && s->part && !s->nprocs)
		return 0;
	if (s->stream)
		return record(s, SNAP_REC_SIZE, MAX(s->end, s->size), 0, NULL);
	if (fdatasync(s->fd) < 0 && errno != EINVAL)
		return fail(s, "cannot write the snapshot: %s",
			    strerror(errno));
	return 0;
}

static void save_free(struct save *s, struct snap_state *st)
{
	for (uint32_t i = 0; st->files && i < st->nfiles; i++)
		free(st->files[i].bitmap);
	free(st->files);
	free(s->only);
	free(s->lazy);
}

int snap_save_part(struct lx_proc *p, int fd, const struct snap_part *part,
		   struct lx_thread *self, long self_ret, uint64_t *end,
		   char *err, size_t errlen)
{
	struct save s = {.p = p,
			 .fd = fd,
			 .stream = part->stream,
			 .part = true,
			 .base = part->base,
			 .size = part->size,
			 .procs = part->procs,
			 .nprocs = part->nprocs,
			 .err = err,
			 .errlen = errlen};
	struct snap_state st = {0};
	int r = save_all(&s, &st, self, self_ret);
	save_free(&s, &st);
	*end = s.end;
	return r;
}

int snap_stream_bound(int fd, uint64_t bound, char *err, size_t errlen)
{
	struct save s = {
		.fd = fd, .stream = true, .err = err, .errlen = errlen};
	return record(&s, SNAP_REC_BOUND, bound, 0, NULL);
}

int snap_save(struct lx_proc *p, int fd, struct lx_thread *self, long self_ret,
	      char *err, size_t errlen)
{
	if (lx_tree_count(p->task.tree) > 1)
		return snap_tree_save(p, fd, false, self, self_ret, err,
				      errlen);
	struct save s = {.p = p, .fd = fd, .err = err, .errlen = errlen};
	struct snap_state st = {0};
	int r = save_all(&s, &st, self, self_ret);
	save_free(&s, &st);
	if (r < 0)
		ftruncate(fd, 0);
	return r;
}

/* A lazy pass's pages, one bit per user page, until snap_postcopy has
 * sent them all or the migration is given up. One VM per monitor. */
static uint64_t *lazy_set;

void snap_lazy_drop(void)
{
	free(lazy_set);
	lazy_set = NULL;
}

int snap_save_stream(struct lx_proc *p, int fd, bool lazy,
		     struct snap_sent *sent, char *err, size_t errlen)
{
	struct save s = {
		.p = p, .fd = fd, .stream = true, .err = err, .errlen = errlen};
	struct snap_state st = {0};
	snap_lazy_drop();
	int r = 0;
	int procs = lx_tree_count(p->task.tree);
	if (procs > 1 && (lazy || vm_dirty_on(&p->vm)))
		return fail(
			&s,
			"the VM has %d processes; they move by stop-and-copy "
			"only (no --postcopy, no pre-copy rounds)",
			procs);
	if (procs > 1)
		return snap_tree_save(p, fd, true, NULL, 0, err, errlen);
	if (lazy &&
	    !(s.lazy = calloc(vm_dirty_words(&p->vm), sizeof(uint64_t))))
		r = fail(&s, "out of memory");
	r = r ?: save_all(&s, &st, NULL, 0);
	if (!r && lazy) {
		lazy_set = s.lazy;
		s.lazy = NULL;
	}
	save_free(&s, &st);
	sent->pages = s.pages;
	sent->zeros = s.zeros;
	sent->lazy = s.nlazy;
	return r;
}

/* Sends the lazy pages of [from, to) (page numbers), and forgets them:
 * in runs of one kind, the zero pages as ZERO records (the lazy pass did
 * not look at them), the others as DATA. */
static int send_lazy(struct save *s, uint64_t from, uint64_t to, uint64_t *sent)
{
	for (uint64_t pg = from; pg < to;) {
		if (!bit_get(lazy_set, pg)) {
			pg++;
			continue;
		}
		uint64_t max = MIN(to - pg, SNAP_REC_MAX / PAGE_SIZE);
		const uint8_t *h = image(s, pg * PAGE_SIZE, max * PAGE_SIZE);
		if (!h)
			return -1;
		bool zero = page_is_zero(h);
		uint64_t n = 0;
		while (n < max && bit_get(lazy_set, pg + n) &&
		       page_is_zero(h + n * PAGE_SIZE) == zero)
			bit_put(lazy_set, pg + n++, false);
		if (record(s, zero ? SNAP_REC_ZERO : SNAP_REC_DATA,
			   s->mem_off + pg * PAGE_SIZE, n * PAGE_SIZE,
			   zero ? NULL : h) < 0)
			return -1;
		if (zero)
			s->zeros += n;
		else
			*sent += n;
		pg += n;
	}
	return 0;
}

/* The receiver's requests waiting on fd, each served at once: 0, or -1
 * when the client hung up or failed. */
#define ASKS_BUF 256 /* 16 requests */
static int serve_asks(struct save *s, uint8_t *buf, size_t *have,
		      uint64_t pages, struct snap_sent *sent)
{
	for (;;) {
		ssize_t n = recv(s->fd, buf + *have, ASKS_BUF - *have,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return fail(s,
				    "mote migrate hung up during post-copy%s%s",
				    n ? ": " : "", n ? strerror(errno) : "");
		*have += (size_t)n;
		size_t used = 0;
		for (; *have - used >= 16; used += 16) {
			uint64_t v[2];
			memcpy(v, buf + used, 16);
			/* In the file's offsets; what lies outside the user
			 * pages is no page of this pass. */
			if (v[0] < s->mem_off || v[1] > (1ULL << 40))
				continue;
			uint64_t from = (v[0] - s->mem_off) / PAGE_SIZE;
			uint64_t to = from + (v[1] + PAGE_SIZE - 1) / PAGE_SIZE;
			uint64_t got = 0;
			if (send_lazy(s, from, MIN(to, pages), &got) < 0)
				return -1;
			sent->asked += got;
			sent->pages += got;
		}
		memmove(buf, buf + used, *have - used);
		*have -= used;
	}
}

/* The background's runs: a request waits for the one under way, here, in
 * mote migrate (which forwards a record whole) and at the receiver (which
 * stores a frame whole). Against runs of 512 KiB (a record's most), runs
 * of 128 KiB halved the median wait (3.8 to 1.8 ms, on a veth). */
#define POSTCOPY_RUN (128 << 10)

int snap_postcopy(struct lx_proc *p, int fd, struct snap_sent *sent, char *err,
		  size_t errlen)
{
	struct save s = {.p = p,
			 .fd = fd,
			 .stream = true,
			 .mem_off = SNAP_HDR_SIZE,
			 .err = err,
			 .errlen = errlen};
	if (!lazy_set)
		return fail(&s, "no lazy snapshot to follow (send a snapshot "
				"with \"lazy\" first)");
	uint64_t pages = p->vm.user_size / PAGE_SIZE, words = pages / 64;
	uint8_t buf[ASKS_BUF];
	size_t have = 0;
	int r = 0;
	/* The background goes up through memory, in runs of a record; a
	 * request goes before the next run. */
	for (uint64_t w = 0; !r;) {
		r = serve_asks(&s, buf, &have, pages, sent);
		while (!r && w < words && !lazy_set[w])
			w++;
		if (r || w == words)
			break;
		uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(lazy_set[w]);
		r = send_lazy(&s, pg, MIN(pg + POSTCOPY_RUN / PAGE_SIZE, pages),
			      &sent->pages);
	}
	sent->zeros = s.zeros;
	if (!r)
		r = record(&s, SNAP_REC_DONE, sent->pages * PAGE_SIZE, 0, NULL);
	if (!r)
		snap_lazy_drop();
	return r;
}

int snap_round(struct lx_proc *p, int fd, struct snap_sent *sent, char *err,
	       size_t errlen)
{
	struct save s = {.p = p,
			 .fd = fd,
			 .stream = true,
			 .round = true,
			 .mem_off = SNAP_HDR_SIZE,
			 .err = err,
			 .errlen = errlen};
	struct snap_state st = {0};
	struct vm *vm = &p->vm;
	uint64_t end = SNAP_HDR_SIZE + vm->user_size + vm->sys_size;
	int r = record(&s, SNAP_REC_BOUND, end + SNAP_STATE_MAX, 0, NULL);
	pthread_mutex_lock(&p->mm.lock);
	/* The first round sends every page and starts the tracking; each
	 * one after sends what changed since the one before. */
	if (!r && !vm_dirty_on(vm)) {
		int e = vm_dirty_start(vm);
		if (e)
			r = fail(&s, "KVM cannot log the guest's writes: %s",
				 strerror(-e));
	} else if (!r) {
		r = collect(&s);
	}
	if (!r)
		r = save_memory(&s, &st);
	pthread_mutex_unlock(&p->mm.lock);
	save_free(&s, &st);
	sent->pages = s.pages;
	sent->zeros = s.zeros;
	return r;
}

void snap_round_end(struct lx_proc *p)
{
	pthread_mutex_lock(&p->mm.lock);
	vm_dirty_stop(&p->vm);
	pthread_mutex_unlock(&p->mm.lock);
}
