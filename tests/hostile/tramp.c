/* Attack: the CPL-3 syscall trampoline at 0x8000 (`movb %al, 0x9000;
 * jmp *%rcx`) and its doorbell page at 0x9000, on kvm_pvm: jump into the
 * trampoline at every byte offset with crafted registers (RAX a syscall
 * number, RCX a user label, the shim, or a non-canonical address), ring the
 * doorbell from the guest's own code, read it, write it with a wider store.
 * Promise: the trampoline gives exactly a syscall at CPL 3 and nothing
 * else; a jump through RCX into the shim or a non-canonical RCX is a
 * SIGSEGV; ringing the doorbell by hand is a syscall returning to RCX; any
 * other doorbell access kills the process with SIGSEGV (Linux has nothing
 * mapped there: SIGSEGV too, but catchable; mote ends the process, as
 * docs/abi.md says). Where the VM has no trampoline (hardware KVM) both
 * pages are unmapped and every attempt is a plain SIGSEGV. Every attempt
 * runs in a child; the parent checks how it ended and goes on. */
#define _GNU_SOURCE
#include "hostile.h"
#include <sys/wait.h>

#define TRAMP	 0x8000UL
#define DOORBELL 0x9000UL

/* Jumps to `to` with RAX = nr and RCX = ret; ret lands at the label. */
static long jump(uintptr_t to, long nr, uintptr_t ret)
{
	long r = nr;
	__asm__ volatile("mov %2, %%rcx\n\t"
			 "test %%rcx, %%rcx\n\t"
			 "jnz 2f\n\t"
			 "lea 1f(%%rip), %%rcx\n"
			 "2:\tjmp *%1\n"
			 "1:"
			 : "+a"(r)
			 : "r"(to), "r"(ret)
			 : "rcx", "r11", "memory");
	return r;
}

/* The child's end: 0 (came back at CPL 3, or a caught SIGSEGV/SIGILL
 * where it installed a handler) or the signal that killed it. */
static int in_child(void (*fn)(int), int arg)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		fn(arg);
		_exit(cpl() == 3 ? 0 : 99);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		return WTERMSIG(st);
	printf("child exited %d\n", WEXITSTATUS(st));
	CHECK(0);
	return -1;
}

static int have_tramp;

/* Reads the trampoline page: 0 if it is there, else killed by SIGSEGV. */
static void probe(int arg)
{
	(void)*(volatile uint8_t *)TRAMP;
}

/* At each offset, a getpid: what comes back is the pid or a fault. */
static void at_offset(int off)
{
	hostile_init();
	caught_sig = 0;
	volatile long r = 0;
	if (!sigsetjmp(hostile_jb, 1))
		r = jump(TRAMP + off, SYS_getpid, 0);
	if (caught_sig == 0 && off == 0)
		CHECK(r == getpid());
	CHECK(caught_sig == 0 || caught_sig == SIGSEGV || caught_sig == SIGILL);
}

static void ret_to(int which)
{
	const uintptr_t to[] = {0xffffffff80003000UL, 0xffffffff80003040UL,
				0x800000000000UL, DOORBELL};
	jump(TRAMP, SYS_getpid, to[which]);
	_exit(3); /* never back here */
}

static void bell(int how)
{
	volatile long r = SYS_getpid;
	switch (how) {
	case 0: /* by hand: a syscall returning to RCX */
		__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
				 "movb %%al, 0x9000\n1:"
				 : "+a"(r)
				 :
				 : "rcx", "r11", "memory");
		CHECK(r == getpid());
		break;
	case 1: (void)*(volatile uint8_t *)DOORBELL; break;
	case 2: *(volatile uint16_t *)DOORBELL = 39; break;
	case 3: *(volatile uint8_t *)(DOORBELL + 1) = 39; break;
	}
}

int main(void)
{
	have_tramp = in_child(probe, 0) == 0;
	for (int off = 0; off < 9; off++) {
		int s = in_child(at_offset, off);
		/* Garbage decodes may ring the doorbell wrongly: killed. */
		CHECK(s == 0 || s == SIGSEGV);
	}
	for (int w = 0; w < 4; w++)
		CHECK(in_child(ret_to, w) == SIGSEGV);
	CHECK(in_child(bell, 0) == (have_tramp ? 0 : SIGSEGV));
	for (int how = 1; how < 4; how++)
		CHECK(in_child(bell, how) == SIGSEGV);
	printf("trampoline %s\n", have_tramp ? "present" : "absent");
	success();
}
