/* Bench guest: times N getppid calls from inside, with CLOCK_MONOTONIC. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Prints "N calls T ns" for bench to parse. The raw syscall: a libc may
 * cache or inline getppid, and the point is one trip through the kernel
 * (natively) or the monitor (under mote) per call. */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	if (n <= 0) {
		fprintf(stderr, "usage: getppid N\n");
		return 2;
	}
	syscall(SYS_getppid);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	long long t1 = now_ns();
	printf("%ld calls %lld ns\n", n, t1 - t0);
	return 0;
}
