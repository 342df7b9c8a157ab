/* sendfile, copy_file_range, splice and tee between files and pipes in an
 * rw volume; fallocate, flock, fadvise, statfs, extended attributes. Run
 * natively it works in a fresh directory under /tmp. */
// mote-args: --volume @TMP@:/w:rw
// args: /w
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

static char dir[256];

static int mk(const char *name, int flags)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags, 0644);
}

static void same(int fd, off_t off, const char *want, size_t len)
{
	char got[8192];
	CHECK(len <= sizeof(got));
	CHECK(pread(fd, got, len, off) == (ssize_t)len);
	CHECK(memcmp(got, want, len) == 0);
}

static void copies(const char *data, size_t len)
{
	int in = mk("src", O_RDONLY);
	int out = mk("dst", O_CREAT | O_RDWR | O_TRUNC);
	CHECK(in >= 0 && out >= 0);
	off_t off = 100;
	CHECK(sendfile(out, in, &off, 1000) == 1000 && off == 1100);
	CHECK(lseek(in, 0, SEEK_CUR) == 0);
	CHECK(sendfile(out, in, NULL, 500) == 500);
	CHECK(lseek(in, 0, SEEK_CUR) == 500);
	same(out, 0, data + 100, 1000);
	same(out, 1000, data, 500);
	/* A huge count copies what there is. */
	off = 8000;
	CHECK(sendfile(out, in, &off, 1UL << 31) == (ssize_t)len - 8000);
	loff_t oi = 10, oo = 0;
	int out2 = mk("dst2", O_CREAT | O_RDWR | O_TRUNC);
	CHECK(copy_file_range(in, &oi, out2, &oo, 4000, 0) == 4000);
	CHECK(oi == 4010 && oo == 4000);
	same(out2, 0, data + 10, 4000);
	int p[2], q[2];
	CHECK(pipe(p) == 0 && pipe(q) == 0);
	oi = 200;
	CHECK(splice(in, &oi, p[1], NULL, 300, 0) == 300 && oi == 500);
	CHECK(tee(p[0], q[1], 300, 0) == 300);
	oo = 5000;
	CHECK(splice(p[0], NULL, out2, &oo, 300, 0) == 300 && oo == 5300);
	same(out2, 5000, data + 200, 300);
	char buf[300];
	CHECK(read(q[0], buf, 300) == 300 && memcmp(buf, data + 200, 300) == 0);

	CHECK_ERR(sendfile(out, 999, NULL, 10), EBADF);
	CHECK_ERR(sendfile(999, in, NULL, 10), EBADF);
	CHECK_ERR(sendfile(out, in, BAD_PTR, 10), EFAULT);
	CHECK_ERR(copy_file_range(in, NULL, out, NULL, 10, 1), EINVAL);
	CHECK_ERR(copy_file_range(in, BAD_PTR, out, NULL, 10, 0), EFAULT);
	CHECK_ERR(copy_file_range(999, NULL, out, NULL, 10, 0), EBADF);
	CHECK_ERR(splice(in, BAD_PTR, p[1], NULL, 10, 0), EFAULT);
	CHECK_ERR(splice(999, NULL, p[1], NULL, 10, 0), EBADF);
	oi = 0;
	CHECK_ERR(splice(p[0], &oi, out, NULL, 10, 0), ESPIPE);
	CHECK_ERR(tee(in, q[1], 10, 0), EINVAL);
	CHECK_ERR(tee(p[0], 999, 10, 0), EBADF);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(in);
	close(out);
	close(out2);
}

