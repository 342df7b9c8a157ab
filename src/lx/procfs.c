/* The guest's /proc, and the /dev names every Linux program expects,
 * served by the monitor.
 *
 * Nothing here shows the guest the host's /proc: every node is made from
 * the monitor's own state (the fd table, the VMAs, the threads, the VM's
 * CPUID and memory). A file's content is generated when it is opened, into
 * a sealed memfd: a snapshot, as Linux's seq files are. A directory is
 * listed afresh by each getdents64, its host fd's offset holding the
 * position. The tree's symlinks (self, exe, cwd, fd/N, /dev/fd, ...) are
 * followed here, never by the host. The host's /proc/self/fd is used only
 * by the monitor, on its own descriptors, to reopen them: what open of a
 * guest's /proc/PID/fd/N does on Linux.
 *
 * Only the calling process is there: /proc/PID for another guest process
 * of the run is ENOENT, like a pid in another pid namespace.
 */
#define _GNU_SOURCE
#include "lx/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PROC_DEV  makedev(0, 23) /* st_dev of the tree's nodes */
#define MAX_HOPS  40		 /* symlinks followed in one lookup */
#define MAX_NAMES 256		 /* distinct mapping names kept */

enum ntype { N_DIR, N_FILE, N_LINK, N_DEV };
enum ndir { D_ROOT, D_PID, D_TID, D_FD, D_TASK, D_SYS, D_SYSKERNEL };
enum nlink {
	L_SELF,
	L_THREAD_SELF,
	L_EXE,
	L_CWD,
	L_ROOT,
	L_FD,
	L_DEVFD,
	L_DEVSTD, /* /dev/stdin, stdout, stderr */
};

/* A node of the tree. */
struct node {
	enum ntype type;
	int which; /* enum ndir, procgen or nlink, or the index in devs[] */
	pid_t tid; /* whose node it is (the pid for the process's), or 0 */
	int fd;	   /* L_FD: the guest fd */
};

struct ent {
	const char *name;
	enum ntype type;
	int which;
};

static const struct ent root_ents[] = {
	{"self", N_LINK, L_SELF},
	{"thread-self", N_LINK, L_THREAD_SELF},
	{"cpuinfo", N_FILE, G_CPUINFO},
	{"meminfo", N_FILE, G_MEMINFO},
	{"uptime", N_FILE, G_UPTIME},
	{"loadavg", N_FILE, G_LOADAVG},
	{"version", N_FILE, G_VERSION},
	{"stat", N_FILE, G_SYSSTAT},
	{"filesystems", N_FILE, G_FILESYSTEMS},
	{"mounts", N_FILE, G_MOUNTS},
	{"sys", N_DIR, D_SYS},
};

static const struct ent pid_ents[] = {
	{"exe", N_LINK, L_EXE},		{"cwd", N_LINK, L_CWD},
	{"root", N_LINK, L_ROOT},	{"fd", N_DIR, D_FD},
	{"task", N_DIR, D_TASK},	{"maps", N_FILE, G_MAPS},
	{"status", N_FILE, G_STATUS},	{"stat", N_FILE, G_STAT},
	{"statm", N_FILE, G_STATM},	{"cmdline", N_FILE, G_CMDLINE},
	{"environ", N_FILE, G_ENVIRON}, {"comm", N_FILE, G_COMM},
	{"limits", N_FILE, G_LIMITS},	{"mounts", N_FILE, G_MOUNTS},
};

static const struct ent sys_ents[] = {{"kernel", N_DIR, D_SYSKERNEL}};

static const struct ent syskernel_ents[] = {
	{"ostype", N_FILE, G_OSTYPE},
	{"osrelease", N_FILE, G_OSRELEASE},
	{"hostname", N_FILE, G_HOSTNAME},
	{"pid_max", N_FILE, G_PIDMAX},
};

/* The devices: the host's own nodes, opened by the monitor by these
 * paths, and only if they are the device Linux has there. */
