/* The host side of tests/suites/net.sh.
 *   net_client freeport        prints a TCP port free on 127.0.0.1
 *   net_client echo PORT N     connects to 127.0.0.1:PORT (retrying while
 *                              the server starts) and makes N round trips
 *                              of 1 to 1,500 bytes, each checked
 *   net_client unixsock PATH   leaves a UNIX socket file at PATH */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "net_client: %s: %s\n", what, strerror(errno));
	return 1;
}

static struct sockaddr_in lo(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return a;
}

static int freeport(void)
{
	struct sockaddr_in a = lo(0);
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return fail("freeport");
	printf("%d\n", ntohs(a.sin_port));
	return 0;
}

/* Connects, retrying for up to 30 s while the guest server starts. */
static int dial(int port)
{
	struct sockaddr_in a = lo(port);
	for (int i = 0; i < 600; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			return s;
		close(s);
		usleep(50000);
	}
	return -1;
}

static int full(int s, char *buf, size_t n, int wr)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = wr ? write(s, buf + off, n - off)
			       : read(s, buf + off, n - off);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int echo(int port, int rounds)
{
	static char out[1500], in[1500];
	int s = dial(port), one = 1;
	if (s < 0)
		return fail("connect");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < rounds; i++) {
		size_t n = 1 + (size_t)(i * 7919) % sizeof(out);
		for (size_t k = 0; k < n; k++)
			out[k] = (char)(i + k * 31);
		if (full(s, out, n, 1) < 0 || full(s, in, n, 0) < 0)
			return fail("round trip");
		if (memcmp(out, in, n) != 0) {
			fprintf(stderr, "net_client: round %d: bytes differ\n",
				i);
			return 1;
		}
	}
	close(s);
	printf("%d round trips\n", rounds);
	return 0;
}

static int unixsock(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "unixsock") == 0)
		return unixsock(argv[2]);
	if (argc == 2 && strcmp(argv[1], "freeport") == 0)
		return freeport();
	if (argc == 4 && strcmp(argv[1], "echo") == 0)
		return echo(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr,
		"usage: net_client freeport | echo PORT N | unixsock PATH\n");
	return 2;
}
