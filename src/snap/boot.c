/* Snapshots of a booted Linux guest (snap/boot.h): the file written
 * from a held guest, and read back and checked before any VM exists. */
#define _GNU_SOURCE
#include "snap/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "vm/plain.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif

#define PAGE 4096ULL

static bool fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- the state records ---- */

void snap_boot_opts_write(struct wbuf *w, const struct snap_boot *b)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_BOOT);
	W(w, b->memory);
	W(w, b->ncpus);
	w_str(w, b->kernel);
	W(w, b->ndisks);
	for (uint32_t i = 0; i < b->ndisks; i++) {
		w_str(w, b->disk[i].path);
		W(w, b->disk[i].ro);
		W(w, b->disk[i].size);
	}
	w_str(w, b->net);
	w_rec_end(w, mark);
}

static bool opts_read(struct snap_boot *b, struct rbuf *r, char *err,
		      size_t errlen)
{
	struct rbuf o;
	if (!r_rec(r, SNAP_TAG_BOOT, &o))
		return fail(err, errlen, "no BOOT record first");
	R(&o, b->memory);
	R(&o, b->ncpus);
	b->kernel = r_str(&o);
	R(&o, b->ndisks);
	if (o.bad || b->ndisks > SNAP_BOOT_DISKS)
		return fail(err, errlen, "a BOOT record with %u disks",
			    b->ndisks);
	for (uint32_t i = 0; i < b->ndisks && !o.bad; i++) {
		b->disk[i].path = r_str(&o);
		R(&o, b->disk[i].ro);
		R(&o, b->disk[i].size);
		if (!o.bad && (!b->disk[i].path || b->disk[i].path[0] != '/' ||
			       b->disk[i].ro > 1))
			return fail(err, errlen, "a bad disk in BOOT");
	}
	b->net = r_str(&o);
	if (!r_done(&o) || !b->kernel)
		return fail(err, errlen, "a BOOT record cut short or too long");
	if (b->net && (!b->net[0] || strlen(b->net) >= SNAP_BOOT_TAPLEN))
		return fail(err, errlen, "a bad tap name in BOOT");
	if (b->memory != b->h.user_size || b->ncpus != b->h.nthreads)
		return fail(err, errlen,
			    "BOOT says %llu bytes and %u vCPUs, the header "
			    "%llu and %u",
			    (unsigned long long)b->memory, b->ncpus,
			    (unsigned long long)b->h.user_size, b->h.nthreads);
	return true;
}

bool snap_boot_read(struct snap_boot *b, const uint8_t *state, size_t len,
		    char *err, size_t errlen)
{
	struct rbuf r = {.d = state, .n = len};
	if (!opts_read(b, &r, err, errlen))
		return false;
	if (!plain_vm_read(&r, &b->vm))
		return fail(err, errlen, "a bad BVM record");
	b->cpu = calloc(b->ncpus, sizeof(*b->cpu));
	if (!b->cpu)
		return fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < b->ncpus; i++)
		if (!plain_cpu_read(&r, b->ncpus, &b->cpu[i]) ||
		    b->cpu[i].id != i)
			return fail(err, errlen,
				    "a bad BCPU record for vCPU %u", i);
	if (!r_rec(&r, SNAP_TAG_BDEV, &b->dev))
		return fail(err, errlen, "no BDEV record after the vCPUs");
	if (r.off != r.n)
		return fail(err, errlen, "records after BDEV");
	return true;
}

void snap_boot_free(struct snap_boot *b)
{
	free(b->kernel);
	free(b->net);
	for (uint32_t i = 0; i < SNAP_BOOT_DISKS; i++)
		free(b->disk[i].path);
	free(b->cpu);
	free(b->state);
	memset(b, 0, sizeof(*b));
}

/* ---- writing ---- */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* RAM's non-zero pages, in runs; their count. */
static int64_t write_mem(int fd, const uint8_t *mem, uint64_t size)
{
	int64_t pages = 0;
	for (uint64_t a = 0; a < size;) {
		if (page_is_zero(mem + a)) {
			a += PAGE;
			continue;
		}
		uint64_t e = a + PAGE;
		while (e < size && e - a < (8ULL << 20) &&
		       !page_is_zero(mem + e))
			e += PAGE;
		if (pwrite_all(fd, mem + a, e - a, SNAP_HDR_SIZE + a) < 0)
			return -1;
		pages += (int64_t)((e - a) / PAGE);
		a = e;
	}
	return pages;
}

