/* Metadata on a read-write volume: chmod, fchmod, fchmodat, chown, fchown,
 * lchown, fchownat (only to the user's own ids), utimensat, access,
 * faccessat, faccessat2, and the working directory: getcwd, chdir, fchdir
 * and paths relative to it. */
// mote-args: --volume @TMP@:/data:rw
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#ifndef UTIME_OMIT
#define UTIME_NOW  ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)
#endif

static mode_t mode_of(const char *path)
{
	struct stat st;
	CHECK(syscall(SYS_lstat, path, &st) == 0);
	return st.st_mode & 07777;
}

static void modes(void)
{
	long fd = syscall(SYS_open, "/data/m", O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK(syscall(SYS_chmod, "/data/m", 0600) == 0 &&
	      mode_of("/data/m") == 0600);
	CHECK(syscall(SYS_fchmod, fd, 0640) == 0 && mode_of("/data/m") == 0640);
	CHECK(syscall(SYS_symlink, "m", "/data/ml") == 0);
	/* fchmodat follows symlinks: the file changes, the link does not. */
	CHECK(syscall(SYS_fchmodat, AT_FDCWD, "/data/ml", 0604) == 0);
	CHECK(mode_of("/data/m") == 0604 && mode_of("/data/ml") == 0777);
	long d = syscall(SYS_open, "/data", O_RDONLY | O_DIRECTORY);
	CHECK(syscall(SYS_fchmodat, d, "m", 04755) == 0);
	CHECK(mode_of("/data/m") == 04755);
	CHECK_ERR(syscall(SYS_chmod, "/data/none", 0600), ENOENT);
	CHECK_ERR(syscall(SYS_fchmod, 999, 0600), EBADF);
	long p = syscall(SYS_open, "/data/m", O_PATH);
	CHECK_ERR(syscall(SYS_fchmod, p, 0600), EBADF);
	CHECK(close(p) == 0 && close(d) == 0 && close(fd) == 0);
}

static void owners(void)
{
	struct stat st;
	uid_t u = getuid();
	gid_t g = getgid();
	long fd = syscall(SYS_open, "/data/m", O_RDONLY);
	CHECK(syscall(SYS_chown, "/data/m", u, g) == 0);
	CHECK(syscall(SYS_chown, "/data/m", -1, -1) == 0);
	CHECK(syscall(SYS_lchown, "/data/ml", u, -1) == 0);
	CHECK(syscall(SYS_fchown, fd, -1, g) == 0);
	CHECK(syscall(SYS_fchownat, AT_FDCWD, "/data/ml", u, g, 0) == 0);
	CHECK(syscall(SYS_fchownat, AT_FDCWD, "/data/ml", u, g,
		      AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(syscall(SYS_fchownat, fd, "", u, g, AT_EMPTY_PATH) == 0);
	CHECK(syscall(SYS_stat, "/data/m", &st) == 0);
	CHECK(st.st_uid == u && st.st_gid == g);
	/* Giving a file away is refused, even to a user that exists. */
	CHECK_ERR(syscall(SYS_chown, "/data/m", u + 1, -1), EPERM);
	CHECK_ERR(syscall(SYS_chown, "/data/m", -1, g + 1), EPERM);
	CHECK_ERR(syscall(SYS_lchown, "/data/ml", u + 1, g), EPERM);
	CHECK_ERR(syscall(SYS_fchown, fd, u + 1, g), EPERM);
	CHECK_ERR(syscall(SYS_fchownat, fd, "", u, g + 1, AT_EMPTY_PATH),
		  EPERM);
	CHECK_ERR(syscall(SYS_fchownat, AT_FDCWD, "/data/m", u, g, 0x4000),
		  EINVAL);
	CHECK_ERR(syscall(SYS_chown, "/data/none", u, g), ENOENT);
	CHECK(close(fd) == 0);
}

static void stamps(void)
{
	struct stat st;
	struct timespec ts[2] = {{1000, 5}, {2000, 7}};
	CHECK(syscall(SYS_utimensat, AT_FDCWD, "/data/m", ts, 0) == 0);
	CHECK(syscall(SYS_stat, "/data/m", &st) == 0);
	CHECK(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000);
	CHECK(st.st_mtim.tv_nsec == 7);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 3000;
	long fd = syscall(SYS_open, "/data/m", O_RDONLY);
	CHECK(syscall(SYS_utimensat, fd, NULL, ts, 0) == 0);
	CHECK(syscall(SYS_fstat, fd, &st) == 0);
	CHECK(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 3000);
	CHECK(syscall(SYS_utimensat, fd, "", NULL, AT_EMPTY_PATH) == 0);
	CHECK(syscall(SYS_fstat, fd, &st) == 0 && st.st_mtim.tv_sec > 3000);
	ts[1].tv_sec = 4000;
	CHECK(syscall(SYS_utimensat, AT_FDCWD, "/data/ml", ts,
		      AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(syscall(SYS_lstat, "/data/ml", &st) == 0 &&
	      st.st_mtim.tv_sec == 4000);
	ts[1].tv_nsec = 1000000000;
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, "/data/m", ts, 0), EINVAL);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, "/data/m", NULL, 0x4000),
		  EINVAL);
	CHECK_ERR(syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW),
		  EINVAL);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, "/data/none", NULL, 0),
		  ENOENT);
	/* Both omitted: Linux does not even look at the path. */
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	CHECK(syscall(SYS_utimensat, AT_FDCWD, "/data/none", ts, 0) == 0);
	CHECK(close(fd) == 0);
}

