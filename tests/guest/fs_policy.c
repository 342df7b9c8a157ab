/* The file policy: the root (the host's /) reads but never writes, a :ro
 * volume likewise, writes elsewhere give EROFS before the host sees them;
 * only harmless devices open; the host's /proc and /sys are not there
 * (/proc is the monitor's); mounts do not mix (EXDEV). */
// mote-args: --volume @TMP@:/data:rw --volume @TMP@:/ro:ro
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

static long sys_open(const char *p, int fl, int mode)
{
	return syscall(SYS_open, p, fl, mode);
}

static void reads(void)
{
	char buf[16];
	long fd = sys_open("/etc/passwd", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "root:", 5) == 0);
	CHECK(close(fd) == 0);
	/* O_CREAT of an existing file, read-only, is no write. */
	fd = sys_open("/etc/passwd", O_CREAT | O_RDONLY, 0644);
	CHECK(fd >= 0 && close(fd) == 0);
	struct stat st;
	CHECK(syscall(SYS_stat, "/etc", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(syscall(SYS_access, "/etc/passwd", R_OK) == 0);
}

/* Every kind of write to `dir` (holding the file `file`) is refused. */
static void no_writes(const char *dir, const char *file)
{
	char p[64], q[64];
	snprintf(p, sizeof(p), "%s/mote-new", dir);
	snprintf(q, sizeof(q), "%s/mote-new2", dir);
	struct stat st;
	CHECK_ERR(syscall(SYS_stat, p, &st), ENOENT);
	CHECK_ERR(sys_open(p, O_CREAT | O_WRONLY, 0644), EROFS);
	CHECK_ERR(sys_open(file, O_WRONLY, 0), EROFS);
	CHECK_ERR(sys_open(file, O_RDWR, 0), EROFS);
	CHECK_ERR(sys_open(file, O_RDONLY | O_TRUNC, 0), EROFS);
	CHECK_ERR(sys_open(file, O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
	CHECK_ERR(sys_open(dir, O_TMPFILE | O_RDWR, 0600), EROFS);
	CHECK_ERR(syscall(SYS_mkdir, p, 0755), EROFS);
	CHECK_ERR(syscall(SYS_mkdir, dir, 0755), EEXIST);
	CHECK_ERR(syscall(SYS_unlink, file), EROFS);
	CHECK_ERR(syscall(SYS_unlink, p), EROFS);
	CHECK_ERR(syscall(SYS_rmdir, dir), EROFS);
	CHECK_ERR(syscall(SYS_rename, file, p), EROFS);
	CHECK_ERR(syscall(SYS_link, file, p), EROFS);
	CHECK_ERR(syscall(SYS_symlink, "x", p), EROFS);
	CHECK_ERR(syscall(SYS_symlink, "x", file), EEXIST);
	CHECK_ERR(syscall(SYS_chmod, file, 0777), EROFS);
	CHECK_ERR(syscall(SYS_chown, file, getuid(), getgid()), EROFS);
	CHECK_ERR(syscall(SYS_lchown, file, getuid(), getgid()), EROFS);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, file, NULL, 0), EROFS);
	CHECK_ERR(syscall(SYS_truncate, file, 0L), EROFS);
	CHECK_ERR(syscall(SYS_access, file, W_OK), EROFS);
	CHECK_ERR(syscall(SYS_access, dir, W_OK), EROFS);
	long fd = sys_open(file, O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK_ERR(syscall(SYS_fchmod, fd, 0777), EROFS);
	CHECK_ERR(syscall(SYS_fchown, fd, getuid(), getgid()), EROFS);
	CHECK_ERR(syscall(SYS_fchownat, fd, "", -1, -1, AT_EMPTY_PATH), EROFS);
	CHECK_ERR(syscall(SYS_utimensat, fd, NULL, NULL, 0), EROFS);
	CHECK_ERR(syscall(SYS_ftruncate, fd, 0L), EINVAL);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_stat, p, &st), ENOENT);
	CHECK_ERR(syscall(SYS_stat, q, &st), ENOENT);
}

