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
#include "lx/procfs_tree.h"

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

const struct ent *procfs_dir_table(enum ndir d, size_t *n)
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
	if (tid == p->task.pid)
		return true;
	pthread_mutex_lock(&p->lock);
	bool ok = lx_procfs_thread(p, tid) != NULL;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* The guest tid of the calling host thread. */
pid_t procfs_self_tid(struct lx_proc *p)
{
	pid_t host = (pid_t)syscall(SYS_gettid), tid = p->task.pid;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++)
		if (p->threads[i] && p->threads[i]->host_tid == host)
			tid = p->threads[i]->tid;
	pthread_mutex_unlock(&p->lock);
	return tid;
}

static bool fd_open(struct lx_proc *p, int fd)
{
	pthread_mutex_lock(&p->fdt.lock);
	bool ok = lx_fd_get(p, fd) != NULL;
	pthread_mutex_unlock(&p->fdt.lock);
	return ok;
}

/* A copy of guest fd `fd`: a host duplicate (close it), its kind and a
 * copy of its path (free it). -EBADF if it is not open. */
int procfs_fd_copy(struct lx_proc *p, int fd, enum lx_fd_kind *kind,
		   char **path)
{
	pthread_mutex_lock(&p->fdt.lock);
	struct lx_fd *f = lx_fd_get(p, fd);
	int h = f ? fcntl(f->host, F_DUPFD_CLOEXEC, 3) : -1;
	int err = !f ? -EBADF : h < 0 ? -errno : 0;
	bool had_path = f && f->path;
	if (f) {
		*kind = f->kind;
		*path = f->path ? strdup(f->path) : NULL;
	}
	pthread_mutex_unlock(&p->fdt.lock);
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
	const struct ent *tab = procfs_dir_table(n->which, &cnt);
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
int procfs_parse(struct lx_proc *p, const char *guest, struct node *n,
		 const char **rest)
{
	int d = dev_index(guest);
	if (d != -1) {
		const char *s = guest + 5 + strcspn(guest + 5, "/");
		*rest = s;
		if (d == -2)
			*n = (struct node){N_LINK, L_DEVFD, p->task.pid, 0};
		else if (d >= DEV_STD)
			*n = (struct node){N_LINK, L_DEVSTD, p->task.pid,
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

/* ---- stat ---- */

uint64_t procfs_path_ino(const char *s)
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
	uint64_t ago = mono_ns() -
		       (p->task.start_ns ? p->task.start_ns : p->vm.boot_ns);
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
	st->st_ino = procfs_path_ino(guest);
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
	if (procfs_parse(p, f->path, &n, &rest) < 0 || *rest)
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
	int h = n->which == L_EXE ? fcntl(p->task.exe_fd, F_DUPFD_CLOEXEC, 3)
				  : procfs_fd_copy(p, n->fd, &kind, &path);
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
	int err = procfs_parse(p, lp->guest, &n, &rest);
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
		if (procfs_path_link(p, &n))
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
		lx_procgen(p, n->tid ? n->tid : p->task.pid, n->which, &b);
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
		h = fcntl(p->task.exe_fd, F_DUPFD_CLOEXEC, 3);
		path = strdup(p->task.exe);
		if (h < 0 || !path)
			err = h < 0 ? -ENOENT : -ENOMEM;
		else if (write_intent(flags))
			err = -ETXTBSY;
	} else {
		h = procfs_fd_copy(p, n->fd, &kind, &path);
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
	int err = procfs_parse(t->p, lp->guest, &n, &rest);
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
		if ((flags & O_NOFOLLOW) || procfs_path_link(t->p, &n))
			return -ELOOP;
		return open_link(t, &n, flags);
	}
	return open_node(t, &n, lp->guest, flags);
}

int lx_procfs_open_exec(struct lx_proc *p, const struct lx_path *lp, char *exe)
{
	struct node n;
	const char *rest;
	int err = procfs_parse(p, lp->guest, &n, &rest);
	if (err)
		return err;
	if (n.type != N_LINK || procfs_path_link(p, &n))
		return -EACCES;
	struct lx_fs_obj o = {0};
	if ((err = link_object(p, &n, &o)) < 0) {
		lx_fs_obj_put(&o);
		return err;
	}
	int fd = reopen(o.fd, O_RDONLY);
	lx_fs_obj_put(&o);
	if (fd >= 0)
		procfs_link_text(p, &n, exe);
	return fd;
}
