/* The migration stream (src/snap/mig.c) over a socketpair, the peer a
 * forked child: a frame's payload is encrypted; a file crosses whole and
 * sparse from the monitor's records, in two passes (later DATA and ZERO
 * over earlier); broken records are not forwarded; a wrong key is found
 * in the hellos; a frame with a flipped bit, one replayed, one too long,
 * a DATA or ZERO frame past the declared size, an empty ZERO, an END that
 * does not add up or is too large and a BEGIN over the limit are each
 * refused; so are key files of the wrong size. */
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
#include "snap/snap.h"
#include "unit.h"
#include "util.h"

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
 * hellos, which must pass): mig_recv_file's result, its reason in err,
 * what came in got. */
static struct mig_fwd got;
static int take(void (*fn)(int), int f, uint64_t max)
{
	int sp[2];
	pid_t pid = peer(sp, fn);
	struct mig m;
	CHECK(mig_hello(&m, sp[0], key, false, 5000, err, sizeof(err)) == 0);
	free(got.lazy);
	got = (struct mig_fwd){0};
	int r = mig_recv_file(&m, f, max, &got, err, sizeof(err));
	close(sp[0]);
	reap(pid);
	return r;
}

/* ---- a whole file, as the monitor's records ---- */

/* Writes one record (and its bytes) into pipe fd. */
static void rec(int fd, uint32_t kind, uint64_t off, uint32_t len,
		const void *data)
{
	struct snap_rec r = {.kind = kind, .len = len, .off = off};
	CHECK(write(fd, &r, sizeof(r)) == sizeof(r));
	if (data)
		CHECK(write(fd, data, len) == (ssize_t)len);
}

/* Two passes, as a migration's rounds and last pass would write them:
 * the second BOUND is dropped, the second pass's DATA overwrites and its
 * ZERO clears what the first sent. */
static void send_a_file(int fd)
{
	struct mig m;
	char a[5000], b[4096];
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	int p[2];
	CHECK(pipe(p) == 0);
	rec(p[1], SNAP_REC_BOUND, 2 << 20, 0, NULL);
	rec(p[1], SNAP_REC_DATA, 0, sizeof(a), a);
	rec(p[1], SNAP_REC_DATA, (1 << 20) - 3, 3, "end");
	rec(p[1], SNAP_REC_BOUND, 2 << 20, 0, NULL);
	rec(p[1], SNAP_REC_DATA, 0, sizeof(b), b);
	rec(p[1], SNAP_REC_ZERO, 4096, 4096, NULL);
	rec(p[1], SNAP_REC_SIZE, 1 << 20, 0, NULL);
	close(p[1]);
	struct mig_fwd f = {0};
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) == 0 &&
	    mig_forward(&m, p[0], &f, 5000, err, sizeof(err)) == 0)
		CHECK(f.ended && f.sent == sizeof(a) + 3 + sizeof(b) &&
		      f.zeros == 4096);
}

static void whole_file(void)
{
	int f = memfd_create("r", 0);
	CHECK(take(send_a_file, f, 4 << 20) == 0);
	char b[5000], e[3];
	CHECK(pread(f, b, sizeof(b), 0) == sizeof(b) && b[0] == 'b' &&
	      b[4095] == 'b' && b[4096] == 0 && b[4999] == 0);
	CHECK(pread(f, e, 3, (1 << 20) - 3) == 3 && !memcmp(e, "end", 3));
	CHECK(lseek(f, 0, SEEK_END) == 1 << 20);
	close(f);
}

/* A post-copy's lazy pass after a round: the LAZY run is punched out
 * (the round's older copy goes) and handed over; DONE follows SIZE. */
