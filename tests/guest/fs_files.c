/* Names and contents on a read-write volume: open/openat (O_CREAT, O_EXCL,
 * O_TRUNC, O_PATH, O_TMPFILE, O_DIRECTORY, dirfds), the stat calls,
 * getdents64, mkdir, unlink, rmdir, rename*, link*, symlink*, readlink*,
 * truncate, ftruncate, fsync, fdatasync. Raw syscalls, so each handler is
 * the one tested. */
// mote-args: --volume @TMP@:/data:rw
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#define RENAME_WHITEOUT	 (1 << 2)
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

/* The start of struct statx (the full struct is 256 bytes). */
struct statx_head {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad;
	uint64_t ino, size;
};

static long sys_open(const char *p, int fl, int mode)
{
	return syscall(SYS_open, p, fl, mode);
}

static void put(const char *path, const char *s)
{
	long fd = sys_open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
	CHECK(close(fd) == 0);
}

/* The file's whole content is s. */
static int has(const char *path, const char *s)
{
	char buf[64];
	long fd = sys_open(path, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(s) && memcmp(buf, s, n) == 0;
}

static void opens(void)
{
	struct stat st;
	long fd = sys_open("/data/a", O_CREAT | O_EXCL | O_RDWR, 0640);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello", 5) == 5);
	CHECK(syscall(SYS_fstat, fd, &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_size == 5);
	CHECK((st.st_mode & 0777) == 0640); /* umask 022 leaves 0640 */
	CHECK(syscall(SYS_fsync, fd) == 0 && syscall(SYS_fdatasync, fd) == 0);
	CHECK(close(fd) == 0);
	CHECK_ERR(sys_open("/data/a", O_CREAT | O_EXCL | O_RDWR, 0640), EEXIST);
	CHECK_ERR(sys_open("/data/none", O_RDONLY, 0), ENOENT);
	CHECK_ERR(sys_open("/data/a/", O_RDONLY, 0), ENOTDIR);
	CHECK_ERR(sys_open("/data/new/", O_CREAT | O_RDWR, 0644), EISDIR);
	CHECK_ERR(sys_open("/data", O_WRONLY, 0), EISDIR);
	CHECK_ERR(sys_open("/data/a", O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
	CHECK_ERR(sys_open("", O_RDONLY, 0), ENOENT);
	CHECK(has("/data/a", "hello"));
	/* O_CREAT of an existing file opens it; O_TRUNC empties it. */
	fd = sys_open("/data/a", O_CREAT | O_WRONLY | O_APPEND, 0600);
	CHECK(fd >= 0 && write(fd, "!", 1) == 1 && close(fd) == 0);
	CHECK(has("/data/a", "hello!"));
	fd = sys_open("/data/a", O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
	CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC && close(fd) == 0);
	CHECK(has("/data/a", ""));

	/* dirfd-relative opens, and a dirfd that is not a directory. */
	long dir =
		syscall(SYS_openat, AT_FDCWD, "/data", O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0);
	fd = syscall(SYS_openat, dir, "b", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	CHECK_ERR(syscall(SYS_openat, fd, "x", O_RDONLY), ENOTDIR);
	CHECK_ERR(syscall(SYS_openat, 999, "x", O_RDONLY), EBADF);
	CHECK(close(fd) == 0 && close(dir) == 0);
	fd = syscall(SYS_openat, 999, "/data/b", O_RDONLY); /* absolute */
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(syscall(SYS_stat, "/data/b", &st) == 0 &&
	      (st.st_mode & 0777) == 0600);

	/* O_PATH: no I/O, but fstat works. */
	fd = sys_open("/data/a", O_PATH, 0);
	CHECK(fd >= 0);
	char c;
	CHECK_ERR(read(fd, &c, 1), EBADF);
	CHECK(syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(close(fd) == 0);

	/* O_TMPFILE, then given a name through AT_EMPTY_PATH. */
	fd = sys_open("/data", O_TMPFILE | O_RDWR, 0600);
	CHECK(fd >= 0 && write(fd, "tmp", 3) == 3);
	CHECK(syscall(SYS_linkat, fd, "", AT_FDCWD, "/data/tmp",
		      AT_EMPTY_PATH) == 0);
	CHECK(close(fd) == 0 && has("/data/tmp", "tmp"));
	CHECK(unlink("/data/tmp") == 0 && unlink("/data/b") == 0);
	CHECK(unlink("/data/a") == 0);
}

static void stats(void)
{
	struct stat st, st2;
	struct statx_head sx[16];
	put("/data/s", "12345");
	CHECK(syscall(SYS_symlink, "s", "/data/sl") == 0);
	CHECK(syscall(SYS_stat, "/data/sl", &st) == 0 && S_ISREG(st.st_mode));
	CHECK(st.st_size == 5 && st.st_nlink == 1);
	CHECK(syscall(SYS_lstat, "/data/sl", &st2) == 0 &&
	      S_ISLNK(st2.st_mode));
	CHECK(st2.st_ino != st.st_ino);
	CHECK(syscall(SYS_newfstatat, AT_FDCWD, "/data/sl", &st2, 0) == 0);
	CHECK(st2.st_ino == st.st_ino);
	CHECK(syscall(SYS_newfstatat, AT_FDCWD, "/data/sl", &st2,
		      AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISLNK(st2.st_mode));
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "/data/s", &st2, 0x10000),
		  EINVAL);
	CHECK_ERR(syscall(SYS_stat, "/data/s/", &st2), ENOTDIR);
	CHECK_ERR(syscall(SYS_stat, "", &st2), ENOENT);
	long fd = sys_open("/data/s", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK(syscall(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH) == 0);
	CHECK(st2.st_ino == st.st_ino);
	CHECK_ERR(syscall(SYS_newfstatat, fd, "", &st2, 0), ENOENT);

	memset(sx, 0, sizeof(sx));
	CHECK(syscall(SYS_statx, AT_FDCWD, "/data/sl", 0, 0x7ff, sx) == 0);
	CHECK(sx->ino == st.st_ino && sx->size == 5 && S_ISREG(sx->mode));
	CHECK(syscall(SYS_statx, AT_FDCWD, "/data/sl", AT_SYMLINK_NOFOLLOW,
		      0x7ff, sx) == 0 &&
	      S_ISLNK(sx->mode));
	CHECK(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, sx) == 0);
	CHECK(sx->ino == st.st_ino);
	CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/data/s", 0x6000, 0x7ff, sx),
		  EINVAL);
	CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/data/s", 0, 0x80000000u, sx),
		  EINVAL);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_fstat, fd, &st2), EBADF);
	CHECK(unlink("/data/sl") == 0 && unlink("/data/s") == 0);
}

/* The names getdents64 returns for the directory, joined with ' '. */
static void list(const char *dir, char *out, size_t size)
{
	char buf[1024];
	long fd = sys_open(dir, O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	out[0] = 0;
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, 2);
			const char *name = buf + off + 19;
			if (strcmp(name, ".") && strcmp(name, "..")) {
				strncat(out, name, size - strlen(out) - 2);
				strcat(out, " ");
			}
			off += reclen;
		}
	}
	CHECK(n == 0 && close(fd) == 0);
}

