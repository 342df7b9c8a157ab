/* Memory faults as Linux reports them to a SA_SIGINFO handler: a PROT_NONE
 * guard page in the middle of a mapping (SEGV_ACCERR), a write to a page
 * made read-only (SEGV_ACCERR), an access after munmap (SEGV_MAPERR), a
 * jump into a page mapped without PROT_EXEC (SEGV_ACCERR); si_addr is the
 * byte touched each time, and the pages around stay usable. */
#define _GNU_SOURCE
#include "guest.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>

#define PG 4096L
#define RW (PROT_READ | PROT_WRITE)

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile long got_err;
static volatile char sink;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	got_err = uc->uc_mcontext.gregs[REG_ERR];
	siglongjmp(jb, 1);
}

enum how { READ, WRITE, EXEC };

/* Touches p the way `how` says; returns 1 if that faulted. */
static int faults(char *p, enum how how)
{
	got_sig = got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(jb, 1))
		return 1;
	if (how == READ)
		sink = *(volatile char *)p;
	else if (how == WRITE)
		*(volatile char *)p = 1;
	else
		((void (*)(void))(void *)p)();
	return 0;
}

static void expect(char *p, enum how how, int code)
{
	CHECK(faults(p, how));
	CHECK(got_sig == SIGSEGV);
	CHECK(got_code == code);
	CHECK(got_addr == p);
}

static void guard(void)
{
	char *p = mmap(NULL, 5 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 3, 5 * PG);
	/* One 4 KiB guard page in the middle of the mapping. */
	CHECK(mprotect(p + 2 * PG, PG, PROT_NONE) == 0);
	expect(p + 2 * PG, READ, SEGV_ACCERR);
	expect(p + 2 * PG + 100, WRITE, SEGV_ACCERR);
	expect(p + 3 * PG - 1, READ, SEGV_ACCERR);
	CHECK(!faults(p + 2 * PG - 1, WRITE) && !faults(p + 3 * PG, WRITE));
	CHECK(p[PG] == 3 && p[3 * PG + 1] == 3);
	/* Mapped PROT_NONE from the start: the same. */
	char *n = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(n != MAP_FAILED);
	expect(n + 8, READ, SEGV_ACCERR);
	CHECK(mprotect(p + 2 * PG, PG, RW) == 0);
	CHECK(p[2 * PG] == 3);
	CHECK(munmap(p, 5 * PG) == 0 && munmap(n, PG) == 0);
}

static void readonly(void)
{
	char *p = mmap(NULL, 3 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[PG] = 5;
	CHECK(mprotect(p + PG, PG, PROT_READ) == 0);
	CHECK(p[PG] == 5);
	expect(p + PG + 7, WRITE, SEGV_ACCERR);
	CHECK(got_err & 2); /* the write bit of the #PF error code */
	CHECK(p[PG] == 5);
	CHECK(!faults(p, WRITE) && !faults(p + 2 * PG, WRITE));
	CHECK(munmap(p, 3 * PG) == 0);
}

static void unmapped(void)
{
	char *p = mmap(NULL, 3 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 1, 3 * PG);
	CHECK(munmap(p + PG, PG) == 0);
	expect(p + PG, READ, SEGV_MAPERR);
	expect(p + PG + 9, WRITE, SEGV_MAPERR);
	CHECK(p[0] == 1 && p[2 * PG] == 1);
	CHECK(munmap(p, 3 * PG) == 0);
	expect(p, READ, SEGV_MAPERR);
}

static void noexec(void)
{
	static const unsigned char ret[] = {0xc3};
	char *p = mmap(NULL, 2 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memcpy(p, ret, 1);
	memcpy(p + PG, ret, 1);
	expect(p, EXEC, SEGV_ACCERR);
	CHECK(got_err & 16); /* an instruction fetch */
	/* Made executable, the same byte runs; the page next to it not. */
	CHECK(mprotect(p, PG, PROT_READ | PROT_EXEC) == 0);
	CHECK(!faults(p, EXEC));
	expect(p + PG, EXEC, SEGV_ACCERR);
	CHECK(mprotect(p, PG, PROT_READ) == 0);
	expect(p, EXEC, SEGV_ACCERR);
	CHECK(munmap(p, 2 * PG) == 0);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	guard();
	readonly();
	unmapped();
	noexec();
	success();
}
