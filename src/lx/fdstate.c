/* The fd table's subsystem hooks (subsys.h).
 *
 * A saved fd is what reopens it: its guest path, the way it was open, its
 * offset and the file's identity (device, inode), or, for the monitor's
 * own stdin, stdout and stderr, which one. Restore reopens each by path
 * under the restored VM's root and volumes, only if it is still the same
 * file, and gives the restoring mote's own stdio to those that were
 * mote's. An eventfd, timerfd, epoll or signalfd comes back with its
 * state (fdobj.c). A pipe comes back as a new pipe with the bytes that
 * were in it, shared by every fd of the tree that held it. Connected
 * sockets and the rest cannot come back: each becomes a pipe whose other
 * end is gone, with one line saying so. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lx/fdobj.h"
#include "lx/fs.h"
#include "lx/lx.h"
#include "lx/net.h"
#include "lx/subsys.h"
#include "util.h"

#define MAX_FDS (1U << 20)

/* One fd as a record holds it. */
struct fd_rec {
	int32_t gfd;
	uint32_t kind;	 /* enum lx_fd_kind */
	int32_t fdflags; /* FD_CLOEXEC */
	int32_t flags;	 /* the open file's status flags (F_GETFL) */
	int64_t offset;	 /* lseek(fd, 0, SEEK_CUR), or -1 */
	char *path;	 /* the guest path it was opened by, or NULL */
	int32_t stdio;	 /* 0-2: mote's own stdin/out/err; else -1 */
	uint64_t dev, ino;
	/* A listening TCP socket: its address and the options it had. */
	uint8_t listening;
	uint32_t addrlen;
	struct sockaddr_storage addr;
	int32_t reuseaddr, reuseport, v6only;
	struct lx_fdobj obj; /* an eventfd, timerfd, epoll or signalfd */
	uint64_t pair;	     /* a socket pair's end: its pair, which end */
	uint8_t pair_end;
};

/* ---- save ---- */

/* Whether host fds a and b are the same file, open the same way. */
static bool same_open(int a, int b)
{
	struct stat sa, sb;
	int fa = fcntl(a, F_GETFL), fb = fcntl(b, F_GETFL);
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && fa >= 0 &&
	       (fa & O_ACCMODE) == (fb & O_ACCMODE) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && sa.st_rdev == sb.st_rdev;
}

/* 0-2 if guest fd gfd (host fd h) is mote's own stdin, stdout or stderr:
 * the same file open the same way, its own number first (stdout and
 * stderr are often one terminal). */
static int stdio_of(int gfd, int h)
{
	if (gfd < 3 && same_open(h, gfd))
		return gfd;
	for (int i = 0; i < 3; i++)
		if (same_open(h, i))
			return i;
	return -1;
}

static int32_t sockopt(int fd, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);
	getsockopt(fd, level, name, &v, &l);
	return v;
}

