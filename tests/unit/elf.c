/* elf_parse and elf_place on hand-built images, malformed ones and fuzz. */
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "lx/elf.h"
#include "unit.h"
#include "util.h"
#include "vm/layout.h"
#include "vm/pt.h"

/* A three-segment executable: headers (R), text (RX), data + bss (RW). */
#define IMG_SIZE   0x2800ULL
#define IMG_BASE   0x400000ULL
#define PHOFF	   64
#define INTERP_OFF 0x800

struct img {
	_Alignas(8) uint8_t b[0x3000];
	uint64_t size;
};

static Elf64_Ehdr *ehdr(struct img *m)
{
	return (Elf64_Ehdr *)m->b;
}

static Elf64_Phdr *phdr(struct img *m, int i)
{
	return (Elf64_Phdr *)(m->b + PHOFF) + i;
}

static Elf64_Phdr *add_phdr(struct img *m, uint32_t type, uint32_t flags)
{
	Elf64_Phdr *p = phdr(m, ehdr(m)->e_phnum++);
	memset(p, 0, sizeof(*p));
	p->p_type = type;
	p->p_flags = flags;
	return p;
}

static void add_load(struct img *m, uint64_t off, uint64_t va, uint64_t fsz,
		     uint64_t msz, uint32_t flags)
{
	Elf64_Phdr *p = add_phdr(m, PT_LOAD, flags);
	p->p_offset = off;
	p->p_vaddr = p->p_paddr = va;
	p->p_filesz = fsz;
	p->p_memsz = msz;
	p->p_align = PAGE_SIZE;
}

static void build(struct img *m, bool pie)
{
	uint64_t base = pie ? 0 : IMG_BASE;
	memset(m, 0, sizeof(*m));
	m->size = IMG_SIZE;
	Elf64_Ehdr *e = ehdr(m);
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = pie ? ET_DYN : ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = base + 0x1010;
	e->e_phoff = PHOFF;
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	add_load(m, 0, base, 0x1000, 0x1000, PF_R);
	add_load(m, 0x1000, base + 0x1000, 0x1000, 0x1000, PF_R | PF_X);
	add_load(m, 0x2000, base + 0x3000, 0x800, 0x3000, PF_R | PF_W);
	add_phdr(m, PT_GNU_STACK, PF_R | PF_W);
}

static void add_interp(struct img *m, const char *s, uint64_t len)
{
	memcpy(m->b + INTERP_OFF, s, len);
	Elf64_Phdr *p = add_phdr(m, PT_INTERP, PF_R);
	p->p_offset = INTERP_OFF;
	p->p_vaddr = phdr(m, 0)->p_vaddr + INTERP_OFF;
	p->p_filesz = p->p_memsz = len;
}

static enum elf_error parse(struct img *m, struct elf_info *in)
{
	return elf_parse(m->b, m->size, in);
}

static enum elf_error parse_built(struct img *m)
{
	struct elf_info in;
	return parse(m, &in);
}

static void check_segs(const struct elf_info *in, uint64_t base)
{
	CHECK(in->nsegs == 3);
	CHECK(in->lo == base && in->hi == base + 0x6000);
	CHECK(in->segs[0].vaddr == base && in->segs[0].offset == 0);
	CHECK(in->segs[0].prot == PT_READ);
	CHECK(in->segs[1].vaddr == base + 0x1000);
	CHECK(in->segs[1].prot == (PT_READ | PT_EXEC));
	CHECK(in->segs[2].vaddr == base + 0x3000);
	CHECK(in->segs[2].offset == 0x2000 && in->segs[2].filesz == 0x800);
	CHECK(in->segs[2].memsz == 0x3000);
	CHECK(in->segs[2].prot == (PT_READ | PT_WRITE));
}

static void elf_exec_ok(void)
{
	struct img m;
	struct elf_info in;
	build(&m, false);
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(!in.pie);
	CHECK(in.entry == IMG_BASE + 0x1010);
	CHECK(in.phdr == IMG_BASE + PHOFF);
	CHECK(in.phnum == 4 && in.phentsize == sizeof(Elf64_Phdr));
	CHECK(in.interp[0] == 0 && !in.exec_stack);
	check_segs(&in, IMG_BASE);
}