int snap_boot_write(int fd, const uint8_t *mem, uint64_t mem_size,
		    unsigned ncpus, const struct snap_cpu *cpu,
		    const uint8_t *state, size_t len, char *err, size_t errlen)
{
	struct snap_header h = {.format = SNAP_FORMAT,
				.user_size = mem_size,
				.mem_off = SNAP_HDR_SIZE,
				.mem_len = mem_size,
				.state_off = SNAP_HDR_SIZE + mem_size,
				.state_len = len,
				.nthreads = ncpus,
				.cpu = *cpu,
				.kind = SNAP_KIND_BOOT};
	memcpy(h.magic, SNAP_MAGIC, 8);
	snprintf(h.version, sizeof(h.version), "%s", MOTE_VERSION);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	h.created =
		(uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	h.state_crc = snap_crc32(0, state, len);
	/* Truncated first: the holes must read as zeros. */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)h.state_off) < 0) {
		fail(err, errlen, "cannot size the snapshot file: %s",
		     strerror(errno));
		return -1;
	}
	int64_t pages = write_mem(fd, mem, mem_size);
	if (pages < 0 || pwrite_all(fd, state, len, h.state_off) < 0) {
		fail(err, errlen, "cannot write the snapshot file: %s",
		     strerror(errno));
		return -1;
	}
	h.mem_pages = (uint64_t)pages;
	h.header_crc = snap_crc32(0, &h, sizeof(h));
	uint8_t page[SNAP_HDR_SIZE] = {0};
	memcpy(page, &h, sizeof(h));
	if (pwrite_all(fd, page, sizeof(page), 0) < 0) {
		fail(err, errlen, "cannot write the snapshot file: %s",
		     strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- opening ---- */

static bool boot_header_sane(const struct snap_header *h, uint64_t fsize)
{
	return h->user_size >= PLAIN_MEM_MIN && h->user_size <= PLAIN_MEM_MAX &&
	       h->user_size % (2ULL << 20) == 0 && h->sys_size == 0 &&
	       h->mem_off == SNAP_HDR_SIZE && h->mem_len == h->user_size &&
	       h->state_off == h->mem_off + h->mem_len &&
	       h->state_len <= SNAP_STATE_MAX && h->nthreads >= 1 &&
	       h->nthreads <= SNAP_BOOT_CPUS && !h->reserved &&
	       fsize >= h->state_off && fsize - h->state_off >= h->state_len;
}

/* The file at path opened and its header read: its fd, or -status. */
static int open_header(const char *path, struct snap_header *h, uint64_t *fsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg("%s: %s", path, strerror(errno));
		return -(errno == ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_FAIL);
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		msg("%s: not a regular file", path);
		close(fd);
		return -MOTE_EXIT_FAIL;
	}
	*fsize = (uint64_t)sb.st_size;
	if (snap_header_read(fd, path, h, 0) < 0) {
		close(fd);
		return -MOTE_EXIT_FAIL;
	}
	return fd_high(fd);
}

int snap_kind_of(const char *path)
{
	struct snap_header h;
	uint64_t fsize;
	int fd = open_header(path, &h, &fsize);
	if (fd < 0)
		return fd;
	close(fd);
	if (h.kind != SNAP_KIND_RUN && h.kind != SNAP_KIND_BOOT) {
		msg("%s: a snapshot of kind %u, which this mote does not know "
		    "(restore it with the mote that wrote it)",
		    path, h.kind);
		return -MOTE_EXIT_FAIL;
	}
	return (int)h.kind;
}

int snap_boot_open(const char *path, struct snap_boot *b)
{
	uint64_t fsize;
	memset(b, 0, sizeof(*b));
	int fd = open_header(path, &b->h, &fsize);
	if (fd < 0)
		return fd;
	char err[160];
	if (b->h.kind != SNAP_KIND_BOOT)
		msg("%s: not a snapshot of a booted Linux guest", path);
	else if (!boot_header_sane(&b->h, fsize))
		msg("%s: the snapshot is truncated or its header is "
		    "inconsistent (%llu bytes)",
		    path, (unsigned long long)fsize);
	else if (snap_state_load(fd, path, &b->h, &b->state) < 0)
		;
	else if (!snap_boot_read(b, b->state, b->h.state_len, err, sizeof(err)))
		msg("%s: the snapshot's state is malformed (%s)", path, err);
	else if (snap_check_cpu(path, &b->h.cpu) == 0)
		return fd;
	snap_boot_free(b);
	close(fd);
	return -MOTE_EXIT_FAIL;
}
