/* Touches SIZE MiB of memory with a pattern, asks for a snapshot of itself,
 * then checks the pattern: the original and every clone print the same
 * checksum. With "wait", it then reads stdin until end-of-file (so that
 * many clones stay alive together for a memory measurement); with "exit",
 * it exits at once after the snapshot (to time a restore end to end).
 *
 * usage: touch SIZE_MIB [wait|exit] */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t sum(const uint64_t *m, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31 + m[i];
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	size_t n = (size_t)atoi(argv[1]) << 17; /* words */
	uint64_t *m = malloc(n * 8), x = 88172645463325252ULL;
	if (!m)
		return 3;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m[i] = x;
	}
	uint64_t before = sum(m, n);
	int s = open("/dev/mote-snapshot", O_RDWR);
	char gen[34] = {0}, now[34] = {0};
	if (s < 0 || read(s, gen, 33) != 33 || write(s, "snap", 4) != 4) {
		perror("snapshot");
		return 4;
	}
	if (argc > 2 && !strcmp(argv[2], "exit"))
		_exit(0);
	if (pread(s, now, 33, 0) != 33)
		return 5;
	uint64_t after = sum(m, n);
	printf("%s %016llx %s\n", before == after ? "ok" : "BAD",
	       (unsigned long long)after,
	       strcmp(gen, now) ? "clone" : "original");
	fflush(stdout);
	if (argc > 2) {
		char c;
		while (read(0, &c, 1) > 0)
			;
	}
	return before == after ? 0 : 1;
}
