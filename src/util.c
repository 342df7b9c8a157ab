/* Messages, time and parsing helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void msg(const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mote: %s\n", line);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mote: %s\n", line);
	exit(status);
}

int err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The clock as pthread_getcpuclockid makes it (CPUCLOCK_SCHED, per
 * thread): the pthread_t of a thread that has just exited would be freed
 * memory, a dead tid is only EINVAL. */
uint64_t thread_cpu_ns(pid_t tid)
{
	clockid_t id = (clockid_t)((~(unsigned)tid) << 3) | 6;
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	/* strtoull would skip spaces and take a sign: " -1" is 2^64 - 1. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

#define FD_HIGH_ROOM 512 /* monitor descriptors: vCPUs, mounts, KVM */

int fd_high_floor(void)
{
	static int floor;
	if (!floor) {
		struct rlimit r;
		getrlimit(RLIMIT_NOFILE, &r);
		if (r.rlim_cur < r.rlim_max) {
			r.rlim_cur = r.rlim_max;
			setrlimit(RLIMIT_NOFILE, &r);
			getrlimit(RLIMIT_NOFILE, &r);
		}
		uint64_t lim = r.rlim_cur > (1 << 20) ? (1 << 20) : r.rlim_cur;
		floor = lim > 2 * FD_HIGH_ROOM ? (int)(lim - FD_HIGH_ROOM)
					       : (int)(lim / 2);
	}
	return floor;
}

int fd_high(int fd)
{
	if (fd < 0 || fd >= fd_high_floor())
		return fd;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, fd_high_floor());
	if (h < 0)
		return fd;
	close(fd);
	return h;
}

int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *b = buf;
	while (len) {
		ssize_t n = pread(fd, b, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		b += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	size_t digits = strspn(s, "0123456789");
	size_t frac =
		s[digits] == '.' ? strspn(s + digits + 1, "0123456789") : 0;
	size_t len = digits + (s[digits] == '.' ? 1 + frac : 0);
	if (!(digits + frac) || s[len])
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd, int flags)
{
	struct iovec iov = {(void *)buf, len};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} c = {0};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		m.msg_control = c.space;
		m.msg_controllen = sizeof(c.space);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL | flags);
}
