/* madvise(MADV_DONTNEED) and mincore: anonymous private pages come back
 * zeroed, private file pages revert to the file, shared file pages keep
 * what was written; mincore reports touched pages resident and refuses
 * bad arguments like Linux. */
// mote-args: --volume @TMP@:/w:rw
// args: /w
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG   4096L
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static const char *dir;

static int all(const char *p, long n, char v)
{
	for (long i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int make_file(const char *name, long size, char fill)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	char buf[PG];
	memset(buf, fill, sizeof(buf));
	for (long at = 0; at < size; at += PG)
		CHECK(write(fd, buf, PG) == PG);
	return fd;
}

static void dontneed(void)
{
	char *a = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	CHECK(a != MAP_FAILED);
	memset(a, 9, 4 * PG);
	CHECK(madvise(a + PG, 2 * PG, MADV_DONTNEED) == 0);
	CHECK(all(a, PG, 9) && all(a + PG, 2 * PG, 0) &&
	      all(a + 3 * PG, PG, 9));
	CHECK(munmap(a, 4 * PG) == 0);

	int fd = make_file("advise", 2 * PG, 'f');
	char *p = mmap(NULL, 2 * PG, RW, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 'x', 2 * PG);
	CHECK(madvise(p, PG, MADV_DONTNEED) == 0);
	CHECK(all(p, PG, 'f') && all(p + PG, PG, 'x'));
	CHECK(munmap(p, 2 * PG) == 0);

	char *s = mmap(NULL, PG, RW, MAP_SHARED, fd, 0);
	CHECK(s != MAP_FAILED);
	memset(s, 's', PG);
	CHECK(madvise(s, PG, MADV_DONTNEED) == 0);
	CHECK(all(s, PG, 's'));
	CHECK(munmap(s, PG) == 0);
	CHECK(close(fd) == 0);
}

static void residency(void)
{
	unsigned char vec[8];
	char *a = mmap(NULL, 8 * PG, RW, ANON, -1, 0);
	CHECK(a != MAP_FAILED);
	a[0] = 1;
	a[5 * PG] = 1;
	memset(vec, 0xff, sizeof(vec));
	CHECK(mincore(a, 8 * PG, vec) == 0);
	CHECK((vec[0] & 1) && (vec[5] & 1));
	CHECK(!(vec[1] & 1) && !(vec[7] & 1));
	for (int i = 0; i < 8; i++)
		CHECK((vec[i] & ~1) == 0);
	/* A partial last page counts as a page. */
	memset(vec, 0xff, sizeof(vec));
	CHECK(mincore(a + 5 * PG, PG + 1, vec) == 0);
	CHECK(vec[0] == 1 && vec[1] == 0 && vec[2] == 0xff);
	CHECK(madvise(a, PG, MADV_DONTNEED) == 0);
	CHECK(mincore(a, PG, vec) == 0 && vec[0] == 0);
	CHECK(mincore(a, 0, BAD_PTR) == 0);

	/* File pages just written through the file are in the page cache. */
	int fd = make_file("core", 2 * PG, 'c');
	char *p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(mincore(p, 2 * PG, vec) == 0 && vec[0] == 1 && vec[1] == 1);
	CHECK(munmap(p, 2 * PG) == 0 && close(fd) == 0);

	/* Refusals. */
	CHECK_ERR(mincore(a + 1, PG, vec), EINVAL);
	CHECK_ERR(mincore(a, PG, BAD_PTR), EFAULT);
	CHECK_ERR(mincore(a, PG, SHIM_PTR), EFAULT);
	/* A vector that runs off its mapping. */
	unsigned char *v = mmap(NULL, 2 * PG, RW, ANON, -1, 0);
	CHECK(v != MAP_FAILED && munmap(v + PG, PG) == 0);
	CHECK_ERR(mincore(a, 8 * PG, v + PG - 4), EFAULT);
	CHECK(munmap(v, PG) == 0);
	CHECK_ERR(mincore(BAD_PTR, PG, vec), ENOMEM);
	CHECK_ERR(syscall(SYS_mincore, a, -2 * PG, vec), ENOMEM);
	CHECK_ERR(syscall(SYS_mincore, a, 1L << 47, vec), ENOMEM);
	CHECK(munmap(a + 2 * PG, PG) == 0);
	CHECK_ERR(mincore(a, 4 * PG, vec), ENOMEM);
	CHECK(munmap(a, 8 * PG) == 0);
	CHECK_ERR(mincore(a, PG, vec), ENOMEM);
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : "/w";
	dontneed();
	residency();
	success();
}
