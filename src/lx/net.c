/* Sockets: socket, socketpair, bind, listen, accept, connect, names,
 * shutdown and options, under the --net policy.
 *
 * A guest socket is a host socket. AF_UNIX is always there: its paths are
 * guest paths, resolved inside the root and volumes like files (bind
 * creates a file, so it needs a rw volume), and the host reaches them only
 * through /proc/self/fd/N of the confined O_PATH fd of the parent directory
 * (bind) or of the socket itself (connect), so no host path is ever built
 * from guest input. AF_INET and AF_INET6 need --net; --net=PORTS limits the
 * ports the guest may bind or listen on. Abstract AF_UNIX names and socket
 * files outside the rw volumes are the host's, so they need --net too.
 * Other families are refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "lx/fs.h"
#include "lx/net.h"
#include "util.h"

#define PROC_FD "/proc/self/fd/"
#define OPT_MAX 4096 /* the most option bytes passed either way */

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#define SO_PEERPIDFD 77
#endif
#ifndef TCP_ZEROCOPY_RECEIVE
#define TCP_ZEROCOPY_RECEIVE 35
#endif

/* Says once per process (and kind of refusal) how to allow it. */
static void tell_once(bool *told, const char *what, const char *fix)
{
	if (!__atomic_exchange_n(told, true, __ATOMIC_RELAXED))
		msg("%s: %s", what, fix);
}

static int need_net(struct lx_thread *t, const char *what)
{
	static bool told;
	if (t->p->opts->net)
		return 0;
	tell_once(&told, what, "network access is off: run with --net");
	return -EACCES;
}

int lx_sock_get(struct lx_thread *t, uint64_t gfd, struct lx_fd **f)
{
	*f = lx_fd_get(t->p, (long)(int)gfd);
	if (!*f)
		return -EBADF;
	return (*f)->kind == LX_FD_SOCK ? 0 : -ENOTSOCK;
}

/* ---- addresses ---- */

bool lx_net_port_allowed(const struct lx_opts *o, unsigned port)
{
	if (o->nnet_ports == 0)
		return true;
	for (int i = 0; i < o->nnet_ports; i++)
		if (o->net_ports[i] == port)
			return true;
	return false;
}

/* --net=PORTS: a port the guest binds (0 is any port, for outgoing
 * traffic) or listens on (0: an ephemeral one) must be listed. */
static int check_port(struct lx_thread *t, const struct sockaddr_storage *ss,
		      bool listening)
{
	static bool told;
	unsigned port;
	if (ss->ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	else
		return 0;
	if ((port == 0 && !listening) || lx_net_port_allowed(t->p->opts, port))
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "port %u", port);
	tell_once(&told, what, "not in --net=PORTS: add it there to allow it");
	return -EACCES;
}

/* The host name of an object held by fd, with an optional last name. */
static int proc_name(struct lx_addr *a, int fd, const char *last)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	int n = snprintf(un->sun_path, sizeof(un->sun_path), PROC_FD "%d%s%s",
			 fd, last ? "/" : "", last ? last : "");
	if (n < 0 || (size_t)n >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int unix_bind_path(struct lx_thread *t, const char *path,
			  struct lx_addr *a)
{
	struct lx_fs_parent pa;
	int err = lx_fs_parent_path(t->p, AT_FDCWD, path, &pa);
	if (!err && !pa.last)
		err = -EADDRINUSE;
	if (!err && !pa.lp.rw)
		err = -EROFS;
	if (!err)
		err = proc_name(a, pa.fd, pa.last);
	/* getsockname gives back the name as the guest bound it. */
	if (!err && !(a->guest = strdup(path)))
		err = -ENOMEM;
	if (!err) {
		a->hold = pa.fd;
		pa.fd = -1;
	}
	lx_fs_parent_put(&pa);
	return err;
}

static int unix_dest_path(struct lx_thread *t, const char *path,
			  struct lx_addr *a)
{
	static bool told;
	struct lx_fs_obj o;
	int err = lx_fs_obj_path(t->p, AT_FDCWD, path, 0, &o);
	if (err)
		return err;
	if (!S_ISSOCK(o.st.st_mode))
		err = -ECONNREFUSED;
	else if (!o.rw && !t->p->opts->net) {
		/* A socket of the read-only root is a host service. */
		tell_once(&told, "connect to a socket outside the rw volumes",
			  "network access is off: run with --net");
		err = -EACCES;
	}
	if (!err)
		err = proc_name(a, o.fd, NULL);
	if (!err && o.owned) {
		a->hold = o.fd;
		o.owned = false;
	}
	lx_fs_obj_put(&o);
	return err;
}

static int unix_in(struct lx_thread *t, enum lx_addr_use use, struct lx_addr *a)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	/* Abstract names, and autobind (a bare family), which makes one, live
	 * in the host's network namespace. */
	if (a->len == off)
		return use == ADDR_BIND ? need_net(t, "abstract unix socket")
					: 0;
	if (un->sun_path[0] == 0)
		return need_net(t, "abstract unix socket");
	char path[sizeof(un->sun_path) + 1];
	size_t n = MIN(a->len - off, sizeof(un->sun_path));
	memcpy(path, un->sun_path, n);
	path[n] = 0;
	memset(un->sun_path, 0, sizeof(un->sun_path));
	return use == ADDR_BIND ? unix_bind_path(t, path, a)
				: unix_dest_path(t, path, a);
}

