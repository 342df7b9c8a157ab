/* Small helpers shared by every part of the monitor. */
#ifndef MOTE_UTIL_H
#define MOTE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)	 (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

/* mote's own exit statuses, distinct from what a guest usually returns and
 * the same convention as env(1), timeout(1) and container runtimes. */
enum mote_status {
	MOTE_EXIT_TIMEOUT = 124, /* --timeout expired */
	MOTE_EXIT_FAIL = 125,	 /* mote itself failed: usage, KVM, internal */
	MOTE_EXIT_NOEXEC = 126,	 /* the program cannot be executed */
	MOTE_EXIT_NOENT = 127,	 /* the program does not exist */
};

/* Prints "mote: <message>\n" to stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg() then exit(status). For host failures the guest cannot cause. */
noreturn void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* sendmsg of len bytes at buf with fd (if >= 0) as SCM_RIGHTS, and
 * MSG_NOSIGNAL | flags: the bytes sent, or -1. */
ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd, int flags);

/* Writes a one-line reason into err (errlen bytes) and returns -1: for
 * the functions that return one to a caller who prints it. */
int err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

uint64_t mono_ns(void);

/* Whether the 4096-byte page at pg is all zeros (a snapshot leaves
 * such pages out of its file: holes). */
static inline bool page_is_zero(const void *pg)
{
	const uint64_t *q = pg;
	for (size_t i = 0; i < 4096 / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* Bitmaps of uint64_t words, bit i in word i / 64 (pages, for the
 * migration's page sets). */
static inline bool bit_get(const uint64_t *b, uint64_t i)
{
	return b[i / 64] & (1ULL << (i % 64));
}
static inline void bit_put(uint64_t *b, uint64_t i, bool v)
{
	if (v)
		b[i / 64] |= 1ULL << (i % 64);
	else
		b[i / 64] &= ~(1ULL << (i % 64));
}
/* The CPU time of host thread tid (of this process), 0 if it is gone. */
uint64_t thread_cpu_ns(pid_t tid);

/* The monitor's own long-lived descriptors (KVM, VM, vCPUs, the root and
 * volume directories, the executable) live at the top of the fd space,
 * far above the numbers the guest's files get, so a host fd number the
 * guest let go of is never reused for one of them. Moves fd there
 * (close-on-exec) and returns the new number, or fd itself if it cannot. */
int fd_high(int fd);
/* The lowest number fd_high uses: the guest's files stay below it. */
int fd_high_floor(void);

/* Reads exactly len bytes of fd at off (through short reads and EINTR).
 * 0, or -1 with errno (EIO at an early end of file). */
int pread_all(int fd, void *buf, size_t len, uint64_t off);
/* Parses "512M", "1G", "65536" (bytes; K M G T suffixes, powers of 1024).
 * Returns 0 on success. */
int parse_size(const char *s, uint64_t *out);
/* Parses seconds, decimals allowed: "30", "0.5"; nothing else (no sign,
 * no exponent, no hex, no inf). Returns 0 on success. */
int parse_seconds(const char *s, double *out);

#endif
