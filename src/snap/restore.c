/* mote restore: VMs started from a snapshot (docs/snapshot.md).
 *
 * Before any VM exists, the file is checked: the header (magic, format,
 * version, checksums, sizes), the CPU features the saved state needs, and
 * the snapshot's own records (the run's options, the image's file
 * mappings). Then the memory image is mapped copy-on-write
 * (vm_create_from), every subsystem restores itself from its record,
 * checking it as it goes (lx_state_restore: the process, fds reopened by
 * path, VMAs, each vCPU in its saved state), and the unchanged pages of
 * private file mappings are mapped from their files. No vCPU runs before
 * all of it has passed. With -n COUNT the snapshot is read once and COUNT
 * monitors fork from that point, each making its own VM on the shared
 * mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/subsys.h"
#include "snap/snap.h"
#include "snap/state.h"
#include "util.h"
#include "vm/layout.h"
#include "vm/pt.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif

/* ---- reading and checking the file ---- */

static bool header_sane(const struct snap_header *h, uint64_t base,
			uint64_t fsize)
{
	return h->user_size && h->user_size % HUGE_SIZE == 0 &&
	       h->user_size <= (1ULL << 46) &&
	       h->sys_size == layout_sys_size(h->user_size) &&
	       h->mem_off == base + SNAP_HDR_SIZE &&
	       h->mem_len == h->user_size + h->sys_size &&
	       h->state_off == h->mem_off + h->mem_len &&
	       h->state_len <= SNAP_STATE_MAX && h->nthreads >= 1 &&
	       h->nthreads <= SYS_MAX_VCPUS && fsize >= h->state_off &&
	       fsize - h->state_off >= h->state_len;
}

int snap_header_read(int fd, const char *path, struct snap_header *h,
		     uint64_t base)
{
	uint8_t page[SNAP_HDR_SIZE];
	ssize_t n = pread(fd, page, sizeof(page), (off_t)base);
	if (n < (ssize_t)sizeof(*h) || memcmp(page, SNAP_MAGIC, 8)) {
		msg("%s: not a mote snapshot (no MOTESNAP header; was it cut "
		    "short?)",
		    path);
		return -1;
	}
	memcpy(h, page, sizeof(*h));
	if (h->format != SNAP_FORMAT) {
		msg("%s: snapshot format %u; this mote (%s) reads format %d "
		    "(restore it with the mote that wrote it)",
		    path, h->format, MOTE_VERSION, SNAP_FORMAT);
		return -1;
	}
	uint32_t crc = h->header_crc;
	h->header_crc = 0;
	if (snap_crc32(0, h, sizeof(*h)) != crc) {
		msg("%s: the snapshot header is corrupt (checksum mismatch)",
		    path);
		return -1;
	}
	h->version[sizeof(h->version) - 1] = 0;
	if (strcmp(h->version, MOTE_VERSION)) {
		msg("%s: written by mote %s; this is mote %s (restore it with "
		    "the mote version that wrote it)",
		    path, h->version, MOTE_VERSION);
		return -1;
	}
	return 0;
}

static int read_header(int fd, const char *path, struct snap_header *h,
		       uint64_t base, uint64_t fsize)
{
	if (snap_header_read(fd, path, h, base) < 0)
		return -1;
	if (h->kind == SNAP_KIND_BOOT) {
		msg("%s: a snapshot of a booted Linux guest (mote boot); only "
		    "mote restore takes it, not a migration",
		    path);
		return -1;
	}
	if (h->kind != SNAP_KIND_RUN || h->reserved) {
		msg("%s: a snapshot of kind %u, which this mote does not know "
		    "(restore it with the mote that wrote it)",
		    path, h->kind);
		return -1;
	}
	if (!header_sane(h, base, fsize)) {
		msg("%s: the snapshot is truncated or its header is "
		    "inconsistent (%llu bytes)",
		    path, (unsigned long long)fsize);
		return -1;
	}
	return 0;
}

