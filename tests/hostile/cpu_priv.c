/* Attack: take over the CPU from CPL 3: load a new IDT/GDT/LDT/TSS, switch
 * CR3, write CR0, read/write MSRs, port I/O (including the monitor's own
 * ports), halt, mask interrupts, flush TLB/caches, swapgs, sysret, iretq to
 * a CPL-0 frame, software interrupts through the shim's gates, the VMX/SVM
 * hypercall instructions, and read the descriptor-table registers (sgdt,
 * sidt, sldt, str, smsw).
 * Promise (docs/security.md): each is refused by the CPU at CPL 3 and
 * becomes the signal Linux gives: SIGSEGV with si_code SI_KERNEL for #GP
 * (the IDT gates are DPL 0, so `int n` is #GP too, as on Linux; int3 is
 * SIGTRAP), SIGILL ILL_ILLOPN for #UD. The program catches each one and
 * goes on, still at CPL 3; the monitor is never reached with a request.
 * The descriptor-table reads: mote's guest CR4 has UMIP where the CPU does,
 * and mote does not emulate them, so they are SIGSEGV (Linux >= 5.4 would
 * emulate sgdt/sidt/smsw/sldt/str with dummy values); where the CPU has no
 * UMIP they run and show only the guest's own layout (the system region at
 * 0xffffffff80000000), never a host address.
 * CPUID without VMX/SVM is tests/guest/cpu_surface.c (and suites/cpu.sh). */
#define _GNU_SOURCE
#include "hostile.h"

#define GP(...) MUST_FAULT(SIGSEGV, SI_KERNEL, __asm__ volatile(__VA_ARGS__))

/* A descriptor-table read: #GP, or (no UMIP) a guest-region base. */
#define DT_READ(insn)                                                          \
	do {                                                                   \
		unsigned char dt[10] = {0};                                    \
		caught_sig = 0;                                                \
		if (!sigsetjmp(hostile_jb, 1))                                 \
			__asm__ volatile(insn " %0" : "=m"(dt));               \
		uint64_t base;                                                 \
		memcpy(&base, dt + 2, 8);                                      \
		CHECK(caught_sig == SIGSEGV ||                                 \
		      (caught_sig == 0 && base >= 0xffffffff80000000ULL));     \
	} while (0)

static void control(void)
{
	unsigned char dt[10] = {0};
	volatile unsigned long v = 0;
	GP("lidt %0" ::"m"(dt));
	GP("lgdt %0" ::"m"(dt));
	GP("lldt %w0" ::"r"(0));
	GP("ltr %w0" ::"r"(0x40));
	GP("mov %0, %%cr3" ::"r"(v));
	GP("mov %%cr3, %0" : "=r"(v));
	GP("mov %0, %%cr0" ::"r"(v));
	GP("mov %0, %%cr4" ::"r"(v));
	GP("clts");
	GP("lmsw %w0" ::"r"(1));
	GP("invlpg (%0)" ::"r"(dt));
	GP("wbinvd");
	GP("invd");
	GP("swapgs");
	GP("xsetbv" ::"c"(0), "a"(3), "d"(0));
}

static void msrs_and_ports(void)
{
	/* LSTAR, EFER, the APIC base: the ones that would matter. */
	unsigned msrs[] = {0xc0000082, 0xc0000080, 0x1b};
	for (volatile unsigned i = 0; i < 3; i++) {
		GP("rdmsr" ::"c"(msrs[i]) : "rax", "rdx");
		GP("wrmsr" ::"c"(msrs[i]), "a"(0), "d"(0));
	}
	GP("rdpmc" ::"c"(0) : "rax", "rdx");
	/* The monitor's own ports (include/mote/abi.h) and a PC one. */
	unsigned short ports[] = {0x80, 0xf0, 0xf1, 0xf2, 0x3f8};
	for (volatile unsigned i = 0; i < 5; i++) {
		GP("outb %%al, %%dx" ::"d"(ports[i]), "a"(0));
		GP("inb %%dx, %%al" ::"d"(ports[i]) : "rax");
	}
	GP("rep outsb" ::"d"(0xf0), "S"(ports), "c"(1));
}

/* Whether an iretq from user mode to user mode faults, as no real CPU
 * does. */
static int user_iretq_faults(void)
{
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("pushq $0x2b\n\tpushq %%rsp\n\taddq $8, (%%rsp)\n\t"
				 "pushfq\n\tpushq $0x33\n\t"
				 "lea 1f(%%rip), %%rax\n\tpushq %%rax\n\t"
				 "iretq\n1:" ::
					 : "rax", "memory");
	if (caught_sig)
		printf("note: a user-mode iretq faults on this CPU (QEMU's "
		       "emulator with SMAP): iretq to CPL 0 checked for "
		       "SIGSEGV alone\n");
	return caught_sig != 0;
}

static void flow(void)
{
	GP("hlt");
	GP("cli");
	GP("sti");
	GP("sysretq");
	/* An iretq to a CPL-0 code selector: #GP, no ring change. QEMU's
	 * emulator (the test VM) reads every iretq frame as a supervisor
	 * access, so with SMAP even a user-to-user iretq is a #PF there
	 * (Linux itself oopses on it): where the plain one faults, the CPU is
	 * that emulator and the check is for the fault alone. */
	volatile int iret_code = user_iretq_faults() ? -1 : SI_KERNEL;
	MUST_FAULT(SIGSEGV, iret_code,
		   __asm__ volatile("pushq $0x18\n\tpushq %%rsp\n\tpushfq\n\t"
				    "pushq $0x10\n\tlea 1f(%%rip), %%rax\n\t"
				    "pushq %%rax\n\tiretq\n1:" ::
					    : "rax", "memory"));
	/* Software interrupts into the shim's vectors: the gates are DPL 0. */
	GP("int $0x0d");
	GP("int $0x0e");
	GP("int $0x20");
	GP("int $0x80");
	GP("int $0x01");
	MUST_FAULT(SIGTRAP, -1, __asm__ volatile("int3"));
	/* The two gates Linux opens to CPL 3: #BP and #OF. */
	MUST_FAULT(SIGTRAP, -1, __asm__ volatile("int $0x03"));
	GP("int $0x04");
	/* Hypercalls: not on the path of any exit mote serves. */
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("vmcall" ::: "memory");
	CHECK(caught_sig == SIGSEGV || caught_sig == SIGILL);
}

int main(void)
{
	hostile_init();
	control();
	msrs_and_ports();
	flow();
	DT_READ("sgdt");
	DT_READ("sidt");
	volatile unsigned long v = 0;
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("smsw %0" : "=r"(v));
	CHECK(caught_sig == SIGSEGV || caught_sig == 0);
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("sldt %0" : "=r"(v));
	CHECK(caught_sig == SIGSEGV || (caught_sig == 0 && v == 0));
	caught_sig = 0;
	if (!sigsetjmp(hostile_jb, 1))
		__asm__ volatile("str %0" : "=r"(v));
	CHECK(caught_sig == SIGSEGV || (caught_sig == 0 && v == 0x40));
	CHECK(cpl() == 3);
	success();
}
