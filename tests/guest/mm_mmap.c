/* mmap, munmap, mprotect, madvise on anonymous memory: placement, contents,
 * refusals. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG   4096L
#define RW   (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define MMAP_ERR(addr, len, prot, flags, fd, err)                              \
	CHECK_ERR(syscall(SYS_mmap, addr, len, prot, flags, fd, 0), err)

static int all(const char *p, long n, char v)
{
	for (long i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* True if nothing is mapped in [p, p + n). */
static int is_free(char *p, long n)
{
	void *r = mmap(p, n, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	if (r == MAP_FAILED)
		return 0;
	CHECK(r == p && munmap(p, n) == 0);
	return 1;
}

static void anon(void)
{
	char *p = mmap(NULL, 3 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED && (uintptr_t)p % PG == 0);
	CHECK(all(p, 3 * PG, 0));
	memset(p, 7, 3 * PG);
	/* A length that is not a page multiple is rounded up. */
	char *q = mmap(NULL, 10, RW, ANON, -1, 0);
	CHECK(q != MAP_FAILED && q != p);
	q[PG - 1] = 1;
	CHECK(munmap(q, 10) == 0);
	CHECK(is_free(q, PG));

	/* Unmapping the middle page leaves both ends. */
	CHECK(munmap(p + PG, PG) == 0);
	CHECK(is_free(p + PG, PG));
	CHECK(all(p, PG, 7) && all(p + 2 * PG, PG, 7));
	CHECK(munmap(p, 3 * PG) == 0); /* holes are fine */
	CHECK(is_free(p, 3 * PG));
	CHECK(munmap(p, PG) == 0);
}

static void placed(void)
{
	char *p = mmap(NULL, 16 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED && munmap(p, 16 * PG) == 0);
	/* A free hint is honoured; an unaligned one is rounded down. */
	char *h = mmap(p + 4 * PG, PG, RW, ANON, -1, 0);
	CHECK(h == p + 4 * PG);
	char *u = mmap(p + 6 * PG + 5, PG, RW, ANON, -1, 0);
	CHECK(u == p + 6 * PG);
	/* A taken hint is not: the mapping goes elsewhere. */
	char *o = mmap(h, PG, RW, ANON, -1, 0);
	CHECK(o != MAP_FAILED && o != h);
	CHECK(munmap(o, PG) == 0 && munmap(u, PG) == 0);

	memset(h, 3, PG);
	char *f = mmap(h, PG, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(f == h && all(h, PG, 0)); /* replaced by fresh memory */
	memset(h, 4, PG);
	MMAP_ERR(h, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, EEXIST);
	MMAP_ERR(h - PG, 2 * PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, EEXIST);
	CHECK(all(h, PG, 4));
	CHECK(mmap(h + PG, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) ==
	      h + PG);
	CHECK(munmap(h, 2 * PG) == 0);
}

static void protect(void)
{
	char *p = mmap(NULL, 4 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 5, 4 * PG);
	CHECK(mprotect(p + PG, 2 * PG, PROT_READ) == 0);
	CHECK(all(p, 4 * PG, 5));
	p[0] = 6;
	p[3 * PG] = 6;
	CHECK(mprotect(p, 4 * PG, RW) == 0);
	memset(p, 8, 4 * PG);
	CHECK(mprotect(p, 0, PROT_NONE) == 0);
	CHECK_ERR(syscall(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, p, PG, 0x100), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, p, -1L, PROT_READ), ENOMEM);
	CHECK_ERR(syscall(SYS_mprotect, p, 1L << 40, PROT_READ), ENOMEM);
	/* A length that rounds up to 0 is EINVAL (it once ended mote). */
	CHECK_ERR(syscall(SYS_munmap, p, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, p, -4095L), EINVAL);
	CHECK(munmap(p + 3 * PG, PG) == 0);
	CHECK_ERR(syscall(SYS_mprotect, p, 4 * PG, PROT_READ), ENOMEM);

	/* Code written into an executable mapping runs. */
	static const unsigned char ret42[] = {0xb8, 42, 0, 0, 0, 0xc3};
	memcpy(p, ret42, sizeof(ret42));
	CHECK(mprotect(p, PG, PROT_READ | PROT_EXEC) == 0);
	CHECK(((int (*)(void))(void *)p)() == 42);
	CHECK(munmap(p, 3 * PG) == 0);
}

static void advise(void)
{
	char *p = mmap(NULL, 2 * PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 9, 2 * PG);
	CHECK(madvise(p, PG, MADV_DONTNEED) == 0);
	CHECK(all(p, PG, 0) && all(p + PG, PG, 9));
	CHECK(madvise(p, 2 * PG, MADV_WILLNEED) == 0);
	CHECK(madvise(p, 2 * PG, MADV_NORMAL) == 0);
	CHECK(all(p + PG, PG, 9));
	CHECK(madvise(p, 0, MADV_DONTNEED) == 0);
	CHECK_ERR(syscall(SYS_madvise, p + 1, PG, MADV_DONTNEED), EINVAL);
	CHECK_ERR(syscall(SYS_madvise, p, PG, 12345), EINVAL);
	CHECK_ERR(syscall(SYS_madvise, p, -1L, MADV_NORMAL), EINVAL);
	CHECK(munmap(p + PG, PG) == 0);
	CHECK_ERR(syscall(SYS_madvise, p, 2 * PG, MADV_DONTNEED), ENOMEM);
	CHECK(munmap(p, PG) == 0);
}

static void refusals(void)
{
	char *p = mmap(NULL, PG, RW, ANON, -1, 0);
	CHECK(p != MAP_FAILED);
	MMAP_ERR(NULL, 0, RW, ANON, -1, EINVAL);
	MMAP_ERR(p + 1, PG, RW, ANON | MAP_FIXED, -1, EINVAL);
	MMAP_ERR(NULL, PG, RW, MAP_ANONYMOUS, -1, EINVAL);
	MMAP_ERR(NULL, PG, 0x100, ANON, -1, EINVAL);
	CHECK_ERR(syscall(SYS_mmap, NULL, PG, RW, ANON, -1, 100), EINVAL);
	MMAP_ERR(NULL, 64L << 30, RW, ANON, -1, ENOMEM);
	MMAP_ERR(NULL, -PG, RW, ANON, -1, ENOMEM);
	MMAP_ERR((void *)(1L << 46), PG, RW, ANON | MAP_FIXED, -1, ENOMEM);
	MMAP_ERR(NULL, PG, RW, MAP_PRIVATE, 999, EBADF);
	int pp[2];
	CHECK(pipe(pp) == 0);
	MMAP_ERR(NULL, PG, PROT_READ, MAP_PRIVATE, pp[0], ENODEV);
	CHECK(close(pp[0]) == 0 && close(pp[1]) == 0);
	CHECK_ERR(syscall(SYS_munmap, p + 1, PG), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, p, 0), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, -PG, 2 * PG), EINVAL);
	CHECK(munmap(p, PG) == 0);
}

int main(void)
{
	anon();
	placed();
	protect();
	advise();
	refusals();
	success();
}