int lx_addr_in(struct lx_thread *t, uint64_t gva, uint64_t len,
	       enum lx_addr_use use, struct lx_addr *a)
{
	*a = (struct lx_addr){.hold = -1};
	len = (uint64_t)(int)len; /* an int on Linux: high bits ignored */
	if ((int64_t)len < 0 || len > sizeof(a->ss))
		return -EINVAL;
	a->len = (socklen_t)len;
	if (len == 0)
		return 0;
	const void *g = gm_user(&t->p->vm, gva, len, GM_READ);
	if (!g)
		return -EFAULT;
	memcpy(&a->ss, g, len);
	if (len < sizeof(sa_family_t))
		return 0;
	if (a->ss.ss_family == AF_UNIX)
		return unix_in(t, use, a);
	return use == ADDR_BIND ? check_port(t, &a->ss, false) : 0;
}

void lx_addr_put(struct lx_addr *a)
{
	if (a->hold >= 0)
		close(a->hold);
	a->hold = -1;
	free(a->guest);
	a->guest = NULL;
}

socklen_t lx_addr_guest(const struct lx_fd *f, struct sockaddr_storage *ss,
			socklen_t len, bool own)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	if (len <= off + strlen(PROC_FD) || ss->ss_family != AF_UNIX ||
	    strncmp(un->sun_path, PROC_FD, strlen(PROC_FD)) != 0)
		return len;
	char name[sizeof(un->sun_path) + 1];
	const char *last = own && f->path ? NULL : strrchr(un->sun_path, '/');
	snprintf(name, sizeof(name), "%s", last ? last + 1 : f->path);
	memset(un->sun_path, 0, sizeof(un->sun_path));
	memcpy(un->sun_path, name, MIN(strlen(name), sizeof(un->sun_path)));
	return (socklen_t)(off + MIN(strlen(name) + 1, sizeof(un->sun_path)));
}

void lx_addr_copy_out(void *buf, socklen_t room, const void *addr,
		      socklen_t len)
{
	memcpy(buf, addr, MIN(room, len));
}

/* A guest (addr, addrlen pointer) pair to be filled: checked before the
 * host call so that nothing is lost to a bad pointer after it. */
struct addr_out {
	void *buf;
	int *lenp;
	int room; /* *lenp, read once: another guest thread may change it */
};

static int addr_out_get(struct lx_thread *t, uint64_t addr, uint64_t lenp,
			bool optional, struct addr_out *o)
{
	*o = (struct addr_out){0};
	if (optional && !addr)
		return 0;
	o->lenp = gm_user(&t->p->vm, lenp, sizeof(int), GM_WRITE);
	if (!o->lenp)
		return -EFAULT;
	o->room = __atomic_load_n(o->lenp, __ATOMIC_RELAXED);
	if (o->room < 0)
		return -EINVAL;
	o->buf = gm_user(&t->p->vm, addr, (uint64_t)o->room, GM_WRITE);
	return o->buf || o->room == 0 ? 0 : -EFAULT;
}