static void elf_pie_ok(void)
{
	struct img m;
	struct elf_info in;
	build(&m, true);
	add_phdr(&m, PT_PHDR, PF_R)->p_vaddr = PHOFF;
	phdr(&m, 3)->p_flags |= PF_X;
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(in.pie);
	CHECK(in.entry == 0x1010 && in.phdr == PHOFF && in.phnum == 5);
	CHECK(in.exec_stack);
	check_segs(&in, 0);
}

static void elf_bad_header(void)
{
	struct img m;
	build(&m, false);
	m.size = 3;
	CHECK(parse_built(&m) == ELF_EMAGIC);
	m.size = sizeof(Elf64_Ehdr) - 1;
	CHECK(parse_built(&m) == ELF_ETRUNC);
	m.size = 10;
	CHECK(parse_built(&m) == ELF_ETRUNC);
	m.size = 0;
	CHECK(parse_built(&m) == ELF_EMAGIC);

	build(&m, false);
	m.b[1] = 'F';
	CHECK(parse_built(&m) == ELF_EMAGIC);
	build(&m, false);
	m.b[EI_CLASS] = ELFCLASS32;
	CHECK(parse_built(&m) == ELF_ECLASS32);
	m.b[EI_CLASS] = 7;
	CHECK(parse_built(&m) == ELF_EMAGIC);

	build(&m, false);
	ehdr(&m)->e_machine = EM_386;
	CHECK(parse_built(&m) == ELF_EMACHINE);
	ehdr(&m)->e_machine = EM_AARCH64;
	CHECK(parse_built(&m) == ELF_EMACHINE);

	build(&m, false);
	ehdr(&m)->e_version = 2;
	CHECK(parse_built(&m) == ELF_EVERSION);
	build(&m, false);
	m.b[EI_DATA] = ELFDATA2MSB;
	CHECK(parse_built(&m) == ELF_EVERSION);

	build(&m, false);
	ehdr(&m)->e_type = ET_REL;
	CHECK(parse_built(&m) == ELF_ETYPE);
	ehdr(&m)->e_type = ET_CORE;
	CHECK(parse_built(&m) == ELF_ETYPE);
	ehdr(&m)->e_type = ET_NONE;
	CHECK(parse_built(&m) == ELF_ETYPE);
}

static void elf_bad_phdrs(void)
{
	struct img m;
	build(&m, false);
	ehdr(&m)->e_phentsize = 32;
	CHECK(parse_built(&m) == ELF_EPHDR);
	ehdr(&m)->e_phentsize = sizeof(Elf64_Phdr) + 8;
	CHECK(parse_built(&m) == ELF_EPHDR);

	build(&m, false);
	ehdr(&m)->e_phnum = 0;
	CHECK(parse_built(&m) == ELF_EPHDR);
	ehdr(&m)->e_phnum = 0xffff;
	CHECK(parse_built(&m) == ELF_EPHDR);
	ehdr(&m)->e_phnum = PN_XNUM;
	CHECK(parse_built(&m) == ELF_EPHDR);

	/* Program headers past the end, starting inside or outside. */
	build(&m, false);
	ehdr(&m)->e_phoff = m.size - sizeof(Elf64_Phdr);
	CHECK(parse_built(&m) == ELF_ETRUNC);
	ehdr(&m)->e_phoff = m.size + 8;
	CHECK(parse_built(&m) == ELF_EPHDR);
	ehdr(&m)->e_phoff = ~0ULL - 7;
	CHECK(parse_built(&m) == ELF_EPHDR);
	/* Headers that could not be read in place. */
	build(&m, false);
	memmove(m.b + PHOFF + 4, m.b + PHOFF, 4 * sizeof(Elf64_Phdr));
	ehdr(&m)->e_phoff = PHOFF + 4;
	CHECK(parse_built(&m) == ELF_EPHDR);
	build(&m, false);
	m.size = PHOFF + 2 * sizeof(Elf64_Phdr);
	CHECK(parse_built(&m) == ELF_ETRUNC);

	/* More PT_LOADs than the loader keeps. */
	build(&m, false);
	ehdr(&m)->e_phnum = 0;
	for (int i = 0; i <= ELF_MAX_SEGS; i++)
		add_load(&m, 0, IMG_BASE + i * 0x1000, 0x100, 0x100,
			 PF_R | PF_X);
	CHECK(parse_built(&m) == ELF_EPHDR);
}

