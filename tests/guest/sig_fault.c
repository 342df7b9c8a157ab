/* Faults delivered as catchable signals: SIGSEGV for a read of NULL
 * (SEGV_MAPERR, si_addr 0) and for a write to a read-only page
 * (SEGV_ACCERR, si_addr the page, REG_ERR's write bit), SIGFPE for an
 * integer division by zero (FPE_INTDIV), SIGILL for ud2 (ILL_ILLOPN at the
 * instruction) and SIGTRAP for int3. Handlers leave by siglongjmp, or
 * return after editing the ucontext (RIP past ud2, RAX after int3), which
 * rt_sigreturn must honour. */
#define _GNU_SOURCE
#include "proc.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile sig_atomic_t got_sig, got_code;
static void *volatile got_addr;
static volatile long long got_err, got_trapno;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	got_err = uc->uc_mcontext.gregs[REG_ERR];
	got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	siglongjmp(jb, 1);
}

static void on_ill(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	/* Resume after the 2-byte ud2. */
	if ((void *)uc->uc_mcontext.gregs[REG_RIP] == si->si_addr)
		uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void on_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	got_sig = sig;
	got_code = si->si_code;
	uc->uc_mcontext.gregs[REG_RAX] = 42;
}

static void catch_sig(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void reset(void)
{
	got_sig = got_code = 0;
	got_addr = (void *)-1;
	got_err = got_trapno = -1;
}

static volatile int sink;

static void segv(void)
{
	catch_sig(SIGSEGV, on_fault);
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		int *volatile p = NULL;
		sink = *p;
		CHECK(!"read of NULL did not fault");
	}
	CHECK(got_sig == SIGSEGV && got_code == SEGV_MAPERR);
	CHECK(got_addr == NULL);
	CHECK(got_trapno == 14 && (got_err & 2) == 0); /* #PF, a read */

	char *ro =
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile char *)(ro + 8) = 1;
		CHECK(!"write to a read-only page did not fault");
	}
	CHECK(got_sig == SIGSEGV && got_code == SEGV_ACCERR);
	CHECK(got_addr == ro + 8);
	CHECK(got_trapno == 14 && (got_err & 2) != 0); /* #PF, a write */
	CHECK(munmap(ro, 4096) == 0);

	/* The handler runs again: siglongjmp restored the mask. */
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		int *volatile p = (int *)8;
		sink = *p;
	}
	CHECK(got_sig == SIGSEGV && got_addr == (void *)8);
}

static void fpe(void)
{
	catch_sig(SIGFPE, on_fault);
	reset();
	if (sigsetjmp(jb, 1) == 0) {
		unsigned int zero = 0, lo = 1, hi = 0;
		__asm__ volatile("divl %2" : "+a"(lo), "+d"(hi) : "r"(zero));
		CHECK(!"division by zero did not fault");
	}
	CHECK(got_sig == SIGFPE && got_code == FPE_INTDIV);
	CHECK(got_trapno == 0); /* #DE */
}

extern char ud2_at[];

__attribute__((noinline)) static int run_ud2(void)
{
	int after = 0;
	__asm__ volatile(".globl ud2_at\n"
			 "ud2_at: ud2\n\t"
			 "movl $1, %0"
			 : "=r"(after)
			 :
			 : "memory");
	return after;
}

static void ill(void)
{
	catch_sig(SIGILL, on_ill);
	reset();
	CHECK(run_ud2() == 1);
	CHECK(got_sig == SIGILL && got_code == ILL_ILLOPN);
	CHECK(got_addr == (void *)ud2_at);
}

static void trap(void)
{
	long rax = 1;
	catch_sig(SIGTRAP, on_trap);
	reset();
	__asm__ volatile("int3" : "+a"(rax) : : "memory");
	CHECK(got_sig == SIGTRAP && got_code == SI_KERNEL);
	CHECK(rax == 42);
}

int main(void)
{
	segv();
	fpe();
	ill();
	trap();
	success();
}
