/* Bad pointers to the path and metadata syscalls give EFAULT (unmapped,
 * supervisor-only, read-only memory written, a string running into an
 * unmapped page) and change nothing; the program keeps running. */
// mote-args: --volume @TMP@:/data:rw
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096L

static const char rodata[512] = "read-only";

/* Every call that reads a path, with the path at `bad`. */
static void bad_paths(const char *bad)
{
	struct stat st;
	char buf[64];
	long d = syscall(SYS_open, "/data", O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	CHECK_ERR(syscall(SYS_open, bad, O_RDONLY), EFAULT);
	CHECK_ERR(syscall(SYS_open, bad, O_CREAT | O_WRONLY, 0644), EFAULT);
	CHECK_ERR(syscall(SYS_openat, d, bad, O_RDONLY), EFAULT);
	CHECK_ERR(syscall(SYS_stat, bad, &st), EFAULT);
	CHECK_ERR(syscall(SYS_lstat, bad, &st), EFAULT);
	CHECK_ERR(syscall(SYS_newfstatat, d, bad, &st, 0), EFAULT);
	CHECK_ERR(syscall(SYS_statx, d, bad, 0, 0x7ff, buf), EFAULT);
	CHECK_ERR(syscall(SYS_readlink, bad, buf, sizeof(buf)), EFAULT);
	CHECK_ERR(syscall(SYS_readlinkat, d, bad, buf, sizeof(buf)), EFAULT);
	CHECK_ERR(syscall(SYS_access, bad, F_OK), EFAULT);
	CHECK_ERR(syscall(SYS_faccessat, d, bad, F_OK), EFAULT);
	CHECK_ERR(syscall(SYS_faccessat2, d, bad, F_OK, 0), EFAULT);
	CHECK_ERR(syscall(SYS_chdir, bad), EFAULT);
	CHECK_ERR(syscall(SYS_mkdir, bad, 0755), EFAULT);
	CHECK_ERR(syscall(SYS_mkdirat, d, bad, 0755), EFAULT);
	CHECK_ERR(syscall(SYS_unlink, bad), EFAULT);
	CHECK_ERR(syscall(SYS_unlinkat, d, bad, 0), EFAULT);
	CHECK_ERR(syscall(SYS_rmdir, bad), EFAULT);
	CHECK_ERR(syscall(SYS_rename, bad, "/data/g"), EFAULT);
	CHECK_ERR(syscall(SYS_rename, "/data/f", bad), EFAULT);
	CHECK_ERR(syscall(SYS_renameat2, d, "f", d, bad, 0), EFAULT);
	CHECK_ERR(syscall(SYS_link, bad, "/data/g"), EFAULT);
	CHECK_ERR(syscall(SYS_linkat, d, "f", d, bad, 0), EFAULT);
	CHECK_ERR(syscall(SYS_linkat, d, bad, d, "g", AT_SYMLINK_FOLLOW),
		  EFAULT);
	CHECK_ERR(syscall(SYS_symlink, bad, "/data/g"), EFAULT);
	CHECK_ERR(syscall(SYS_symlinkat, "f", d, bad), EFAULT);
	CHECK_ERR(syscall(SYS_chmod, bad, 0644), EFAULT);
	CHECK_ERR(syscall(SYS_fchmodat, d, bad, 0644), EFAULT);
	CHECK_ERR(syscall(SYS_chown, bad, -1, -1), EFAULT);
	CHECK_ERR(syscall(SYS_lchown, bad, -1, -1), EFAULT);
	CHECK_ERR(syscall(SYS_fchownat, d, bad, -1, -1, 0), EFAULT);
	CHECK_ERR(syscall(SYS_utimensat, d, bad, NULL, 0), EFAULT);
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0), EFAULT);
	CHECK_ERR(syscall(SYS_truncate, bad, 0L), EFAULT);
	CHECK(close(d) == 0);
}

/* Every call that writes a buffer, with the buffer at `bad`. Only what is
 * written must be writable: unless `whole`, just the first 8 bytes are. */
static void bad_buffers(void *bad, int whole)
{
	long fd = syscall(SYS_open, "/data/f", O_RDONLY);
	long d = syscall(SYS_open, "/data", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && d >= 0);
	CHECK_ERR(syscall(SYS_stat, "/data/f", bad), EFAULT);
	CHECK_ERR(syscall(SYS_lstat, "/data/f", bad), EFAULT);
	CHECK_ERR(syscall(SYS_fstat, fd, bad), EFAULT);
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "/data/f", bad, 0), EFAULT);
	CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/data/f", 0, 0x7ff, bad),
		  EFAULT);
	CHECK_ERR(syscall(SYS_getdents64, d, bad, 1024), EFAULT);
	CHECK_ERR(syscall(SYS_readlink, "/data/l", bad, 64), EFAULT);
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", bad, 64), EFAULT);
	if (whole)
		CHECK_ERR(syscall(SYS_getcwd, bad, 64), EFAULT);
	else /* "/" and its NUL fit */
		CHECK(syscall(SYS_getcwd, bad, 64) == 2);
	CHECK(close(fd) == 0 && close(d) == 0);
}

/* utimensat reads its times. */
static void bad_times(const void *bad)
{
	CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, "/data/f", bad, 0), EFAULT);
}

int main(void)
{
	long fd = syscall(SYS_open, "/data/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && close(fd) == 0);
	CHECK(symlink("0123456789abcdef", "/data/l") == 0);

	/* A path running into an unmapped page without its NUL. */
	char *pg = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(pg != MAP_FAILED && munmap(pg + PG, PG) == 0);
	memset(pg, 'a', PG);

	bad_paths(BAD_PTR);
	bad_paths(SHIM_PTR);
	bad_paths(pg + PG - 8);
	bad_buffers(BAD_PTR, 1);
	bad_buffers(SHIM_PTR, 1);
	bad_buffers((void *)rodata, 1); /* written: read-only */
	bad_buffers(pg + PG - 8, 0);	/* runs past the mapping */
	bad_times(BAD_PTR);
	bad_times(SHIM_PTR);
	bad_times(pg + PG - 8);

	/* A path filling PATH_MAX without a NUL is too long, not a fault. */
	static char longp[PATH_MAX + 1];
	memset(longp, 'a', PATH_MAX);
	CHECK_ERR(syscall(SYS_open, longp, O_RDONLY), ENAMETOOLONG);

	/* Nothing was created, removed or renamed by the faults. */
	char link[32];
	struct stat st;
	CHECK(syscall(SYS_stat, "/data/f", &st) == 0 && st.st_size == 0);
	CHECK(syscall(SYS_readlink, "/data/l", link, sizeof(link)) == 16);
	CHECK_ERR(syscall(SYS_stat, "/data/g", &st), ENOENT);
	CHECK(rodata[0] == 'r');
	char cwd[8];
	CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
	CHECK(unlink("/data/l") == 0 && unlink("/data/f") == 0);
	success();
}
