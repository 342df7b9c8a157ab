/* The initial process stack: argc, argv, envp, auxv and their strings. */
#ifndef MOTE_LX_STACK_H
#define MOTE_LX_STACK_H

#include <stddef.h>
#include <stdint.h>

#define STACK_MAX_AUXV 32

struct stack_image {
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated */
	const char *execfn;
	const char *platform;
	uint8_t random[16];
	/* (type, value) pairs without AT_RANDOM, AT_EXECFN, AT_PLATFORM and
	 * AT_NULL, which the builder adds because they point into the stack. */
	uint64_t auxv[STACK_MAX_AUXV][2];
	int nauxv;
};

/* Writes the image below `top` (a guest address whose host address is
 * `host_top`), using at most `room` bytes. Returns the initial RSP (16-byte
 * aligned, pointing at argc) or 0 if the image does not fit (E2BIG). */
uint64_t stack_build(const struct stack_image *img, uint8_t *host_top,
		     uint64_t top, uint64_t room);

#endif
