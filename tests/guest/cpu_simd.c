/* CPUID, XCR0 and CR4 let libc's SSE/AVX/AVX2/AVX-512 code paths run: the
 * instructions execute, and the string functions libc picked by CPUID give
 * right answers on data that exercises the wide paths. */
#include <cpuid.h>

#include "guest.h"

static unsigned long long xgetbv0(void)
{
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((unsigned long long)hi << 32) | lo;
}

int main(void)
{
	unsigned a, b, c, d;
	CHECK(__get_cpuid(1, &a, &b, &c, &d));
	CHECK(d & (1u << 26));	 /* SSE2 */
	CHECK(!(c & (1u << 5))); /* no VMX for the guest */
	int osxsave = (c >> 27) & 1;
	int avx = (c >> 28) & 1;
	CHECK(osxsave);
	unsigned long long xcr0 = xgetbv0();
	CHECK((xcr0 & 3) == 3); /* x87 + SSE state */
	if (avx) {
		CHECK(xcr0 & 4); /* AVX state enabled */
		__asm__ volatile("vxorps %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
	}
	__cpuid_count(7, 0, a, b, c, d);
	if (avx && (b & (1u << 5))) /* AVX2 */
		__asm__ volatile("vpaddd %%ymm1, %%ymm1, %%ymm1" ::: "xmm1");
	if (b & (1u << 16)) { /* AVX-512F */
		CHECK((xcr0 & 0xe0) == 0xe0);
		__asm__ volatile("vpxord %%zmm2, %%zmm2, %%zmm2" ::: "xmm2");
	}
	/* Long buffers take libc's widest memcpy/memchr/strlen paths. */
	static char big[1 << 16];
	memset(big, 'x', sizeof(big) - 1);
	CHECK(strlen(big) == sizeof(big) - 1);
	big[40000] = 'y';
	CHECK(memchr(big, 'y', sizeof(big)) == big + 40000);
	static char copy[1 << 16];
	memcpy(copy, big, sizeof(big));
	CHECK(memcmp(copy, big, sizeof(big)) == 0);
	printf("avx %d avx512 %d\n", avx, !!(b & (1u << 16)));
	success();
}
