/* ELF executables: validation of untrusted headers and loading into a VM. */
#ifndef MOTE_LX_ELF_H
#define MOTE_LX_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGS 16

struct elf_seg {
	uint64_t vaddr; /* unbiased */
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	unsigned prot; /* PT_READ | PT_WRITE | PT_EXEC */
};

struct elf_info {
	bool pie;	/* ET_DYN: loaded at a bias of our choosing */
	uint64_t entry; /* unbiased */
	uint64_t phdr;	/* unbiased address of the program headers */
	uint16_t phnum;
	uint16_t phentsize;
	uint64_t lo, hi; /* page-aligned extent of the segments */
	uint64_t align;	 /* the largest power-of-two p_align of a PT_LOAD */
	int nsegs;
	struct elf_seg segs[ELF_MAX_SEGS];
	char interp[256]; /* PT_INTERP, or "" */
	bool exec_stack;  /* PT_GNU_STACK asked for an executable stack */
};

enum elf_error {
	ELF_OK = 0,
	ELF_ETRUNC,   /* shorter than its headers say */
	ELF_EMAGIC,   /* not an ELF file */
	ELF_ECLASS32, /* a 32-bit ELF */
	ELF_EMACHINE, /* not x86-64 */
	ELF_EVERSION, /* bad e_version or byte order */
	ELF_ETYPE,    /* not ET_EXEC or ET_DYN (a core file, an object) */
	ELF_EPHDR,    /* program headers missing, too many, or out of file */
	ELF_ESEG,     /* a PT_LOAD that is inconsistent or out of the file */
	ELF_EOVERLAP, /* PT_LOADs that overlap or are not in order */
	ELF_ENOLOAD,  /* no PT_LOAD at all */
	ELF_EENTRY,   /* entry point outside every executable segment */
	ELF_EINTERP,  /* malformed PT_INTERP */
	ELF_ELOADER,  /* PT_INTERP names a file that is no loader */
	ELF_ENOFIT,   /* does not fit the guest's memory */
};

/* A one-line explanation of an ELF error, with the fix where there is one. */
const char *elf_strerror(enum elf_error e);

/* Validates an image of `size` bytes (the whole file, read-only) and fills
 * `out`. Everything read from the file is treated as hostile. */
enum elf_error elf_parse(const uint8_t *file, uint64_t size,
			 struct elf_info *out);

/* Chooses the load bias so the image lies within [lo_limit, hi_limit).
 * ET_EXEC images get bias 0 and must already fit. */
enum elf_error elf_place(const struct elf_info *info, uint64_t lo_limit,
			 uint64_t hi_limit, uint64_t pie_base, uint64_t *bias);

#endif