static void space_and_locks(void)
{
	int fd = mk("big", O_CREAT | O_RDWR | O_TRUNC);
	struct stat st;
	CHECK(fallocate(fd, 0, 0, 65536) == 0);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 65536);
	CHECK_ERR(fallocate(999, 0, 0, 10), EBADF);
	CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK(flock(fd, LOCK_EX) == 0);
	int fd2 = mk("big", O_RDONLY);
	CHECK_ERR(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK(flock(fd, LOCK_UN) == 0);
	CHECK(flock(fd2, LOCK_SH | LOCK_NB) == 0);
	CHECK_ERR(flock(999, LOCK_EX), EBADF);
	CHECK_ERR(flock(fd, 0), EINVAL);
	CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
	CHECK(posix_fadvise(fd, 0, 0, 99) == EINVAL);
	CHECK(posix_fadvise(999, 0, 0, POSIX_FADV_NORMAL) == EBADF);
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE);
	struct statfs sf;
	CHECK(statfs(dir, &sf) == 0 && !(sf.f_flags & ST_RDONLY));
	CHECK(fstatfs(fd, &sf) == 0 && sf.f_bsize > 0);
	CHECK_ERR(statfs(BAD_PTR, &sf), EFAULT);
	CHECK_ERR(syscall(SYS_statfs, dir, BAD_PTR), EFAULT);
	CHECK_ERR(statfs("/no/such/dir", &sf), ENOENT);
	CHECK_ERR(fstatfs(999, &sf), EBADF);
	CHECK_ERR(syscall(SYS_fstatfs, fd, BAD_PTR), EFAULT);
	close(fd);
	close(fd2);
}

static void xattrs(void)
{
	char path[512], v[64];
	snprintf(path, sizeof(path), "%s/src", dir);
	int fd = open(path, O_RDONLY);
	int r = setxattr(path, "user.mote", "val", 3, 0);
	CHECK(r == 0 || errno == ENOTSUP);
	if (r == 0) {
		CHECK(getxattr(path, "user.mote", v, sizeof(v)) == 3);
		CHECK(memcmp(v, "val", 3) == 0);
		CHECK(fgetxattr(fd, "user.mote", NULL, 0) == 3);
		CHECK(lgetxattr(path, "user.mote", v, sizeof(v)) == 3);
		char list[256];
		ssize_t n = listxattr(path, list, sizeof(list));
		CHECK(n > 0 && memmem(list, n, "user.mote", 10));
		CHECK(flistxattr(fd, list, sizeof(list)) == n);
		CHECK(llistxattr(path, list, sizeof(list)) == n);
		CHECK_ERR(getxattr(path, "user.mote", v, 1), ERANGE);
		CHECK_ERR(setxattr(path, "user.mote", "x", 1, XATTR_CREATE),
			  EEXIST);
		CHECK(fsetxattr(fd, "user.two", "2", 1, 0) == 0);
		CHECK(removexattr(path, "user.mote") == 0);
		CHECK(fremovexattr(fd, "user.two") == 0);
		CHECK_ERR(lremovexattr(path, "user.two"), ENODATA);
		CHECK_ERR(getxattr(path, "user.mote", v, sizeof(v)), ENODATA);
	}
	CHECK_ERR(getxattr(BAD_PTR, "user.x", v, sizeof(v)), EFAULT);
	CHECK_ERR(getxattr(path, BAD_PTR, v, sizeof(v)), EFAULT);
	CHECK_ERR(fgetxattr(999, "user.x", v, sizeof(v)), EBADF);
	CHECK_ERR(flistxattr(999, v, sizeof(v)), EBADF);
	CHECK_ERR(listxattr(BAD_PTR, v, sizeof(v)), EFAULT);
	CHECK_ERR(setxattr(path, "user.x", "v", 1, 0x40), EINVAL);
	CHECK_ERR(setxattr(path, "user.x", BAD_PTR, 1, 0), EFAULT);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "user.", 5);
	CHECK_ERR(getxattr(path, longname, v, sizeof(v)), ERANGE);
	CHECK_ERR(getxattr(path, "", v, sizeof(v)), ERANGE);
	CHECK_ERR(fremovexattr(999, "user.x"), EBADF);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	} else {
		char tmpl[] = "/tmp/fs_splice.XXXXXX";
		CHECK(mkdtemp(tmpl));
		snprintf(dir, sizeof(dir), "%s", tmpl);
	}
	static char data[8192];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 256);
	int fd = mk("src", O_CREAT | O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, data, sizeof(data)) == sizeof(data));
	close(fd);
	copies(data, sizeof(data));
	space_and_locks();
	xattrs();
	success();
}
