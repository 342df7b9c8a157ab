/* A guest that counts: prints 0 to N-1 (argv[1], default 40), one line
 * every argv[2] ms (default 100), and a checksum of a 4 MiB buffer it
 * keeps changing, so that a migration or restore mid-count shows both
 * that no line is lost or printed twice and that memory came across. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t buf[1 << 20];

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 40;
	long ms = argc > 2 ? atol(argv[2]) : 100;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	uint32_t sum = 0;
	for (int i = 0; i < n; i++) {
		for (size_t j = (size_t)i; j < sizeof(buf) / 4; j += 97)
			buf[j] += (uint32_t)(i * 2654435761U);
		sum = 0;
		for (size_t j = 0; j < sizeof(buf) / 4; j += 4096)
			sum = sum * 31 + buf[j];
		printf("%d %08x\n", i, sum);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return 7;
}
