/* Loading an ELF executable into the guest's address space. */
#define _GNU_SOURCE
#include "lx/load.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/procfs.h"
#include "lx/stack.h"
#include "util.h"
#include "vm/layout.h"

/* Where PIE programs are loaded, at least: a third of the way up, as Linux
 * puts them at two thirds of its address space, so that an ET_EXEC program
 * that ld.so loads (at 0x400000) does not collide with it. */
#define PIE_BASE(user_size) ALIGN_DOWN((user_size) / 3, PAGE_SIZE)
#define MAX_SEG_ALIGN	    (2ULL << 20)  /* p_align honoured up to this */
#define BRK_RANDOM	    (32ULL << 20) /* Linux's brk randomisation range */
#define STACK_RANDOM	    (1ULL << 20)  /* how far the initial stack moves */

enum elf_error lx_image_parse(struct lx_image *im, int fd)
{
	struct stat st;
	memset(im, 0, sizeof(*im));
	im->fd = fd;
	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return ELF_EMAGIC;
	im->size = st.st_size;
	void *d = mmap(NULL, im->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (d == MAP_FAILED)
		return ELF_EMAGIC;
	im->data = d;
	return elf_parse(im->data, im->size, &im->elf);
}

void lx_image_close(struct lx_image *im)
{
	if (im->data)
		munmap((void *)im->data, im->size);
	if (im->fd >= 0)
		close(im->fd);
	im->data = NULL;
	im->fd = -1;
	if (im->interp) {
		lx_image_close(im->interp);
		free(im->interp);
		im->interp = NULL;
	}
}

int lx_image_open_interp(struct lx_proc *p, struct lx_image *im,
			 enum elf_error *why)
{
	*why = ELF_OK;
	if (!im->elf.interp[0] || im->interp) /* static, or opened already */
		return 0;
	struct lx_path lp;
	int err = lx_path_lookup(p, AT_FDCWD, im->elf.interp, false, &lp);
	if (err)
		return err;
	/* O_NONBLOCK: a FIFO named as the loader must not hang the exec. */
	int fd = lx_path_open(&lp, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	struct lx_image *ld = calloc(1, sizeof(*ld));
	if (!ld) {
		close(fd);
		return -ENOMEM;
	}
	im->interp = ld;
	enum elf_error e = lx_image_parse(ld, fd);
	/* A loader is position-independent and needs no loader itself. */
	if (!e && (ld->elf.interp[0] || !ld->elf.pie))
		e = ELF_ELOADER;
	*why = e;
	return e ? -ENOEXEC : 0;
}

void lx_interp_error(const char *prog, const struct lx_image *im, int err,
		     enum elf_error why)
{
	if (err == -ENOEXEC)
		msg("%s: %s: %s", prog, im->elf.interp, elf_strerror(why));
	else
		msg("%s: cannot open its dynamic loader %s in the guest root: "
		    "%s (is the loader inside --root?)",
		    prog, im->elf.interp, strerror(-err));
}

/* A random multiple of `align` below `range` (0 without ASLR): the
 * offsets that move the program, the loader, the mmap area, the brk and
 * the stack. */
static uint64_t aslr(const struct lx_proc *p, uint64_t range, uint64_t align)
{
	uint64_t r;
	if (!p->opts->aslr || range <= align ||
	    getrandom(&r, sizeof(r), 0) != sizeof(r))
		return 0;
	return r % (range / align) * align;
}

static uint64_t seg_align(const struct elf_info *e)
{
	return MAX(PAGE_SIZE, MIN(e->align, MAX_SEG_ALIGN));
}

/* Maps one PT_LOAD: the file part straight from the host file, MAP_PRIVATE,
 * so every VM running this binary shares its clean pages through the page
 * cache; the rest is the address space's zero memory. */
static int load_segment(struct lx_proc *p, struct lx_image *im,
			const struct elf_seg *s, const char *path)
{
	uint64_t va = s->vaddr + im->bias;
	uint64_t start = ALIGN_DOWN(va, PAGE_SIZE);
	uint64_t end = ALIGN_UP(va + s->memsz, PAGE_SIZE);
	if (s->filesz) {
		uint64_t off = ALIGN_DOWN(s->offset, PAGE_SIZE);
		uint64_t fend = ALIGN_UP(va + s->filesz, PAGE_SIZE);
		uint8_t *host = gm_range(&p->vm, start, fend - start);
		if (!host)
			return -ENOMEM;
		if (mmap(host, fend - start, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, im->fd, off) == MAP_FAILED)
			return -errno;
		/* The rest of the last file page is zero, as Linux clears it
		 * (padzero): bss, and past the end of the image, memory that
		 * ld.so's minimal malloc hands out as calloc'd. */
		memset(host + (va - start) + s->filesz, 0,
		       fend - (va + s->filesz));
	}
	struct lx_vma file = {.name = lx_mm_name(p, path),
			      .off = ALIGN_DOWN(s->offset, PAGE_SIZE)};
	struct stat st;
	if (fstat(im->fd, &st) == 0) {
		file.dev = st.st_dev;
		file.ino = st.st_ino;
	}
	return lx_mm_map_file(p, start, end, s->prot, VMA_ELF, &file);
}

/* Maps every PT_LOAD of im; /proc/self/maps names them `path`. */
static int load_segments(struct lx_proc *p, struct lx_image *im,
			 const char *path)
{
	for (int i = 0; i < im->elf.nsegs; i++) {
		int err = load_segment(p, im, &im->elf.segs[i], path);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The loader goes where Linux puts it: at the top of the mmap area, which
 * the libraries it maps then grow down from. */
static int load_interp(struct lx_proc *p, struct lx_image *ld, const char *path)
{
	uint64_t align = seg_align(&ld->elf);
	uint64_t span = ld->elf.hi - ld->elf.lo;
	uint64_t at = lx_mm_find_free(p, span + align);
	if (!at)
		return -ENOMEM;
	if (elf_place(&ld->elf, USER_MIN, p->mm.mmap_top, ALIGN_UP(at, align),
		      &ld->bias))
		return -ENOMEM;
	return load_segments(p, ld, path);
}

int lx_image_load(struct lx_proc *p, struct lx_image *im)
{
	/* A sixteenth of the address space each for the program's and the
	 * mmap area's offsets: guest memory is small, so ASLR has fewer
	 * bits here than on a 47-bit Linux address space. */
	uint64_t range = p->vm.user_size / 16;
	uint64_t align = seg_align(&im->elf);
	p->mm.mmap_top -= aslr(p, range, PAGE_SIZE);
	uint64_t base = ALIGN_UP(PIE_BASE(p->vm.user_size), align) +
			aslr(p, range, align);
	if (elf_place(&im->elf, USER_MIN, p->mm.mmap_top, base, &im->bias))
		return -ENOMEM;
	int err = load_segments(p, im, p->task.exe);
	if (err)
		return err;
	p->mm.brk_start = p->mm.brk =
		im->elf.hi + im->bias +
		aslr(p, MIN(BRK_RANDOM, p->vm.user_size / 32), PAGE_SIZE);
	return im->interp ? load_interp(p, im->interp, im->elf.interp) : 0;
}

uint64_t lx_image_entry(const struct lx_image *im)
{
	const struct lx_image *e = im->interp ? im->interp : im;
	return e->elf.entry + e->bias;
}

static uint64_t hwcap(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == 1)
			return vm->cpuid->entries[i].edx;
	return 0;
}

uint64_t lx_image_stack(struct lx_proc *p, const struct lx_image *im,
			char *const argv[], char *const envp[],
			const char *execfn)
{
	struct stack_image img = {
		.argv = argv,
		.envp = envp,
		.execfn = execfn,
		.platform = "x86_64",
	};
	if (getrandom(img.random, sizeof(img.random), 0) != sizeof(img.random))
		return 0;
	uint64_t b = im->bias;
	const uint64_t aux[][2] = {
		{AT_HWCAP, hwcap(&p->vm)},
		{AT_PAGESZ, PAGE_SIZE},
		{AT_CLKTCK, 100},
		{AT_PHDR, im->elf.phdr + b},
		{AT_PHENT, sizeof(Elf64_Phdr)},
		{AT_PHNUM, im->elf.phnum},
		{AT_BASE, im->interp ? im->interp->bias : 0},
		{AT_FLAGS, 0},
		{AT_ENTRY, im->elf.entry + b},
		{AT_UID, getuid()},
		{AT_EUID, geteuid()},
		{AT_GID, getgid()},
		{AT_EGID, getegid()},
		{AT_SECURE, 0},
		{AT_HWCAP2, p->vm.fsgsbase ? 2 : 0}, /* HWCAP2_FSGSBASE */
	};
	for (size_t i = 0; i < ARRAY_SIZE(aux); i++) {
		img.auxv[img.nauxv][0] = aux[i][0];
		img.auxv[img.nauxv++][1] = aux[i][1];
	}
	uint64_t top = p->vm.user_size;
	top -= aslr(p, MIN(STACK_RANDOM, (top - p->mm.stack_lo) / 8), 16);
	uint64_t room = MIN(LX_ARG_MAX, top - p->mm.stack_lo);
	uint8_t *floor = gm_range(&p->vm, top - room, room);
	if (!floor)
		return 0;
	uint64_t sp = stack_build(&img, floor + room, top, room);
	if (sp)
		lx_procfs_note_stack(p, sp);
	return sp;
}