static void accesses(void)
{
	CHECK(syscall(SYS_chmod, "/data/m", 0700) == 0);
	CHECK(syscall(SYS_access, "/data/m", R_OK | W_OK | X_OK) == 0);
	CHECK(syscall(SYS_access, "/data/ml", F_OK) == 0);
	CHECK_ERR(syscall(SYS_access, "/data/none", F_OK), ENOENT);
	CHECK_ERR(syscall(SYS_access, "/data/m", 8), EINVAL);
	long d = syscall(SYS_open, "/data", O_RDONLY | O_DIRECTORY);
	CHECK(syscall(SYS_faccessat, d, "m", W_OK) == 0);
	CHECK(syscall(SYS_faccessat2, d, "ml", R_OK, AT_EACCESS) == 0);
	CHECK(syscall(SYS_faccessat2, d, "ml", F_OK, AT_SYMLINK_NOFOLLOW) == 0);
	CHECK(syscall(SYS_symlink, "none", "/data/dang") == 0);
	CHECK_ERR(syscall(SYS_faccessat2, d, "dang", F_OK, 0), ENOENT);
	CHECK(syscall(SYS_faccessat2, d, "dang", F_OK, AT_SYMLINK_NOFOLLOW) ==
	      0);
	CHECK(syscall(SYS_faccessat2, d, "", X_OK, AT_EMPTY_PATH) == 0);
	CHECK_ERR(syscall(SYS_faccessat2, d, "m", F_OK, 0x10000), EINVAL);
	CHECK(close(d) == 0);
	CHECK(unlink("/data/dang") == 0);
	/* The dev files any process may use. */
	CHECK(syscall(SYS_access, "/dev/null", R_OK | W_OK) == 0);
}

static void cwd(void)
{
	char buf[64];
	CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) == 2 &&
	      strcmp(buf, "/") == 0);
	CHECK(syscall(SYS_mkdir, "/data/sub", 0755) == 0);
	CHECK(syscall(SYS_chdir, "/data/./sub/../sub") == 0);
	CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) == 10);
	CHECK(strcmp(buf, "/data/sub") == 0);
	CHECK_ERR(syscall(SYS_getcwd, buf, 9), ERANGE);
	CHECK_ERR(syscall(SYS_getcwd, buf, 0), ERANGE);
	/* Relative paths now start here. */
	long fd = syscall(SYS_open, "f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(syscall(SYS_access, "/data/sub/f", F_OK) == 0);
	CHECK(syscall(SYS_chdir, "..") == 0);
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data") == 0);
	CHECK(syscall(SYS_access, "sub/f", F_OK) == 0);
	CHECK_ERR(syscall(SYS_chdir, "sub/f"), ENOTDIR);
	CHECK_ERR(syscall(SYS_chdir, "none"), ENOENT);
	CHECK_ERR(syscall(SYS_chdir, ""), ENOENT);
	long d = syscall(SYS_open, "sub", O_RDONLY | O_DIRECTORY);
	fd = syscall(SYS_open, "sub/f", O_RDONLY);
	CHECK(d >= 0 && fd >= 0);
	CHECK(syscall(SYS_chdir, "/") == 0);
	CHECK(syscall(SYS_fchdir, d) == 0);
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data/sub") == 0);
	CHECK_ERR(syscall(SYS_fchdir, fd), ENOTDIR);
	CHECK_ERR(syscall(SYS_fchdir, 999), EBADF);
	CHECK(syscall(SYS_unlink, "f") == 0);
	CHECK(close(d) == 0 && close(fd) == 0);
	CHECK(syscall(SYS_chdir, "/data") == 0 &&
	      syscall(SYS_rmdir, "sub") == 0);
	/* ".." never climbs above the root. */
	CHECK(syscall(SYS_chdir, "../../..") == 0);
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0);
}

int main(void)
{
	modes();
	owners();
	stamps();
	accesses();
	cwd();
	CHECK(unlink("/data/ml") == 0 && unlink("/data/m") == 0);
	success();
}
