/* Hundreds of small mappings made, written, partly unmapped and remade:
 * the mapping list stays consistent with what the guest can touch. */
#define _GNU_SOURCE
#include "guest.h"
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L
#define N  300

static char *m[N];

static void check_all(int step)
{
	for (int i = 0; i < N; i++)
		if (m[i])
			CHECK(m[i][0] == (char)(i + step) &&
			      m[i][PG - 1] == (char)(i + step));
}

static void make(int i, int step)
{
	long pages = 1 + i % 3;
	m[i] = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m[i] != MAP_FAILED);
	CHECK(m[i][0] == 0 && m[i][pages * PG - 1] == 0);
	m[i][0] = m[i][PG - 1] = (char)(i + step);
}

int main(void)
{
	for (int i = 0; i < N; i++)
		make(i, 0);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			CHECK(m[i] != m[j]);
	check_all(0);
	/* Every other mapping goes; its pages are handed out again. */
	for (int i = 0; i < N; i += 2) {
		CHECK(munmap(m[i], (1 + i % 3) * PG) == 0);
		m[i] = NULL;
	}
	for (int i = 1; i < N; i += 2)
		m[i][0] = m[i][PG - 1] = (char)(i + 1);
	for (int i = 0; i < N; i += 2)
		make(i, 1);
	check_all(1);
	/* Trim every mapping to its first page. */
	for (int i = 0; i < N; i++) {
		long pages = 1 + i % 3;
		if (pages > 1)
			CHECK(munmap(m[i] + PG, (pages - 1) * PG) == 0);
	}
	check_all(1);
	for (int i = 0; i < N; i++)
		CHECK(munmap(m[i], PG) == 0);
	success();
}