static void addr_out_put(const struct lx_fd *f, struct addr_out *o,
			 struct sockaddr_storage *ss, socklen_t len, bool own)
{
	if (!o->lenp)
		return;
	len = lx_addr_guest(f, ss, len, own);
	lx_addr_copy_out(o->buf, (socklen_t)o->room, ss, len);
	*o->lenp = (int)len;
}

/* ---- sockets ---- */

#define SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

static int sock_policy(struct lx_thread *t, int domain, int type)
{
	if (type & ~(0xf | SOCK_FLAGS))
		return -EINVAL;
	if (domain == AF_UNIX)
		return 0; /* the host knows its types (SOCK_RAW is DGRAM) */
	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	int err = need_net(t, "socket");
	if (err)
		return err;
	switch (type & 0xf) {
	case SOCK_STREAM:
	case SOCK_DGRAM:
	case SOCK_SEQPACKET: return 0;
	case SOCK_RAW: return -EPERM; /* as for a process without CAP_NET_RAW */
	}
	return -ESOCKTNOSUPPORT;
}

static int fdflags_of(uint64_t type)
{
	return type & SOCK_CLOEXEC ? FD_CLOEXEC : 0;
}

LX_SYS(socket)
{
	int type = (int)a[1];
	int err = sock_policy(t, (int)a[0], type);
	if (err)
		return err;
	int h = socket((int)a[0], type | SOCK_CLOEXEC, (int)a[2]);
	if (h < 0)
		return -errno;
	return lx_fd_install(t->p, h, fdflags_of(a[1]), LX_FD_SOCK, NULL, 0);
}

LX_SYS(socketpair)
{
	int type = (int)a[1];
	int err = sock_policy(t, (int)a[0], type);
	if (err)
		return err;
	if ((int)a[0] != AF_UNIX)
		return -EOPNOTSUPP;
	int *sv = gm_user(&t->p->vm, a[3], 2 * sizeof(int), GM_WRITE);
	if (!sv)
		return -EFAULT;
	int h[2];
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, (int)a[2], h) < 0)
		return -errno;
	int g0 = lx_fd_install(t->p, h[0], fdflags_of(a[1]), LX_FD_SOCK, NULL,
			       0);
	if (g0 < 0) {
		close(h[1]);
		return g0;
	}
	int g1 = lx_fd_install(t->p, h[1], fdflags_of(a[1]), LX_FD_SOCK, NULL,
			       0);
	if (g1 < 0) {
		lx_fd_close(t->p, g0);
		return g1;
	}
	/* Named for snapshots, which bring the pair back connected. */
	struct stat st;
	struct lx_fd *f0 = lx_fd_get(t->p, g0), *f1 = lx_fd_get(t->p, g1);
	if (f0 && f1 && fstat(f0->host, &st) == 0) {
		f0->pair = f1->pair = st.st_ino;
		f1->pair_end = 1;
	}
	sv[0] = g0;
	sv[1] = g1;
	return 0;
}

LX_SYS(bind)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct lx_addr ad;
	err = lx_addr_in(t, a[1], a[2], ADDR_BIND, &ad);
	if (!err) {
		/* The socket file gets the guest's umask, as mkdir does. */
		mode_t old = umask(t->p->fs.umask);
		if (bind(f->host, (struct sockaddr *)&ad.ss, ad.len) < 0)
			err = -errno;
		umask(old);
	}
	if (!err && ad.guest) {
		free(f->path);
		f->path = ad.guest;
		ad.guest = NULL;
	}
	lx_addr_put(&ad);
	return err;
}

LX_SYS(listen)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	if (getsockname(f->host, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if ((err = check_port(t, &ss, true)) < 0)
		return err;
	return listen(f->host, (int)a[1]) < 0 ? -errno : 0;
}

static long do_accept(struct lx_thread *t, const uint64_t *a, int flags)
{
	struct lx_fd *f;
	if (flags & ~SOCK_FLAGS)
		return -EINVAL;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct addr_out o;
	if ((err = addr_out_get(t, a[1], a[2], true, &o)) < 0)
		return err;
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	long h = lx_block(SYS_accept4, f->host, (long)&ss, (long)&len,
			  flags | SOCK_CLOEXEC, 0, 0);
	if (h < 0)
		return h;
	/* Its own name is the listener's. */
	char *path = f->path ? strdup(f->path) : NULL;
	int g = lx_fd_install(t->p, h, fdflags_of((uint64_t)flags), LX_FD_SOCK,
			      path, 0);
	if (g >= 0)
		addr_out_put(f, &o, &ss, len, false);
	return g;
}

LX_SYS(accept)
{
	return do_accept(t, a, 0);
}

LX_SYS(accept4)
{
	return do_accept(t, a, (int)a[3]);
}

LX_SYS(connect)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct lx_addr ad;
	err = lx_addr_in(t, a[1], a[2], ADDR_DEST, &ad);
	if (!err)
		err = (int)lx_block(SYS_connect, f->host, (long)&ad.ss, ad.len,
				    0, 0, 0);
	lx_addr_put(&ad);
	return err;
}