/* Whether f is a listening TCP socket (into o's socket fields). */
static void put_listening(int host, struct fd_rec *o)
{
	socklen_t l = sizeof(o->addr);
	if (!sockopt(host, SOL_SOCKET, SO_ACCEPTCONN) ||
	    sockopt(host, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
	    getsockname(host, (struct sockaddr *)&o->addr, &l) < 0 ||
	    (o->addr.ss_family != AF_INET && o->addr.ss_family != AF_INET6))
		return;
	o->listening = 1;
	o->addrlen = l;
	o->reuseaddr = sockopt(host, SOL_SOCKET, SO_REUSEADDR);
	o->reuseport = sockopt(host, SOL_SOCKET, SO_REUSEPORT);
	if (o->addr.ss_family == AF_INET6)
		o->v6only = sockopt(host, IPPROTO_IPV6, IPV6_V6ONLY);
}

static bool guest_pair(const struct lx_fd *f);

static void put_fd(struct lx_proc *p, struct wbuf *w, int gfd,
		   const struct lx_fd *f)
{
	struct stat st = {0};
	fstat(f->host, &st);
	struct fd_rec o = {
		.gfd = gfd,
		.kind = f->kind,
		.fdflags = f->fdflags,
		.flags = fcntl(f->host, F_GETFL),
		.offset = f->kind == LX_FD_FILE || f->kind == LX_FD_DIR ||
					  f->kind == LX_FD_SNAP
				  ? lseek(f->host, 0, SEEK_CUR)
				  : -1,
		.stdio = f->path ? -1 : stdio_of(gfd, f->host),
		.dev = st.st_dev,
		.ino = st.st_ino,
	};
	if (f->kind == LX_FD_SOCK)
		put_listening(f->host, &o);
	W(w, o.gfd);
	W(w, o.kind);
	W(w, o.fdflags);
	W(w, o.flags);
	W(w, o.offset);
	w_str(w, f->path);
	W(w, o.stdio);
	W(w, o.dev);
	W(w, o.ino);
	W(w, o.listening);
	if (o.listening) {
		W(w, o.addrlen);
		w_bytes(w, &o.addr, o.addrlen);
		W(w, o.reuseaddr);
		W(w, o.reuseport);
		W(w, o.v6only);
	}
	lx_fdobj_save(p, f, &o.obj);
	lx_fdobj_write(w, &o.obj);
	lx_fdobj_free(&o.obj);
	o.pair = guest_pair(f) ? f->pair : 0;
	o.pair_end = o.pair ? f->pair_end : 0;
	W(w, o.pair);
	W(w, o.pair_end);
}

static int fd_save(struct lx_proc *p, const struct lx_save *s, struct wbuf *w)
{
	pthread_mutex_lock(&p->fdt.lock);
	uint32_t n = 0;
	for (int i = 0; i < p->fdt.top; i++)
		n += p->fdt.slot[i].used;
	W(w, p->fdt.nofile_cur);
	W(w, p->fdt.nofile_max);
	W(w, n);
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used)
			put_fd(p, w, i, &p->fdt.slot[i]);
	pthread_mutex_unlock(&p->fdt.lock);
	return 0;
}

/* ---- pipes ---- */

/* A pipe the guest made (no path: not a FIFO; not mote's own stdio). */
static bool guest_pipe(int gfd, const struct lx_fd *f, struct stat *st)
{
	return f->kind == LX_FD_PIPE && !f->path && fstat(f->host, st) == 0 &&
	       S_ISFIFO(st->st_mode) && stdio_of(gfd, f->host) < 0;
}

/* The bytes in the pipe whose read end is rd, without taking them: tee
 * into a pipe of the same size, read from that. 0, or -1. */