static void elf_bad_sizes(void)
{
	struct img m;
	build(&m, false);
	phdr(&m, 2)->p_filesz = 0x3001;
	CHECK(parse_built(&m) == ELF_ESEG);

	build(&m, false);
	phdr(&m, 2)->p_filesz = 0x801;
	CHECK(parse_built(&m) == ELF_ETRUNC);
	build(&m, false);
	m.size = 0x27ff;
	CHECK(parse_built(&m) == ELF_ETRUNC);
	build(&m, false);
	phdr(&m, 2)->p_offset += 0x1000;
	phdr(&m, 2)->p_filesz = 0x10;
	CHECK(parse_built(&m) == ELF_ETRUNC);

	build(&m, false);
	phdr(&m, 2)->p_memsz = 0;
	phdr(&m, 2)->p_filesz = 0;
	CHECK(parse_built(&m) == ELF_ESEG);
}

static void elf_bad_wrap(void)
{
	struct img m;
	/* offset + filesz wraps to a small number inside the file. */
	build(&m, false);
	phdr(&m, 2)->p_offset = ~0ULL - 0xfff;
	phdr(&m, 2)->p_filesz = 0x1800;
	phdr(&m, 2)->p_memsz = 0x3000;
	CHECK(parse_built(&m) == ELF_ESEG);

	build(&m, false);
	phdr(&m, 2)->p_vaddr = ~0ULL - 0xfff;
	phdr(&m, 2)->p_memsz = 0x3000;
	CHECK(parse_built(&m) == ELF_ESEG);

	build(&m, false);
	phdr(&m, 2)->p_vaddr = (1ULL << 47) - 0x2000;
	CHECK(parse_built(&m) == ELF_ESEG);
	phdr(&m, 2)->p_vaddr = (1ULL << 47) - 0x3000;
	CHECK(parse_built(&m) == ELF_OK);
	phdr(&m, 2)->p_vaddr = 0xffff800000000000ULL;
	CHECK(parse_built(&m) == ELF_ESEG);

	build(&m, false);
	phdr(&m, 2)->p_memsz = 1ULL << 63;
	CHECK(parse_built(&m) == ELF_ESEG);
	phdr(&m, 2)->p_memsz = ~0ULL;
	CHECK(parse_built(&m) == ELF_ESEG);
	phdr(&m, 2)->p_memsz = ~0ULL - IMG_BASE;
	CHECK(parse_built(&m) == ELF_ESEG);
}

static void elf_bad_layout(void)
{
	struct img m;
	build(&m, false);
	phdr(&m, 2)->p_vaddr += 0x10;
	CHECK(parse_built(&m) == ELF_ESEG);
	build(&m, false);
	phdr(&m, 2)->p_offset += 0x8;
	phdr(&m, 2)->p_filesz = 0x700;
	CHECK(parse_built(&m) == ELF_ESEG);

	/* Overlapping, even only within a page, and out of order. */
	build(&m, false);
	phdr(&m, 1)->p_vaddr = IMG_BASE + 0x800;
	phdr(&m, 1)->p_offset = 0x800;
	ehdr(&m)->e_entry = IMG_BASE + 0x900;
	CHECK(parse_built(&m) == ELF_EOVERLAP);
	build(&m, false);
	phdr(&m, 2)->p_vaddr = IMG_BASE + 0x1000;
	CHECK(parse_built(&m) == ELF_EOVERLAP);
	build(&m, false);
	Elf64_Phdr t = *phdr(&m, 1);
	*phdr(&m, 1) = *phdr(&m, 2);
	*phdr(&m, 2) = t;
	CHECK(parse_built(&m) == ELF_EOVERLAP);

	build(&m, false);
	for (int i = 0; i < 3; i++)
		phdr(&m, i)->p_type = PT_NOTE;
	CHECK(parse_built(&m) == ELF_ENOLOAD);
}

