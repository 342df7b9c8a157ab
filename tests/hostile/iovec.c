/* Attack: iovec arrays built to confuse the monitor's copying: entries
 * that overlap each other (and the array itself), entries with lengths of
 * 2^63 and more (negative as ssize_t), lengths whose sum wraps, counts of
 * 1025 and 2^31 and -1, arrays that run off the end of memory, in readv,
 * writev, sendmsg and recvmsg. (preadv, pwritev and preadv2 are not
 * implemented: ENOSYS, checked below; when they are, they join these.)
 * Promise: as Linux: a count beyond 1024 (UIO_MAXIOV) is EINVAL (EMSGSIZE
 * for a msghdr), a negative length EINVAL, an array that is not readable
 * EFAULT; overlapping entries are legal and give Linux's result (each entry
 * written in order, later ones overwrite); the monitor neither crashes nor
 * allocates by the guest's count. mote differs where Linux would clamp a
 * huge total to 2 GiB and copy until it faults: an entry mote cannot see
 * whole in guest memory is EFAULT (tests/guest/neg_ptr.c has more). */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

static int p[2], sv[2], fd;

/* The kernel's msghdr: musl's has an int msg_iovlen (and padding), which
 * would truncate the counts below before the monitor saw them. */
struct kmsghdr {
	void *name;
	unsigned long namelen;
	struct iovec *iov;
	unsigned long iovlen;
	void *control;
	unsigned long controllen;
	unsigned flags;
};

static void counts(void)
{
	static struct iovec v[1100];
	static char b[8];
	for (int i = 0; i < 1100; i++)
		v[i] = (struct iovec){b, 1};
	long bad[] = {1025, 1L << 31, -1, 1L << 40};
	for (unsigned i = 0; i < 4; i++) {
		CHECK_ERR(syscall(SYS_readv, p[0], v, bad[i]), EINVAL);
		CHECK_ERR(syscall(SYS_writev, p[1], v, bad[i]), EINVAL);
		struct kmsghdr m = {.iov = v, .iovlen = bad[i]};
		CHECK_ERR(syscall(SYS_sendmsg, sv[0], &m, 0), EMSGSIZE);
		CHECK_ERR(syscall(SYS_recvmsg, sv[1], &m, MSG_DONTWAIT),
			  EMSGSIZE);
	}
	/* 1024 entries of one byte each: fine. */
	CHECK(writev(p[1], v, 1024) == 1024);
	CHECK(readv(p[0], v, 1024) == 1024);
}

static void lengths(void)
{
	static char b[16];
	size_t huge[] = {1UL << 63, -1UL, -16UL};
	for (unsigned i = 0; i < 3; i++) {
		struct iovec v[2] = {{b, 4}, {b, huge[i]}};
		CHECK_ERR(syscall(SYS_readv, p[0], v, 2), EINVAL);
		CHECK_ERR(syscall(SYS_writev, p[1], v, 2), EINVAL);
		struct kmsghdr m = {.iov = v, .iovlen = 2};
		CHECK_ERR(syscall(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	}
	/* Each length positive, the sum past 2^63 or wrapping. */
	struct iovec w[3] = {{b, 1UL << 62}, {b, 1UL << 62}, {b, 1UL << 62}};
	CHECK_ERR(syscall(SYS_writev, p[1], w, 3), EFAULT);
	CHECK_ERR(syscall(SYS_readv, p[0], w, 3), EFAULT);
	/* The array itself off the end of memory, or in the shim. */
	CHECK_ERR(syscall(SYS_writev, p[1], (void *)-16L, 2), EFAULT);
	CHECK_ERR(syscall(SYS_writev, p[1], SHIM_PTR, 1), EFAULT);
	struct kmsghdr m = {.iov = (void *)-16L, .iovlen = 2};
	CHECK_ERR(syscall(SYS_sendmsg, sv[0], &m, 0), EFAULT);
}

static void overlaps(void)
{
	char b[16] = {0};
	/* Written in order: "abc" at b, then "def" at b + 1. */
	struct iovec r[2] = {{b, 3}, {b + 1, 3}};
	CHECK(write(p[1], "abcdef", 6) == 6);
	CHECK(readv(p[0], r, 2) == 6 && memcmp(b, "adef", 4) == 0);
	/* The same bytes twice. */
	struct iovec w[3] = {{"xy", 2}, {"xy", 2}, {b, 4}};
	CHECK(writev(p[1], w, 3) == 8);
	char c[8];
	CHECK(read(p[0], c, 8) == 8 && memcmp(c, "xyxyadef", 8) == 0);
	/* Reading over the iovec array itself: the entries are taken before
	 * any data lands. */
	struct iovec self[2];
	self[0] = (struct iovec){self, sizeof(self)};
	self[1] = (struct iovec){b, 4};
	memset(c, 0xee, sizeof(c));
	CHECK(write(p[1], c, 8) == 8);
	CHECK(write(p[1], "wxyz", 4) == 4);
	CHECK(readv(p[0], self, 2) == 12);
	/* And through a socket. */
	struct iovec s[2] = {{"ab", 2}, {"ab", 2}};
	struct msghdr m = {.msg_iov = s, .msg_iovlen = 2};
	CHECK(sendmsg(sv[0], &m, 0) == 4);
	memset(b, 0, sizeof(b));
	struct iovec rr[2] = {{b, 2}, {b + 1, 2}};
	m.msg_iov = rr;
	CHECK(recvmsg(sv[1], &m, 0) == 4 && memcmp(b, "aab", 3) == 0);
}

int main(void)
{
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	fd = memfd_create("h", 0);
	CHECK(fd >= 0);
	static struct iovec v[2];
	CHECK_ERR(syscall(SYS_preadv, fd, v, 2, 0, 0), ENOSYS);
	CHECK_ERR(syscall(SYS_pwritev, fd, v, 2, 0, 0), ENOSYS);
	CHECK_ERR(syscall(SYS_preadv2, fd, v, 2, 0, 0, 0), ENOSYS);
	counts();
	lengths();
	overlaps();
	success();
}