static int peek(int rd, uint32_t cap, uint8_t **data, uint32_t *len)
{
	int n = 0;
	*data = NULL;
	*len = 0;
	if (ioctl(rd, FIONREAD, &n) < 0)
		return -1;
	if (n <= 0)
		return 0;
	int tp[2];
	if (pipe2(tp, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	uint8_t *b = malloc((size_t)n);
	int err = !b || (n > 4096 && fcntl(tp[1], F_SETPIPE_SZ, cap) < 0) ||
		  tee(rd, tp[1], (size_t)n, SPLICE_F_NONBLOCK) != n ||
		  read(tp[0], b, (size_t)n) != n;
	close(tp[0]);
	close(tp[1]);
	if (err) {
		free(b);
		return -1;
	}
	*data = b;
	*len = (uint32_t)n;
	return 0;
}

/* The messages queued at socket end fd (a stream's bytes as one), seen
 * without taking them: SO_PEEK_OFF moves each peek past the one before.
 * 0 with *nmsg, *lens and *data (malloc'd), or -1. */
static int peek_sock(int fd, uint32_t type, uint32_t *nmsg, uint32_t **lens,
		     uint8_t **data, uint32_t *len)
{
	int was = -1, zero = 0;
	socklen_t l = sizeof(was);
	getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &was, &l);
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return -1;
	size_t cap = 65536, n = 0, nl = 0;
	uint8_t *b = malloc(cap);
	uint32_t *ls = NULL;
	int err = !b;
	while (!err) {
		if (cap - n < 65536) {
			uint8_t *nb = cap < LX_PIPE_CAP_MAX / 2
					      ? realloc(b, cap * 2)
					      : NULL;
			if (!nb) {
				err = 1;
				break;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, b + n, cap - n, MSG_PEEK | MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		/* An empty datagram is a message too; an empty stream read
		 * is its end. */
		if (r < 0 || (r == 0 && type == SOCK_STREAM))
			break;
		if (type == SOCK_STREAM && nl) {
			ls[0] += (uint32_t)r;
		} else {
			uint32_t *nls = realloc(ls, (nl + 1) * sizeof(*ls));
			if (!nls) {
				err = 1;
				break;
			}
			ls = nls;
			ls[nl++] = (uint32_t)r;
		}
		n += (size_t)r;
	}
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &was, sizeof(was));
	if (err) {
		free(b);
		free(ls);
		return -1;
	}
	*nmsg = (uint32_t)nl;
	*lens = ls;
	*data = b;
	*len = (uint32_t)n;
	return 0;
}

/* One entry of the record. */
static void put_chan(struct wbuf *w, uint64_t ino, uint8_t sock, uint8_t end,
		     uint32_t type, uint32_t cap, uint8_t has, uint32_t nmsg,
		     const uint32_t *lens, const uint8_t *data, uint32_t len)
{
	W(w, ino);
	W(w, sock);
	W(w, end);
	W(w, type);
	W(w, cap);
	W(w, has);
	W(w, nmsg);
	w_bytes(w, lens, nmsg * sizeof(uint32_t));
	w_bytes(w, data, len);
}

/* A pipe's entry, from fd i (first of its pipe here): false if its bytes
 * could not be read. With fd_lock held. */
static bool save_pipe(struct lx_proc *p, int i, const struct stat *st,
		      struct wbuf *w)
{
	const struct lx_fd *f = &p->fdt.slot[i];
	/* Its read end, if any fd of this process holds it. */
	int rd = -1;
	for (int j = i; j < p->fdt.top && rd < 0; j++) {
		const struct lx_fd *g = &p->fdt.slot[j];
		struct stat gs;
		if (g->used && guest_pipe(j, g, &gs) &&
		    gs.st_ino == st->st_ino &&
		    (fcntl(g->host, F_GETFL) & O_ACCMODE) == O_RDONLY)
			rd = g->host;
	}
	int c = fcntl(f->host, F_GETPIPE_SZ);
	uint32_t cap = c > 0 ? (uint32_t)c : 65536, len = 0;
	uint8_t *data = NULL, has = rd >= 0;
	if (has && peek(rd, cap, &data, &len) < 0)
		return false;
	put_chan(w, st->st_ino, 0, 0, 0, cap, has, len ? 1 : 0, &len, data,
		 len);
	free(data);
	return true;
}

/* A socket pair's end: its entry, with the messages queued at it. */
static bool save_pair_end(const struct lx_fd *f, struct wbuf *w)
{
	int type = 0;
	socklen_t l = sizeof(type);
	uint32_t nmsg = 0, len = 0, *lens = NULL;
	uint8_t *data = NULL;
	if (getsockopt(f->host, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ||
	    peek_sock(f->host, (uint32_t)type, &nmsg, &lens, &data, &len) < 0)
		return false;
	put_chan(w, f->pair, 1, f->pair_end, (uint32_t)type, LX_PIPE_CAP_MAX, 1,
		 nmsg, lens, data, len);
	free(lens);
	free(data);
	return true;
}

/* A socket pair's end the guest made, still the socket it made. */
static bool guest_pair(const struct lx_fd *f)
{
	struct stat st;
	return f->kind == LX_FD_SOCK && f->pair && fstat(f->host, &st) == 0 &&
	       S_ISSOCK(st.st_mode) && (f->pair_end || st.st_ino == f->pair);
}

void lx_fd_pipes_save(struct lx_proc *p, struct wbuf *w)
{
	pthread_mutex_lock(&p->fdt.lock);
	/* Each pipe and pair end once: its name, and 1 + the end. */
	struct seen {
		uint64_t ino;
		uint8_t key;
	} *seen = calloc((size_t)p->fdt.top + 1, sizeof(*seen));
	uint32_t n = 0;
	size_t at = w->n;
	W(w, n);
	for (int i = 0; seen && i < p->fdt.top; i++) {
		const struct lx_fd *f = &p->fdt.slot[i];
		struct stat st;
		struct seen k;
		if (!f->used)
			continue;
		if (guest_pipe(i, f, &st))
			k = (struct seen){st.st_ino, 0};
		else if (guest_pair(f))
			k = (struct seen){f->pair, (uint8_t)(1 + f->pair_end)};
		else
			continue;
		bool dup = false;
		for (uint32_t j = 0; j < n && !dup; j++)
			dup = seen[j].ino == k.ino && seen[j].key == k.key;
		/* Bytes that cannot be read leave it out: its fds come back
		 * dead, with a warning, never empty. */
		if (dup ||
		    !(k.key ? save_pair_end(f, w) : save_pipe(p, i, &st, w)))
			continue;
		seen[n++] = k;
	}
	pthread_mutex_unlock(&p->fdt.lock);
	free(seen);
	if (!w->oom && w->d)
		memcpy(w->d + at, &n, sizeof(n));
}

static const struct lx_pipe_end *pipe_ends;
static uint32_t npipe_ends;

void lx_fd_pipes_use(const struct lx_pipe_end *ends, uint32_t n)
{
	pipe_ends = ends;
	npipe_ends = n;
}

/* A duplicate of the new pipe's or socket pair's end that f held, with
 * f's status flags (shared by every holder, as the original's were), or
 * -1. */
static int pipe_end(const struct fd_rec *f, const char **why)
{
	*why = "its bytes could not be read at the snapshot";
	bool sock = f->kind == LX_FD_SOCK;
	for (uint32_t i = 0; i < npipe_ends; i++) {
		const struct lx_pipe_end *e = &pipe_ends[i];
		if (e->ino != (sock ? f->pair : f->ino) || e->sock != sock)
			continue;
		int mode = f->flags & O_ACCMODE;
		int end = sock		     ? e->fd[f->pair_end]
			  : mode == O_RDONLY ? e->fd[0]
			  : mode == O_WRONLY ? e->fd[1]
					     : -1;
		int h = end < 0 ? -1 : fcntl(end, F_DUPFD_CLOEXEC, 3);
		if (h < 0) {
			*why = end < 0 ? "not a pipe's end" : strerror(errno);
			return -1;
		}
		fcntl(h, F_SETFL, f->flags & O_NONBLOCK);
		return h;
	}
	return -1;
}

/* ---- restore ---- */

static const char *kind_name(uint32_t kind, const char *path)
{
	if (kind == LX_FD_FILE && !path)
		return "a memfd (a file with no path)";
	switch (kind) {
	case LX_FD_PIPE: return "a pipe";
	case LX_FD_SOCK: return "a socket";
	case LX_FD_SFD: return "a signalfd";
	case LX_FD_PROC: return "a /proc file";
	case LX_FD_PROCDIR: return "a /proc directory";
	case LX_FD_TTY: return "a terminal";
	case LX_FD_OTHER:
		return "an anonymous file (an epoll, eventfd or timerfd "
		       "whose state is unknown)";
	default: return "a file";
	}
}

/* An fd that cannot come back: a pipe whose other end is gone, so that
 * reads see end-of-file and writes fail with EPIPE, as they would for a
 * pipe or socket whose peer has exited. */
static int dead_fd(const struct fd_rec *f, const char *why)
{
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		return -1;
	bool wronly = (f->flags & O_ACCMODE) == O_WRONLY;
	close(wronly ? pp[0] : pp[1]);
	msg("restore: fd %d (%s%s%s) cannot be restored (%s): it now %s",
	    f->gfd, kind_name(f->kind, f->path), f->path ? " " : "",
	    f->path ? f->path : "", why,
	    wronly ? "fails writes with EPIPE" : "reads end-of-file");
	return wronly ? pp[1] : pp[0];
}

/* Reopens a file by its guest path: the same file (device and inode), at
 * its offset. -1 with the reason in *why otherwise. */
static int reopen(struct lx_proc *p, const struct fd_rec *f, const char **why)
{
	int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY |
		   O_NOFOLLOW | O_DSYNC | O_SYNC | O_NOATIME | O_PATH;
	int fd = lx_fs_reopen(p, f->path, f->flags & keep);
	if (fd < 0) {
		*why = strerror(-fd);
		return -1;
	}
	struct stat sb;
	if (f->kind != LX_FD_DEV && f->kind != LX_FD_TTY &&
	    (fstat(fd, &sb) < 0 || sb.st_dev != f->dev ||
	     sb.st_ino != f->ino)) {
		*why = "the path names another file now";
		close(fd);
		return -1;
	}
	if (f->offset > 0 && lseek(fd, f->offset, SEEK_SET) != f->offset) {
		*why = "cannot seek to its offset";
		close(fd);
		return -1;
	}
	return fd;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A listening socket made anew on f's address: the fd, or -1 with the
 * reason in *why. The address may still be the source's for a moment
 * after a migration: bind is tried again for up to 2 s. */
static int relisten(struct lx_proc *p, const struct fd_rec *f, const char **why)
{
	if (!p->opts->net) {
		*why = "the VM has no --net";
		return -1;
	}
	if (!lx_net_port_allowed(p->opts, port_of(&f->addr))) {
		*why = "its port is not in --net=PORTS";
		return -1;
	}
	int nb = (f->flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0;
	int s = socket(f->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | nb, 0);
	if (s < 0) {
		*why = strerror(errno);
		return -1;
	}
	int on = 1;
	if (f->reuseaddr)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (f->reuseport)
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	if (f->addr.ss_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &f->v6only,
			   sizeof(f->v6only));
	int r;
	for (int i = 0;
	     (r = bind(s, (const struct sockaddr *)&f->addr, f->addrlen)) < 0 &&
	     errno == EADDRINUSE && i < 40;
	     i++)
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	if (r < 0 || listen(s, SOMAXCONN) < 0) {
		*why = strerror(errno);
		close(s);
		return -1;
	}
	return s;
}

static int restore_fd(struct lx_proc *p, const struct fd_rec *f)
{
	const struct lx_fd_ops *ops = lx_fd_ops(f->kind);
	if (ops && ops->reopen)
		return ops->reopen(p, f->gfd, f->fdflags, f->offset);
	const char *why = "not a file";
	int host = -1;
	uint32_t kind = f->kind;
	if (f->stdio >= 0) {
		/* The restoring mote's own stdin, stdout or stderr. */
		host = fcntl(f->stdio, F_DUPFD_CLOEXEC, 3);
		why = "mote's own is closed";
		if (host >= 0)
			kind = lx_fd_kind_of(host);
	} else if (kind == LX_FD_SOCK && f->listening) {
		host = relisten(p, f, &why);
	} else if (f->obj.type != LX_OBJ_NONE) {
		host = lx_fdobj_make(p, &f->obj, f->flags, &why);
	} else if ((kind == LX_FD_PIPE && !f->path) ||
		   (kind == LX_FD_SOCK && f->pair)) {
		host = pipe_end(f, &why);
	} else if (f->path && (kind == LX_FD_FILE || kind == LX_FD_DIR ||
			       kind == LX_FD_PATH || kind == LX_FD_DEV ||
			       kind == LX_FD_TTY)) {
		host = reopen(p, f, &why);
	}
	char *path = NULL;
	if (host < 0) {
		host = dead_fd(f, why);
		kind = LX_FD_PIPE;
	} else if (f->stdio < 0 && f->path && kind != LX_FD_SOCK) {
		path = strdup(f->path);
	}
	if (host < 0)
		return -1;
	return lx_fd_install_at(p, f->gfd, host, f->fdflags, kind, path);
}

static void get_fd(struct rbuf *r, struct fd_rec *f)
{
	R(r, f->gfd);
	R(r, f->kind);
	R(r, f->fdflags);
	R(r, f->flags);
	R(r, f->offset);
	f->path = r_str(r);
	R(r, f->stdio);
	R(r, f->dev);
	R(r, f->ino);
	R(r, f->listening);
	if (f->listening) {
		R(r, f->addrlen);
		if (f->addrlen > sizeof(f->addr))
			r->bad = true;
		else
			r_bytes(r, &f->addr, f->addrlen);
		R(r, f->reuseaddr);
		R(r, f->reuseport);
		R(r, f->v6only);
		if (f->listening != 1 || f->kind != LX_FD_SOCK ||
		    (f->addr.ss_family == AF_INET &&
		     f->addrlen != sizeof(struct sockaddr_in)) ||
		    (f->addr.ss_family == AF_INET6 &&
		     f->addrlen != sizeof(struct sockaddr_in6)) ||
		    (f->addr.ss_family != AF_INET &&
		     f->addr.ss_family != AF_INET6))
			r->bad = true;
	}
	lx_fdobj_read(r, f->kind, &f->obj);
	R(r, f->pair);
	R(r, f->pair_end);
	if (f->pair_end > 1 || (f->pair && f->kind != LX_FD_SOCK))
		r->bad = true;
	if (f->gfd < 0 || f->kind >= LX_FD_NKINDS || f->stdio < -1 ||
	    f->stdio > 2 || (f->path && f->path[0] != '/'))
		r->bad = true;
}

static int fd_restore(struct lx_proc *p, struct rbuf *r)
{
	uint64_t cur, max;
	uint32_t n;
	R(r, cur);
	R(r, max);
	R(r, n);
	if (r->bad || n > MAX_FDS || cur > max)
		return lx_state_bad("fd record");
	for (int i = 0; i < 3; i++)
		lx_fd_close(p, i);
	p->fdt.nofile_max = MIN(max, (uint64_t)p->fdt.cap);
	p->fdt.nofile_cur = MIN(cur, p->fdt.nofile_max);
	/* Epolls are filled once every fd they may name is back. */
	struct fd_rec *ep = NULL;
	uint32_t nep = 0;
	int err = 0;
	for (uint32_t i = 0; i < n && !err; i++) {
		struct fd_rec f = {0};
		get_fd(r, &f);
		err = r->bad ? lx_state_bad("fd record") : 0;
		if (!err && ((uint64_t)f.gfd >= p->fdt.nofile_cur ||
			     restore_fd(p, &f) < 0)) {
			msg("restore: cannot restore fd %d", f.gfd);
			err = -1;
		}
		free(f.path);
		f.path = NULL;
		struct fd_rec *ne = NULL;
		if (!err && f.obj.type == LX_OBJ_EPOLL && f.obj.nreg) {
			ne = realloc(ep, (nep + 1) * sizeof(*ep));
			err = ne ? 0
				 : lx_state_bad("fd record (out of memory)");
		}
		if (ne) {
			ep = ne;
			ep[nep++] = f;
		} else {
			lx_fdobj_free(&f.obj);
		}
	}
	for (uint32_t i = 0; i < nep; i++) {
		if (!err && lx_fdobj_link(p, ep[i].gfd, &ep[i].obj) < 0)
			err = -1;
		lx_fdobj_free(&ep[i].obj);
	}
	free(ep);
	return err;
}

/* The parent held the lock across fork(): the child's copy is made anew. */
static int fd_fork(struct lx_proc *p, const struct lx_fork *f)
{
	pthread_mutex_init(&p->fdt.lock, NULL);
	return 0;
}

const struct lx_subsys lx_fd_subsys = {
	.name = "fd",
	.tag = STREAM_TAG('F', 'D', 'S', ' '),
	.save = fd_save,
	.restore = fd_restore,
	.fork = fd_fork,
};
