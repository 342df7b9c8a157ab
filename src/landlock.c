/* Landlock for the monitor: its own filesystem access confined to what its
 * guest was granted.
 *
 * The guest's paths already resolve only inside --root and the volumes
 * (path.c, openat2 RESOLVE_IN_ROOT); this is the second wall, for a monitor
 * with a path-handling bug or taken over by its guest: whatever path it
 * opens, the kernel allows reading only under the root, the volumes, /proc
 * (the monitor reopens its own fds through /proc/self/fd and reads
 * /proc/PID/stat of the monitors of its tree) and /sys/devices/system/cpu
 * (glibc's sysconf counts CPUs there); writing only in :rw volumes, the
 * allowed devices and the files mote's caller gave it as stdio; executing
 * nothing. Descriptors opened before (/dev/kvm, the VM, the mounts, the
 * --trace file) are not affected.
 *
 * The ABI grows by version; every right the kernel knows is handled (denied
 * unless a rule grants it), so a newer kernel denies more.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lx/lx.h"
#include "sandbox.h"
#include "util.h"

/* Rights and structures of ABI versions newer than Debian 12's headers. */
#define LL_TRUNCATE	     (1ULL << 14) /* ABI 3 */
#define LL_IOCTL_DEV	     (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP	     (1ULL << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP   (1ULL << 1)
#define LL_SCOPE_ABSTRACT    (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL	     (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1

struct ll_ruleset_attr {
	uint64_t fs, net, scoped;
};

struct ll_path_attr {
	uint64_t allowed;
	int32_t parent_fd;
} __attribute__((packed));

#define R_FILE LANDLOCK_ACCESS_FS_READ_FILE
#define R_DIR  LANDLOCK_ACCESS_FS_READ_DIR
#define W_FILE LANDLOCK_ACCESS_FS_WRITE_FILE
/* What a :rw volume allows beyond reading: the guest's file operations
 * there (no mknod: mote serves none, so no FIFO or device node). */
#define RW_TREE                                                                \
	(W_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                              \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |        \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |          \
	 LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | LL_TRUNCATE)
/* The rights a rule on a file (not a directory) may carry. */
#define FILE_RIGHTS                                                            \
	(LANDLOCK_ACCESS_FS_EXECUTE | W_FILE | R_FILE | LL_TRUNCATE |          \
	 LL_IOCTL_DEV)

/* Every filesystem right of ABI version abi. */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LL_TRUNCATE;
	if (abi >= 5)
		r |= LL_IOCTL_DEV;
	return r;
}

struct ruleset {
	int fd;
	uint64_t handled;
};

/* Grants `allowed` beneath (or on) the file of host fd `fd`. Objects of
 * internal filesystems (pipes, sockets) need no rule: EBADFD. */
static int allow_fd(const struct ruleset *rs, int fd, uint64_t allowed)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		allowed &= FILE_RIGHTS;
	struct ll_path_attr a = {allowed & rs->handled, fd};
	if (!a.allowed)
		return 0;
	if (syscall(SYS_landlock_add_rule, rs->fd, LL_RULE_PATH_BENEATH, &a,
		    0) < 0 &&
	    errno != EBADFD)
		return -errno;
	return 0;
}

/* The same for a host path; a path that does not exist needs no rule. */
static int allow_path(const struct ruleset *rs, const char *path,
		      uint64_t allowed)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	int err = allow_fd(rs, fd, allowed);
	close(fd);
	return err;
}

/* mote's own stdin, stdout and stderr, which the guest got as its fds 0-2
 * and may reopen through /proc/self/fd (`echo > /dev/stderr`): what their
 * open mode allows, on those files alone. */
static int allow_stdio(const struct ruleset *rs)
{
	for (int fd = 0; fd < 3; fd++) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || (fl & O_PATH))
			continue;
		uint64_t r = LL_IOCTL_DEV;
		if ((fl & O_ACCMODE) != O_WRONLY)
			r |= R_FILE;
		if ((fl & O_ACCMODE) != O_RDONLY)
			r |= W_FILE | LL_TRUNCATE;
		int err = allow_fd(rs, fd, r);
		if (err)
			return err;
	}
	return 0;
}

/* The host devices the guest's /dev serves (procfs.c dev_open). */
static int allow_devices(const struct ruleset *rs)
{
	static const char *const devs[] = {"/dev/null", "/dev/zero",
					   "/dev/full", "/dev/random",
					   "/dev/urandom"};
	int err = 0;
	for (size_t i = 0; i < ARRAY_SIZE(devs) && !err; i++)
		err = allow_path(rs, devs[i], R_FILE | W_FILE | LL_TRUNCATE);
	if (!err)
		err = allow_path(rs, "/dev/tty",
				 R_FILE | W_FILE | LL_IOCTL_DEV);
	return err;
}

/* The run's runtime dir (src/ctl), which the monitor removes at the end:
 * its files, and the dir itself from the runtime root. (Every other VM's
 * dir under the root is removable too, but only once empty, and a live
 * run's never is: it holds its socket.) While the control thread is still
 * to build it (a generated id): the socket and the state file in it, and
 * the rename into the root, which is a make-dir there. The rights are on
 * the run's own dir, never the root's other dirs: a monitor cannot put a
 * socket of its own in another run's place. */
