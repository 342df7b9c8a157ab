/* libFuzzer harness over the ELF loader and the initial-stack builder.
 *
 * An input that starts with the ELF magic is an executable: elf_parse
 * validates it (its result is checked against the rules it promises),
 * elf_place positions it, and a valid one is loaded the way mote run
 * loads a program (lx_image_parse, lx_image_open_interp, lx_image_load,
 * lx_image_stack) into a fake process (fake.c). A PT_INTERP resolves in
 * the scratch root, where /lib64/ld-linux-x86-64.so.2 and /ld.so are the
 * input itself (without its PT_INTERP). Any other input is an argument list for
 * stack_build:
 *
 *   bytes 0-1   the room in 8-byte units; byte 2: argc; byte 3: nauxv
 *   the rest    NUL-separated strings: argv, then envp
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake.h"
#include "lx/elf.h"
#include "lx/load.h"
#include "lx/stack.h"
#include "util.h"
#include "vm/layout.h"

#define USER_SIZE (64ULL << 20)

static struct fake fk;
static int memfd;

/* What elf_parse promises of an image it accepts. */
static void check_info(const struct elf_info *in, uint64_t size)
{
	if (in->nsegs < 1 || in->nsegs > ELF_MAX_SEGS || in->lo > in->hi ||
	    in->hi > 1ULL << 47 || in->phentsize != sizeof(Elf64_Phdr))
		abort();
	bool entry_ok = false;
	for (int i = 0; i < in->nsegs; i++) {
		const struct elf_seg *s = &in->segs[i];
		if (s->filesz > s->memsz || s->offset + s->filesz > size ||
		    s->offset + s->filesz < s->offset ||
		    s->vaddr + s->memsz > in->hi || s->vaddr < in->lo)
			abort();
		if (i &&
		    s->vaddr < in->segs[i - 1].vaddr + in->segs[i - 1].memsz)
			abort();
		if ((s->prot & PT_EXEC) && in->entry >= s->vaddr &&
		    in->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	if (!entry_ok || memchr(in->interp, 0, sizeof(in->interp)) == NULL)
		abort();
}

static void check_place(const struct elf_info *in, uint64_t lo, uint64_t hi,
			uint64_t base)
{
	uint64_t bias = 0;
	if (elf_place(in, lo, hi, base, &bias))
		return;
	if (!in->pie && bias)
		abort();
	if (in->lo + bias < lo || in->hi + bias > hi || in->hi + bias < in->lo)
		abort();
}

static void put_file(const char *name, const uint8_t *d, size_t n)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/root/%s", fk.dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* The loader a PT_INTERP finds: the input itself without its PT_INTERP,
 * so that a position-independent input is its own valid loader. */
static void put_loader(const uint8_t *d, size_t n)
{
	uint8_t *copy = malloc(n);
	memcpy(copy, d, n);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)copy;
	Elf64_Phdr *ph = (Elf64_Phdr *)(copy + eh->e_phoff); /* validated */
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_INTERP)
			ph[i].p_type = PT_NULL;
	put_file("ld.so", copy, n);
	free(copy);
}

/* Loads it the way mote run does; the result must lie in user memory. */
static void load(const uint8_t *d, size_t n, const struct elf_info *in)
{
	if (in->interp[0])
		put_loader(d, n);
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, d, n, 0) != (ssize_t)n)
		abort();
	fake_reset(&fk);
	struct lx_image im;
	if (lx_image_parse(&im, dup(memfd)) != ELF_OK)
		abort(); /* the same bytes through mmap: the same verdict */
	enum elf_error why;
	int err = lx_image_open_interp(fk.p, &im, &why);
	if (!err)
		err = lx_image_load(fk.p, &im);
	if (!err) {
		static char *argv[] = {"/prog", "arg", NULL};
		uint64_t entry = lx_image_entry(&im);
		uint64_t rsp =
			lx_image_stack(fk.p, &im, argv, fk.opts.envp, argv[0]);
		if (entry >= USER_SIZE || rsp < fk.p->mm.stack_lo ||
		    rsp >= USER_SIZE || rsp % 16)
			abort();
		fake_check_mm(fk.p);
	}
	lx_image_close(&im);
}

static void fuzz_elf(const uint8_t *d, size_t n)
{
	struct elf_info in;
	enum elf_error e = elf_parse(d, n, &in);
	if (!elf_strerror(e))
		abort();
	if (e)
		return;
	check_info(&in, n);
	check_place(&in, USER_MIN, USER_SIZE, USER_SIZE / 3);
	check_place(&in, USER_MIN, 1ULL << 47, 0);
	check_place(&in, 0, ~0ULL, ~0ULL - PAGE_SIZE);
	check_place(&in, PAGE_SIZE, 2 * PAGE_SIZE, 0);
	load(d, n, &in);
}

/* ---- stack_build ---- */

#define MAX_STRINGS 256

static void fuzz_stack(const uint8_t *d, size_t n)
{
	if (n < 4)
		return;
	uint64_t room = ((uint64_t)d[0] | (uint64_t)d[1] << 8) * 8;
	size_t want_argc = d[2];
	struct stack_image img = {.execfn = "", .platform = "x86_64"};
	img.nauxv = d[3] % (STACK_MAX_AUXV + 2);
	/* The strings, each NUL-terminated in a copy. */
	char *buf = malloc(n - 4 + 1);
	char *strs[MAX_STRINGS + 2];
	memcpy(buf, d + 4, n - 4);
	buf[n - 4] = 0;
	size_t ns = 0;
	for (char *s = buf; s < buf + (n - 4) && ns < MAX_STRINGS;
	     s += strlen(s) + 1)
		strs[ns++] = s;
	size_t argc = MIN(want_argc, ns);
	char *argv[MAX_STRINGS + 1], *envp[MAX_STRINGS + 1];
	memcpy(argv, strs, argc * sizeof(char *));
	argv[argc] = NULL;
	memcpy(envp, strs + argc, (ns - argc) * sizeof(char *));
	envp[ns - argc] = NULL;
	img.argv = argv;
	img.envp = envp;
	if (argc)
		img.execfn = argv[0];
	for (int i = 0; i < STACK_MAX_AUXV; i++)
		img.auxv[i][0] = img.auxv[i][1] = (uint64_t)i + 100;
	/* Exactly `room` bytes of host memory: ASan sees any write outside. */
	uint8_t *mem = malloc(room ? room : 1);
	uint64_t top = 0x7ff000000000ULL;
	uint64_t sp = stack_build(&img, mem + room, top, room);
	if (sp) {
		uint64_t w;
		memcpy(&w, mem + room - (top - sp), 8);
		if (sp % 16 || sp >= top || top - sp > room || w != argc)
			abort();
	}
	free(mem);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fake_init(&fk, USER_SIZE);
		memfd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		ready = true;
	}
	if (size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0)
		fuzz_elf(data, size);
	else
		fuzz_stack(data, size);
	return 0;
}
