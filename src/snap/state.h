/* The state section of a snapshot: a stream (stream.h) of the snapshot's
 * own two records, the run's options and where the image's pages come
 * from, then every subsystem's records (lx/subsys.h). */
#ifndef MOTE_SNAP_STATE_H
#define MOTE_SNAP_STATE_H

#include "lx/lx.h"
#include "snap/wire.h"

#define SNAP_TAG_OPTS  STREAM_TAG('O', 'P', 'T', 'S')
#define SNAP_TAG_IMAGE STREAM_TAG('I', 'M', 'A', 'G')

/* Where restore finds the pages of a file mapping. */
enum snap_src {
	SRC_FILE = 1,	/* its file, copy-on-write, with the pages the
			   bitmap marks from the image */
	SRC_SHARED = 2, /* its file, shared (MAP_SHARED): the file holds it */
};

/* A file mapping whose pages are its file's (the others are the image's
 * alone): the VMA [start, end), the file as it was, and for SRC_FILE one
 * bit per page, set where the page is the image's. */
struct snap_file {
	uint64_t start, end;
	uint8_t src;
	uint64_t fsize; /* the file as it was */
	int64_t mtime_s, mtime_ns;
	uint8_t *bitmap;
};

struct snap_state {
	struct snap_header h;
	/* The run's options that the restored VM keeps. */
	uint64_t memory;
	uint32_t pids, max_fds;
	char *root;
	uint32_t nvolumes;
	struct lx_volume *volumes;
	uint8_t net, aslr, fsize_set;
	uint32_t nports;
	uint16_t *ports;
	uint64_t fsize;
	char *exe, *cwd; /* for the restored run's name and messages */
	/* The image: page-table pages in use, the file mappings. */
	uint64_t pt_pool;
	uint32_t nfiles;
	struct snap_file *files;
	/* The whole state section; the subsystems' records start at lx_off. */
	uint8_t *state;
	size_t state_len, lx_off;
};

/* The options record of p's run. */
void snap_opts_write(struct wbuf *w, struct lx_proc *p);
/* The image record, from s->pt_pool and s->files. */
void snap_image_write(struct wbuf *w, const struct snap_state *s);
/* Reads the two records at the head of s->state (the rest is left for
 * lx_state_restore at s->lx_off); false if they are malformed. */
bool snap_state_read(struct snap_state *s);
void snap_state_free(struct snap_state *s);

#endif
