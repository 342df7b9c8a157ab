/* Helpers for the hostile guests: run an attempt, catch the signal it
 * raises, check which one, and carry on. */
#ifndef MOTE_TEST_HOSTILE_H
#define MOTE_TEST_HOSTILE_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#include "guest.h"

static sigjmp_buf hostile_jb;
static volatile int caught_sig, caught_code;
static volatile uintptr_t caught_addr;

static void hostile_catch(int sig, siginfo_t *si, void *uc)
{
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = (uintptr_t)si->si_addr;
	siglongjmp(hostile_jb, 1);
}

/* Catch the synchronous fault signals from here on. */
static inline void hostile_init(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = hostile_catch;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	int sigs[] = {SIGSEGV, SIGILL, SIGBUS, SIGTRAP, SIGFPE};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		CHECK(sigaction(sigs[i], &sa, NULL) == 0);
}

/* Runs the statement; it must raise signal `sig` with si_code `code`
 * (-1: any), and the program goes on after it. */
#define MUST_FAULT(sig, code, ...)                                             \
	do {                                                                   \
		caught_sig = 0;                                                \
		if (!sigsetjmp(hostile_jb, 1)) {                               \
			__VA_ARGS__;                                           \
		}                                                              \
		if (caught_sig != (sig) ||                                     \
		    ((code) != -1 && caught_code != (code))) {                 \
			printf("FAIL %s:%d: %s: signal %d code %d, want %d "   \
			       "code %d\n",                                    \
			       __FILE__, __LINE__, #__VA_ARGS__, caught_sig,   \
			       caught_code, (sig), (code));                    \
			fflush(stdout);                                        \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* The code segment's privilege level: 3 for a user. */
static inline unsigned cpl(void)
{
	unsigned short cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

#endif
