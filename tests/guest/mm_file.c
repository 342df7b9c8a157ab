/* File mappings backed by the file itself: MAP_SHARED stores reach the
 * file (read back with read(), and by the test runner from the host),
 * MAP_PRIVATE stores do not; msync with each flag and its refusals;
 * munmap and mprotect of one page in the middle of a file mapping. */
// mote-args: --volume @TMP@:/w:rw
// args: /w
// check-file: @TMP@/shared.txt hello from a shared mapping
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L
#define RW (PROT_READ | PROT_WRITE)

static const char *dir;

static int open_file(const char *name, long size, char fill)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	char buf[PG];
	memset(buf, fill, sizeof(buf));
	for (long at = 0; at < size; at += PG) {
		long n = size - at < PG ? size - at : PG;
		CHECK(write(fd, buf, n) == n);
	}
	return fd;
}

static void shared(void)
{
	static const char msg[] = "hello from a shared mapping\n";
	int fd = open_file("shared.txt", PG, ' ');
	CHECK(ftruncate(fd, sizeof(msg) - 1) == 0);
	char *p = mmap(NULL, PG, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	memcpy(p, msg, sizeof(msg) - 1);
	CHECK(msync(p, PG, MS_SYNC) == 0);
	char back[64] = {0};
	CHECK(pread(fd, back, sizeof(back), 0) == sizeof(msg) - 1);
	CHECK(strcmp(back, msg) == 0);
	/* A write through the file shows in the mapping. */
	CHECK(pwrite(fd, "H", 1, 0) == 1);
	CHECK(p[0] == 'H');
	p[0] = 'h';
	CHECK(msync(p, 10, MS_ASYNC) == 0);
	CHECK(msync(p, PG, MS_INVALIDATE) == 0);
	CHECK(msync(p, PG, MS_SYNC | MS_INVALIDATE) == 0);
	CHECK(msync(p, 0, MS_SYNC) == 0);
	CHECK(munmap(p, PG) == 0);
	CHECK(close(fd) == 0);
}

static void private(void)
{
	int fd = open_file("private", 2 * PG, 'a');
	char *p = mmap(NULL, 2 * PG, RW, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED && p[0] == 'a' && p[2 * PG - 1] == 'a');
	p[0] = 'b';
	CHECK(msync(p, 2 * PG, MS_SYNC) == 0);
	char c;
	CHECK(pread(fd, &c, 1, 0) == 1 && c == 'a');
	/* A page not written yet follows the file. */
	CHECK(pwrite(fd, "z", 1, PG) == 1);
	CHECK(p[PG] == 'z' && p[0] == 'b');
	CHECK(munmap(p, 2 * PG) == 0);
	CHECK(close(fd) == 0);
}

static void middle(void)
{
	int fd = open_file("middle", 4 * PG, 'm');
	char *p = mmap(NULL, 4 * PG, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(mprotect(p + PG, PG, PROT_READ) == 0);
	CHECK(munmap(p + 2 * PG, PG) == 0);
	/* The pieces on each side are still the file at the right offset. */
	p[0] = '0';
	p[3 * PG] = '3';
	CHECK(p[PG] == 'm');
	CHECK(msync(p, 2 * PG, MS_SYNC) == 0);
	CHECK(msync(p + 3 * PG, PG, MS_SYNC) == 0);
	CHECK_ERR(msync(p, 4 * PG, MS_SYNC), ENOMEM);
	char c;
	CHECK(pread(fd, &c, 1, 3 * PG) == 1 && c == '3');
	CHECK(pread(fd, &c, 1, 0) == 1 && c == '0');
	CHECK(munmap(p, 4 * PG) == 0);
	CHECK(close(fd) == 0);
}

static void refusals(void)
{
	int fd = open_file("refusals", PG, 'r');
	char *p = mmap(NULL, PG, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(msync(p + 1, PG, MS_SYNC), EINVAL);
	CHECK_ERR(msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERR(msync(p, PG, 0x100), EINVAL);
	/* Linux rounds the length up first: -1 becomes 0, a no-op. */
	CHECK(syscall(SYS_msync, p, -1L, MS_SYNC) == 0);
	CHECK_ERR(syscall(SYS_msync, p, -2 * PG, MS_SYNC), ENOMEM);
	CHECK_ERR(syscall(SYS_msync, p, 1L << 47, MS_SYNC), ENOMEM);
	CHECK_ERR(msync(BAD_PTR, PG, MS_SYNC), ENOMEM);
	CHECK(munmap(p, PG) == 0);
	CHECK_ERR(msync(p, PG, MS_SYNC), ENOMEM);
	/* Shared and writable needs a file open for writing. */
	char path[256];
	snprintf(path, sizeof(path), "%s/refusals", dir);
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	CHECK(mmap(NULL, PG, RW, MAP_SHARED, ro, 0) == MAP_FAILED &&
	      errno == EACCES);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(p != MAP_FAILED && p[0] == 'r');
	CHECK_ERR(mprotect(p, PG, RW), EACCES);
	CHECK(munmap(p, PG) == 0);
	/* MAP_SHARED_VALIDATE knows its flags: no MAP_SYNC (no DAX here),
	 * nothing unknown. */
	p = mmap(NULL, PG, RW, MAP_SHARED_VALIDATE, fd, 0);
	CHECK(p != MAP_FAILED && p[0] == 'r' && munmap(p, PG) == 0);
	CHECK_ERR(syscall(SYS_mmap, 0, PG, RW, MAP_SHARED_VALIDATE | MAP_SYNC,
			  fd, 0),
		  EOPNOTSUPP);
	CHECK_ERR(syscall(SYS_mmap, 0, PG, RW, MAP_SHARED_VALIDATE | 0x800000,
			  fd, 0),
		  EOPNOTSUPP);
	CHECK(close(ro) == 0 && close(fd) == 0);
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : "/w";
	shared();
	private();
	middle();
	refusals();
	success();
}
