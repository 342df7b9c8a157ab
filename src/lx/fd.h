/* The fd table: guest fds and the host fds behind them (fd.c), and the
 * special kinds the monitor serves itself (fdkind.c). */
#ifndef MOTE_LX_FD_H
#define MOTE_LX_FD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct lx_proc;
struct lx_thread;

enum lx_fd_kind {
	LX_FD_FILE, /* regular file */
	LX_FD_DIR,  /* directory (may be the dirfd of *at() calls) */
	LX_FD_PIPE, /* pipe or FIFO */
	LX_FD_TTY,  /* the real terminal */
	LX_FD_DEV,  /* an allowed character device */
	LX_FD_PATH, /* O_PATH */
	LX_FD_SOCK, /* socket (net.c) */
	LX_FD_SFD,  /* signalfd: the monitor serves its reads (sigfd.c) */
	LX_FD_OTHER,
	LX_FD_PROC,    /* a file of the guest's /proc: a sealed memfd */
	LX_FD_PROCDIR, /* a directory of the guest's /proc (procfs.c) */
	LX_FD_SNAP,    /* /dev/mote-snapshot (snap/dev.c) */
	LX_FD_NKINDS
};

struct lx_fd;
/* fdkind.c: how the special kinds are read, written and opened, in place
 * of the host fd (a NULL member: the host fd serves that call). `at`: the
 * positional call (pread64, pwrite64). */
struct lx_fd_ops {
	const char *path; /* the guest path that opens one, or NULL */
	long (*open)(struct lx_thread *t, int flags);
	long (*read)(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at);
	long (*write)(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		      uint64_t count, bool at);
	long (*readv)(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt);
	long (*writev)(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		       uint64_t cnt);
	/* Restore: installs a new one at gfd (fd flags fdflags, at offset
	 * off); 0 or -errno. NULL: this kind cannot come back. */
	int (*reopen)(struct lx_proc *p, long gfd, int fdflags, int64_t off);
};
void lx_fd_kind_register(enum lx_fd_kind kind, const struct lx_fd_ops *ops);
const struct lx_fd_ops *lx_fd_ops(enum lx_fd_kind kind);
/* If `guest` (an absolute guest path) is a registered kind's, opens it into
 * *ret (an fd or -errno) and returns true. */
bool lx_fd_open_special(struct lx_thread *t, const char *guest, int flags,
			long *ret);
/* Ops that refuse the call with EINVAL. */
long lx_fd_op_einval(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
		     uint64_t count, bool at);
long lx_fd_opv_einval(struct lx_thread *t, struct lx_fd *f, uint64_t iov,
		      uint64_t cnt);

struct lx_fd {
	int host;    /* host fd, -1 if this slot is free */
	int fdflags; /* FD_CLOEXEC */
	enum lx_fd_kind kind;
	char *path; /* absolute guest path, or NULL (pipes, stdio); for a
		       socket, the guest path it is bound to (net.c) */
	bool used;
	/* An eventfd the guest made: LX_EFD_PLAIN or LX_EFD_SEM (a
	 * snapshot's record of its mode where the host does not show it,
	 * fdobj.c); 0 for every other fd. */
	uint8_t efd;
	/* An end of a socket pair the guest made: which (0 or 1), and the
	 * pair's name for snapshots (its end 0's host inode); 0 else. */
	uint8_t pair_end;
	uint64_t pair;
};
enum { LX_EFD_PLAIN = 1, LX_EFD_SEM = 2 };

#define LX_NOFILE     1024  /* RLIMIT_NOFILE soft limit the guest starts with */
#define LX_NOFILE_MAX 65536 /* and its hard limit */

/* The fd table (fd.c). */
struct lx_fdtable {
	struct lx_fd *slot; /* cap slots that never move */
	int cap;
	int top;	      /* above the highest slot ever used */
	pthread_mutex_t lock; /* install and close */
	uint64_t nofile_cur, nofile_max;
};

/* fd.c */
int lx_fd_init(struct lx_proc *p);
struct lx_fd *lx_fd_get(struct lx_proc *p, long gfd);
/* Installs host fd `host` at the lowest free guest fd >= min. Takes
 * ownership of host and path (closed/freed on failure). Returns the guest fd
 * or -EMFILE. */
int lx_fd_install(struct lx_proc *p, int host, int fdflags,
		  enum lx_fd_kind kind, char *path, long min);
/* Installs at exactly gfd, closing what was there. */
int lx_fd_install_at(struct lx_proc *p, long gfd, int host, int fdflags,
		     enum lx_fd_kind kind, char *path);
int lx_fd_close(struct lx_proc *p, long gfd);
enum lx_fd_kind lx_fd_kind_of(int host);
void lx_fd_fini(struct lx_proc *p);

/* fdstate.c: pipes and socket pairs in snapshots. A snapshot names each
 * pipe an fd of the process holds by its host inode, and each socket
 * pair the guest made by its first end's, with the bytes queued in them
 * (read without consuming them, where the process holds the end they
 * wait at): save writes that list into w. A restore makes one new pipe or
 * socket pair per name of the whole tree first (below), hands them to
 * lx_fd_pipes_use, and every such fd restored takes a duplicate of its
 * end; lx_fd_pipes_use(NULL, 0) forgets them (their owner closes them). */
#define LX_PIPE_CAP_MAX (1U << 30)
struct wbuf;
void lx_fd_pipes_save(struct lx_proc *p, struct wbuf *w);
struct lx_pipe_end {
	uint64_t ino;
	uint8_t sock; /* a socket pair: fd[0] and fd[1] are its ends */
	int fd[2];    /* a pipe: its read and write ends */
};
void lx_fd_pipes_use(const struct lx_pipe_end *ends, uint32_t n);

#endif
