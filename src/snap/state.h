/* The monitor state a snapshot holds, as restore reads it back. */
#ifndef MOTE_SNAP_STATE_H
#define MOTE_SNAP_STATE_H

#include <sys/resource.h>

#include "lx/lx.h"
#include "snap/wire.h"

/* Where restore finds the pages of a VMA. */
enum snap_src {
	SRC_IMAGE = 0,	/* the memory image alone */
	SRC_FILE = 1,	/* its file, copy-on-write, with the pages the
			   bitmap marks from the image */
	SRC_SHARED = 2, /* its file, shared (MAP_SHARED): the file holds it */
};

struct snap_vma {
	struct lx_vma v; /* v.name points at `name` */
	char *name;
	uint8_t src;
	uint64_t fsize; /* SRC_FILE/SHARED: the file as it was */
	int64_t mtime_s, mtime_ns;
	uint8_t *bitmap; /* SRC_FILE: bit set = the page is the image's */
};

/* An fd of the guest: reopened by path, or the restoring mote's stdio. */
struct snap_fd {
	int32_t gfd;
	uint32_t kind;	 /* enum lx_fd_kind */
	int32_t fdflags; /* FD_CLOEXEC */
	int32_t flags;	 /* the open file's status flags (F_GETFL) */
	int64_t offset;	 /* lseek(fd, 0, SEEK_CUR), or -1 */
	char *path;	 /* the guest path it was opened by, or NULL */
	int32_t stdio;	 /* 0-2: mote's own stdin/out/err; else -1 */
	uint64_t dev, ino;
};

struct snap_thread {
	int32_t id; /* its vCPU (and TSS page) */
	int32_t tid;
	uint8_t owner;
	uint64_t sigmask, clear_child_tid, robust_list, robust_len;
	uint64_t saved_mask;
	uint8_t saved_mask_valid;
	uint64_t altstack_sp, altstack_size;
	int32_t altstack_flags;
	char comm[16];
	uint64_t pending; /* signals for this thread alone */
	siginfo_t info[65];
	struct vcpu_state *vs;
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
	/* The process. */
	int32_t pid;
	char *exe;
	char comm[16];
	char *cwd;
	uint32_t umask;
	uint64_t nofile_cur, nofile_max;
	uint8_t has_rlimits;
	struct rlimit rlimits[RLIM_NLIMITS];
	struct lx_sigaction sigact[64];
	uint64_t sig_pending;
	siginfo_t sig_info[65];
	uint32_t rt_extra[65];
	uint64_t pt_pool;
	uint64_t brk_start, brk, brk_max, mmap_top, stack_lo;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint32_t nvmas, nthreads, nfds;
	struct snap_vma *vmas;
	struct snap_thread *threads;
	struct snap_fd *fds;
};

/* The CPUID words a snapshot records (leaves 1, 7.0, 0x80000001) from a
 * CPUID table, into c (snap.c). */
void snap_cpu_words(const struct kvm_cpuid2 *cp, struct snap_cpu *c);

/* Writes the state of p (VMA sources in vmas[], vCPU states in
 * threads[]; nvmas and nthreads set) to w. */
void snap_state_write(struct wbuf *w, struct lx_proc *p,
		      const struct snap_state *s);
/* Reads it back into s; false if it is malformed. */
bool snap_state_read(struct rbuf *r, struct snap_state *s);
void snap_state_free(struct snap_state *s);

#endif
