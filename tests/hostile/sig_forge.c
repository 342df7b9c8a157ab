/* Attack: forge the frame rt_sigreturn restores, to get what the kernel
 * never hands a user: CS and SS selectors of CPL 0 (0x10, 0x18), RFLAGS with
 * IOPL 3, VM, NT and IF off; a non-canonical RIP or RSP; FPU state pointing
 * into the shim or holding garbage; the frame itself at a bad address. Both
 * from a real handler (editing its ucontext) and by calling rt_sigreturn
 * directly with RSP at a frame built from scratch.
 * Promise: the guest stays at CPL 3 with IOPL 0 (`cli` still faults), VM
 * and IF as a user has them; a frame that cannot be restored kills the
 * process with SIGSEGV, as Linux does. mote differs from Linux on purpose
 * for CS/SS: Linux takes them from the frame (forcing RPL 3, so 0x10 would
 * fault as 0x13 on the way out), mote has one user code and data segment
 * and always restores those. NT: kept or dropped, it must never reach the
 * shim's own iretq (a #GP at CPL 0 that killed the monitor; fixed). */
#define _GNU_SOURCE
#include "hostile.h"
#include <sys/wait.h>
#include <ucontext.h>

#define EFL_IF	 0x200UL
#define EFL_IOPL 0x3000UL
#define EFL_NT	 0x4000UL
#define EFL_VM	 0x20000UL
/* In the kernel's sigcontext: cs, gs, fs, ss in one 64-bit slot. */
#define CSGSFS(cs, ss) ((uint64_t)(cs) | (uint64_t)(ss) << 48)

static char stack[65536] __attribute__((aligned(16)));
static volatile int mode;

static uint64_t flags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/* The state a forged return left: still a user, nothing privileged. */
static void check_user(void)
{
	CHECK(cpl() == 3);
	unsigned short ss;
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	CHECK((ss & 3) == 3);
	uint64_t f = flags();
	CHECK((f & (EFL_IOPL | EFL_VM)) == 0 && (f & EFL_IF));
	MUST_FAULT(SIGSEGV, SI_KERNEL, __asm__ volatile("cli"));
	MUST_FAULT(SIGSEGV, SI_KERNEL, __asm__ volatile("outb %al, $0x80"));
	/* A fault and a syscall from here: the monitor's paths back to user
	 * mode cope with whatever flags survived. */
	MUST_FAULT(SIGILL, ILL_ILLOPN, __asm__ volatile("ud2"));
	CHECK(getpid() > 0);
	/* NT set by popf, which any user may do, then a fault: the signal's
	 * way back to user mode must not iretq with it. */
	MUST_FAULT(SIGILL, ILL_ILLOPN,
		   __asm__ volatile("pushfq\n\torq $0x4000, (%%rsp)\n\t"
				    "popfq\n\tud2" ::
					    : "memory"));
}

static void landed(void)
{
	check_user();
	success();
}

/* Edits the real frame of a SIGUSR1 handler. */
static void edit(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_CSGSFS] = CSGSFS(0x10, 0x18);
	g[REG_EFL] |= EFL_IOPL | EFL_VM | EFL_NT;
	g[REG_EFL] &= ~EFL_IF;
	if (mode == 1)
		g[REG_RIP] = 0x800000000000ULL; /* non-canonical */
	if (mode == 2)
		g[REG_RSP] = 0xffff800000000000ULL;
	if (mode == 3)
		uc->uc_mcontext.fpregs = (void *)SHIM_PTR;
	if (mode == 4)
		uc->uc_mcontext.fpregs = (void *)stack; /* garbage state */
}

/* A frame made from nothing, at `rsp - 8` as the handler's ret leaves it. */
struct frame {
	uint64_t pretcode;
	ucontext_t uc;
};

static void raw_sigreturn(struct frame *f)
{
	__asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall" ::"r"(
				 (char *)f + 8)
			 : "memory");
	__builtin_unreachable();
}

static void forge_raw(void)
{
	static struct frame f;
	memset(&f, 0, sizeof(f));
	greg_t *g = f.uc.uc_mcontext.gregs;
	g[REG_RIP] = (uint64_t)(uintptr_t)landed;
	g[REG_RSP] = (uint64_t)(uintptr_t)(stack + sizeof(stack) - 8);
	g[REG_EFL] = EFL_IOPL | EFL_VM | EFL_NT | 0x2;
	g[REG_CSGSFS] = CSGSFS(0x10, 0x18);
	raw_sigreturn(&f);
}

/* In a child: `how` must kill it with SIGSEGV. */
static void dies(int how)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL);
		mode = how;
		if (how == 4) /* reserved MXCSR and XSAVE header bits */
			memset(stack, 0xff, 4096);
		if (how == 5)
			raw_sigreturn((struct frame *)0x1000); /* unmapped */
		raise(SIGUSR1);
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV) {
		printf("case %d: status %#x\n", how, st);
		CHECK(0);
	}
}

int main(void)
{
	hostile_init();
	struct sigaction sa = {0};
	sa.sa_sigaction = edit;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	/* A real frame, edited: the handler returns here. */
	raise(SIGUSR1);
	check_user();
	for (int how = 1; how <= 5; how++)
		dies(how);
	forge_raw(); /* ends in landed() */
}