static long sock_name(struct lx_thread *t, const uint64_t *a, bool peer)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	struct addr_out o;
	if ((err = addr_out_get(t, a[1], a[2], false, &o)) < 0)
		return err;
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(f->host, (struct sockaddr *)&ss, &len)
		     : getsockname(f->host, (struct sockaddr *)&ss, &len);
	if (r < 0)
		return -errno;
	addr_out_put(f, &o, &ss, len, !peer);
	return 0;
}

LX_SYS(getsockname)
{
	return sock_name(t, a, false);
}

LX_SYS(getpeername)
{
	return sock_name(t, a, true);
}

LX_SYS(shutdown)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	return shutdown(f->host, (int)a[1]) < 0 ? -errno : 0;
}

/* ---- options ---- */

/* Options whose value holds a pointer (the host would read its own
 * memory there) or makes the host hand out a descriptor of its own are
 * refused; so are the levels of protocols the guest cannot have. */
static int opt_policy(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		switch (name) {
		case SO_ATTACH_FILTER:
		case SO_ATTACH_BPF:
		case SO_ATTACH_REUSEPORT_CBPF:
		case SO_ATTACH_REUSEPORT_EBPF:
		case SO_PASSPIDFD:
		case SO_PEERPIDFD: return -ENOPROTOOPT;
		}
		return 0;
	case IPPROTO_TCP:
		return name == TCP_ZEROCOPY_RECEIVE || name == TCP_ULP
			       ? -ENOPROTOOPT
			       : 0;
	case IPPROTO_IP:
	case IPPROTO_IPV6:
	case IPPROTO_UDP: return 0;
	}
	return -ENOPROTOOPT;
}

LX_SYS(setsockopt)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	int level = (int)a[1], name = (int)a[2], optlen = (int)a[4];
	if (optlen < 0)
		return -EINVAL;
	if ((err = opt_policy(level, name)) < 0)
		return err;
	socklen_t len = MIN((socklen_t)optlen, OPT_MAX);
	const void *v = len ? gm_user(&t->p->vm, a[3], len, GM_READ) : NULL;
	if (len && !v)
		return -EFAULT;
	return setsockopt(f->host, level, name, v, len) < 0 ? -errno : 0;
}

LX_SYS(getsockopt)
{
	struct lx_fd *f;
	int err = lx_sock_get(t, a[0], &f);
	if (err)
		return err;
	int level = (int)a[1], name = (int)a[2];
	int *lenp = gm_user(&t->p->vm, a[4], sizeof(int), GM_WRITE);
	if (!lenp)
		return -EFAULT;
	int room = __atomic_load_n(lenp, __ATOMIC_RELAXED); /* read once */
	if (room < 0)
		return -EINVAL;
	if ((err = opt_policy(level, name)) < 0)
		return err;
	socklen_t len = MIN((socklen_t)room, OPT_MAX);
	void *v = len ? gm_user(&t->p->vm, a[3], len, GM_WRITE) : NULL;
	if (len && !v)
		return -EFAULT;
	if (getsockopt(f->host, level, name, v, &len) < 0)
		return -errno;
	*lenp = (int)len;
	return 0;
}

long lx_sock_ioctl(struct lx_thread *t, struct lx_fd *f, unsigned long req,
		   uint64_t arg)
{
	switch (req) {
	case SIOCOUTQ:
	case SIOCOUTQNSD:
	case SIOCATMARK: {
		int *ip = gm_user(&t->p->vm, arg, sizeof(int), GM_WRITE);
		if (!ip)
			return -EFAULT;
		return ioctl(f->host, req, ip) < 0 ? -errno : 0;
	}
	}
	return -ENOTTY;
}
