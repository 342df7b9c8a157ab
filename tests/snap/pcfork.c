/* A guest that forks or moves its memory on cue, for post-copy's test
 * (tests/suites/migrate.sh): fills SIZE MiB with a pattern, prints its
 * checksum, then waits until the file TRIGGER exists (the test makes it
 * once the receiver runs the VM, with most pages still at the source).
 * Then at once:
 *   fork:   forks; the child prints the checksum of all of it, then the
 *           parent moves it (mremap) and prints the checksum again;
 *   mremap: moves it (mremap) and prints the checksum;
 *   exit:   exits, with most of its pages still at the source.
 * Every line must be a native run's: a child or a moved mapping that
 * missed a page still at the source would read zeros there.
 *
 * usage: pcfork SIZE_MIB TRIGGER fork|mremap|exit */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long sum(const uint64_t *m, size_t words)
{
	uint64_t s = 0;
	for (size_t i = 0; i < words; i++)
		s = s * 31 + m[i];
	return (unsigned long long)s;
}

/* Moves the len bytes at m elsewhere (a place reserved first, so the
 * move cannot be done in place). */
static uint64_t *move(uint64_t *m, size_t len)
{
	void *to =
		mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		return NULL;
	void *r = mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	return r == MAP_FAILED ? NULL : r;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t len = (size_t)atoi(argv[1]) << 20, words = len / 8;
	uint64_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m[i] = x;
	}
	printf("ready %016llx\n", sum(m, words));
	fflush(stdout);
	struct timespec ms = {0, 1000000};
	while (access(argv[2], F_OK) != 0)
		nanosleep(&ms, NULL);
	if (!strcmp(argv[3], "exit"))
		return 0;
	if (!strcmp(argv[3], "fork")) {
		pid_t pid = fork();
		if (pid < 0)
			return 4;
		if (pid == 0) {
			printf("child %016llx\n", sum(m, words));
			return 0;
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || st != 0)
			return 5;
	}
	if (!(m = move(m, len)))
		return 6;
	printf("moved %016llx\n", sum(m, words));
	return 0;
}