static const struct {
	const char *name;
	unsigned major, minor;
} devs[] = {
	{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	{"stdin", 0, 0},  {"stdout", 0, 1},  {"stderr", 0, 2},
};
#define DEV_STD 6 /* devs[] from here are links to /proc/self/fd/N */

static const struct ent *dir_table(enum ndir d, size_t *n)
{
	switch (d) {
	case D_ROOT: *n = ARRAY_SIZE(root_ents); return root_ents;
	case D_PID:
	case D_TID: *n = ARRAY_SIZE(pid_ents); return pid_ents;
	case D_SYS: *n = ARRAY_SIZE(sys_ents); return sys_ents;
	case D_SYSKERNEL:
		*n = ARRAY_SIZE(syskernel_ents);
		return syskernel_ents;
	default: *n = 0; return NULL;
	}
}

/* ---- threads and fds ---- */

struct lx_thread *lx_procfs_thread(struct lx_proc *p, pid_t tid)
{
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->live &&
		    p->threads[i]->tid == tid)
			return p->threads[i];
	return NULL;
}

static bool tid_ok(struct lx_proc *p, pid_t tid)
{
	if (tid == p->pid)
		return true;
	pthread_mutex_lock(&p->lock);
	bool ok = lx_procfs_thread(p, tid) != NULL;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* The guest tid of the calling host thread. */
static pid_t self_tid(struct lx_proc *p)
{
	pid_t host = (pid_t)syscall(SYS_gettid), tid = p->pid;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->host_tid == host)
			tid = p->threads[i]->tid;
	pthread_mutex_unlock(&p->lock);
	return tid;
}

static bool fd_open(struct lx_proc *p, int fd)
{
	pthread_mutex_lock(&p->fd_lock);
	bool ok = lx_fd_get(p, fd) != NULL;
	pthread_mutex_unlock(&p->fd_lock);
	return ok;
}

/* A copy of guest fd `fd`: a host duplicate (close it), its kind and a
 * copy of its path (free it). -EBADF if it is not open. */
static int fd_copy(struct lx_proc *p, int fd, enum lx_fd_kind *kind,
		   char **path)
{
	pthread_mutex_lock(&p->fd_lock);
	struct lx_fd *f = lx_fd_get(p, fd);
	int h = f ? fcntl(f->host, F_DUPFD_CLOEXEC, 3) : -1;
	int err = !f ? -EBADF : h < 0 ? -errno : 0;
	bool had_path = f && f->path;
	if (f) {
		*kind = f->kind;
		*path = f->path ? strdup(f->path) : NULL;
	}
	pthread_mutex_unlock(&p->fd_lock);
	if (!err && had_path && !*path)
		err = -ENOMEM;
	if (err && h >= 0)
		close(h);
	return err ? err : h;
}

/* ---- parsing a path into a node ---- */

