/* Memory given back is given back: 64 MiB touched, then half of it dropped
 * with MADV_DONTNEED (mincore sees it go) and all of it unmapped. With the
 * argument "hold" it stops after each step ("hold touched", "hold advised",
 * "hold unmapped", then a byte from stdin) so that tests/suites/mm.sh can
 * read the monitor's VmRSS from the host and see it fall. */
#define _GNU_SOURCE
#include "guest.h"
#include <sys/mman.h>

#define MB (1L << 20)
#define PG 4096L

static void hold(int argc, char **argv, const char *what)
{
	char c;
	if (argc < 2 || strcmp(argv[1], "hold"))
		return;
	printf("hold %s\n", what);
	fflush(stdout);
	CHECK(read(0, &c, 1) == 1);
}

int main(int argc, char **argv)
{
	static unsigned char vec[64 * MB / PG];
	char *p = mmap(NULL, 64 * MB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	for (long i = 0; i < 64 * MB; i += PG)
		p[i] = 1;
	CHECK(mincore(p, 64 * MB, vec) == 0);
	for (long i = 0; i < 64 * MB / PG; i++)
		CHECK(vec[i] == 1);
	hold(argc, argv, "touched");
	CHECK(madvise(p, 32 * MB, MADV_DONTNEED) == 0);
	CHECK(mincore(p, 64 * MB, vec) == 0);
	for (long i = 0; i < 64 * MB / PG; i++)
		CHECK(vec[i] == (i >= 32 * MB / PG));
	hold(argc, argv, "advised");
	CHECK(munmap(p, 64 * MB) == 0);
	hold(argc, argv, "unmapped");
	success();
}
