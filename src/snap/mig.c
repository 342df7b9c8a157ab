/* The migration stream's frames, hellos and file transfer (mig.h). The
 * cryptography is libsodium's: random bytes, a keyed BLAKE2b for the
 * session key, and XChaCha20-Poly1305 (an AEAD) for every frame, which
 * is encrypted and authenticated, its header as associated data.
 *
 * libsodium is opened with dlopen by the two commands that need it, not
 * linked into mote: linked, the loader maps and relocates it in every
 * monitor, which cost each `mote run` about 250 KiB of resident memory
 * for code it never calls. */
#define _GNU_SOURCE
#include "snap/mig.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap/snap.h"
#include "util.h"

#define MIG_MAGIC "MOTEMIG1"
#define HELLO_LEN (8 + 32)
#define TAG_LEN	  crypto_aead_xchacha20poly1305_ietf_ABYTES

/* The libsodium calls this file makes, found once by dlsym. */
static struct {
	int (*init)(void);
	void (*random)(void *, size_t);
	int (*gh_init)(crypto_generichash_state *, const unsigned char *,
		       size_t, size_t);
	int (*gh_update)(crypto_generichash_state *, const unsigned char *,
			 unsigned long long);
	int (*gh_final)(crypto_generichash_state *, unsigned char *, size_t);
	int (*seal)(unsigned char *, unsigned char *, unsigned long long *,
		    const unsigned char *, unsigned long long,
		    const unsigned char *, unsigned long long,
		    const unsigned char *, const unsigned char *,
		    const unsigned char *);
	int (*open)(unsigned char *, unsigned char *, const unsigned char *,
		    unsigned long long, const unsigned char *,
		    const unsigned char *, unsigned long long,
		    const unsigned char *, const unsigned char *);
} na;

static int sodium_load(char *err, size_t errlen)
{
	if (na.open)
		return 0;
	void *h = dlopen("libsodium.so.23", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libsodium.so", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(err, errlen,
			       "libsodium is not installed (apt-get install "
			       "libsodium23)");
	void *f[] = {
		dlsym(h, "sodium_init"),
		dlsym(h, "randombytes_buf"),
		dlsym(h, "crypto_generichash_init"),
		dlsym(h, "crypto_generichash_update"),
		dlsym(h, "crypto_generichash_final"),
		dlsym(h, "crypto_aead_xchacha20poly1305_ietf_encrypt_detached"),
		dlsym(h, "crypto_aead_xchacha20poly1305_ietf_decrypt_detached"),
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (!f[i])
			return err_set(err, errlen,
				       "libsodium lacks a call mote needs");
	memcpy(&na.init, &f[0], sizeof(void *));
	memcpy(&na.random, &f[1], sizeof(void *));
	memcpy(&na.gh_init, &f[2], sizeof(void *));
	memcpy(&na.gh_update, &f[3], sizeof(void *));
	memcpy(&na.gh_final, &f[4], sizeof(void *));
	memcpy(&na.seal, &f[5], sizeof(void *));
	if (na.init() < 0)
		return err_set(err, errlen, "libsodium did not start");
	memcpy(&na.open, &f[6], sizeof(void *));
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int mig_key_load(const char *path, uint8_t key[MIG_KEY_BYTES], char *err,
		 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errlen, "--key %s: %s", path,
			       strerror(errno));
	uint8_t buf[80];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == MIG_KEY_BYTES) {
		memcpy(key, buf, MIG_KEY_BYTES);
		return 0;
	}
	if (n == 64 || (n == 65 && buf[64] == '\n')) {
		bool ok = true;
		for (int i = 0; i < MIG_KEY_BYTES && ok; i++) {
			int hi = hexval(buf[2 * i]),
			    lo = hexval(buf[2 * i + 1]);
			ok = hi >= 0 && lo >= 0;
			if (ok)
				key[i] = (uint8_t)(hi << 4 | lo);
		}
		if (ok)
			return 0;
	}
	return err_set(err, errlen,
		       "--key %s: a key is 32 bytes or 64 hex digits (make one "
		       "with: head -c 32 /dev/urandom > %s)",
		       path, path);
}

