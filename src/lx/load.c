/* Loading an ELF executable into the guest's address space. */
#define _GNU_SOURCE
#include "lx/load.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/procfs.h"
#include "lx/stack.h"
#include "util.h"
#include "vm/layout.h"

#define PIE_BASE 0x400000ULL /* where static-PIE programs are loaded */

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
	enum elf_error err = elf_parse(im->data, im->size, &im->elf);
	if (!err && im->elf.interp[0])
		err = ELF_EDYNAMIC;
	return err;
}

void lx_image_close(struct lx_image *im)
{
	if (im->data)
		munmap((void *)im->data, im->size);
	if (im->fd >= 0)
		close(im->fd);
	im->data = NULL;
	im->fd = -1;
}

/* Maps one PT_LOAD: the file part straight from the host file, MAP_PRIVATE,
 * so every VM running this binary shares its clean pages through the page
 * cache; the rest is the address space's zero memory. */
static int load_segment(struct lx_proc *p, struct lx_image *im,
			const struct elf_seg *s)
{
	uint64_t va = s->vaddr + im->bias;
	uint64_t start = ALIGN_DOWN(va, PAGE_SIZE);
	uint64_t end = ALIGN_UP(va + s->memsz, PAGE_SIZE);
	uint8_t *host = p->vm.mem;
	if (s->filesz) {
		uint64_t off = ALIGN_DOWN(s->offset, PAGE_SIZE);
		uint64_t fend = ALIGN_UP(va + s->filesz, PAGE_SIZE);
		if (mmap(host + start, fend - start, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, im->fd, off) == MAP_FAILED)
			return -errno;
		/* The bytes after filesz in the last file page are bss. */
		if (s->memsz > s->filesz)
			memset(host + va + s->filesz, 0,
			       MIN(fend, va + s->memsz) - (va + s->filesz));
	}
	struct lx_vma file = {.name = lx_mm_name(p, p->exe),
			      .off = ALIGN_DOWN(s->offset, PAGE_SIZE)};
	struct stat st;
	if (fstat(im->fd, &st) == 0) {
		file.dev = st.st_dev;
		file.ino = st.st_ino;
	}
	return lx_mm_map_file(p, start, end, s->prot, VMA_ELF, &file);
}

int lx_image_load(struct lx_proc *p, struct lx_image *im)
{
	if (elf_place(&im->elf, USER_MIN, p->mm.mmap_top, PIE_BASE, &im->bias))
		return -ENOMEM;
	for (int i = 0; i < im->elf.nsegs; i++) {
		int err = load_segment(p, im, &im->elf.segs[i]);
		if (err < 0)
			return err;
	}
	p->mm.brk_start = p->mm.brk = im->elf.hi + im->bias;
	return 0;
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
		{AT_BASE, 0},
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
	uint64_t room = MIN(LX_ARG_MAX, top - p->mm.stack_lo);
	uint64_t sp = stack_build(&img, p->vm.mem + top, top, room);
	if (sp)
		lx_procfs_note_stack(p, sp);
	return sp;
}
