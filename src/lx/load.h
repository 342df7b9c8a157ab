/* Loading an ELF executable into the guest: shared by mote run and execve. */
#ifndef MOTE_LX_LOAD_H
#define MOTE_LX_LOAD_H

#include <limits.h>

#include "lx/elf.h"
#include "lx/lx.h"

#define LX_ARG_MAX (2ULL << 20) /* argv + envp bytes, like Linux's ARG_MAX */

struct lx_image {
	int fd;
	const uint8_t *data; /* the whole file, read-only */
	uint64_t size;
	struct elf_info elf;
	uint64_t bias;
	/* The dynamic loader named by PT_INTERP (lx_image_open_interp), or
	 * NULL for a static program. */
	struct lx_image *interp;
};

/* Maps the opened file `fd` (ownership taken) and validates it as an
 * executable mote can load. Returns ELF_OK or why not; lx_image_close
 * releases what was taken either way. */
enum elf_error lx_image_parse(struct lx_image *im, int fd);
void lx_image_close(struct lx_image *im);
/* For a program with PT_INTERP: opens and validates its dynamic loader,
 * resolved inside the guest's root like any guest path. Returns 0 (also
 * for a static program), -errno if the loader cannot be opened, or
 * -ENOEXEC if it is no loader mote can run (then *why says why). */
int lx_image_open_interp(struct lx_proc *p, struct lx_image *im,
			 enum elf_error *why);
/* Prints the one-line error for a failed lx_image_open_interp. */
void lx_interp_error(const char *prog, const struct lx_image *im, int err,
		     enum elf_error why);
/* Maps the image's segments (and its loader's) into the (empty) address
 * space of p and sets the brk; with ASLR (p->opts->aslr) at random
 * bases. Returns 0, -ENOMEM if it does not fit, or another -errno. */
int lx_image_load(struct lx_proc *p, struct lx_image *im);
/* Where the guest starts: the loader's entry, else the program's. */
uint64_t lx_image_entry(const struct lx_image *im);
/* Builds the initial stack; returns RSP, or 0 if the strings do not fit
 * (E2BIG). */
uint64_t lx_image_stack(struct lx_proc *p, const struct lx_image *im,
			char *const argv[], char *const envp[],
			const char *execfn);

/* mote run of a #! script: resolves guest path `path` as execve would
 * (interpreters inside the guest root, nested up to 4 deep) and returns the
 * new argv (args with the interpreter in front; malloc'd, NULL-terminated),
 * the loaded image and its guest path in exe. Returns 0 or -errno. */
int lx_resolve_script(struct lx_proc *p, const char *path, char *const *args,
		      char ***argv, struct lx_image *im, char *exe);

#endif