static void dirs(void)
{
	char names[256];
	struct stat st;
	CHECK(syscall(SYS_umask, 027) == 022);
	CHECK(syscall(SYS_mkdir, "/data/d", 0777) == 0);
	CHECK(syscall(SYS_stat, "/data/d", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK((st.st_mode & 0777) == 0750);
	CHECK(syscall(SYS_umask, 022) == 027);
	CHECK_ERR(syscall(SYS_mkdir, "/data/d", 0755), EEXIST);
	CHECK_ERR(syscall(SYS_mkdir, "/data", 0755), EEXIST);
	CHECK_ERR(syscall(SYS_mkdir, "/data/no/d", 0755), ENOENT);
	long d = sys_open("/data/d", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0);
	CHECK(syscall(SYS_mkdirat, d, "e", 0755) == 0);
	CHECK(syscall(SYS_mkdirat, d, "e/f/", 0755) == 0);
	put("/data/d/e/g", "");
	list("/data/d/e", names, sizeof(names));
	CHECK(strcmp(names, "f g ") == 0 || strcmp(names, "g f ") == 0);
	long fd = sys_open("/data/d/e/g", O_RDONLY, 0);
	char buf[64];
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
	CHECK_ERR(syscall(SYS_getdents64, 999, buf, sizeof(buf)), EBADF);
	CHECK(close(fd) == 0);

	CHECK_ERR(syscall(SYS_rmdir, "/data/d/e"), ENOTEMPTY);
	CHECK_ERR(syscall(SYS_rmdir, "/data/d/e/g"), ENOTDIR);
	CHECK_ERR(syscall(SYS_unlink, "/data/d/e/f"), EISDIR);
	CHECK_ERR(syscall(SYS_unlink, "/data/d/e/g/"), ENOTDIR);
	CHECK_ERR(syscall(SYS_unlinkat, d, "e/g", 0x4000), EINVAL);
	CHECK_ERR(syscall(SYS_rmdir, "/data"), EBUSY);
	CHECK(syscall(SYS_unlinkat, d, "e/g", 0) == 0);
	CHECK(syscall(SYS_unlinkat, d, "e/f/", AT_REMOVEDIR) == 0);
	CHECK(syscall(SYS_rmdir, "/data/d/e/") == 0);
	CHECK_ERR(syscall(SYS_rmdir, "/data/d/e"), ENOENT);
	CHECK(close(d) == 0);
	CHECK(syscall(SYS_rmdir, "/data/d") == 0);
}

static void renames(void)
{
	put("/data/r1", "one");
	put("/data/r2", "two");
	CHECK(syscall(SYS_rename, "/data/r1", "/data/r3") == 0);
	CHECK(has("/data/r3", "one") && !has("/data/r1", "one"));
	long d = sys_open("/data", O_RDONLY | O_DIRECTORY, 0);
	CHECK(syscall(SYS_renameat, d, "r3", AT_FDCWD, "/data/r1") == 0);
	CHECK_ERR(syscall(SYS_renameat2, d, "r1", d, "r2", RENAME_NOREPLACE),
		  EEXIST);
	CHECK(syscall(SYS_renameat2, d, "r1", d, "r2", RENAME_EXCHANGE) == 0);
	CHECK(has("/data/r1", "two") && has("/data/r2", "one"));
	CHECK_ERR(syscall(SYS_renameat2, d, "r1", d, "r2",
			  RENAME_EXCHANGE | RENAME_NOREPLACE),
		  EINVAL);
	CHECK_ERR(syscall(SYS_renameat2, d, "r1", d, "r2", 1 << 7), EINVAL);
	CHECK_ERR(syscall(SYS_renameat2, d, "r1", d, "r4", RENAME_WHITEOUT),
		  EPERM);
	CHECK_ERR(syscall(SYS_rename, "/data/none", "/data/r4"), ENOENT);
	CHECK_ERR(syscall(SYS_rename, "/data", "/data/r4"), EBUSY);
	CHECK_ERR(syscall(SYS_rename, "/data/r1/", "/data/r4"), ENOTDIR);
	CHECK(syscall(SYS_rename, "/data/r1", "/data/r2") == 0);
	CHECK(has("/data/r2", "two"));
	CHECK(close(d) == 0 && unlink("/data/r2") == 0);
}

static void links(void)
{
	char buf[64];
	struct stat st;
	put("/data/l1", "x");
	CHECK(syscall(SYS_link, "/data/l1", "/data/l2") == 0);
	CHECK(syscall(SYS_stat, "/data/l1", &st) == 0 && st.st_nlink == 2);
	CHECK_ERR(syscall(SYS_link, "/data/l1", "/data/l2"), EEXIST);
	CHECK_ERR(syscall(SYS_link, "/data/none", "/data/l3"), ENOENT);
	CHECK_ERR(syscall(SYS_linkat, AT_FDCWD, "/data/l1", AT_FDCWD,
			  "/data/l3", 0x10000),
		  EINVAL);

	CHECK(syscall(SYS_symlink, "l1", "/data/sym") == 0);
	CHECK_ERR(syscall(SYS_symlink, "l1", "/data/sym"), EEXIST);
	CHECK_ERR(syscall(SYS_symlink, "", "/data/sym2"), ENOENT);
	long d = sys_open("/data", O_RDONLY | O_DIRECTORY, 0);
	CHECK(syscall(SYS_symlinkat, "/dangling", d, "dang") == 0);
	CHECK(syscall(SYS_readlink, "/data/sym", buf, sizeof(buf)) == 2);
	CHECK(memcmp(buf, "l1", 2) == 0);
	CHECK(syscall(SYS_readlinkat, d, "dang", buf, 4) == 4);
	CHECK(memcmp(buf, "/dan", 4) == 0); /* truncated, no NUL */
	CHECK_ERR(syscall(SYS_readlink, "/data/l1", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "/data/sym", buf, 0), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "/data/none", buf, 8), ENOENT);
	long s = sys_open("/data/sym", O_PATH | O_NOFOLLOW, 0);
	CHECK(s >= 0 && syscall(SYS_readlinkat, s, "", buf, sizeof(buf)) == 2);
	CHECK(close(s) == 0);

	/* linkat without AT_SYMLINK_FOLLOW links the symlink, with it its
	 * target. */
	CHECK(syscall(SYS_linkat, d, "sym", d, "hs", 0) == 0);
	CHECK(syscall(SYS_lstat, "/data/hs", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(syscall(SYS_linkat, d, "sym", d, "hf", AT_SYMLINK_FOLLOW) == 0);
	CHECK(syscall(SYS_lstat, "/data/hf", &st) == 0 && S_ISREG(st.st_mode));
	CHECK(st.st_nlink == 3);
	CHECK_ERR(syscall(SYS_open, "/data/sym", O_RDONLY | O_NOFOLLOW), ELOOP);

	/* O_CREAT through a dangling relative symlink creates its target. */
	CHECK(syscall(SYS_symlink, "made", "/data/tomake") == 0);
	long fd = sys_open("/data/tomake", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(syscall(SYS_lstat, "/data/made", &st) == 0 &&
	      S_ISREG(st.st_mode));
	CHECK_ERR(sys_open("/data/dang", O_CREAT | O_EXCL | O_WRONLY, 0644),
		  EEXIST);

	const char *rm[] = {"l1", "l2", "sym",	  "dang",
			    "hs", "hf", "tomake", "made"};
	for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++)
		CHECK(syscall(SYS_unlinkat, d, rm[i], 0) == 0);
	CHECK(close(d) == 0);
}

static void truncates(void)
{
	struct stat st;
	put("/data/t", "0123456789");
	CHECK(syscall(SYS_truncate, "/data/t", 4L) == 0 &&
	      has("/data/t", "0123"));
	CHECK(syscall(SYS_truncate, "/data/t", 8192L) == 0);
	CHECK(syscall(SYS_stat, "/data/t", &st) == 0 && st.st_size == 8192);
	CHECK_ERR(syscall(SYS_truncate, "/data/t", -1L), EINVAL);
	CHECK_ERR(syscall(SYS_truncate, "/data", 0L), EISDIR);
	CHECK_ERR(syscall(SYS_truncate, "/data/none", 0L), ENOENT);
	long fd = sys_open("/data/t", O_RDWR, 0);
	CHECK(syscall(SYS_ftruncate, fd, 2L) == 0 && has("/data/t", "01"));
	CHECK_ERR(syscall(SYS_ftruncate, fd, -5L), EINVAL);
	CHECK(close(fd) == 0);
	fd = sys_open("/data/t", O_RDONLY, 0);
	CHECK_ERR(syscall(SYS_ftruncate, fd, 0L), EINVAL); /* not writable */
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_ftruncate, fd, 0L), EBADF);
	CHECK(unlink("/data/t") == 0);
}

int main(void)
{
	opens();
	stats();
	dirs();
	renames();
	links();
	truncates();
	/* Everything made was removed. */
	char names[64];
	list("/data", names, sizeof(names));
	CHECK(names[0] == 0);
	success();
}
