/* Socket calls given bad fds, bad pointers, bad lengths and bad control
 * messages fail as on Linux and the monitor survives; without --net,
 * AF_INET/AF_INET6 sockets and abstract names are refused (EACCES) and mote
 * says once how to allow them. */
// expect-stderr: mote: socket: network access is off: run with --net
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef SO_ATTACH_FILTER
#define SO_ATTACH_FILTER 26
#endif

static void no_net(void)
{
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, 0), EACCES);
	CHECK_ERR(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), EACCES);
	int sv[2];
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, sv), EACCES);
	CHECK_ERR(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x1000, 0), EINVAL);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, "\0abstract", 9);
	CHECK_ERR(bind(s, (struct sockaddr *)&a,
		       offsetof(struct sockaddr_un, sun_path) + 9),
		  EACCES);
	CHECK_ERR(connect(s, (struct sockaddr *)&a,
			  offsetof(struct sockaddr_un, sun_path) + 9),
		  EACCES);
	/* autobind makes an abstract name */
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)), EACCES);
	close(s);
}

/* Every socket call on a bad fd is EBADF, on a pipe ENOTSOCK. */
static void bad_fds(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int fds[2] = {999, p[0]}, errs[2] = {EBADF, ENOTSOCK};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(a);
	char buf[4];
	struct msghdr m = {0};
	struct mmsghdr mm = {0};
	int v = 1;
	for (int i = 0; i < 2; i++) {
		int fd = fds[i], e = errs[i];
		CHECK_ERR(bind(fd, (struct sockaddr *)&a, sizeof(a)), e);
		CHECK_ERR(listen(fd, 1), e);
		CHECK_ERR(accept(fd, NULL, NULL), e);
		CHECK_ERR(accept4(fd, NULL, NULL, 0), e);
		CHECK_ERR(connect(fd, (struct sockaddr *)&a, sizeof(a)), e);
		CHECK_ERR(getsockname(fd, (struct sockaddr *)&a, &len), e);
		CHECK_ERR(getpeername(fd, (struct sockaddr *)&a, &len), e);
		CHECK_ERR(shutdown(fd, SHUT_RDWR), e);
		CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 4), e);
		CHECK_ERR(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), e);
		CHECK_ERR(sendto(fd, buf, 1, 0, NULL, 0), e);
		CHECK_ERR(recvfrom(fd, buf, 1, 0, NULL, NULL), e);
		CHECK_ERR(sendmsg(fd, &m, 0), e);
		CHECK_ERR(recvmsg(fd, &m, 0), e);
		CHECK_ERR(sendmmsg(fd, &mm, 1, 0), e);
		CHECK_ERR(recvmmsg(fd, &mm, 1, 0, NULL), e);
	}
	close(p[0]), close(p[1]);
}

static void bad_addresses(int s, int l)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(a);
	char buf[8];
	int sv[2];
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, BAD_PTR), EFAULT);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, SHIM_PTR), EFAULT);
	CHECK_ERR(bind(s, BAD_PTR, sizeof(a)), EFAULT);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 129), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, (socklen_t)-1), EINVAL);
	CHECK_ERR(connect(s, SHIM_PTR, sizeof(a)), EFAULT);
	CHECK_ERR(connect(s, (struct sockaddr *)&a, 1000), EINVAL);
	CHECK_ERR(getsockname(s, (struct sockaddr *)&a, BAD_PTR), EFAULT);
	CHECK_ERR(getsockname(s, BAD_PTR, &len), EFAULT);
	len = (socklen_t)-1;
	CHECK_ERR(getpeername(s, (struct sockaddr *)&a, &len), EINVAL);
	CHECK_ERR(accept4(l, NULL, NULL, 0x1234), EINVAL);
	CHECK_ERR(sendto(s, BAD_PTR, 4, 0, NULL, 0), EFAULT);
	CHECK_ERR(sendto(s, "x", 1, 0, BAD_PTR, sizeof(a)), EFAULT);
	CHECK_ERR(recvfrom(s, BAD_PTR, 4, 0, NULL, NULL), EFAULT);
	CHECK_ERR(recvfrom(s, buf, 4, 0, (struct sockaddr *)&a, BAD_PTR),
		  EFAULT);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[0]), close(sv[1]);
}