static void elf_bad_entry(void)
{
	struct img m;
	build(&m, false);
	ehdr(&m)->e_entry = IMG_BASE + 0x10; /* not executable */
	CHECK(parse_built(&m) == ELF_EENTRY);
	ehdr(&m)->e_entry = IMG_BASE + 0x2000; /* in the hole */
	CHECK(parse_built(&m) == ELF_EENTRY);
	ehdr(&m)->e_entry = IMG_BASE + 0x3000; /* data */
	CHECK(parse_built(&m) == ELF_EENTRY);
	ehdr(&m)->e_entry = 0;
	CHECK(parse_built(&m) == ELF_EENTRY);
	ehdr(&m)->e_entry = ~0ULL;
	CHECK(parse_built(&m) == ELF_EENTRY);
	ehdr(&m)->e_entry = IMG_BASE + 0x1fff;
	CHECK(parse_built(&m) == ELF_OK);
}

static void elf_interp(void)
{
	static const char ld[] = "/lib64/ld-linux-x86-64.so.2";
	struct img m;
	struct elf_info in;
	build(&m, false);
	add_interp(&m, ld, sizeof(ld));
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(strcmp(in.interp, ld) == 0);

	build(&m, false);
	add_interp(&m, ld, sizeof(ld) - 1);
	CHECK(parse_built(&m) == ELF_EINTERP);
	build(&m, false);
	add_interp(&m, "/lib\0/ld.so", 12);
	CHECK(parse_built(&m) == ELF_EINTERP);
	build(&m, false);
	add_interp(&m, "", 1);
	CHECK(parse_built(&m) == ELF_EINTERP);

	char long_path[300];
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = 0;
	build(&m, false);
	add_interp(&m, long_path, sizeof(long_path));
	CHECK(parse_built(&m) == ELF_EINTERP);
	long_path[sizeof(in.interp) - 1] = 0;
	build(&m, false);
	add_interp(&m, long_path, sizeof(in.interp));
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(strlen(in.interp) == sizeof(in.interp) - 1);

	build(&m, false);
	add_interp(&m, ld, sizeof(ld));
	phdr(&m, 4)->p_offset = m.size - 4;
	CHECK(parse_built(&m) == ELF_EINTERP);
	phdr(&m, 4)->p_offset = ~0ULL - 4;
	CHECK(parse_built(&m) == ELF_EINTERP);
}

static void elf_place_exec(void)
{
	struct img m;
	struct elf_info in;
	uint64_t bias = 1;
	build(&m, false);
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(elf_place(&in, USER_MIN, 1ULL << 30, 0x10000000, &bias) ==
	      ELF_OK);
	CHECK(bias == 0);
	CHECK(elf_place(&in, USER_MIN, IMG_BASE + 0x6000, 0, &bias) == ELF_OK);
	CHECK(elf_place(&in, USER_MIN, IMG_BASE + 0x5000, 0, &bias) ==
	      ELF_ENOFIT);
	CHECK(elf_place(&in, IMG_BASE + 0x1000, 1ULL << 30, 0, &bias) ==
	      ELF_ENOFIT);
	CHECK(elf_place(&in, USER_MIN, 0x1000, 0, &bias) == ELF_ENOFIT);
}

