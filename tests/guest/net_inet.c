/* TCP and UDP over the loopback with --net=PORTS: binds and listens on
 * unlisted ports are refused (EACCES, and mote says so once), port 0 for
 * outgoing traffic is fine; a TCP exchange with a forked client, a
 * non-blocking connect, UDP datagrams with sendmmsg/recvmmsg, options.
 * With "serve PORT" it is the echo server of tests/suites/net.sh: one
 * connection, every byte sent back, SUCCESS at EOF. */
// mote-args: --net=47321,47322
// expect-stderr: mote: port 47323: not in --net=PORTS
#define _GNU_SOURCE
#include "proc.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

static struct sockaddr_in lo(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return a;
}

static int bind_port(int s, int port)
{
	struct sockaddr_in a = lo(port);
	return bind(s, (struct sockaddr *)&a, sizeof(a));
}

static int port_of(int s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	return ntohs(a.sin_port);
}

static void serve(int port)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	CHECK(l >= 0);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	CHECK(bind_port(l, port) == 0 && listen(l, 1) == 0);
	int c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	char buf[4096];
	ssize_t n;
	while ((n = read(c, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c, buf + off, n - off);
			CHECK(w > 0);
			off += w;
		}
	CHECK(n == 0);
	success();
}

static void refusals(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0);
	CHECK_ERR(bind_port(s, 47323), EACCES);
	/* Port 0 binds (for outgoing traffic) but cannot listen. */
	CHECK(bind_port(s, 0) == 0 && port_of(s) != 0);
	CHECK_ERR(listen(s, 1), EACCES);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(listen(s, 1), EACCES); /* would pick an ephemeral port */
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(47323)};
	CHECK_ERR(bind(s, (struct sockaddr *)&a6, sizeof(a6)), EACCES);
	close(s);
	CHECK_ERR(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
}

/* A listener on one of the allowed ports (the other if it is taken). */
static int listener(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	CHECK(l >= 0);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	if (bind_port(l, 47321) != 0)
		CHECK(errno == EADDRINUSE && bind_port(l, 47322) == 0);
	CHECK(listen(l, 4) == 0);
	return l;
}

static void tcp(void)
{
	int l = listener(), port = port_of(l);
	pid_t pid = fork_checked();
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		struct sockaddr_in a = lo(port);
		char buf[64];
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) != 0)
			_exit(2);
		if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, 4) != 0)
			_exit(3);
		for (int i = 0; i < 200; i++) {
			int n = snprintf(buf, sizeof(buf), "round %d", i);
			char got[64];
			if (write(c, buf, n) != n || read(c, got, n) != n ||
			    memcmp(buf, got, n))
				_exit(4);
		}
		_exit(0);
	}
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int s = accept(l, (struct sockaddr *)&peer, &len);
	CHECK(s >= 0 && len == sizeof(peer));
	CHECK(peer.sin_family == AF_INET &&
	      peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	char buf[64];
	ssize_t n;
	while ((n = read(s, buf, sizeof(buf))) > 0)
		CHECK(write(s, buf, n) == n);
	CHECK(n == 0);
	wait_exit(pid, 0);
	/* A non-blocking connect completes through poll. */
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1;
	struct sockaddr_in a = lo(port);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 ||
	      errno == EINPROGRESS);
	struct pollfd p = {c, POLLOUT, 0};
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT));
	len = sizeof(err);
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && !err);
	len = sizeof(a);
	CHECK(getpeername(c, (struct sockaddr *)&a, &len) == 0);
	CHECK(ntohs(a.sin_port) == port);
	close(c), close(s), close(l);
}

/* UDP: a receiver on an allowed port, a sender on port 0. */
static void udp(void)
{
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind_port(r, 47322) != 0)
		CHECK(errno == EADDRINUSE && bind_port(r, 47321) == 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = lo(port_of(r)), from;
	CHECK(sendto(s, "one", 3, 0, (struct sockaddr *)&to, sizeof(to)) == 3);
	char buf[16];
	socklen_t len = sizeof(from);
	CHECK(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		       &len) == 3);
	CHECK(len == sizeof(from) && ntohs(from.sin_port) == port_of(s));
	CHECK(connect(s, (struct sockaddr *)&to, sizeof(to)) == 0);
	struct iovec iov[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
	struct mmsghdr m[3] = {0};
	for (int i = 0; i < 3; i++) {
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(s, m, 3, 0) == 3 && m[2].msg_len == 3);
	char rb[3][8];
	struct iovec riov[3] = {{rb[0], 8}, {rb[1], 8}, {rb[2], 8}};
	for (int i = 0; i < 3; i++) {
		m[i].msg_hdr.msg_iov = &riov[i];
		m[i].msg_len = 0;
	}
	int got = 0;
	while (got < 3) {
		int n = recvmmsg(r, m + got, 3 - got, MSG_WAITFORONE, NULL);
		CHECK(n > 0);
		got += n;
	}
	CHECK(m[0].msg_len == 1 && m[1].msg_len == 2 && m[2].msg_len == 3);
	CHECK(memcmp(rb[2], "ccc", 3) == 0);
	close(r), close(s);
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "serve") == 0)
		serve(atoi(argv[2]));
	refusals();
	tcp();
	udp();
	success();
}
