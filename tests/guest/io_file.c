/* Regular files: lseek, pread64, pwrite64, readv/writev at the file offset,
 * and file mappings (private, shared, moved by mremap). Files come from
 * open() on a read-write volume. */
// mote-args: --volume @TMP@:/scratch:rw
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define PG 4096L

static void offsets(int fd)
{
	char buf[16] = {0};
	CHECK(write(fd, "0123456789", 10) == 10);
	CHECK(lseek(fd, 0, SEEK_CUR) == 10);
	CHECK(lseek(fd, 2, SEEK_SET) == 2);
	CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "234", 3) == 0);
	CHECK(lseek(fd, -1, SEEK_END) == 9);
	CHECK(lseek(fd, 3, SEEK_CUR) == 12); /* past the end is allowed */
	CHECK_ERR(syscall(SYS_lseek, fd, -100L, SEEK_SET), EINVAL);
	CHECK_ERR(syscall(SYS_lseek, fd, 0L, 77), EINVAL);
	CHECK(lseek(fd, 5, SEEK_SET) == 5);

	/* Positional calls leave the offset alone. */
	CHECK(pread(fd, buf, 4, 6) == 4 && memcmp(buf, "6789", 4) == 0);
	CHECK(pwrite(fd, "AB", 2, 0) == 2);
	CHECK(pread(fd, buf, 10, 0) == 10 &&
	      memcmp(buf, "AB23456789", 10) == 0);
	CHECK(pread(fd, buf, 4, 10) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 5);

	struct iovec v[2] = {{"xy", 2}, {"z", 1}};
	CHECK(writev(fd, v, 2) == 3);
	CHECK(lseek(fd, 0, SEEK_CUR) == 8);
	char a[2], b[8];
	struct iovec r[2] = {{a, 2}, {b, 8}};
	CHECK(lseek(fd, 4, SEEK_SET) == 4);
	CHECK(readv(fd, r, 2) == 6);
	CHECK(memcmp(a, "4x", 2) == 0 && memcmp(b, "yz89", 4) == 0);
}

/* The file is two pages: page 0 of 'a', page 1 of 'b'. */
static void mappings(int fd)
{
	static char page[PG];
	memset(page, 'a', PG);
	CHECK(pwrite(fd, page, PG, 0) == PG);
	memset(page, 'b', PG);
	CHECK(pwrite(fd, page, PG, PG) == PG);

	char *p =
		mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED && p[0] == 'a' && p[PG] == 'b');
	p[0] = 'P'; /* private: the file does not change */
	char c;
	CHECK(pread(fd, &c, 1, 0) == 1 && c == 'a');
	char *o = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG);
	CHECK(o != MAP_FAILED && o[0] == 'b' && o[PG - 1] == 'b');
	CHECK(munmap(o, PG) == 0);

	char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(s != MAP_FAILED && s[1] == 'a');
	s[1] = 'S'; /* shared: it does, both ways */
	CHECK(pread(fd, &c, 1, 1) == 1 && c == 'S');
	CHECK(pwrite(fd, "W", 1, PG + 1) == 1);
	CHECK(s[PG + 1] == 'W');

	/* Moving a file mapping keeps it a view of the file. */
	char *to = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	CHECK(to != MAP_FAILED);
	char *m = mremap(s, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	CHECK(m == to);
	CHECK(m[1] == 'S' && m[PG + 1] == 'W' && m[PG] == 'b');
	m[2] = 'M';
	CHECK(pread(fd, &c, 1, 2) == 1 && c == 'M');
	/* Grown, it stays one: the first pages still show the file. */
	char *g = mremap(m, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
	CHECK(g != MAP_FAILED && g[2] == 'M' && g[PG + 1] == 'W');
	g[3] = 'G';
	CHECK(pread(fd, &c, 1, 3) == 1 && c == 'G');
	CHECK(munmap(g, 4 * PG) == 0);
	CHECK(p[0] == 'P' && munmap(p, 2 * PG) == 0);
	CHECK_ERR(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100L),
		  EINVAL);
}

/* Record locks: our own lock never conflicts with us. */
static void locks(int fd)
{
	struct flock l = {.l_type = F_WRLCK,
			  .l_whence = SEEK_SET,
			  .l_start = 0,
			  .l_len = 10};
	CHECK(fcntl(fd, F_SETLK, &l) == 0);
	l.l_type = F_RDLCK;
	CHECK(fcntl(fd, F_GETLK, &l) == 0 && l.l_type == F_UNLCK);
	l = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET};
	CHECK(fcntl(fd, F_SETLK, &l) == 0);
	l = (struct flock){.l_type = 99, .l_whence = SEEK_SET};
	CHECK_ERR(syscall(SYS_fcntl, fd, F_SETLK, &l), EINVAL);
	CHECK_ERR(syscall(SYS_fcntl, fd, F_GETLK, BAD_PTR), EFAULT);
}

/* A read-only descriptor cannot give a writable shared mapping. */
static void read_only(void)
{
	int fd = open("/scratch/f", O_RDONLY);
	CHECK(fd >= 0);
	CHECK_ERR(syscall(SYS_mmap, NULL, PG, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0L),
		  EACCES);
	char *s = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(s != MAP_FAILED && s[1] == 'S');
	CHECK_ERR(mprotect(s, PG, PROT_READ | PROT_WRITE), EACCES);
	CHECK(s[1] == 'S' && munmap(s, PG) == 0);
	/* A private one can be written: the copy is the guest's. */
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 'q';
	CHECK(munmap(p, PG) == 0);
	CHECK_ERR(syscall(SYS_write, fd, "x", 1), EBADF);
	CHECK_ERR(syscall(SYS_pwrite64, fd, "x", 1, 0L), EBADF);
	CHECK(close(fd) == 0);
}

int main(void)
{
	int fd = open("/scratch/f", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	offsets(fd);
	mappings(fd);
	locks(fd);
	read_only();
	CHECK(close(fd) == 0);
	success();
}
