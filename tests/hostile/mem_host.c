/* Attack: make the monitor read or write its own memory for the guest.
 * Guest pointers are one addition away from host addresses (docs/abi.md),
 * so guess where mote's heap, stacks, libraries and program live on a
 * typical x86-64 host (0x5555..., 0x7f..., 0x7ffc..., 0x7fff...), and pass
 * those, pointers near the top of the user half, and buffer+length pairs
 * that wrap around the address space, to calls that read (write, pwrite,
 * open, stat's path, sendto) and that write (read, pread, getcwd, uname,
 * stat's buffer, readlink, recvfrom, getrandom); also read(2) into the
 * program's own read-only text and into a PROT_NONE page; mmap MAP_FIXED
 * over a guessed host address.
 * Promise: EFAULT each time (the guest's address space is its own memory
 * and nothing else), no byte written to the guest's pipe or file, nothing
 * changed in the guest's text, the monitor alive. A MAP_FIXED mapping
 * beyond the guest's memory (--memory) is ENOMEM, where Linux would map
 * it: the guest address space is the VM's, not the host's. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

static const unsigned long guesses[] = {
	0x555555554000UL,     0x555555559000UL,
	0x555555800000UL, /* PIE, heap */
	0x7f0000000000UL,     0x7ffff7dd0000UL,
	0x7ffff7ffd000UL, /* mmap, libs */
	0x7ffc00000000UL,     0x7fffffffd000UL,
	0x7ffffffff000UL,		    /* stacks */
	0x7fffffffffffUL - 7, 0x40000000UL, /* top; 1 GiB */
	0x100000000UL,	      0x10000000000UL,
};

static int p[2], sv[2], fd;

int main(void);

static void at(unsigned long a)
{
	void *b = (void *)a;
	struct stat st;
	CHECK_ERR(syscall(SYS_write, p[1], b, 16), EFAULT);
	CHECK_ERR(syscall(SYS_pwrite64, fd, b, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_open, b, O_RDONLY), EFAULT);
	CHECK_ERR(syscall(SYS_stat, b, &st), EFAULT);
	CHECK_ERR(syscall(SYS_sendto, sv[0], b, 16, 0, NULL, 0), EFAULT);
	CHECK_ERR(syscall(SYS_read, p[0], b, 16), EFAULT);
	CHECK_ERR(syscall(SYS_pread64, fd, b, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_getcwd, b, 64), EFAULT);
	CHECK_ERR(syscall(SYS_uname, b), EFAULT);
	CHECK_ERR(syscall(SYS_stat, "/", b), EFAULT);
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", b, 64), EFAULT);
	CHECK_ERR(syscall(SYS_recvfrom, sv[1], b, 16, MSG_DONTWAIT, NULL, NULL),
		  EFAULT);
	CHECK_ERR(syscall(SYS_getrandom, b, 16, 0), EFAULT);
}

/* buf + len past 2^64: the range check must not overflow. (Calls that
 * clamp the length first, getcwd and getrandom, take these on Linux.) */
static void wraps(void)
{
	static char buf[64];
	unsigned long b = (unsigned long)buf;
	unsigned long lens[] = {-b, -b + 1, -b + 16, -1UL, 1UL << 63};
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		CHECK_ERR(syscall(SYS_write, p[1], buf, lens[i]), EFAULT);
		CHECK_ERR(syscall(SYS_read, p[0], buf, lens[i]), EFAULT);
		CHECK_ERR(syscall(SYS_pread64, fd, buf, lens[i], 0), EFAULT);
		CHECK_ERR(syscall(SYS_pwrite64, fd, buf, lens[i], 0), EFAULT);
	}
	CHECK_ERR(syscall(SYS_write, p[1], (void *)-16L, 32), EFAULT);
	CHECK_ERR(syscall(SYS_read, p[0], (void *)-16L, 32), EFAULT);
}

/* The guest's own read-only and inaccessible memory. */
static void own(void)
{
	unsigned char before[16];
	memcpy(before, (void *)main, sizeof(before));
	CHECK(write(p[1], "xxxxxxxxxxxxxxxx", 16) == 16);
	CHECK_ERR(syscall(SYS_read, p[0], (void *)main, 16), EFAULT);
	CHECK_ERR(syscall(SYS_pread64, fd, (void *)main, 16, 0), EFAULT);
	CHECK(memcmp(before, (void *)main, sizeof(before)) == 0);
	char *m =
		mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_ERR(syscall(SYS_read, p[0], m, 16), EFAULT);
	CHECK_ERR(syscall(SYS_write, p[1], m, 16), EFAULT);
	CHECK(munmap(m, 4096) == 0);
	char drain[32];
	CHECK(read(p[0], drain, sizeof(drain)) >= 0);
}

int main(void)
{
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	fd = memfd_create("h", 0);
	CHECK(fd >= 0 && write(fd, "0123456789abcdefghij", 20) == 20);
	for (unsigned i = 0; i < sizeof(guesses) / sizeof(guesses[0]); i++)
		at(guesses[i]);
	wraps();
	own();
	/* Nothing arrived anywhere. */
	int n = -1;
	CHECK(ioctl(p[0], FIONREAD, &n) == 0 && n == 0);
	CHECK(ioctl(sv[1], FIONREAD, &n) == 0 && n == 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 20);
	for (unsigned i = 0; i < 8; i++) {
		void *want = (void *)guesses[i];
		void *m = mmap(want, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		CHECK(m == MAP_FAILED && errno == ENOMEM);
	}
	success();
}