/* ---- the socket ---- */

/* poll, as ppoll: the receiver's post-copy thread calls this file under
 * the monitor's seccomp list, which has ppoll and not poll. */
static int poll_ms(struct pollfd *pfd, nfds_t n, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	return ppoll(pfd, n, ms < 0 ? NULL : &ts, NULL);
}

/* Reads or writes all of len bytes within the deadline: 0 or -1 (errno:
 * ETIMEDOUT, ECONNRESET for an end of stream). */
static int io_all(int fd, void *buf, size_t len, bool wr, uint64_t end)
{
	uint8_t *b = buf;
	while (len) {
		uint64_t now = mono_ns();
		struct pollfd pfd = {fd, wr ? POLLOUT : POLLIN, 0};
		if (now >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		int pr = poll_ms(&pfd, 1, (int)((end - now) / 1000000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t r =
			wr ? send(fd, b, len, MSG_NOSIGNAL) : read(fd, b, len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

static uint64_t deadline(int timeout_ms)
{
	return mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
}

/* ---- hellos and frames ---- */

static int key_check(struct mig *m, int timeout_ms, char *err, size_t errlen);

int mig_hello(struct mig *m, int fd, const uint8_t key[MIG_KEY_BYTES],
	      bool source, int timeout_ms, char *err, size_t errlen)
{
	if (sodium_load(err, errlen) < 0)
		return -1;
	uint8_t mine[HELLO_LEN], theirs[HELLO_LEN];
	memcpy(mine, MIG_MAGIC, 8);
	na.random(mine + 8, 32);
	uint64_t end = deadline(timeout_ms);
	if (io_all(fd, mine, sizeof(mine), true, end) < 0 ||
	    io_all(fd, theirs, sizeof(theirs), false, end) < 0)
		return err_set(err, errlen, "the peer did not answer: %s",
			       strerror(errno));
	if (memcmp(theirs, MIG_MAGIC, 8))
		return err_set(err, errlen, "the peer is not a mote migration");
	const uint8_t *src = source ? mine : theirs;
	const uint8_t *dst = source ? theirs : mine;
	crypto_generichash_state h;
	na.gh_init(&h, key, MIG_KEY_BYTES, sizeof(m->key));
	na.gh_update(&h, (const uint8_t *)"mote migrate 1", 14);
	na.gh_update(&h, src + 8, 32);
	na.gh_update(&h, dst + 8, 32);
	na.gh_final(&h, m->key, sizeof(m->key));
	/* Requests and answers are small frames that must not wait for
	 * more to fill a segment (Nagle's algorithm), here and over there. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	m->fd = fd;
	m->source = source;
	m->seq_out = m->seq_in = 0;
	return key_check(m, timeout_ms, err, errlen);
}

/* A frame's nonce and associated data: from the source or not, its
 * sequence number (so no nonce repeats under one session key), and, in
 * the associated data, its header. */
struct frame_ad {
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ad[1 + 8 + 8];
};

static void frame_ad(struct frame_ad *f, bool from_source, uint64_t seq,
		     const uint32_t hdr[2])
{
	memset(f, 0, sizeof(*f));
	f->nonce[0] = f->ad[0] = from_source;
	memcpy(f->nonce + 1, &seq, 8);
	memcpy(f->ad + 1, &seq, 8);
	memcpy(f->ad + 9, hdr, 8);
}

int mig_send(struct mig *m, uint32_t type, const void *buf, uint32_t len)
{
	/* The whole frame, sent with one call: three small writes would
	 * wait on each other's acknowledgements. One process sends on one
	 * stream at a time. */
	static uint8_t *frame;
	uint32_t hdr[2] = {type, len};
	if (len > MIG_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!frame &&
	    !(frame = malloc(sizeof(hdr) + MIG_FRAME_MAX + TAG_LEN))) {
		errno = ENOMEM;
		return -1;
	}
	struct frame_ad f;
	frame_ad(&f, m->source, m->seq_out++, hdr);
	memcpy(frame, hdr, sizeof(hdr));
	na.seal(frame + sizeof(hdr), frame + sizeof(hdr) + len, NULL, buf, len,
		f.ad, sizeof(f.ad), NULL, f.nonce, m->key);
	return io_all(m->fd, frame, sizeof(hdr) + len + TAG_LEN, true,
		      deadline(60000));
}

int mig_recv(struct mig *m, uint32_t *type, void *buf, uint32_t max,
	     uint32_t *len, int timeout_ms, char *err, size_t errlen)
{
	uint32_t hdr[2];
	uint8_t tag[TAG_LEN];
	uint64_t end = deadline(timeout_ms);
	if (io_all(m->fd, hdr, sizeof(hdr), false, end) < 0)
		return err_set(err, errlen, "the stream ended: %s",
			       errno == ECONNRESET ? "the peer closed it"
						   : strerror(errno));
	if (hdr[1] > max || hdr[1] > MIG_FRAME_MAX)
		return err_set(err, errlen,
			       "a frame of %u bytes: a forged stream, or not "
			       "mote's",
			       hdr[1]);
	if (io_all(m->fd, buf, hdr[1], false, end) < 0 ||
	    io_all(m->fd, tag, sizeof(tag), false, end) < 0)
		return err_set(err, errlen, "the stream ended mid-frame: %s",
			       errno == ECONNRESET ? "the peer closed it"
						   : strerror(errno));
	/* Decrypted in place, and only if the tag is right (libsodium
	 * checks it in constant time first). */
	struct frame_ad f;
	frame_ad(&f, !m->source, m->seq_in++, hdr);
	if (na.open(buf, NULL, buf, hdr[1], tag, f.ad, sizeof(f.ad), f.nonce,
		    m->key) != 0)
		return err_set(err, errlen,
			       "a frame's authentication failed: the two sides "
			       "hold different keys, or the stream was forged");
	*type = hdr[0];
	*len = hdr[1];
	return 0;
}

/* Each side proves it holds the key: the source's frame first, then the
 * receiver's answer (one it sends only once the source's checked out). */
static int key_check(struct mig *m, int timeout_ms, char *err, size_t errlen)
{
	uint32_t type, len;
	uint8_t b[1];
	if (m->source && mig_send(m, MIG_KEY, "", 0) < 0)
		return err_set(err, errlen, "cannot send: %s", strerror(errno));
	if (mig_recv(m, &type, b, 0, &len, timeout_ms, err, errlen) < 0) {
		/* A receiver that finds a wrong key hangs up: it cannot
		 * say so in a frame the source would believe. */
		if (m->source)
			err_set(err, errlen,
				"the receiver did not accept the key (the two "
				"sides hold different keys)");
		return -1;
	}
	if (type != MIG_KEY)
		return err_set(err, errlen, "the peer did not prove its key");
	if (!m->source && mig_send(m, MIG_KEY, "", 0) < 0)
		return err_set(err, errlen, "cannot send: %s", strerror(errno));
	return 0;
}

/* ---- the file ---- */

/* Reads a whole record header from the monitor's pipe: 1, 0 at its end
 * (EOF before any byte), -1 (errno; ECONNRESET: cut mid-record). */
static int read_rec(int fd, struct snap_rec *r, uint64_t end)
{
	uint8_t *b = (uint8_t *)r;
	size_t got = 0;
	while (got < sizeof(*r)) {
		uint64_t now = mono_ns();
		struct pollfd pfd = {fd, POLLIN, 0};
		if (now >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll_ms(&pfd, 1, (int)((end - now) / 1000000) + 1) <= 0)
			continue;
		ssize_t n = read(fd, b + got, sizeof(*r) - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0 && got == 0)
			return 0;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

static int send_u64s(struct mig *m, uint32_t type, uint64_t a, uint64_t b,
		     uint32_t n)
{
	uint64_t v[2] = {a, b};
	return mig_send(m, type, v, n * (uint32_t)sizeof(uint64_t));
}

/* Sends one record and the bytes after it. */
static int forward_one(struct mig *m, int rfd, const struct snap_rec *r,
		       struct mig_fwd *f, uint8_t *buf, uint64_t end,
		       bool *reading)
{
	switch (r->kind) {
	case SNAP_REC_BOUND:
		if (f->begun)
			return 0;
		f->begun = true;
		return send_u64s(m, MIG_BEGIN, r->off, 0, 1);
	case SNAP_REC_DATA:
		if (!f->begun || !r->len || r->len > SNAP_REC_MAX) {
			errno = EPROTO;
			return -1;
		}
		memcpy(buf, &r->off, 8);
		if (io_all(rfd, buf + 8, r->len, false, end) < 0) {
			*reading = true;
			return -1;
		}
		f->sent += r->len;
		return mig_send(m, MIG_DATA, buf, r->len + 8);
	case SNAP_REC_ZERO:
		if (!f->begun) {
			errno = EPROTO;
			return -1;
		}
		f->zeros += r->len;
		return send_u64s(m, MIG_ZERO, r->off, r->len, 2);
	case SNAP_REC_SIZE:
		if (!f->begun) {
			errno = EPROTO;
			return -1;
		}
		f->ended = true;
		return send_u64s(m, MIG_END, f->sent, r->off, 2);
	case SNAP_REC_LAZY:
		if (!f->begun || f->ended || !r->len) {
			errno = EPROTO;
			return -1;
		}
		f->lazy_bytes += r->len;
		return send_u64s(m, MIG_LAZY, r->off, r->len, 2);
	case SNAP_REC_DONE:
		if (!f->ended || f->done) {
			errno = EPROTO;
			return -1;
		}
		f->done = true;
		return send_u64s(m, MIG_DONE, r->off, 0, 1);
	}
	errno = EPROTO;
	return -1;
}

/* The reason for a failed forward: -1 (the link) or -2 (the pipe). */
static int forward_fail(int r, bool reading, char *err, size_t errlen)
{
	if (r < 0 && reading) {
		err_set(err, errlen, "the VM's monitor stopped mid-record (%s)",
			errno == ETIMEDOUT ? "it took too long"
					   : "its stream ended");
		return -2;
	}
	if (errno == EPROTO) {
		err_set(err, errlen,
			"the VM's monitor wrote a malformed record");
		return -2;
	}
	return err_set(err, errlen, "cannot send the VM: %s", strerror(errno));
}

static int forward_rec(struct mig *m, int rfd, struct mig_fwd *f, uint8_t *buf,
		       uint64_t end, char *err, size_t errlen)
{
	struct snap_rec rec;
	bool reading = false; /* failed reading the pipe, not sending */
	int r = read_rec(rfd, &rec, end);
	if (r < 0)
		reading = true;
	else if (r > 0 && forward_one(m, rfd, &rec, f, buf, end, &reading) < 0)
		r = -1;
	return r < 0 ? forward_fail(r, reading, err, errlen) : r;
}

/* A record's offset and bytes, as a DATA frame's payload: one buffer for
 * the process, which forwards one stream at a time. */
static uint8_t *rec_buf(void)
{
	static uint8_t *buf;
	return buf ?: (buf = malloc(SNAP_REC_MAX + 8));
}

int mig_forward(struct mig *m, int rfd, struct mig_fwd *f, int timeout_ms,
		char *err, size_t errlen)
{
	uint8_t *buf = rec_buf();
	if (!buf)
		return err_set(err, errlen, "out of memory");
	uint64_t end = deadline(timeout_ms);
	int r;
	while ((r = forward_rec(m, rfd, f, buf, end, err, errlen)) > 0)
		;
	return r;
}

int mig_forward_one(struct mig *m, int rfd, struct mig_fwd *f, int timeout_ms,
		    char *err, size_t errlen)
{
	uint8_t *buf = rec_buf();
	if (!buf)
		return err_set(err, errlen, "out of memory");
	return forward_rec(m, rfd, f, buf, deadline(timeout_ms), err, errlen);
}

/* Whether [off, off + len) lies in a file of `size` bytes. */
static bool within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* One frame of the file: 1 at END, 0 for more, -1 with the reason. */
static int store(int fd, uint32_t type, const uint8_t *buf, uint32_t len,
		 struct mig_fwd *f, uint64_t max_size, char *err, size_t errlen)
{
	uint64_t v[2] = {0, 0};
	memcpy(v, buf, MIN(len, sizeof(v)));
	if (type == MIG_BEGIN && !f->begun && len == 8) {
		if (v[0] > max_size)
			return err_set(
				err, errlen,
				"the snapshot may be %llu bytes, over %llu",
				(unsigned long long)v[0],
				(unsigned long long)max_size);
		f->begun = true;
		f->bound = v[0];
		if (ftruncate(fd, (off_t)v[0]) < 0)
			return err_set(err, errlen, "%s", strerror(errno));
		return 0;
	}
	if (type == MIG_DATA && f->begun && len > 8 &&
	    within(v[0], len - 8, f->bound)) {
		if (pwrite(fd, buf + 8, len - 8, (off_t)v[0]) !=
		    (ssize_t)(len - 8))
			return err_set(err, errlen, "cannot store: %s",
				       strerror(errno));
		f->sent += len - 8;
		return 0;
	}
	if (type == MIG_ZERO && f->begun && len == 16 && v[1] &&
	    within(v[0], v[1], f->bound)) {
		/* Pages sent in an earlier round and zero now (or gone). */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)v[0], (off_t)v[1]) < 0)
			return err_set(err, errlen, "cannot store: %s",
				       strerror(errno));
		f->zeros += v[1];
		return 0;
	}
	if (type == MIG_LAZY && f->begun && len == 16 && v[1] &&
	    within(v[0], v[1], f->bound) && v[0] % 4096 == 0 &&
	    v[1] % 4096 == 0) {
		/* Pages that come after READY: an older copy from a round
		 * goes, so that a fault on them is seen. */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)v[0], (off_t)v[1]) < 0)
			return err_set(err, errlen, "cannot store: %s",
				       strerror(errno));
		if (f->nlazy == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 64;
			struct mig_range *n =
				realloc(f->lazy, cap * sizeof(*n));
			if (!n)
				return err_set(err, errlen, "out of memory");
			f->lazy = n;
			f->cap = cap;
		}
		f->lazy[f->nlazy++] = (struct mig_range){v[0], v[1]};
		f->lazy_bytes += v[1];
		return 0;
	}
	if (type == MIG_END && f->begun && len == 16 && v[0] == f->sent &&
	    v[1] <= f->bound) {
		if (ftruncate(fd, (off_t)v[1]) < 0)
			return err_set(err, errlen, "%s", strerror(errno));
		return 1;
	}
	return err_set(err, errlen, "an unexpected frame (type %u, %u bytes)",
		       type, len);
}

int mig_recv_file(struct mig *m, int fd, uint64_t max_size, struct mig_fwd *f,
		  char *err, size_t errlen)
{
	uint8_t *buf = malloc(MIG_FRAME_MAX);
	if (!buf)
		return err_set(err, errlen, "out of memory");
	int r = 0;
	while (r == 0) {
		uint32_t type, len;
		/* A source sends without pause; a minute of silence is a
		 * dead one. */
		r = mig_recv(m, &type, buf, MIG_FRAME_MAX, &len, 60000, err,
			     errlen);
		if (!r)
			r = store(fd, type, buf, len, f, max_size, err, errlen);
	}
	free(buf);
	return r < 0 ? -1 : 0;
}