int snap_state_load(int fd, const char *path, const struct snap_header *h,
		    uint8_t **out)
{
	uint8_t *buf = malloc(h->state_len ? h->state_len : 1);
	if (!buf) {
		msg("%s: out of memory", path);
		return -1;
	}
	ssize_t n = pread(fd, buf, h->state_len, (off_t)h->state_off);
	if (n != (ssize_t)h->state_len) {
		msg("%s: cannot read the snapshot's state: %s", path,
		    n < 0 ? strerror(errno) : "file too short");
	} else if (snap_crc32(0, buf, h->state_len) != h->state_crc) {
		msg("%s: the snapshot's state is corrupt (checksum mismatch)",
		    path);
	} else {
		*out = buf;
		return 0;
	}
	free(buf);
	return -1;
}

static int load(int fd, const char *path, struct snap_state *st)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		msg("%s: not a regular file", path);
		return -1;
	}
	if (read_header(fd, path, &st->h, st->base, (uint64_t)sb.st_size) < 0 ||
	    snap_state_load(fd, path, &st->h, &st->state) < 0)
		return -1;
	st->state_len = st->h.state_len;
	if (!snap_state_read(st)) {
		msg("%s: the snapshot's state is malformed", path);
		return -1;
	}
	return 0;
}

/* ---- CPU features ---- */

struct feature {
	const char *name;
	int word; /* index into the words compared */
	int bit;
};

/* The ones programs pick code paths by; any other bit is named by its
 * CPUID leaf, register and number. */
static const struct feature features[] = {
	{"sse3", 0, 0},	    {"ssse3", 0, 9},	 {"fma", 0, 12},
	{"sse4_1", 0, 19},  {"sse4_2", 0, 20},	 {"movbe", 0, 22},
	{"popcnt", 0, 23},  {"aes", 0, 25},	 {"xsave", 0, 26},
	{"avx", 0, 28},	    {"f16c", 0, 29},	 {"rdrand", 0, 30},
	{"sse", 1, 25},	    {"sse2", 1, 26},	 {"bmi1", 2, 3},
	{"avx2", 2, 5},	    {"bmi2", 2, 8},	 {"erms", 2, 9},
	{"avx512f", 2, 16}, {"avx512dq", 2, 17}, {"rdseed", 2, 18},
	{"adx", 2, 19},	    {"avx512bw", 2, 30}, {"avx512vl", 2, 31},
	{"sha_ni", 2, 29},  {"vaes", 3, 9},	 {"vpclmulqdq", 3, 10},
	{"gfni", 3, 8},	    {"fsrm", 4, 4},	 {"lzcnt", 5, 5},
};

static const char *const word_names[] = {
	"1:ECX",   "1:EDX",	     "7.0:EBX",	      "7.0:ECX",
	"7.0:EDX", "0x80000001:ECX", "0x80000001:EDX"};

static void cpu_words(const struct snap_cpu *c, uint32_t w[7])
{
	w[0] = c->l1_ecx;
	w[1] = c->l1_edx;
	w[2] = c->l7_ebx;
	w[3] = c->l7_ecx;
	w[4] = c->l7_edx;
	w[5] = c->e1_ecx;
	w[6] = c->e1_edx;
}

/* What this host's KVM can show a guest, as the snapshot recorded it. */
static int host_cpu(struct snap_cpu *c)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -1;
	struct kvm_cpuid2 *cp = cpuid_supported(kvm);
	close(kvm);
	if (!cp)
		return -1;
	memset(c, 0, sizeof(*c));
	snap_cpu_words(cp, c);
	for (uint32_t i = 0; i < cp->nent; i++)
		if (cp->entries[i].function == 0xd && cp->entries[i].index == 0)
			c->xcr0 = cp->entries[i].eax |
				  ((uint64_t)cp->entries[i].edx << 32);
	free(cp);
	return 0;
}

