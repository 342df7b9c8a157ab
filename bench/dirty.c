/* A guest that keeps changing its memory, for bench/migrate.sh: fills SIZE
 * MiB, prints "ready", then for SECS seconds writes RATE pages per second
 * (spread over the buffer, one 100 ms batch at a time), printing a line a
 * second, and exits 0 with a checksum line.
 * usage: dirty SIZE_MIB RATE_PAGES_PER_S SECS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t pages = (size_t)atoi(argv[1]) << 8;
	long rate = atol(argv[2]), secs = atol(argv[3]);
	uint8_t *m = malloc(pages << 12);
	if (!m)
		return 3;
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i < pages << 9; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint64_t *)m)[i] = x;
	}
	printf("ready\n");
	fflush(stdout);
	struct timespec ts = {0, 100000000};
	size_t at = 0;
	for (long tick = 0; tick < secs * 10; tick++) {
		for (long i = 0; i < rate / 10; i++) {
			m[(at << 12) + (size_t)tick % 4096]++;
			at = (at + 7919) % pages;
		}
		if (tick % 10 == 9) {
			printf("second %ld\n", tick / 10 + 1);
			fflush(stdout);
		}
		nanosleep(&ts, NULL);
	}
	uint64_t s = 0;
	for (size_t i = 0; i < pages << 12; i += 4096)
		s = s * 31 + m[i];
	printf("sum %016llx\n", (unsigned long long)s);
	return 0;
}
