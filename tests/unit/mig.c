/* The migration stream (src/snap/mig.c) over a socketpair, the peer a
 * forked child: a file crosses whole and sparse; a wrong key is found in
 * the hellos; a frame with a flipped bit, one replayed, one too long, a
 * DATA frame past the declared size, an END that does not add up and a
 * BEGIN over the limit are each refused; so are key files of the wrong
 * size. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snap/mig.h"
#include "unit.h"

static const uint8_t key[MIG_KEY_BYTES] = {1, 2, 3};
static char err[256];

/* A connected pair: sp[0] the test's, sp[1] the child's. */
static pid_t peer(int sp[2], void (*fn)(int fd))
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		fn(sp[1]);
		_exit(0);
	}
	close(sp[1]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Receives into memfd f, limit max, what the child fn sends (after the
 * hellos, which must pass): mig_recv_file's result, its reason in err. */
static int take(void (*fn)(int), int f, uint64_t max)
{
	int sp[2];
	pid_t pid = peer(sp, fn);
	struct mig m;
	CHECK(mig_hello(&m, sp[0], key, false, 5000, err, sizeof(err)) == 0);
	int r = mig_recv_file(&m, f, max, err, sizeof(err));
	close(sp[0]);
	reap(pid);
	return r;
}

/* ---- a whole file ---- */

static void send_a_file(int fd)
{
	struct mig m;
	int f = memfd_create("t", 0);
	char a[5000];
	memset(a, 'a', sizeof(a));
	ftruncate(f, 1 << 20);
	pwrite(f, a, sizeof(a), 0);
	pwrite(f, "end", 3, (1 << 20) - 3);
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) == 0)
		mig_send_file(&m, f, &(uint64_t){0}, err, sizeof(err));
}

static void whole_file(void)
{
	int f = memfd_create("r", 0);
	CHECK(take(send_a_file, f, 1 << 20) == 0);
	char b[5000], e[3];
	CHECK(pread(f, b, sizeof(b), 0) == sizeof(b) && b[0] == 'a' &&
	      b[4999] == 'a');
	CHECK(pread(f, e, 3, (1 << 20) - 3) == 3 && !memcmp(e, "end", 3));
	CHECK(lseek(f, 0, SEEK_END) == 1 << 20);
	close(f);
}

/* ---- keys ---- */

static void hello_other_key(int fd)
{
	struct mig m;
	uint8_t k[MIG_KEY_BYTES] = {9};
	mig_hello(&m, fd, k, true, 5000, err, sizeof(err));
}

static void wrong_key(void)
{
	int sp[2];
	pid_t pid = peer(sp, hello_other_key);
	struct mig m;
	CHECK(mig_hello(&m, sp[0], key, false, 5000, err, sizeof(err)) < 0);
	CHECK(strstr(err, "authentication failed") != NULL);
	close(sp[0]);
	reap(pid);
}

static void key_files(void)
{
	uint8_t k[MIG_KEY_BYTES];
	char path[] = "/tmp/mote-key-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "short", 5) == 5);
	CHECK(mig_key_load(path, k, err, sizeof(err)) < 0 &&
	      strstr(err, "32 bytes or 64 hex"));
	ftruncate(fd, 0);
	pwrite(fd,
	       "00112233445566778899aabbccddeeff00112233445566778899aabbccd"
	       "deeff\n",
	       65, 0);
	CHECK(mig_key_load(path, k, err, sizeof(err)) == 0 && k[1] == 0x11 &&
	      k[31] == 0xff);
	pwrite(fd, "g", 1, 0); /* not hex */
	CHECK(mig_key_load(path, k, err, sizeof(err)) < 0);
	close(fd);
	unlink(path);
	CHECK(mig_key_load("/nonexistent/key", k, err, sizeof(err)) < 0);
}

/* ---- frames a receiver must refuse ---- */

static int bad_case;

/* Sends, after the hellos, one bad thing (bad_case picks it). */
static void send_bad(int fd)
{
	struct mig m;
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) < 0)
		return;
	uint64_t v = 4096;
	uint8_t d[16] = {0};
	switch (bad_case) {
	case 0: { /* a flipped bit in a frame's payload */
		struct mig copy = m;
		int sp[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		copy.fd = sp[0];
		mig_send(&copy, MIG_BEGIN, &v, 8);
		uint8_t raw[8 + 8 + 32];
		read(sp[1], raw, sizeof(raw));
		raw[9] ^= 1;
		write(fd, raw, sizeof(raw));
		break;
	}
	case 1: { /* a frame replayed: the same bytes twice */
		struct mig copy = m;
		int sp[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		copy.fd = sp[0];
		mig_send(&copy, MIG_BEGIN, &v, 8);
		uint8_t raw[8 + 8 + 32];
		read(sp[1], raw, sizeof(raw));
		write(fd, raw, sizeof(raw));
		write(fd, raw, sizeof(raw));
		break;
	}
	case 2: { /* a header claiming a huge frame */
		uint32_t hdr[2] = {MIG_DATA, 0xffffffffU};
		write(fd, hdr, sizeof(hdr));
		break;
	}
	case 3: /* DATA past the size BEGIN declared */
		mig_send(&m, MIG_BEGIN, &v, 8);
		v = 4090;
		memcpy(d, &v, 8);
		mig_send(&m, MIG_DATA, d, 16);
		break;
	case 4: /* an END that does not add up */
		mig_send(&m, MIG_BEGIN, &v, 8);
		v = 12;
		mig_send(&m, MIG_END, &v, 8);
		break;
	case 5: /* BEGIN over the receiver's limit */
		v = 1ULL << 50;
		mig_send(&m, MIG_BEGIN, &v, 8);
		break;
	case 6: /* DATA before BEGIN */ mig_send(&m, MIG_DATA, d, 16); break;
	}
	sleep(2);
}

static void bad_frames(void)
{
	const char *want[] = {
		"authentication failed", "authentication failed", "a frame of",
		"unexpected frame",	 "unexpected frame",	  "over",
		"unexpected frame"};
	for (bad_case = 0; bad_case < 7; bad_case++) {
		int f = memfd_create("r", 0);
		CHECK(take(send_bad, f, 1 << 30) < 0);
		if (!strstr(err, want[bad_case]))
			printf("  case %d: %s\n", bad_case, err);
		CHECK(strstr(err, want[bad_case]) != NULL);
		close(f);
	}
}

/* A peer that hangs up mid-frame. */
static void send_half(int fd)
{
	struct mig m;
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) < 0)
		return;
	uint32_t hdr[2] = {MIG_BEGIN, 8};
	write(fd, hdr, sizeof(hdr));
}

static void cut_stream(void)
{
	int f = memfd_create("r", 0);
	CHECK(take(send_half, f, 1 << 20) < 0 && strstr(err, "ended"));
	close(f);
}

static void cases(void)
{
	RUN(whole_file);
	RUN(wrong_key);
	RUN(key_files);
	RUN(bad_frames);
	RUN(cut_stream);
}

int main(void)
{
	return unit_main(cases, NULL);
}
