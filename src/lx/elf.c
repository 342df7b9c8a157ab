/* ELF validation and placement. Every field is untrusted input. */
#include "lx/elf.h"

#include <elf.h>
#include <string.h>

#include "util.h"
#include "vm/layout.h"
#include "vm/pt.h"

const char *elf_strerror(enum elf_error e)
{
	switch (e) {
	case ELF_OK: return "no error";
	case ELF_ETRUNC:
		return "truncated ELF file (shorter than its headers say)";
	case ELF_EMAGIC: return "not an ELF executable";
	case ELF_ECLASS32:
		return "32-bit ELF is not supported (build for x86-64)";
	case ELF_EMACHINE: return "not an x86-64 executable";
	case ELF_EVERSION: return "unsupported ELF version or byte order";
	case ELF_ETYPE:
		return "not an executable (ELF type is not EXEC or DYN)";
	case ELF_EPHDR: return "bad ELF program headers";
	case ELF_ESEG:
		return "bad ELF segment (size or offset out of the file)";
	case ELF_EOVERLAP: return "ELF segments overlap or are out of order";
	case ELF_ENOLOAD: return "ELF file has no loadable segment";
	case ELF_EENTRY:
		return "ELF entry point is outside the executable segments";
	case ELF_EINTERP: return "bad ELF interpreter (PT_INTERP)";
	case ELF_ELOADER:
		return "its dynamic loader (PT_INTERP) is not an x86-64 "
		       "position-independent loader";
	case ELF_ENOFIT:
		return "program does not fit in guest memory (raise --memory)";
	}
	return "unknown ELF error";
}

static unsigned seg_prot(uint32_t f)
{
	return (f & PF_R ? PT_READ : 0) | (f & PF_W ? PT_WRITE : 0) |
	       (f & PF_X ? PT_EXEC : 0);
}

static enum elf_error check_ehdr(const uint8_t *file, uint64_t size)
{
	if (size < SELFMAG || memcmp(file, ELFMAG, SELFMAG) != 0)
		return ELF_EMAGIC;
	if (size < EI_NIDENT)
		return ELF_ETRUNC;
	if (file[EI_CLASS] == ELFCLASS32)
		return ELF_ECLASS32;
	if (file[EI_CLASS] != ELFCLASS64)
		return ELF_EMAGIC;
	if (size < sizeof(Elf64_Ehdr))
		return ELF_ETRUNC;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	if (file[EI_DATA] != ELFDATA2LSB || eh->e_version != EV_CURRENT)
		return ELF_EVERSION;
	if (eh->e_machine != EM_X86_64)
		return ELF_EMACHINE;
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return ELF_ETYPE;
	/* Aligned, so the headers can be read in place (linkers put them at
	 * 64). */
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > 128 || eh->e_phoff % 8)
		return ELF_EPHDR;
	uint64_t end = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (end < eh->e_phoff || end > size)
		return eh->e_phoff > size ? ELF_EPHDR : ELF_ETRUNC;
	return ELF_OK;
}

static enum elf_error add_load(struct elf_info *in, const Elf64_Phdr *ph,
			       uint64_t size)
{
	if (in->nsegs == ELF_MAX_SEGS)
		return ELF_EPHDR;
	uint64_t fend = ph->p_offset + ph->p_filesz;
	uint64_t mend = ph->p_vaddr + ph->p_memsz;
	if (ph->p_filesz > ph->p_memsz || fend < ph->p_offset ||
	    mend < ph->p_vaddr || ph->p_memsz == 0 || mend > (1ULL << 47))
		return ELF_ESEG;
	if (fend > size)
		return ELF_ETRUNC;
	/* The file offset and the address must agree modulo the page size,
	 * or the segment cannot be mapped from the file. */
	if ((ph->p_offset & (PAGE_SIZE - 1)) != (ph->p_vaddr & (PAGE_SIZE - 1)))
		return ELF_ESEG;
	if (in->nsegs) {
		const struct elf_seg *prev = &in->segs[in->nsegs - 1];
		if (ALIGN_DOWN(ph->p_vaddr, PAGE_SIZE) <
		    ALIGN_UP(prev->vaddr + prev->memsz, PAGE_SIZE))
			return ELF_EOVERLAP;
	}
	if (ph->p_align && !(ph->p_align & (ph->p_align - 1)) &&
	    ph->p_align > in->align)
		in->align = ph->p_align;
	in->segs[in->nsegs++] = (struct elf_seg){
		.vaddr = ph->p_vaddr,
		.memsz = ph->p_memsz,
		.offset = ph->p_offset,
		.filesz = ph->p_filesz,
		.prot = seg_prot(ph->p_flags),
	};
	return ELF_OK;
}

