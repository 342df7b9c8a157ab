/* mremap of file mappings: growing (in place and by moving) maps the
 * file's next pages and keeps the pages written, shrinking keeps the
 * front, a shared mapping moved still writes to the file. */
// mote-args: --volume @TMP@:/w:rw
// args: /w
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L
#define RW (PROT_READ | PROT_WRITE)

/* Page i of the file is filled with 'A' + i. */
static int make_file(const char *dir, long pages)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/remap", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	char buf[PG];
	for (long i = 0; i < pages; i++) {
		memset(buf, 'A' + i, sizeof(buf));
		CHECK(write(fd, buf, PG) == PG);
	}
	return fd;
}

static int pages_ok(const char *p, long first, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i * PG] != 'A' + first + i ||
		    p[i * PG + PG - 1] != 'A' + first + i)
			return 0;
	return 1;
}

static void grow(int fd, int type)
{
	/* Room after it: grows in place. */
	char *p = mmap(NULL, 8 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	CHECK(p != MAP_FAILED && munmap(p, 8 * PG) == 0);
	CHECK(mmap(p, 2 * PG, RW, type | MAP_FIXED, fd, PG) == p);
	CHECK(pages_ok(p, 1, 2));
	/* A page written before (a private copy, or the file's) stays. */
	p[1] = 'x';
	CHECK(mremap(p, 2 * PG, 4 * PG, 0) == p);
	CHECK(pages_ok(p, 1, 4) && p[1] == 'x');
	p[1] = 'B';

	/* Something in the way: grows by moving. */
	char *b =
		mmap(p + 4 * PG, PG, RW,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(b == p + 4 * PG);
	CHECK_ERR(mremap(p, 4 * PG, 6 * PG, 0), ENOMEM);
	char *q = mremap(p, 4 * PG, 6 * PG, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	CHECK(pages_ok(q, 1, 6));

	/* Shrinking keeps the front. */
	CHECK(mremap(q, 6 * PG, 3 * PG, 0) == q);
	CHECK(pages_ok(q, 1, 3));
	q[0] = 'z';
	CHECK(msync(q, PG, MS_SYNC) == 0);
	char c;
	CHECK(pread(fd, &c, 1, PG) == 1);
	CHECK(c == (type == MAP_SHARED ? 'z' : 'B'));
	if (type == MAP_SHARED)
		CHECK(pwrite(fd, "B", 1, PG) == 1);
	CHECK(munmap(q, 3 * PG) == 0 && munmap(b, PG) == 0);
}

int main(int argc, char **argv)
{
	int fd = make_file(argc > 1 ? argv[1] : "/w", 8);
	grow(fd, MAP_PRIVATE);
	grow(fd, MAP_SHARED);
	success();
}
