/* arch_prctl (FS and GS bases, checked through the segment registers),
 * set_tid_address, set_robust_list, rseq. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/* A syscall that leaves errno (a TLS variable, so reached through FS)
 * alone: usable while FS points elsewhere. */
static long raw2(long nr, long a, long b)
{
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return r;
}

static void fs_base(void)
{
	uint64_t old = 0, got = 0, via_fs = 0;
	static uint64_t block[2] = {0x1122334455667788ULL, 0};
	CHECK(raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&old) == 0);
	CHECK(old != 0); /* libc set up its thread pointer */
	long set = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
	long get = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(via_fs));
	long back = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)old);
	CHECK(set == 0 && get == 0 && back == 0);
	CHECK(got == (uint64_t)block && via_fs == block[0]);
	CHECK(raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got) == 0 && got == old);
}

static void gs_base(void)
{
	static uint64_t block[2] = {0xfeedfacecafebeefULL, 0};
	uint64_t got = 1, via_gs = 0;
	CHECK(raw2(SYS_arch_prctl, ARCH_SET_GS, (long)block) == 0);
	CHECK(raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&got) == 0);
	CHECK(got == (uint64_t)block);
	__asm__ volatile("movq %%gs:0, %0" : "=r"(via_gs));
	CHECK(via_gs == block[0]);
	CHECK(raw2(SYS_arch_prctl, ARCH_SET_GS, 0) == 0);
	CHECK(raw2(SYS_arch_prctl, ARCH_GET_GS, (long)&got) == 0 && got == 0);
}

static void prctl_errors(void)
{
	uint64_t v;
	CHECK_ERR(syscall(SYS_arch_prctl, 0x9999, &v), EINVAL);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_GS, SHIM_PTR), EFAULT);
	/* Not a user address: refused, the base is unchanged. */
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_GS, 1ULL << 47), EPERM);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, -4096L), EPERM);
	CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &v) == 0 && v != 0);
}

static void thread_calls(void)
{
	static int tid_word;
	long tid = syscall(SYS_gettid);
	CHECK(tid > 0);
	CHECK(syscall(SYS_set_tid_address, &tid_word) == tid);
	CHECK(syscall(SYS_set_tid_address, NULL) == tid);

	static uint64_t head[3];
	head[0] = (uint64_t)head;
	CHECK(syscall(SYS_set_robust_list, head, 24) == 0);
	CHECK_ERR(syscall(SYS_set_robust_list, head, 23), EINVAL);
	CHECK_ERR(syscall(SYS_set_robust_list, head, 0), EINVAL);
	static uint32_t rseq_area[8] __attribute__((aligned(32)));
	CHECK_ERR(syscall(SYS_rseq, rseq_area, 32, 0, 0x53053053), ENOSYS);
}

int main(void)
{
	fs_base();
	gs_base();
	prctl_errors();
	thread_calls();
	success();
}
