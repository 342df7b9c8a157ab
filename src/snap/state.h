/* The state section of a snapshot: a stream (stream.h) of the snapshot's
 * own records (the run's options, where the image's pages come from, the
 * process's pipes, and in the first process of a tree the tree), then
 * every subsystem's records (lx/subsys.h). */
#ifndef MOTE_SNAP_STATE_H
#define MOTE_SNAP_STATE_H

#include "lx/lx.h"
#include "snap/wire.h"

#define SNAP_TAG_OPTS	STREAM_TAG('O', 'P', 'T', 'S')
#define SNAP_TAG_IMAGE	STREAM_TAG('I', 'M', 'A', 'G')
#define SNAP_TAG_PIPES	STREAM_TAG('P', 'I', 'P', 'E')
#define SNAP_TAG_TREE	STREAM_TAG('T', 'R', 'E', 'E')
#define SNAP_TAG_SHARED STREAM_TAG('S', 'H', 'M', ' ')

#define SNAP_PROCS_MAX 4096	  /* processes in one snapshot */
#define SNAP_PIPE_MAX  (1U << 20) /* pipes' fds of one process */

/* A pipe or socket pair some fd of the process holds: its name at the
 * snapshot (a host inode, which names it across the tree's processes),
 * its capacity (a pipe's), and the bytes queued at it, if the process
 * could read them (it held the read end, or that end of the pair): for a
 * socket pair, those queued at end `end`, as its messages. */
struct snap_pipe {
	uint64_t ino;
	uint8_t sock, end;
	uint32_t type; /* a socket pair's SOCK_STREAM, _DGRAM, _SEQPACKET */
	uint32_t cap;
	uint8_t has_data;
	uint32_t nmsg, len; /* messages, and their bytes in all */
	uint32_t *lens;
	uint8_t *data;
};

/* Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS): the guest range
 * [start, end) is bytes [off, off + end - start) of the host's shared
 * memory object `ino`, which the processes that share it have in common.
 * Its bytes are in the image, as any page's. */
struct snap_shm {
	uint64_t start, end, ino, off;
};

/* A process of a tree: where its part of the file starts, and its ids as
 * the guest knew them (a group or session 0 is the kernel's: mote started
 * by an init that never made one). The first is the tree's first
 * process, at 0. */
struct snap_proc {
	uint64_t base;
	int32_t pid, ppid, pgid, sid;
};

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
	uint32_t npipes;
	struct snap_pipe *pipes;
	uint32_t nshm;
	struct snap_shm *shm;
	uint32_t nprocs; /* 0: a snapshot of one process */
	struct snap_proc *procs;
	/* The whole state section; the subsystems' records start at lx_off. */
	uint8_t *state;
	size_t state_len, lx_off;
	uint64_t base; /* where this process's part of the file starts */
};

/* The options record of p's run. */
void snap_opts_write(struct wbuf *w, struct lx_proc *p);
/* The image record, from s->pt_pool and s->files. */
void snap_image_write(struct wbuf *w, const struct snap_state *s);
/* The pipes record of p (lx's fd table, read without consuming), and a
 * tree's record. */
void snap_pipes_write(struct wbuf *w, struct lx_proc *p);
/* The shared anonymous memory record of p (from the host's
 * /proc/self/maps). With the run held. */
void snap_shared_write(struct wbuf *w, struct lx_proc *p);
void snap_tree_write(struct wbuf *w, const struct snap_proc *procs, uint32_t n);
/* Reads the records at the head of s->state (the rest is left for
 * lx_state_restore at s->lx_off); false if they are malformed. */
bool snap_state_read(struct snap_state *s);
void snap_state_free(struct snap_state *s);

#endif
