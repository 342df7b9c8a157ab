/* Helpers for guest test programs: checks that name the failing line. */
#ifndef MOTE_TEST_GUEST_H
#define MOTE_TEST_GUEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("FAIL %s:%d: %s (errno %d %s)\n", __FILE__,     \
			       __LINE__, #cond, errno, strerror(errno));       \
			fflush(stdout);                                        \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* A raw syscall must fail with exactly this errno. */
#define CHECK_ERR(call, err)                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		if (r_ != -1 || errno != (err)) {                              \
			printf("FAIL %s:%d: %s = %ld errno %d (%s), want "     \
			       "%s\n",                                         \
			       __FILE__, __LINE__, #call, r_, errno,           \
			       strerror(errno), #err);                         \
			fflush(stdout);                                        \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* An address that is never mapped in a guest: inside the user range but in
 * the unmapped page below USER_MIN. */
#define BAD_PTR ((void *)0x1000)
/* The shim's page: mapped, but supervisor-only. */
#define SHIM_PTR ((void *)0xffffffff80003000ULL)

static inline void success(void)
{
	printf("SUCCESS\n");
	fflush(stdout);
	exit(0);
}

#endif