int snap_check_cpu(const char *path, const struct snap_cpu *need)
{
	struct snap_cpu have;
	if (host_cpu(&have) < 0) {
		msg("%s: cannot read this host's CPU features from /dev/kvm: "
		    "%s",
		    path, strerror(errno));
		return -1;
	}
	if (need->xsave_size != sizeof(struct kvm_xsave)) {
		msg("%s: the snapshot's XSAVE area is %u bytes, this host's "
		    "%zu",
		    path, need->xsave_size, sizeof(struct kvm_xsave));
		return -1;
	}
	uint32_t n[7], h[7];
	cpu_words(need, n);
	cpu_words(&have, h);
	/* Bits mote sets or clears itself: OSXSAVE follows CR4, and the
	 * hypervisor, VMX and SVM bits are not features a program uses. */
	n[0] &= ~((1U << 27) | (1U << 31) | (1U << 5));
	n[5] &= ~(1U << 2);
	for (int w = 0; w < 7; w++) {
		uint32_t miss = n[w] & ~h[w];
		if (!miss)
			continue;
		int bit = __builtin_ctz(miss);
		const char *name = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(features); i++)
			if (features[i].word == w && features[i].bit == bit)
				name = features[i].name;
		msg("%s: the snapshot needs CPU feature %s (CPUID %s bit %d), "
		    "which this host lacks; restore it on a host with the "
		    "same CPU features",
		    path, name ? name : "?", word_names[w], bit);
		return -1;
	}
	if (need->xcr0 & ~have.xcr0) {
		msg("%s: the snapshot needs XSAVE state components %#llx, "
		    "which this host lacks",
		    path, (unsigned long long)(need->xcr0 & ~have.xcr0));
		return -1;
	}
	return 0;
}

/* ---- memory ---- */