static int allow_ctl(const struct ruleset *rs, const struct lx_proc *p)
{
	if (ctl_dir_fd(p) < 0)
		return 0;
	uint64_t dir = LANDLOCK_ACCESS_FS_REMOVE_FILE;
	uint64_t root = LANDLOCK_ACCESS_FS_REMOVE_DIR;
	if (ctl_building(p)) {
		dir |= LANDLOCK_ACCESS_FS_MAKE_SOCK |
		       LANDLOCK_ACCESS_FS_MAKE_REG |
		       LANDLOCK_ACCESS_FS_WRITE_FILE;
		root |= LANDLOCK_ACCESS_FS_MAKE_DIR;
	}
	int err = allow_fd(rs, ctl_dir_fd(p), dir);
	return err ?: allow_fd(rs, ctl_root_fd(p), root);
}

static int add_rules(const struct ruleset *rs, const struct lx_proc *p)
{
	const struct lx_fs *fs = &p->fs;
	int err = 0;
	/* The mounts' own O_PATH fds: exactly the trees path.c resolves in
	 * ([0] is the root, read-only unless root_rw). */
	for (int i = 0; i < fs->nmounts && !err; i++)
		err = allow_fd(rs, fs->mounts[i].host_fd,
			       R_FILE | R_DIR |
				       (fs->mounts[i].rw ? RW_TREE : 0));
	if (!err)
		err = allow_path(rs, "/proc", R_FILE | R_DIR);
	if (!err)
		err = allow_path(rs, "/sys/devices/system/cpu", R_FILE | R_DIR);
	if (!err)
		err = allow_devices(rs);
	if (!err)
		err = allow_stdio(rs);
	if (!err)
		err = allow_ctl(rs, p);
	return err;
}

/* Set once a restored tree's shared domain scopes signals and abstract
 * sockets (landlock_tree_scope): each process's own domain, entered after
 * the tree's monitors have forked, must not scope them again, or its
 * siblings would be out of its reach. */
static bool tree_scoped;

static uint64_t scopes(const struct lx_proc *p)
{
	return LL_SCOPE_SIGNAL | (p->opts->net ? 0 : LL_SCOPE_ABSTRACT);
}

int landlock_tree_scope(const struct lx_proc *p)
{
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 6 || p->opts->no_sandbox)
		return 0;
	struct ll_ruleset_attr attr = {.scoped = scopes(p)};
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
			      0);
	if (fd < 0)
		return -errno;
	int err = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
				  syscall(SYS_landlock_restrict_self, fd, 0) < 0
			  ? -errno
			  : 0;
	close(fd);
	tree_scoped = !err;
	return err;
}

static int make_ruleset(const struct lx_proc *p, int abi)
{
	struct ll_ruleset_attr attr = {.fs = fs_rights(abi)};
	size_t size = sizeof(attr.fs);
	/* Without --net, no TCP and no abstract AF_UNIX names outside the
	 * VM tree either (seccomp already keeps AF_INET sockets away). */
	if (abi >= 4 && !p->opts->net) {
		attr.net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	/* Signals only to processes of the tree (which share this domain). */
	if (abi >= 6 && !tree_scoped) {
		attr.scoped = scopes(p);
		size = sizeof(attr);
	}
	return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}

int landlock_enter(const struct lx_proc *p, int *abi)
{
	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			    LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi < 0) {
		*abi = 0;
		return 0; /* ENOSYS or EOPNOTSUPP: not built or not enabled */
	}
	struct ruleset rs = {make_ruleset(p, *abi), fs_rights(*abi)};
	if (rs.fd < 0)
		return -errno;
	int err = add_rules(&rs, p);
	if (!err && syscall(SYS_landlock_restrict_self, rs.fd, 0) < 0)
		err = -errno;
	close(rs.fd);
	return err;
}

/* ---- mote boot ---- */

/* Read (and write where asked) on each file alone, removal in the dirs
 * given for it (the control dir, and it from the runtime root); no other
 * path, no TCP
 * (ABI 4+), signals and abstract sockets within the domain (ABI 6+). */
int landlock_files(const struct sandbox_file *f, size_t n, int *abi)
{
	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			    LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi < 0) {
		*abi = 0;
		return 0;
	}
	struct ll_ruleset_attr attr = {.fs = fs_rights(*abi)};
	size_t size = sizeof(attr.fs);
	if (*abi >= 4) {
		attr.net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (*abi >= 6) {
		attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT;
		size = sizeof(attr);
	}
	struct ruleset rs = {
		(int)syscall(SYS_landlock_create_ruleset, &attr, size, 0),
		attr.fs};
	if (rs.fd < 0)
		return -errno;
	int err = 0;
	static const uint64_t rights[] = {
		[SB_READ] = R_FILE,
		[SB_WRITE] = R_FILE | W_FILE,
		[SB_REMOVE_FILE] = LANDLOCK_ACCESS_FS_REMOVE_FILE,
		[SB_REMOVE_DIR] = LANDLOCK_ACCESS_FS_REMOVE_DIR,
	};
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t r = rights[f[i].access];
		err = f[i].path ? allow_path(&rs, f[i].path, r)
				: allow_fd(&rs, f[i].fd, r);
	}
	if (!err && syscall(SYS_landlock_restrict_self, rs.fd, 0) < 0)
		err = -errno;
	close(rs.fd);
	return err;
}