/* A pid, tid or fd: digits without a leading zero. */
static int parse_num(const char *s, size_t n)
{
	if (n == 0 || n > 9 || (s[0] == '0' && n > 1))
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool is_comp(const char *guest, const char *top)
{
	size_t n = strlen(top);
	return strncmp(guest, top, n) == 0 &&
	       (guest[n] == 0 || guest[n] == '/');
}

/* /dev/NAME[/...]: the index in devs[], or L_DEVFD as -2, else -1. */
static int dev_index(const char *guest)
{
	if (strncmp(guest, "/dev/", 5) != 0)
		return -1;
	const char *s = guest + 5;
	size_t n = strcspn(s, "/");
	if (n == 2 && strncmp(s, "fd", 2) == 0)
		return -2;
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		if (strlen(devs[i].name) == n &&
		    strncmp(s, devs[i].name, n) == 0)
			return (int)i;
	return -1;
}

bool lx_procfs_owns(const char *guest)
{
	return is_comp(guest, "/proc") || dev_index(guest) != -1;
}

/* Steps from directory node n into its entry `name`. */
static int step(struct lx_proc *p, struct node *n, const char *name, size_t len)
{
	size_t cnt;
	const struct ent *tab = dir_table(n->which, &cnt);
	for (size_t i = 0; i < cnt; i++) {
		if (strlen(tab[i].name) != len ||
		    strncmp(tab[i].name, name, len) != 0 ||
		    (n->which == D_TID && tab[i].which == D_TASK &&
		     tab[i].type == N_DIR))
			continue;
		n->type = tab[i].type;
		n->which = tab[i].which;
		return 0;
	}
	int v = parse_num(name, len);
	if (v < 0)
		return -ENOENT;
	switch (n->which) {
	case D_ROOT:
	case D_TASK:
		if (!tid_ok(p, v))
			return -ENOENT;
		*n = (struct node){N_DIR, n->which == D_ROOT ? D_PID : D_TID, v,
				   0};
		return 0;
	case D_FD:
		if (!fd_open(p, v))
			return -ENOENT;
		*n = (struct node){N_LINK, L_FD, n->tid, v};
		return 0;
	}
	return -ENOENT;
}

/* Parses an owned path into its node. A symlink followed by more
 * components stops there, with *rest at the '/' of the remainder; else
 * *rest is "". */
static int parse(struct lx_proc *p, const char *guest, struct node *n,
		 const char **rest)
{
	int d = dev_index(guest);
	if (d != -1) {
		const char *s = guest + 5 + strcspn(guest + 5, "/");
		*rest = s;
		if (d == -2)
			*n = (struct node){N_LINK, L_DEVFD, p->pid, 0};
		else if (d >= DEV_STD)
			*n = (struct node){N_LINK, L_DEVSTD, p->pid,
					   (int)devs[d].minor};
		else if (*s)
			return -ENOTDIR;
		else
			*n = (struct node){N_DEV, d, 0, 0};
		return 0;
	}
	const char *s = guest + 5;
	*n = (struct node){N_DIR, D_ROOT, 0, 0};
	for (;;) {
		while (*s == '/')
			s++;
		size_t len = strcspn(s, "/");
		if (len == 0 || n->type == N_LINK) {
			*rest = len ? s - 1 : s;
			return 0;
		}
		if (n->type != N_DIR)
			return -ENOTDIR;
		int err = step(p, n, s, len);
		if (err)
			return err;
		s += len;
	}
}

/* ---- symlinks ---- */

/* The text of an fd's link, as Linux writes it. */
static int fd_link(struct lx_proc *p, int fd, char *out)
{
	enum lx_fd_kind kind;
	char *path;
	int h = fd_copy(p, fd, &kind, &path);
	if (h < 0)
		return h == -EBADF ? -ENOENT : h;
	struct stat st;
	int err = fstat(h, &st) < 0 ? -errno : 0;
	if (err) {
	} else if (path) {
		snprintf(out, PATH_MAX, "%s", path);
	} else if (S_ISFIFO(st.st_mode)) {
		snprintf(out, PATH_MAX, "pipe:[%lu]", (unsigned long)st.st_ino);
	} else if (S_ISSOCK(st.st_mode)) {
		snprintf(out, PATH_MAX, "socket:[%lu]",
			 (unsigned long)st.st_ino);
	} else if (S_ISCHR(st.st_mode) || (st.st_mode & S_IFMT) == 0) {
		/* A terminal's /dev path or an anon_inode:[...] name: the
		 * host's own text says what the object is. */
		char hp[64];
		snprintf(hp, sizeof(hp), "/proc/self/fd/%d", h);
		ssize_t n = readlink(hp, out, PATH_MAX - 1);
		out[n > 0 ? n : 0] = 0;
		if (n <= 0)
			snprintf(out, PATH_MAX, "anon_inode:[unknown]");
	} else {
		/* A host file the guest was given (stdio redirected by
		 * mote's caller): it has no guest path. */
		snprintf(out, PATH_MAX, "host:[%lu]", (unsigned long)st.st_ino);
	}
	close(h);
	free(path);
	return err;
}

/* A link's target text into out (PATH_MAX); relative for self and
 * thread-self, as on Linux. */
static int link_text(struct lx_proc *p, const struct node *n, char *out)
{
	switch (n->which) {
	case L_SELF: snprintf(out, PATH_MAX, "%d", (int)p->pid); return 0;
	case L_THREAD_SELF:
		snprintf(out, PATH_MAX, "%d/task/%d", (int)p->pid,
			 (int)self_tid(p));
		return 0;
	case L_EXE: snprintf(out, PATH_MAX, "%s", p->exe); return 0;
	case L_CWD: snprintf(out, PATH_MAX, "%s", p->fs.cwd); return 0;
	case L_ROOT: snprintf(out, PATH_MAX, "/"); return 0;
	case L_DEVFD: snprintf(out, PATH_MAX, "/proc/self/fd"); return 0;
	case L_DEVSTD:
		snprintf(out, PATH_MAX, "/proc/self/fd/%d", n->fd);
		return 0;
	}
	return fd_link(p, n->fd, out);
}

/* Whether link n leads to a guest path that lookups may continue from:
 * every link but exe and the fds of host objects. */
static bool path_link(struct lx_proc *p, const struct node *n)
{
	if (n->which == L_EXE)
		return false;
	if (n->which != L_FD)
		return true;
	pthread_mutex_lock(&p->fd_lock);
	struct lx_fd *f = lx_fd_get(p, n->fd);
	bool r = f && f->path &&
		 (f->kind == LX_FD_PROC || f->kind == LX_FD_PROCDIR);
	pthread_mutex_unlock(&p->fd_lock);
	return r;
}

/* The absolute path link n (whose own path is guest[0, len)) leads to,
 * followed by `rest`, into out (PATH_MAX). */
static int link_join(struct lx_proc *p, const struct node *n, const char *guest,
		     size_t len, const char *rest, char *out)
{
	char text[PATH_MAX];
	int err = link_text(p, n, text);
	if (err)
		return err;
	size_t dir = 0;
	if (text[0] != '/')
		for (size_t i = 0; i < len; i++)
			if (guest[i] == '/')
				dir = i;
	int k = snprintf(out, PATH_MAX, "%.*s/%s%s", (int)dir, guest, text,
			 rest);
	return k >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int lx_procfs_hop(struct lx_proc *p, const char *guest, char *out)
{
	struct node n;
	const char *rest;
	if (!lx_procfs_owns(guest) || parse(p, guest, &n, &rest) < 0 ||
	    n.type != N_LINK || !*rest)
		return 0;
	if (!path_link(p, &n)) {
		/* A directory opened by the guest continues from its path. */
		char *path = NULL;
		enum lx_fd_kind kind = LX_FD_OTHER;
		int h = n.which == L_FD ? fd_copy(p, n.fd, &kind, &path) : -1;
		if (h >= 0)
			close(h);
		int err = path && (kind == LX_FD_DIR || kind == LX_FD_PATH)
				  ? 0
				  : -ENOTDIR;
		if (!err &&
		    snprintf(out, PATH_MAX, "%s%s", path, rest) >= PATH_MAX)
			err = -ENAMETOOLONG;
		free(path);
		return err ? err : 1;
	}
	int err = link_join(p, &n, guest, rest - guest, rest, out);
	return err ? err : 1;
}

int lx_procfs_follow(struct lx_proc *p, struct lx_path *lp)
{
	for (int i = 0; i < MAX_HOPS; i++) {
		struct node n;
		const char *rest;
		char to[PATH_MAX];
		if (!lx_procfs_owns(lp->guest) ||
		    parse(p, lp->guest, &n, &rest) < 0 || n.type != N_LINK ||
		    !path_link(p, &n))
			return 0;
		int err =
			link_join(p, &n, lp->guest, strlen(lp->guest), "", to);
		if (!err)
			err = lx_path_lookup(p, AT_FDCWD, to, false, lp);
		if (err)
			return err;
	}
	return -ELOOP;
}

long lx_procfs_readlink(struct lx_proc *p, const char *guest, char *buf,
			size_t max)
{
	struct node n;
	const char *rest;
	char text[PATH_MAX];
	int err = parse(p, guest, &n, &rest);
	if (!err && n.type != N_LINK)
		err = -EINVAL;
	if (!err)
		err = link_text(p, &n, text);
	if (err)
		return err;
	size_t len = MIN(strlen(text), max);
	memcpy(buf, text, len);
	return (long)len;
}

/* ---- stat ---- */

static uint64_t path_ino(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return (h & 0xffffffffULL) | 1;
}

/* When the process started, on the wall clock. */
static struct timespec start_time(struct lx_proc *p)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t ago = mono_ns() - (p->start_ns ? p->start_ns : p->vm.boot_ns);
	int64_t ns =
		(int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t)ago;
	return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static void node_stat(struct lx_proc *p, const struct node *n,
		      const char *guest, struct stat *st)
{
	static const mode_t modes[] = {
		[N_DIR] = S_IFDIR | 0555,
		[N_FILE] = S_IFREG | 0444,
		[N_LINK] = S_IFLNK | 0777,
	};
	memset(st, 0, sizeof(*st));
	st->st_dev = PROC_DEV;
	st->st_ino = path_ino(guest);
	st->st_mode = modes[n->type];
	if (n->type == N_FILE && n->which == G_ENVIRON)
		st->st_mode = S_IFREG | 0400;
	st->st_nlink = n->type == N_DIR ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 1024;
	st->st_atim = st->st_mtim = st->st_ctim = start_time(p);
}

void lx_procfs_fstat(struct lx_proc *p, const struct lx_fd *f, struct stat *st)
{
	struct node n = {f->kind == LX_FD_PROCDIR ? N_DIR : N_FILE, -1, 0, 0};
	const char *rest;
	if (parse(p, f->path, &n, &rest) < 0 || *rest)
		n = (struct node){f->kind == LX_FD_PROCDIR ? N_DIR : N_FILE, -1,
				  0, 0};
	node_stat(p, &n, f->path, st);
}

/* The host device devs[d], checked to be what its name says. */
static int dev_open(int d, int flags)
{
	char path[32];
	snprintf(path, sizeof(path), "/dev/%s", devs[d].name);
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != devs[d].major ||
	    minor(st.st_rdev) != devs[d].minor) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* The object a link that is not a path leads to: an O_PATH-like host fd
 * (exe, or an fd's host object), with the mount of its guest path. */
static int link_object(struct lx_proc *p, const struct node *n,
		       struct lx_fs_obj *o)
{
	char *path = NULL;
	enum lx_fd_kind kind;
	int h = n->which == L_EXE ? fcntl(p->exe_fd, F_DUPFD_CLOEXEC, 3)
				  : fd_copy(p, n->fd, &kind, &path);
	if (h < 0)
		return n->which == L_EXE ? -ENOENT : h == -EBADF ? -ENOENT : h;
	o->fd = h;
	o->owned = true;
	if (path) {
		struct lx_fd f = {.path = path};
		lx_fs_fd_mount(p, &f, &o->mount, &o->rw);
		free(path);
	}
	return fstat(h, &o->st) < 0 ? -errno : 0;
}

int lx_procfs_obj(struct lx_proc *p, const struct lx_path *lp, int at,
		  struct lx_fs_obj *o)
{
	struct node n;
	const char *rest;
	o->fd = -1;
	o->owned = o->synth = o->rw = false;
	o->mount = -1;
	int err = parse(p, lp->guest, &n, &rest);
	if (err)
		return err;
	if (n.type == N_DEV) {
		o->fd = dev_open(n.which, O_PATH);
		if (o->fd < 0)
			return o->fd;
		o->owned = true;
		return fstat(o->fd, &o->st) < 0 ? -errno : 0;
	}
	if (n.type == N_LINK && !(at & AT_SYMLINK_NOFOLLOW)) {
		if (path_link(p, &n))
			return -ELOOP; /* lx_procfs_follow gave up */
		return link_object(p, &n, o);
	}
	o->synth = true;
	node_stat(p, &n, lp->guest, &o->st);
	return 0;
}

/* ---- open ---- */

/* A sealed memfd holding `len` bytes of data, reopened with `acc`
 * (O_RDONLY or O_PATH) so that the guest cannot write it. */
static int memfd_of(struct lx_proc *p, const char *data, size_t len, int acc)
{
	int fd = memfd_create("mote-proc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* A memfd counts against RLIMIT_FSIZE, which is the guest's: a
	 * snapshot beyond its hard limit cannot be made (EFBIG). */
	struct lx_own_write w;
	lx_own_write_begin(p, &w);
	int err = 0;
	for (size_t done = 0; done < len && !err;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n <= 0)
			err = n < 0 && errno == EFBIG ? -EFBIG : -ENOMEM;
		else
			done += (size_t)n;
	}
	lx_own_write_end(p, &w, err == -EFBIG);
	if (err) {
		close(fd);
		return err;
	}
	fcntl(fd, F_ADD_SEALS,
	      F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	char hp[64];
	snprintf(hp, sizeof(hp), "/proc/self/fd/%d", fd);
	int ro = open(hp, acc | O_CLOEXEC);
	close(fd);
	return ro < 0 ? -errno : ro;
}

#define TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)

static bool write_intent(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY ||
	       (flags & (O_TRUNC | TMPFILE_BIT));
}

/* Opens a directory or generated file of the tree. */
static long open_node(struct lx_thread *t, const struct node *n,
		      const char *guest, int flags)
{
	struct lx_proc *p = t->p;
	bool dir = n->type == N_DIR;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (!(flags & O_PATH) && write_intent(flags))
		return dir ? -EISDIR : -EACCES;
	if ((flags & O_DIRECTORY) && !dir)
		return -ENOTDIR;
	struct sbuf b = {0};
	if (n->type == N_FILE && !(flags & O_PATH))
		lx_procgen(p, n->tid ? n->tid : p->pid, n->which, &b);
	int fd = b.err ? -ENOMEM
		       : memfd_of(p, b.s, b.len, flags & O_PATH ? O_PATH : 0);
	free(b.s);
	char *gp = fd >= 0 ? strdup(guest) : NULL;
	if (fd >= 0 && !gp) {
		close(fd);
		fd = -ENOMEM;
	}
	if (fd < 0)
		return fd;
	return lx_fd_install(p, fd, flags & O_CLOEXEC ? FD_CLOEXEC : 0,
			     dir ? LX_FD_PROCDIR : LX_FD_PROC, gp, 0);
}

/* What a reopen of a guest fd may ask: a file on a read-only mount is
 * not opened for writing, and an object without a guest path (stdio,
 * a socket) not for more than the fd allows; a pipe takes any. */
static int reopen_policy(struct lx_proc *p, int h, const char *path, int flags)
{
	struct stat st;
	if (fstat(h, &st) < 0)
		return -errno;
	/* An O_PATH fd of any device opens only as an allowed one. */
	if (path && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
	    !(flags & O_PATH) && !lx_fs_dev_allowed(&st))
		return -EACCES;
	if (path) {
		struct lx_fd f = {.path = (char *)path};
		int mount;
		bool rw;
		lx_fs_fd_mount(p, &f, &mount, &rw);
		return write_intent(flags) && !rw && !S_ISCHR(st.st_mode)
			       ? -EROFS
			       : 0;
	}
	if (S_ISFIFO(st.st_mode) || (flags & O_PATH))
		return 0;
	int had = fcntl(h, F_GETFL) & O_ACCMODE, want = flags & O_ACCMODE;
	bool r_ok = had != O_WRONLY, w_ok = had != O_RDONLY;
	if (((want == O_RDONLY || want == O_RDWR) && !r_ok) ||
	    ((want == O_WRONLY || want == O_RDWR || (flags & O_TRUNC)) &&
	     !w_ok))
		return -EACCES;
	return 0;
}

/* Opens host fd h anew (a new open file description) with flags. */
static int reopen(int h, int flags)
{
	char hp[64];
	snprintf(hp, sizeof(hp), "/proc/self/fd/%d", h);
	flags &= ~(O_CREAT | O_EXCL | O_NOFOLLOW | TMPFILE_BIT);
	int fd = open(hp, flags | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/* open of exe or fd/N: the object itself, opened anew. */
static long open_link(struct lx_thread *t, const struct node *n, int flags)
{
	struct lx_proc *p = t->p;
	char *path = NULL;
	enum lx_fd_kind kind;
	int h, err = 0;
	if (n->which == L_EXE) {
		h = fcntl(p->exe_fd, F_DUPFD_CLOEXEC, 3);
		path = strdup(p->exe);
		if (h < 0 || !path)
			err = h < 0 ? -ENOENT : -ENOMEM;
		else if (write_intent(flags))
			err = -ETXTBSY;
	} else {
		h = fd_copy(p, n->fd, &kind, &path);
		if (h < 0)
			return h == -EBADF ? -ENOENT : h;
		err = reopen_policy(p, h, path, flags);
	}
	int fd = err ? err : reopen(h, flags);
	if (h >= 0)
		close(h);
	if (fd < 0) {
		free(path);
		return fd;
	}
	return lx_fd_install(p, fd, flags & O_CLOEXEC ? FD_CLOEXEC : 0,
			     lx_fd_kind_of(fd), path, 0);
}

long lx_procfs_open(struct lx_thread *t, const struct lx_path *lp, int flags,
		    mode_t mode)
{
	(void)mode;
	struct node n;
	const char *rest;
	int err = parse(t->p, lp->guest, &n, &rest);
	if (err)
		return err;
	if (n.type == N_DEV) {
		if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
			return -EEXIST;
		int fd = dev_open(n.which, flags & ~(O_CREAT | O_EXCL |
						     TMPFILE_BIT | O_CLOEXEC));
		char *gp = fd >= 0 ? strdup(lp->guest) : NULL;
		if (fd < 0)
			return fd;
		return lx_fd_install(t->p, fd,
				     flags & O_CLOEXEC ? FD_CLOEXEC : 0,
				     lx_fd_kind_of(fd), gp, 0);
	}
	if (n.type == N_LINK && !(flags & O_PATH && flags & O_NOFOLLOW)) {
		if ((flags & O_NOFOLLOW) || path_link(t->p, &n))
			return -ELOOP;
		return open_link(t, &n, flags);
	}
	return open_node(t, &n, lp->guest, flags);
}

int lx_procfs_open_exec(struct lx_proc *p, const struct lx_path *lp, char *exe)
{
	struct node n;
	const char *rest;
	int err = parse(p, lp->guest, &n, &rest);
	if (err)
		return err;
	if (n.type != N_LINK || path_link(p, &n))
		return -EACCES;
	struct lx_fs_obj o = {0};
	if ((err = link_object(p, &n, &o)) < 0) {
		lx_fs_obj_put(&o);
		return err;
	}
	int fd = reopen(o.fd, O_RDONLY);
	lx_fs_obj_put(&o);
	if (fd >= 0)
		link_text(p, &n, exe);
	return fd;
}

/* ---- directories ---- */

struct dent {
	uint64_t key; /* its position */
	char name[32];
	unsigned char type;
};

static const unsigned char dt_of[] = {
	[N_DIR] = DT_DIR, [N_FILE] = DT_REG, [N_LINK] = DT_LNK};

/* The entry of directory n with the smallest position >= pos, if any. */
static bool dir_next(struct lx_proc *p, const struct node *n, uint64_t pos,
		     struct dent *d)
{
	if (pos < 2) {
		*d = (struct dent){pos, "..", DT_DIR};
		d->name[pos ? 2 : 1] = 0;
		return true;
	}
	size_t cnt;
	const struct ent *tab = dir_table(n->which, &cnt);
	for (uint64_t i = pos - 2; i < cnt; i++) {
		if (n->which == D_TID && tab[i].which == D_TASK &&
		    tab[i].type == N_DIR)
			continue;
		*d = (struct dent){i + 2, "", dt_of[tab[i].type]};
		snprintf(d->name, sizeof(d->name), "%s", tab[i].name);
		return true;
	}
	uint64_t base = 2 + cnt, i = pos - base;
	bool found = false;
	if (n->which == D_ROOT && pos <= base) {
		*d = (struct dent){base, "", DT_DIR};
		snprintf(d->name, sizeof(d->name), "%d", (int)p->pid);
		return true;
	}
	if (n->which == D_FD) {
		pthread_mutex_lock(&p->fd_lock);
		for (; !found && i < (uint64_t)p->nfds; i++)
			if (p->fds[i].used) {
				*d = (struct dent){base + i, "", DT_LNK};
				snprintf(d->name, sizeof(d->name), "%d",
					 (int)i);
				found = true;
			}
		pthread_mutex_unlock(&p->fd_lock);
	}
	if (n->which == D_TASK) {
		pthread_mutex_lock(&p->lock);
		for (; !found && i < SYS_MAX_VCPUS; i++)
			if (p->threads[i] && p->threads[i]->live) {
				*d = (struct dent){base + i, "", DT_DIR};
				snprintf(d->name, sizeof(d->name), "%d",
					 (int)p->threads[i]->tid);
				found = true;
			}
		pthread_mutex_unlock(&p->lock);
	}
	return found;
}

long lx_procfs_getdents(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
			unsigned count)
{
	struct lx_proc *p = t->p;
	off_t pos = lseek(f->host, 0, SEEK_CUR);
	if (pos < 0)
		return -errno;
	uint8_t *h = gm_user(&p->vm, buf, count, GM_WRITE);
	if (!h)
		return -EFAULT;
	struct node n;
	const char *rest;
	int err = parse(p, f->path, &n, &rest);
	if (err || n.type != N_DIR)
		return err ? err : -ENOTDIR;
	size_t used = 0, plen = strlen(f->path);
	struct dent d;
	while (dir_next(p, &n, (uint64_t)pos, &d)) {
		size_t nl = strlen(d.name);
		size_t rl = ALIGN_UP(19 + nl + 1, 8);
		if (used + rl > count)
			break;
		char full[PATH_MAX + 40];
		snprintf(full, sizeof(full), "%.*s/%s", (int)plen, f->path,
			 d.name);
		struct dirent64 *e = (struct dirent64 *)(h + used);
		e->d_ino = path_ino(full);
		e->d_off = (int64_t)d.key + 1;
		e->d_reclen = (unsigned short)rl;
		e->d_type = d.type;
		memset(e->d_name, 0, rl - 19);
		memcpy(e->d_name, d.name, nl);
		used += rl;
		pos = (off_t)d.key + 1;
	}
	if (used == 0 && dir_next(p, &n, (uint64_t)pos, &d))
		return -EINVAL;
	lseek(f->host, pos, SEEK_SET);
	return (long)used;
}

/* ---- what exec and the loader record ---- */

/* The end of the NUL-terminated guest string at a, or a if unreadable. */
static uint64_t str_end(struct lx_proc *p, uint64_t a)
{
	uint64_t top = p->vm.user_size;
	const char *s = a < top ? gm_user(&p->vm, a, top - a, GM_READ) : NULL;
	return s ? a + strnlen(s, top - a) + 1 : a;
}

void lx_procfs_note_stack(struct lx_proc *p, uint64_t sp)
{
	struct lx_mm *mm = &p->mm;
	const uint64_t *argc = gm_user(&p->vm, sp, 8, GM_READ);
	mm->arg_start = mm->arg_end = mm->env_start = mm->env_end = 0;
	if (!argc || *argc > (1 << 17))
		return;
	const uint64_t *v = gm_user(&p->vm, sp + 8, (*argc + 1) * 8, GM_READ);
	if (v && *argc) {
		mm->arg_start = v[0];
		mm->arg_end = str_end(p, v[*argc - 1]);
	}
	uint64_t e = sp + 8 + (*argc + 1) * 8;
	const uint64_t *first = gm_user(&p->vm, e, 8, GM_READ);
	uint64_t last = 0;
	for (uint64_t i = 0; first && i < (1 << 17); i++) {
		const uint64_t *w = gm_user(&p->vm, e + i * 8, 8, GM_READ);
		if (!w || !*w)
			break;
		last = *w;
	}
	if (first && *first) {
		mm->env_start = *first;
		mm->env_end = str_end(p, last);
	}
}

void lx_procfs_set_comm(struct lx_proc *p, const char *path)
{
	const char *base = strrchr(path, '/');
	snprintf(p->comm, sizeof(p->comm), "%s", base ? base + 1 : path);
}

/* ---- mapping names ---- */

/* Drops the names no VMA uses any more. */
static void names_compact(struct lx_mm *mm)
{
	int out = 0;
	for (int i = 0; i < mm->nnames; i++) {
		bool used = false;
		for (int j = 0; j < mm->nvmas && !used; j++)
			used = mm->vmas[j].name == mm->names[i];
		if (used)
			mm->names[out++] = mm->names[i];
		else
			free(mm->names[i]);
	}
	mm->nnames = out;
}

const char *lx_mm_name(struct lx_proc *p, const char *name)
{
	struct lx_mm *mm = &p->mm;
	for (int i = 0; i < mm->nnames; i++)
		if (strcmp(mm->names[i], name) == 0)
			return mm->names[i];
	if (!mm->names && !(mm->names = calloc(MAX_NAMES, sizeof(char *))))
		return NULL;
	if (mm->nnames == MAX_NAMES)
		names_compact(mm);
	char *s = mm->nnames < MAX_NAMES ? strdup(name) : NULL;
	if (s)
		mm->names[mm->nnames++] = s;
	return s;
}