static int map_at(struct lx_proc *p, uint64_t gpa, uint64_t len, int prot,
		  int flags, int fd, uint64_t off)
{
	void *h = gm_range(&p->vm, gpa, len);
	if (!h)
		return -EINVAL;
	if (mmap(h, len, prot, flags | MAP_FIXED, fd, (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

/* A file mapping: its file, then the pages the image holds over it. The
 * VMA the address space restored names the file. */
static int map_file_vma(struct lx_proc *p, const struct snap_state *st,
			const struct snap_file *sv, int snap)
{
	const struct lx_vma *v = lx_vma_find(&p->mm, sv->start);
	if (!v || v->start != sv->start || v->end != sv->end || !v->name ||
	    v->name[0] != '/') {
		msg("restore: the snapshot's image names a file mapping at "
		    "%#llx that its address space does not have (a damaged "
		    "or crafted snapshot)",
		    (unsigned long long)sv->start);
		return -1;
	}
	bool wr = sv->src == SRC_SHARED && (v->prot & PT_WRITE);
	int fd = lx_fs_reopen(p, v->name, wr ? O_RDWR : O_RDONLY);
	struct stat sb;
	if (fd < 0) {
		msg("restore: %s: %s (a mapping of the snapshot needs it)",
		    v->name, strerror(-fd));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != sv->fsize ||
	    sb.st_mtim.tv_sec != sv->mtime_s ||
	    sb.st_mtim.tv_nsec != sv->mtime_ns) {
		msg("restore: %s changed since the snapshot (its size or "
		    "modification time differ); the snapshot needs the file "
		    "it mapped",
		    v->name);
		close(fd);
		return -1;
	}
	int err;
	if (sv->src == SRC_SHARED)
		err = map_at(p, v->start, v->end - v->start,
			     PROT_READ | (wr ? PROT_WRITE : 0), MAP_SHARED, fd,
			     v->off);
	else
		err = map_at(p, v->start, v->end - v->start,
			     PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, v->off);
	close(fd);
	uint64_t pages = (v->end - v->start) / PAGE_SIZE;
	for (uint64_t i = 0; !err && sv->src == SRC_FILE && i < pages;) {
		if (!(sv->bitmap[i / 8] & (1 << (i % 8)))) {
			i++;
			continue;
		}
		uint64_t j = i;
		while (j < pages && (sv->bitmap[j / 8] & (1 << (j % 8))))
			j++;
		uint64_t at = v->start + i * PAGE_SIZE;
		err = map_at(p, at, (j - i) * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE, snap, st->h.mem_off + at);
		i = j;
	}
	if (err)
		msg("restore: cannot map %s: %s", v->name, strerror(-err));
	return err ? -1 : 0;
}

int snap_build(struct lx_proc *p, const char *path, struct snap_state *st,
	       int snap, int shared_sys)
{
	enum vm_error ve =
		vm_create_from(&p->vm, st->h.user_size, snap, st->h.mem_off);
	if (ve) {
		vm_error_msg(ve);
		return MOTE_EXIT_FAIL;
	}
	if (p->vm.sys_size != st->h.sys_size ||
	    (shared_sys >= 0 ? vm_sys_share(&p->vm, shared_sys, st->pt_pool)
			     : vm_adopt_image(&p->vm, st->pt_pool)) < 0) {
		msg("%s: the snapshot's page tables map more than guest user "
		    "memory (a damaged or crafted snapshot)",
		    path);
		return MOTE_EXIT_FAIL;
	}
	if (lx_fs_init(p) < 0 || lx_fd_init(p) < 0)
		return MOTE_EXIT_FAIL;
	/* Every subsystem from its records, then the file mappings' pages
	 * over the image's. */
	struct rbuf r = {.d = st->state + st->lx_off,
			 .n = st->state_len - st->lx_off};
	if (lx_state_restore(p, &r) < 0)
		return MOTE_EXIT_FAIL;
	if (r.off != r.n) {
		msg("%s: the snapshot's state has records this mote does not "
		    "know after its last (a damaged or crafted snapshot)",
		    path);
		return MOTE_EXIT_FAIL;
	}
	for (uint32_t i = 0; i < st->nfiles; i++)
		if (map_file_vma(p, st, &st->files[i], snap) < 0)
			return MOTE_EXIT_FAIL;
	return 0;
}

/* The run's options as the snapshot has them, over what the command
 * line gave. */
void snap_opts(struct lx_opts *o, struct snap_state *st)
{
	static char *argv[2];
	static char *envp[1];
	argv[0] = st->exe;
	o->argv = argv;
	o->envp = envp;
	o->memory = st->h.user_size;
	o->pids = st->pids;
	o->max_fds = st->max_fds;
	o->root = st->root ? st->root : "/";
	o->volumes = st->volumes;
	o->nvolumes = (int)st->nvolumes;
	o->cwd = st->cwd;
	o->net = st->net;
	o->net_ports = st->ports;
	o->nnet_ports = (int)st->nports;
	o->aslr = st->aslr;
	o->fsize_set = st->fsize_set;
	o->fsize = st->fsize;
}

/* Another process's part of a tree snapshot, at base: what snap_open
 * checks, and that it is no tree's first part. */
int snap_open_part(int fd, const char *file, uint64_t base,
		   struct snap_state *st)
{
	st->base = base;
	if (load(fd, file, st) < 0 || snap_check_cpu(file, &st->h.cpu) < 0) {
		snap_state_free(st);
		return -1;
	}
	if (st->nprocs) {
		msg("%s: the part at %llu names a tree of its own (a damaged "
		    "or crafted snapshot)",
		    file, (unsigned long long)base);
		snap_state_free(st);
		return -1;
	}
	return 0;
}

int snap_open(const char *file, struct snap_state *st)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg("%s: %s", file, strerror(errno));
		return -(errno == ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_FAIL);
	}
	fd = fd_high(fd);
	if (load(fd, file, st) < 0 || snap_check_cpu(file, &st->h.cpu) < 0) {
		snap_state_free(st);
		close(fd);
		return -MOTE_EXIT_FAIL;
	}
	return fd;
}