static void send_lazy(int fd)
{
	struct mig m;
	char a[8192];
	memset(a, 'a', sizeof(a));
	int p[2];
	CHECK(pipe(p) == 0);
	rec(p[1], SNAP_REC_BOUND, 2 << 20, 0, NULL);
	rec(p[1], SNAP_REC_DATA, 4096, sizeof(a), a);
	rec(p[1], SNAP_REC_BOUND, 2 << 20, 0, NULL);
	rec(p[1], SNAP_REC_LAZY, 8192, 4096, NULL);
	rec(p[1], SNAP_REC_LAZY, 65536, 8192, NULL);
	rec(p[1], SNAP_REC_SIZE, 1 << 20, 0, NULL);
	rec(p[1], SNAP_REC_DONE, 0, 0, NULL);
	close(p[1]);
	struct mig_fwd f = {0};
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) == 0 &&
	    mig_forward(&m, p[0], &f, 5000, err, sizeof(err)) == 0)
		CHECK(f.ended && f.done && f.lazy_bytes == 3 * 4096);
}

static void lazy_pass(void)
{
	int f = memfd_create("r", 0);
	CHECK(take(send_lazy, f, 4 << 20) == 0);
	CHECK(got.nlazy == 2 && got.lazy[0].off == 8192 &&
	      got.lazy[0].len == 4096 && got.lazy[1].off == 65536 &&
	      got.lazy_bytes == 3 * 4096);
	char b[3];
	/* The round's copy of page 2 is gone; page 1 stays. */
	CHECK(pread(f, b, 1, 8192) == 1 && b[0] == 0);
	CHECK(pread(f, b, 1, 4096) == 1 && b[0] == 'a');
	close(f);
}

/* A receiver that takes whatever comes. */
static void recv_any(int fd)
{
	struct mig m;
	if (mig_hello(&m, fd, key, false, 5000, err, sizeof(err)) == 0)
		mig_recv_file(&m, memfd_create("r", 0), 1 << 30, &got, err,
			      sizeof(err));
}

/* Forwards records r[0..n) (the monitor's pipe) to a receiver that takes
 * anything: the source's side must refuse them as the monitor's fault,
 * not the link's (-2), with `want` in its reason. */
static void refused(const struct snap_rec *r, int n, const char *want)
{
	int sp[2], p[2];
	pid_t pid = peer(sp, recv_any);
	struct mig m;
	CHECK(mig_hello(&m, sp[0], key, true, 5000, err, sizeof(err)) == 0);
	CHECK(pipe(p) == 0);
	for (int k = 0; k < n; k++)
		CHECK(write(p[1], &r[k], sizeof(r[k])) == sizeof(r[k]));
	close(p[1]);
	struct mig_fwd f = {0};
	CHECK(mig_forward(&m, p[0], &f, 2000, err, sizeof(err)) == -2);
	CHECK(strstr(err, want) != NULL);
	close(p[0]);
	close(sp[0]);
	reap(pid);
}

/* Records the source's side refuses to forward: the monitor's pipe is
 * not the guest's, but a broken one must not reach the receiver. */
static void bad_records(void)
{
	const struct snap_rec bound = {SNAP_REC_BOUND, 0, 1 << 20};
	struct {
		struct snap_rec r;
		bool bound_first;
	} cases[] = {
		{{SNAP_REC_DATA, 8, 0}, false},		      /* before BOUND */
		{{SNAP_REC_DATA, SNAP_REC_MAX + 1, 0}, true}, /* too long */
		{{SNAP_REC_DATA, 0, 0}, true},		      /* empty */
		{{99, 0, 0}, true},			      /* no such kind */
		{{SNAP_REC_LAZY, 4096, 0}, false},	      /* before BOUND */
		{{SNAP_REC_DONE, 0, 0}, true},		      /* before SIZE */
		{{SNAP_REC_LAZY, 0, 0}, true},		      /* empty */
		{{SNAP_REC_DATA, 64, 0}, true},		      /* cut short */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct snap_rec r[2] = {bound, cases[i].r};
		bool last = i == ARRAY_SIZE(cases) - 1;
		refused(cases[i].bound_first ? r : r + 1,
			cases[i].bound_first ? 2 : 1,
			last ? "stopped mid-record" : "malformed");
	}
}

