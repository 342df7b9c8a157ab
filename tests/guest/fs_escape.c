/* Paths cannot leave the root or a volume: not by "..", not by absolute
 * or relative symlinks (the host's or the guest's own), not by following
 * one in chmod, truncate, link or O_CREAT.
 *
 * Alone (as here) it runs in an empty root. tests/suites/fs.sh runs it as
 * `fs_escape prepared HOSTFILE` in a root and a rw volume it has filled
 * with symlinks that point outside (see prepare() there), and checks on the
 * host that nothing outside changed. */
// mote-args: --root @TMP@
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/stat.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif

static long sys_open(const char *p, int fl, int mode)
{
	return syscall(SYS_open, p, fl, mode);
}

/* The file at path holds exactly `want`. */
static int reads(const char *path, const char *want)
{
	char buf[64];
	long fd = sys_open(path, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0;
}

static void empty_root(void)
{
	struct stat st;
	char buf[256];
	CHECK_ERR(sys_open("/etc/passwd", O_RDONLY, 0), ENOENT);
	CHECK_ERR(sys_open("/../../etc/passwd", O_RDONLY, 0), ENOENT);
	CHECK_ERR(sys_open("../../../etc/passwd", O_RDONLY, 0), ENOENT);
	CHECK_ERR(syscall(SYS_stat, "/bin/sh", &st), ENOENT);
	CHECK(syscall(SYS_stat, "/..", &st) == 0 && S_ISDIR(st.st_mode));
	/* The root is the scratch directory: empty. */
	long d = sys_open("/..", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0);
	long n = syscall(SYS_getdents64, d, buf, sizeof(buf));
	CHECK(n == 48); /* "." and "..", 24 bytes each */
	CHECK(close(d) == 0);
	CHECK_ERR(syscall(SYS_mkdir, "/x", 0755), EROFS);
	CHECK_ERR(syscall(SYS_symlink, "/etc/passwd", "/x"), EROFS);
}

/* Under `top`, the links fs.sh made lead to `fake` or to nothing. */
static void links_in(const char *top, const char *fake)
{
	char p[64];
	const char *inside[] = {"etc/passwd", "abs", "rel", "updir/etc/passwd",
				"updir/abs"};
	const char *outside[] = {"hostabs", "hostrel", "procroot/etc/passwd",
				 "updir/hostabs"};
	for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, inside[i]);
		if (!reads(p, fake)) {
			printf("%s is not %s", p, fake);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, outside[i]);
		CHECK_ERR(sys_open(p, O_RDONLY, 0), ENOENT);
		CHECK_ERR(sys_open(p, O_PATH, 0), ENOENT);
	}
}

/* Operations that follow a symlink out of the volume find nothing there;
 * nothing of the host is created, changed or linked. */
static void writes_through(const char *link)
{
	struct timespec ts[2] = {{1, 0}, {1, 0}};
	CHECK_ERR(sys_open(link, O_WRONLY | O_TRUNC, 0), ENOENT);
	CHECK_ERR(sys_open(link, O_CREAT | O_WRONLY | O_TRUNC, 0666), ENOENT);
	CHECK_ERR(syscall(SYS_chmod, link, 0666), ENOENT);
	CHECK_ERR(syscall(SYS_chown, link, getuid(), getgid()), ENOENT);
	CHECK_ERR(syscall(SYS_truncate, link, 0L), ENOENT);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, link, ts, 0), ENOENT);
	CHECK_ERR(syscall(SYS_linkat, AT_FDCWD, link, AT_FDCWD, "/data/stolen",
			  AT_SYMLINK_FOLLOW),
		  ENOENT);
	CHECK_ERR(syscall(SYS_access, link, F_OK), ENOENT);
	CHECK_ERR(syscall(SYS_mkdir, "/data/updir/../outside/x", 0755), ENOENT);
}

static void prepared(const char *hostfile)
{
	struct stat st;
	links_in("", "fake-root\n");
	links_in("/data", "fake-vol\n");
	CHECK(reads("/data/../etc/passwd", "fake-root\n"));
	CHECK(reads("/data/../../data/etc/passwd", "fake-vol\n"));
	CHECK_ERR(sys_open(hostfile, O_RDONLY, 0), ENOENT);

	writes_through("/data/hostabs");
	writes_through("/data/hostrel");
	/* The guest's own symlinks are no better. */
	CHECK(syscall(SYS_symlink, hostfile, "/data/evil") == 0);
	CHECK(syscall(SYS_symlink, "../../../../../../outside/secret",
		      "/data/evil2") == 0);
	writes_through("/data/evil");
	writes_through("/data/evil2");
	CHECK(syscall(SYS_symlink, "/", "/data/top") == 0);
	CHECK(reads("/data/top/etc/passwd", "fake-vol\n"));
	/* Creation through a directory symlink lands inside the volume. */
	CHECK(syscall(SYS_mkdir, "/data/updir/made", 0755) == 0);
	CHECK(syscall(SYS_stat, "/data/made", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(syscall(SYS_rmdir, "/data/made") == 0);
	/* Operations on the links themselves act inside the volume. */
	CHECK(syscall(SYS_lchown, "/data/evil", getuid(), getgid()) == 0);
	CHECK(syscall(SYS_rename, "/data/evil", "/data/evil3") == 0);
	CHECK(syscall(SYS_link, "/data/evil3", "/data/evil4") == 0);
	const char *mine[] = {"/data/evil2", "/data/evil3", "/data/evil4",
			      "/data/top"};
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		CHECK(syscall(SYS_unlink, mine[i]) == 0);
	/* The read-only root refuses writes through its links too. */
	CHECK_ERR(sys_open("/abs", O_WRONLY, 0), EROFS);
	CHECK_ERR(syscall(SYS_chmod, "/abs", 0666), EROFS);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "prepared") == 0)
		prepared(argv[2]);
	else
		empty_root();
	success();
}