static void elf_place_pie(void)
{
	struct img m;
	struct elf_info in;
	uint64_t bias = 1;
	build(&m, true);
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(elf_place(&in, USER_MIN, 1ULL << 30, 0x10000000, &bias) ==
	      ELF_OK);
	CHECK(bias == 0x10000000);
	CHECK(elf_place(&in, USER_MIN, 1ULL << 30, 0x10000123, &bias) ==
	      ELF_OK);
	CHECK(bias == 0x10001000);
	CHECK(elf_place(&in, USER_MIN, 0x10006000, 0x10000000, &bias) ==
	      ELF_OK);
	CHECK(elf_place(&in, USER_MIN, 0x10005000, 0x10000000, &bias) ==
	      ELF_ENOFIT);
	CHECK(elf_place(&in, 0x10001000, 1ULL << 30, 0x10000000, &bias) ==
	      ELF_ENOFIT);

	/* A PIE whose segments cover most of the address space. */
	phdr(&m, 2)->p_memsz = (1ULL << 46);
	CHECK(parse(&m, &in) == ELF_OK);
	CHECK(elf_place(&in, USER_MIN, 1ULL << 40, 0x10000000, &bias) ==
	      ELF_ENOFIT);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint64_t interesting(uint64_t size)
{
	static const uint64_t v[] = {
		0,
		1,
		8,
		0xfff,
		0x1000,
		0x1001,
		IMG_BASE,
		1ULL << 46,
		(1ULL << 47) - 0x1000,
		1ULL << 47,
		1ULL << 63,
		~0ULL,
		~0ULL - 0xfff,
		0xffff800000000000ULL,
	};
	switch (rnd() % 4) {
	case 0: return size + rnd() % 16 - 8;
	case 1: return rnd();
	default: return v[rnd() % ARRAY_SIZE(v)];
	}
}

static void mutate(struct img *m)
{
	uint64_t *field;
	switch (rnd() % 5) {
	case 0: /* a bit in the headers */
		m->b[rnd() % 0x200] ^= 1 << (rnd() % 8);
		break;
	case 1: /* a program header field */
		field = (uint64_t *)phdr(m, rnd() % 5) + 1 + rnd() % 6;
		*field = interesting(m->size);
		break;
	case 2: /* an ELF header field */
		field = (uint64_t *)m->b + 3 + rnd() % 2;
		*field = interesting(m->size);
		break;
	case 3:
		if (m->size)
			m->b[rnd() % m->size] = rnd();
		break;
	default: m->size = rnd() % (m->size + 1); break;
	}
}

/* Everything a successful parse promises to the loader. */
static bool sane(const struct elf_info *in, uint64_t size)
{
	bool entry_ok = false;
	if (in->nsegs < 1 || in->nsegs > ELF_MAX_SEGS || in->lo > in->hi ||
	    in->hi > 1ULL << 47 ||
	    memchr(in->interp, 0, sizeof(in->interp)) == NULL)
		return false;
	for (int i = 0; i < in->nsegs; i++) {
		const struct elf_seg *s = &in->segs[i];
		uint64_t end = s->vaddr + s->memsz;
		if (s->filesz > s->memsz || s->offset + s->filesz < s->offset ||
		    s->offset + s->filesz > size || end < s->vaddr ||
		    end > in->hi || s->vaddr < in->lo)
			return false;
		if (i && ALIGN_DOWN(s->vaddr, PAGE_SIZE) <
				 ALIGN_UP(s[-1].vaddr + s[-1].memsz, PAGE_SIZE))
			return false;
		if ((s->offset ^ s->vaddr) & (PAGE_SIZE - 1))
			return false;
		if ((s->prot & PT_EXEC) && in->entry >= s->vaddr &&
		    in->entry < end)
			entry_ok = true;
	}
	return entry_ok;
}

/* The image sits right before a PROT_NONE page, so reading past its end
 * faults instead of passing unnoticed. */
static void elf_fuzz(void)
{
	uint64_t pg = PAGE_SIZE;
	uint8_t *area = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED);
	if (area == MAP_FAILED)
		return;
	CHECK(mprotect(area + 4 * pg, pg, PROT_NONE) == 0);
	int ok = 0, bad = 0;
	for (int iter = 0; iter < 20000; iter++) {
		struct img m;
		struct elf_info in;
		build(&m, iter & 1);
		if (iter & 2)
			add_interp(&m, "/ld.so", 7);
		for (int n = 1 + rnd() % 4; n > 0; n--)
			mutate(&m);
		uint8_t *at = (uint8_t *)ALIGN_DOWN(
			(uintptr_t)(area + 4 * pg - m.size), 8);
		memcpy(at, m.b, m.size);
		if (elf_parse(at, m.size, &in) != ELF_OK)
			continue;
		ok++;
		if (!sane(&in, m.size) && bad++ < 5)
			printf("  iteration %d: accepted an unsound image\n",
			       iter);
	}
	CHECK(bad == 0);
	/* The mutations must leave some images valid, or this tests nothing
	 * but the first check. */
	CHECK(ok > 100 && ok < 19000);
	munmap(area, 5 * pg);
}

static void cases(void)
{
	RUN(elf_exec_ok);
	RUN(elf_pie_ok);
	RUN(elf_bad_header);
	RUN(elf_bad_phdrs);
	RUN(elf_bad_sizes);
	RUN(elf_bad_wrap);
	RUN(elf_bad_layout);
	RUN(elf_bad_entry);
	RUN(elf_interp);
	RUN(elf_place_exec);
	RUN(elf_place_pie);
	RUN(elf_fuzz);
}

int main(void)
{
	return unit_main(cases, NULL);
}
