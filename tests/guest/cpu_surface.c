/* What CPUID tells a guest about the machine under it: no VMX, no SVM (no
 * nested virtualization to attack), and with the argument "leaves", none of
 * KVM's paravirtual leaves (no "KVMKVMKVM" signature, no kvmclock).
 * tests/suites/cpu.sh passes "leaves" except on kvm_pvm, whose guests run
 * CPUID at CPL 3 on the host CPU itself (see docs/security.md). The
 * features a program picks code paths by are still there (cpu_simd.c). */
#include <cpuid.h>
#include <string.h>

#include "guest.h"

int main(int argc, char **argv)
{
	unsigned a, b, c, d;
	CHECK(__get_cpuid(1, &a, &b, &c, &d));
	CHECK(!(c & (1u << 5))); /* VMX */
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		CHECK(!(c & (1u << 2))); /* SVM */
	if (argc < 2 || strcmp(argv[1], "leaves") != 0) {
		puts("SUCCESS");
		return 0;
	}
	/* The hypervisor leaves: whatever a CPU returns for an absent leaf,
	 * it is not KVM's signature. */
	__cpuid(0x40000000, a, b, c, d);
	char sig[13] = {0};
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	CHECK(strcmp(sig, "KVMKVMKVM") != 0);
	__cpuid(0x40000001, a, b, c, d); /* KVM_CPUID_FEATURES */
	CHECK(!(a & 1) || strcmp(sig, "KVMKVMKVM") != 0);
	puts("SUCCESS");
	return 0;
}