static void bad_options(int s)
{
	int v = 1;
	socklen_t len = sizeof(v);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_RCVBUF, BAD_PTR, 4), EFAULT);
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, -1), EINVAL);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, BAD_PTR), EFAULT);
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_RCVBUF, BAD_PTR, &len), EFAULT);
	len = (socklen_t)-1;
	CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len), EINVAL);
	/* A filter program is a pointer the host would follow. */
	uint64_t ret0 = 0x06; /* BPF_RET | BPF_K, 0 */
	struct {
		unsigned short len;
		void *filter;
	} prog = {1, &ret0};
	CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			     sizeof(prog)),
		  ENOPROTOOPT);
	len = sizeof(v);
	CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0);
	CHECK(v == SOCK_STREAM && len == sizeof(v));
	v = 65536;
	CHECK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0);
}

/* libc's wrappers may copy a msghdr (musl does): raw calls, so that the
 * monitor is the one given the bad pointers. */
#define SYS(name, ...) syscall(SYS_##name, __VA_ARGS__)

static void bad_messages(int s)
{
	char buf[8] = "abc";
	struct iovec iov = {buf, 3};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK_ERR(SYS(sendmsg, s, BAD_PTR, 0), EFAULT);
	CHECK_ERR(SYS(recvmsg, s, BAD_PTR, 0), EFAULT);
	m.msg_iov = BAD_PTR;
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EFAULT);
	CHECK_ERR(SYS(recvmsg, s, &m, 0), EFAULT);
	m.msg_iov = &iov;
	m.msg_iovlen = 1 << 30;
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EMSGSIZE);
	CHECK_ERR(SYS(recvmsg, s, &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	struct iovec bad = {BAD_PTR, 8};
	m.msg_iov = &bad;
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EFAULT);
	CHECK_ERR(SYS(recvmsg, s, &m, 0), EFAULT);
	m.msg_iov = &iov;
	m.msg_control = BAD_PTR;
	m.msg_controllen = 64;
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EFAULT);
	m.msg_controllen = 1 << 20;
	CHECK_ERR(SYS(sendmsg, s, &m, 0), ENOBUFS);
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	m.msg_control = u.b;
	m.msg_controllen = sizeof(u.b);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int fds[2] = {0, 999};
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EBADF);
	c->cmsg_len = 4; /* shorter than a cmsghdr */
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EINVAL);
	c->cmsg_len = sizeof(u.b) + 8; /* beyond the buffer */
	CHECK_ERR(SYS(sendmsg, s, &m, 0), EINVAL);
	struct mmsghdr mm[2] = {0};
	CHECK_ERR(SYS(sendmmsg, s, BAD_PTR, 2, 0), EFAULT);
	CHECK_ERR(SYS(recvmmsg, s, BAD_PTR, 2, 0, NULL), EFAULT);
	/* The first of two good messages goes, the bad second is not an
	 * error: sendmmsg counts what it sent. */
	mm[0].msg_hdr.msg_iov = &iov;
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = BAD_PTR;
	mm[1].msg_hdr.msg_iovlen = 1;
	CHECK(SYS(sendmmsg, s, mm, 2, 0) == 1 && mm[0].msg_len == 3);
}

int main(void)
{
	no_net();
	bad_fds();
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(listen(l, 1), EINVAL); /* unbound */
	/* Data waits, so that a bad buffer faults rather than blocks. */
	CHECK(send(sv[1], "data", 4, 0) == 4);
	bad_addresses(sv[0], l);
	bad_options(sv[0]);
	bad_messages(sv[0]);
	/* The monitor lived through all of it: the pair still works, and
	 * nothing was lost to a fault. */
	char buf[8];
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4);
	CHECK(memcmp(buf, "data", 4) == 0);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3);
	CHECK(send(sv[1], "ok", 2, 0) == 2 && recv(sv[0], buf, 2, 0) == 2);
	success();
}