static enum elf_error read_interp(struct elf_info *in, const uint8_t *file,
				  uint64_t size, const Elf64_Phdr *ph)
{
	uint64_t end = ph->p_offset + ph->p_filesz;
	if (ph->p_filesz < 2 || ph->p_filesz > sizeof(in->interp) ||
	    end < ph->p_offset || end > size)
		return ELF_EINTERP;
	const char *s = (const char *)file + ph->p_offset;
	if (s[ph->p_filesz - 1] != 0 || strlen(s) != ph->p_filesz - 1)
		return ELF_EINTERP;
	memcpy(in->interp, s, ph->p_filesz);
	return ELF_OK;
}

/* The program headers must be inside a loaded segment for AT_PHDR. */
static uint64_t find_phdr(const struct elf_info *in, uint64_t phoff)
{
	for (int i = 0; i < in->nsegs; i++) {
		const struct elf_seg *s = &in->segs[i];
		if (phoff >= s->offset && phoff < s->offset + s->filesz)
			return s->vaddr + (phoff - s->offset);
	}
	return 0;
}

enum elf_error elf_parse(const uint8_t *file, uint64_t size,
			 struct elf_info *in)
{
	memset(in, 0, sizeof(*in));
	enum elf_error err = check_ehdr(file, size);
	if (err)
		return err;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff);
	in->pie = eh->e_type == ET_DYN;
	in->entry = eh->e_entry;
	in->phnum = eh->e_phnum;
	in->phentsize = eh->e_phentsize;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD)
			err = add_load(in, &ph[i], size);
		else if (ph[i].p_type == PT_INTERP)
			err = read_interp(in, file, size, &ph[i]);
		else if (ph[i].p_type == PT_PHDR)
			in->phdr = ph[i].p_vaddr;
		else if (ph[i].p_type == PT_GNU_STACK)
			in->exec_stack = ph[i].p_flags & PF_X;
		if (err)
			return err;
	}
	if (!in->nsegs)
		return ELF_ENOLOAD;
	in->lo = ALIGN_DOWN(in->segs[0].vaddr, PAGE_SIZE);
	const struct elf_seg *last = &in->segs[in->nsegs - 1];
	in->hi = ALIGN_UP(last->vaddr + last->memsz, PAGE_SIZE);
	if (!in->phdr)
		in->phdr = find_phdr(in, eh->e_phoff);
	bool entry_ok = false;
	for (int i = 0; i < in->nsegs; i++) {
		const struct elf_seg *s = &in->segs[i];
		if ((s->prot & PT_EXEC) && in->entry >= s->vaddr &&
		    in->entry < s->vaddr + s->memsz)
			entry_ok = true;
	}
	return entry_ok ? ELF_OK : ELF_EENTRY;
}

enum elf_error elf_place(const struct elf_info *in, uint64_t lo_limit,
			 uint64_t hi_limit, uint64_t pie_base, uint64_t *bias)
{
	uint64_t b = 0;
	if (in->pie) {
		b = ALIGN_UP(pie_base, PAGE_SIZE) - in->lo;
		if (in->lo > pie_base)
			return ELF_ENOFIT;
	}
	uint64_t span = in->hi - in->lo;
	if (in->lo + b < lo_limit || span > hi_limit ||
	    in->lo + b > hi_limit - span)
		return ELF_ENOFIT;
	*bias = b;
	return ELF_OK;
}
