/* lx's blocking calls on the fake process (tests/lib/fake.c), no KVM:
 * a kick (a host signal) that came before the call ends it with EINTR
 * instead of letting it sleep (block.c), a signal in the instructions
 * before the syscall is moved to the cancel path, and the handlers that
 * block refuse bad fds, pointers and lengths. An alarm ends the binary if
 * a call sleeps: its plan then comes out short. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "fake.h"
#include "unit.h"

extern const char block_begin[], block_end[], block_cancel[];

static struct fake fk;
static uint64_t buf; /* a page of guest memory */
static uint64_t rfd, wfd;

static long call(long (*fn)(struct lx_thread *, const uint64_t *), uint64_t a0,
		 uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	return fn(fk.t, a);
}

/* What the host signal handler does, at a fabricated RIP. */
static uint64_t kick_at(uintptr_t rip)
{
	ucontext_t uc;
	memset(&uc, 0, sizeof(uc));
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)rip;
	lx_block_signal(&uc);
	return (uint64_t)uc.uc_mcontext.gregs[REG_RIP];
}

static void setup(void)
{
	fake_init(&fk, 64ULL << 20);
	buf = (uint64_t)call(lx_sys_mmap, 0, 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	int *fds = gm_user(&fk.p->vm, buf, 8, GM_WRITE);
	if (!fds || call(lx_sys_pipe2, buf, 0, 0, 0, 0, 0) != 0)
		_exit(1);
	rfd = (uint64_t)fds[0];
	wfd = (uint64_t)fds[1];
	lx_block_clear();
	alarm(20);
}

/* A kick before the read of an empty pipe: EINTR, not sleep. */
static void kicked_read(void)
{
	lx_block_clear();
	CHECK(kick_at(0) == 0); /* a RIP outside the window stays */
	CHECK(call(lx_sys_read, rfd, buf, 1, 0, 0, 0) == -EINTR);
	CHECK(call(lx_sys_readv, rfd, buf, 0, 0, 0, 0) == -EINTR);
	lx_block_clear();
	CHECK(call(lx_sys_write, wfd, buf, 1, 0, 0, 0) == 1);
	CHECK(call(lx_sys_read, rfd, buf + 8, 1, 0, 0, 0) == 1);
}

/* A signal between the look at the flag and the syscall instruction. */
static void window(void)
{
	uintptr_t b = (uintptr_t)block_begin, e = (uintptr_t)block_end;
	CHECK(b < e);
	CHECK(kick_at(b) == (uintptr_t)block_cancel);
	CHECK(kick_at(e) == (uintptr_t)block_cancel);
	CHECK(kick_at(e + 2) == e + 2); /* past `syscall`: the kernel's */
	CHECK(kick_at(b - 1) == b - 1);
	lx_block_clear();
}

static void futex_wait(void)
{
	uint32_t *w = gm_user(&fk.p->vm, buf + 64, 4, GM_WRITE);
	CHECK(w != NULL);
	*w = 1;
	lx_block_clear();
	CHECK(call(lx_sys_futex, buf + 64, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0) ==
	      -EAGAIN);
	kick_at(0);
	CHECK(call(lx_sys_futex, buf + 64, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0) ==
	      -EINTR);
	lx_block_clear();
	/* The sixth argument reaches the kernel: a zero bitset is EINVAL. */
	CHECK(call(lx_sys_futex, buf + 64, FUTEX_WAIT_BITSET_PRIVATE, 1, 0, 0,
		   0) == -EINVAL);
	CHECK(call(lx_sys_futex, 0x10, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0) ==
	      -EFAULT);
}

/* The negative cases of the handlers that now block through lx_block. */
static void bad_input(void)
{
	lx_block_clear();
	CHECK(call(lx_sys_read, 999, buf, 1, 0, 0, 0) == -EBADF);
	CHECK(call(lx_sys_read, (uint64_t)-1, buf, 1, 0, 0, 0) == -EBADF);
	CHECK(call(lx_sys_write, wfd, 0x10, 1, 0, 0, 0) == -EFAULT);
	CHECK(call(lx_sys_write, wfd, buf, 1ULL << 62, 0, 0, 0) == -EFAULT);
	CHECK(call(lx_sys_read, rfd, 0, 1, 0, 0, 0) == -EFAULT);
	CHECK(call(lx_sys_wait4, (uint64_t)-1, 0, 0, 0, 0, 0) == -ECHILD);
	CHECK(call(lx_sys_wait4, (uint64_t)-1, 0x10, 0, 0, 0, 0) == -EFAULT);
	CHECK(call(lx_sys_flock, 999, LOCK_EX, 0, 0, 0, 0) == -EBADF);
	CHECK(call(lx_sys_recvfrom, rfd, buf, 1, 0, 0, 0) == -ENOTSOCK);
}

static void cases(void)
{
	RUN(kicked_read);
	RUN(window);
	RUN(futex_wait);
	RUN(bad_input);
}

int main(void)
{
	return unit_main(cases, setup);
}