static void volumes(void)
{
	char buf[8];
	long fd = sys_open("/data/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "vol", 3) == 3 && close(fd) == 0);
	CHECK(syscall(SYS_mkdir, "/data/d", 0755) == 0);
	/* The same host directory, read-only under /ro. */
	fd = sys_open("/ro/f", O_RDONLY, 0);
	CHECK(fd >= 0 && read(fd, buf, 8) == 3 && memcmp(buf, "vol", 3) == 0);
	CHECK(close(fd) == 0);
	no_writes("/ro/d", "/ro/f");
	CHECK_ERR(syscall(SYS_rmdir, "/ro/d"), EROFS);
	/* Mounts do not mix. */
	CHECK_ERR(syscall(SYS_rename, "/data/f", "/ro/g"), EXDEV);
	CHECK_ERR(syscall(SYS_rename, "/data/f", "/tmp/g"), EXDEV);
	CHECK_ERR(syscall(SYS_link, "/data/f", "/ro/g"), EROFS);
	CHECK_ERR(syscall(SYS_link, "/etc/passwd", "/data/g"), EXDEV);
	CHECK_ERR(syscall(SYS_rename, "/data", "/data2"), EBUSY);
	CHECK(syscall(SYS_rmdir, "/data/d") == 0);
	CHECK(syscall(SYS_unlink, "/data/f") == 0);
}

static void devices(void)
{
	char buf[8] = "xxxxxxxx";
	long fd = sys_open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "gone", 4) == 4 && close(fd) == 0);
	fd = sys_open("/dev/zero", O_RDWR, 0);
	CHECK(fd >= 0 && read(fd, buf, 8) == 8 && buf[0] == 0 && buf[7] == 0);
	CHECK(close(fd) == 0);
	fd = sys_open("/dev/full", O_WRONLY, 0);
	CHECK(fd >= 0);
	CHECK_ERR(write(fd, "x", 1), ENOSPC);
	CHECK(close(fd) == 0);
	fd = sys_open("/dev/urandom", O_RDONLY, 0);
	CHECK(fd >= 0 && read(fd, buf, 8) == 8 && close(fd) == 0);

	struct stat st;
	CHECK(syscall(SYS_stat, "/dev/kvm", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK_ERR(sys_open("/dev/kvm", O_RDWR, 0), EACCES);
	CHECK_ERR(sys_open("/dev/kvm", O_RDONLY, 0), EACCES);
	CHECK_ERR(syscall(SYS_access, "/dev/kvm", R_OK), EACCES);
	fd = sys_open("/dev/kvm", O_PATH, 0); /* no side effect: allowed */
	CHECK(fd >= 0);
	/* ... and reopening it through /proc/self/fd is no way around. */
	char p[48];
	snprintf(p, sizeof(p), "/proc/self/fd/%ld", fd);
	CHECK_ERR(sys_open(p, O_RDWR, 0), EACCES);
	CHECK_ERR(sys_open(p, O_RDONLY, 0), EACCES);
	CHECK(close(fd) == 0);
	errno = 0;
	CHECK(sys_open("/dev/mem", O_RDONLY, 0) == -1);
	CHECK(errno == EACCES || errno == ENOENT);
	/* Block devices, wherever the host has one. */
	const char *blk[] = {"/dev/vda", "/dev/sda", "/dev/nvme0n1",
			     "/dev/loop0", "/dev/ram0"};
	for (size_t i = 0; i < sizeof(blk) / sizeof(blk[0]); i++)
		if (syscall(SYS_stat, blk[i], &st) == 0 && S_ISBLK(st.st_mode))
			CHECK_ERR(sys_open(blk[i], O_RDONLY, 0), EACCES);
}

static int ends_with(const char *s, size_t n, const char *tail)
{
	size_t k = strlen(tail);
	return n >= k && memcmp(s + n - k, tail, k) == 0;
}

static void proc(const char *argv0)
{
	char buf[256];
	struct stat st;
	/* The guest's /proc is the monitor's: only what it makes is there,
	 * never the host's. */
	CHECK_ERR(sys_open("/proc/self/mem", O_RDWR, 0), ENOENT);
	CHECK_ERR(sys_open("/proc/self/mem", O_RDONLY, 0), ENOENT);
	CHECK_ERR(sys_open("/proc/sysrq-trigger", O_WRONLY, 0), ENOENT);
	CHECK_ERR(sys_open("/proc/self/status", O_WRONLY, 0), EACCES);
	if (getpid() != 1)
		CHECK_ERR(sys_open("/proc/1/root/etc/passwd", O_RDONLY, 0),
			  ENOENT);
	CHECK(syscall(SYS_stat, "/proc", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(syscall(SYS_readlink, "/proc/self/cwd", buf, sizeof(buf)) == 1);
	/* /proc/self/exe: an absolute path to the program. */
	const char *base =
		strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	long n = syscall(SYS_readlink, "/proc/self/exe", buf, sizeof(buf));
	CHECK(n > 0 && buf[0] == '/' && ends_with(buf, n, base));
	CHECK(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, 4) == 4);
	CHECK(syscall(SYS_readlinkat, AT_FDCWD, "/proc/../proc/self/exe", buf,
		      sizeof(buf)) == n);
	/* /sys and friends are the host's, and no files. */
	CHECK_ERR(sys_open("/sys/kernel/mm", O_RDONLY, 0), ENOENT);
	CHECK_ERR(syscall(SYS_stat, "/sys", &st), ENOENT);
	CHECK_ERR(syscall(SYS_access, "/sys/kernel", F_OK), ENOENT);
	/* /dev/fd leads to the guest's own fds. */
	long fd = sys_open("/dev/fd/0", O_RDONLY, 0);
	CHECK(fd >= 0 && close(fd) == 0);
}

int main(int argc, char **argv)
{
	reads();
	CHECK_ERR(syscall(SYS_mkdir, "/tmp/mote-no-such-dir", 0755), EROFS);
	CHECK_ERR(syscall(SYS_unlink, "/etc/passwd"), EROFS);
	CHECK_ERR(sys_open("/etc/x", O_CREAT | O_WRONLY, 0644), EROFS);
	no_writes("/etc", "/etc/passwd");
	volumes();
	devices();
	proc(argv[0]);
	success();
}
