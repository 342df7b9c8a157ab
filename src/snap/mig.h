/* The migration stream (docs/migration.md): a snapshot sent from one host
 * to another over a connected socket, every message encrypted and
 * authenticated with a key both sides hold.
 *
 * Each side opens with a hello (a magic and 32 random bytes); the session
 * key is a keyed hash of both hellos under the shared key, so no message
 * of one session can be replayed into another. Every message after that
 * is a frame: a u32 type, a u32 length, the payload encrypted with
 * XChaCha20-Poly1305 under the session key, and its 16-byte tag, which
 * covers the direction, a sequence number (the nonce), the type and the
 * length too; the reader checks it before it acts on any of it. */
#ifndef MOTE_SNAP_MIG_H
#define MOTE_SNAP_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIG_KEY_BYTES 32
#define MIG_FRAME_MAX (1U << 20) /* payload bytes in one frame at most */

enum mig_type {
	MIG_BEGIN = 1, /* source: u64, the largest the snapshot file can be */
	MIG_DATA = 2,  /* source: u64 offset, then bytes of the file */
	MIG_END = 3,   /* source: u64 bytes of DATA sent in all, u64 the
			* file's size */
	MIG_READY = 4, /* receiver: it has it all and runs it now */
	MIG_FAIL = 5,  /* receiver: it will not run it; the reason */
	MIG_KEY = 6,   /* each side, after the hellos: proves the key */
	MIG_ZERO = 7,  /* source: u64 offset, u64 length: zeros now (a page
			* sent in an earlier round of pre-copy) */
	/* Post-copy (--postcopy): */
	MIG_LAZY = 8,  /* source: u64 offset, u64 length: these pages come
			* after READY, on demand or in the background */
	MIG_WANT = 9,  /* receiver, after READY: u64 offset, u64 length,
			* pages a vCPU or the monitor waits for */
	MIG_DONE = 10, /* source: u64 bytes of lazy pages sent, every one;
			* receiver: it has stored them all; u64 requests
			* timed, u64 their median and longest wait (us) */
};

struct mig {
	int fd;
	bool source;
	uint8_t key[32]; /* the session's */
	uint64_t seq_out, seq_in;
};

/* Reads the shared key from path: 32 bytes, or 64 hex digits and an
 * optional newline. 0, or -1 with a one-line reason in err. */
int mig_key_load(const char *path, uint8_t key[MIG_KEY_BYTES], char *err,
		 size_t errlen);
/* The hellos on connected socket fd, within timeout_ms, then a MIG_KEY
 * frame each way (the source's first), so that a wrong key is found
 * before anything else is sent: 0, or -1 with the reason in err. */
int mig_hello(struct mig *m, int fd, const uint8_t key[MIG_KEY_BYTES],
	      bool source, int timeout_ms, char *err, size_t errlen);
/* Sends one frame: 0 or -1 (errno set). */
int mig_send(struct mig *m, uint32_t type, const void *buf, uint32_t len);
/* Receives one frame into buf (max bytes) within timeout_ms: 0, or -1
 * with the reason in err (the peer is gone, the time ran out, a frame too
 * long, a tag that does not match: a wrong key or a forged stream). */
int mig_recv(struct mig *m, uint32_t *type, void *buf, uint32_t max,
	     uint32_t *len, int timeout_ms, char *err, size_t errlen);

/* A run of the file's bytes [off, off + len). */
struct mig_range {
	uint64_t off, len;
};

/* What crossed: BEGIN sent or seen, DATA bytes, ZERO bytes, END; and
 * the lazy pages of a post-copy (LAZY frames: their bytes, and on the
 * receiver's side the runs themselves, in lazy[nlazy]). */
struct mig_fwd {
	bool begun, ended, done;
	uint64_t bound, sent, zeros, lazy_bytes;
	struct mig_range *lazy;
	size_t nlazy, cap;
};
/* The source's side: sends what the VM's monitor writes into the pipe rfd
 * (records of snap/snap.h, until the monitor closes it) as frames, within
 * timeout_ms in all. The first BEGIN record of a migration is sent, the
 * rest are dropped; f counts across calls. 0; -1 if the link failed, -2
 * if the pipe did (the monitor stopped, or wrote a bad record), with the
 * reason in err. */
int mig_forward(struct mig *m, int rfd, struct mig_fwd *f, int timeout_ms,
		char *err, size_t errlen);
/* One record of rfd forwarded, as mig_forward does: 1, 0 at the pipe's
 * end, -1 (the link) or -2 (the pipe) with the reason in err. */
int mig_forward_one(struct mig *m, int rfd, struct mig_fwd *f, int timeout_ms,
		    char *err, size_t errlen);
/* The receiver's side: writes what the source sends into fd (a memfd),
 * at most max_size bytes, as the file it assembles: DATA written, ZERO
 * punched out, the size END gives; LAZY runs punched out too (a round
 * may have sent an older copy) and kept in f->lazy. 0, or -1 with the
 * reason. The caller frees f->lazy. */
int mig_recv_file(struct mig *m, int fd, uint64_t max_size, struct mig_fwd *f,
		  char *err, size_t errlen);

#endif
