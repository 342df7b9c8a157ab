/* Attack: reach the monitor's side of the guest: read, write or execute
 * the system region at 0xffffffff80000000 (page tables, GDT, IDT, the shim's
 * code, the syscall trampoline's copy, the per-vCPU TSS and stacks, the
 * page-table pool) and the rest of the upper half; jump into the shim.
 * Promise: every access is a catchable SIGSEGV at the address (the region is
 * supervisor-only, its page tables are not mapped at all, the rest of the
 * upper half is unmapped); nothing written lands (syscalls, which go
 * through that code, still work afterwards); an instruction fetch from the
 * shim's syscall entry (LSTAR) is at most a syscall, at CPL 3: on kvm_pvm
 * mote serves the fetch fault at LSTAR as the `syscall` it would follow
 * (docs/abi.md), elsewhere it is a plain SIGSEGV. Such a "syscall" whose
 * return address (RCX) is not a user address kills the process with
 * SIGSEGV (Linux would return there at CPL 3 and fault, catchably).
 * The syscall doorbell and trampoline are hostile/tramp.c; tests/guest's
 * fault_sysregion, fault_shim and fault_doorbell check the uncaught exit. */
#define _GNU_SOURCE
#include "hostile.h"
#include <sys/wait.h>

#define SYS 0xffffffff80000000ULL

static const uint64_t where[] = {
	SYS,	       /* PML4 */
	SYS + 0x1000,  /* GDT */
	SYS + 0x2000,  /* IDT */
	SYS + 0x3000,  /* shim */
	SYS + 0x3300,  /* shim: the exception path's iretq */
	SYS + 0x4000,  /* trampoline's backing page */
	SYS + 0x5000,  /* system PT */
	SYS + 0x7000,  /* PDPT */
	SYS + 0x8000,  /* vCPU 0: TSS */
	SYS + 0x8ff8,  /* vCPU 0: supervisor stack top */
	SYS + 0x48000, /* page-table pool */
	SYS + (1 << 20),
	0xffffffffff600000ULL, /* where Linux has the vsyscall page */
	0xfffffffffffff000ULL,
	0xffff800000000000ULL, /* first canonical upper-half address */
	0x0000800000000000ULL, /* first non-canonical: #GP, no address */
};

static void access_all(void)
{
	for (volatile unsigned i = 0; i < sizeof(where) / sizeof(where[0]);
	     i++) {
		volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)where[i];
		int noncanon = where[i] == 0x0000800000000000ULL;
		uintptr_t want = noncanon ? 0 : where[i];
		MUST_FAULT(SIGSEGV, -1, (void)*p);
		CHECK(caught_addr == want);
		MUST_FAULT(SIGSEGV, -1, *p = 0xcc);
		CHECK(caught_addr == want);
		MUST_FAULT(SIGSEGV, -1, *(volatile uint64_t *)p = 0);
		MUST_FAULT(SIGSEGV, -1,
			   __asm__ volatile("lock incl (%0)" ::"r"(p)
					    : "memory"));
		if (where[i] == SYS + 0x3000)
			continue; /* LSTAR: below */
		MUST_FAULT(SIGSEGV, -1,
			   __asm__ volatile("call *%0" ::"r"(p)
					    : "memory"));
	}
}

/* A jump to LSTAR with the registers of a syscall: getpid, returning to
 * the label through RCX like `syscall` would. */
static void lstar(void)
{
	volatile long r = SYS_getpid;
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
				 "jmp *%2\n1:"
				 : "+a"(r)
				 : "r"(SYS + 0x3000)
				 : "rcx", "r11", "memory");
	CHECK(caught_sig == SIGSEGV || (caught_sig == 0 && r == getpid()));
	CHECK(cpl() == 3);
	/* With a return address in the shim: not followed at CPL 0. mote
	 * kills the process with SIGSEGV there (Linux would return to it at
	 * CPL 3 and fault, catchably): in a child. */
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL);
		__asm__ volatile("jmp *%1" ::"a"((long)SYS_getpid),
				 "r"(SYS + 0x3000), "c"(SYS + 0x3040)
				 : "r11", "memory");
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

int main(void)
{
	hostile_init();
	access_all();
	lstar();
	/* The shim, GDT and IDT work as before: a syscall, a fault. */
	CHECK(getppid() >= 0);
	MUST_FAULT(SIGILL, ILL_ILLOPN, __asm__ volatile("ud2"));
	success();
}