/* ---- keys ---- */

static void hello_other_key(int fd)
{
	struct mig m;
	uint8_t k[MIG_KEY_BYTES] = {9};
	mig_hello(&m, fd, k, true, 5000, err, sizeof(err));
}

/* The payload does not cross in the clear: a frame's bytes on the wire
 * hold no run of the page it carries. */
static void hello_and_encrypt(int fd)
{
	struct mig m;
	if (mig_hello(&m, fd, key, true, 5000, err, sizeof(err)) < 0)
		return;
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	struct mig copy = m;
	copy.fd = sp[0];
	char page[256];
	memset(page, 'S', sizeof(page));
	mig_send(&copy, MIG_DATA, page, sizeof(page));
	uint8_t raw[8 + sizeof(page) + 16];
	bool clear = read(sp[1], raw, sizeof(raw)) != sizeof(raw) ||
		     memmem(raw + 8, sizeof(page), "SSSSSSSS", 8);
	write(fd, clear ? "C" : "E", 1);
}

static void encrypted(void)
{
	int sp[2];
	pid_t pid = peer(sp, hello_and_encrypt);
	struct mig m;
	char verdict = 0;
	CHECK(mig_hello(&m, sp[0], key, false, 5000, err, sizeof(err)) == 0);
	CHECK(read(sp[0], &verdict, 1) == 1 && verdict == 'E');
	close(sp[0]);
	reap(pid);
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
		uint8_t raw[8 + 8 + 16];
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
		uint8_t raw[8 + 8 + 16];
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
	case 4: { /* an END that does not add up */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t end[2] = {12, 4096};
		mig_send(&m, MIG_END, end, 16);
		break;
	}
	case 5: /* BEGIN over the receiver's limit */
		v = 1ULL << 50;
		mig_send(&m, MIG_BEGIN, &v, 8);
		break;
	case 6: /* DATA before BEGIN */ mig_send(&m, MIG_DATA, d, 16); break;
	case 7: { /* ZERO past the size BEGIN declared */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t z[2] = {4096, 1};
		mig_send(&m, MIG_ZERO, z, 16);
		break;
	}
	case 8: { /* ZERO of no bytes */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t z[2] = {0, 0};
		mig_send(&m, MIG_ZERO, z, 16);
		break;
	}
	case 9: { /* an END whose size is over BEGIN's */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t end[2] = {0, 8192};
		mig_send(&m, MIG_END, end, 16);
		break;
	}
	case 11: { /* LAZY past the size BEGIN declared */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t z[2] = {0, 8192};
		mig_send(&m, MIG_LAZY, z, 16);
		break;
	}
	case 12: { /* LAZY of a part of a page */
		v = 1 << 20;
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t z[2] = {4096, 100};
		mig_send(&m, MIG_LAZY, z, 16);
		break;
	}
	case 10: { /* an END of the old, shorter form */
		mig_send(&m, MIG_BEGIN, &v, 8);
		uint64_t zero = 0;
		mig_send(&m, MIG_END, &zero, 8);
		break;
	}
	}
	sleep(2);
}

static void bad_frames(void)
{
	const char *want[] = {"authentication failed",
			      "authentication failed",
			      "a frame of",
			      "unexpected frame",
			      "unexpected frame",
			      "over",
			      "unexpected frame",
			      "unexpected frame",
			      "unexpected frame",
			      "unexpected frame",
			      "unexpected frame",
			      "unexpected frame",
			      "unexpected frame"};
	for (bad_case = 0; bad_case < (int)ARRAY_SIZE(want); bad_case++) {
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
	RUN(lazy_pass);
	RUN(bad_records);
	RUN(encrypted);
	RUN(wrong_key);
	RUN(key_files);
	RUN(bad_frames);
	RUN(cut_stream);
}

int main(void)
{
	return unit_main(cases, NULL);
}
