/* Bench guest: times N fork + child _exit + waitpid round trips from inside. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One round trip; returns its ns, or -1 if fork or the child failed. */
static long long round_trip(void)
{
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("forkwait: fork");
		return -1;
	}
	if (pid == 0)
		_exit(0);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "forkwait: child did not exit 0\n");
		return -1;
	}
	return now_ns() - t0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Prints "N round trips median M ns mean A ns" for bench to parse. The
 * first round trip is a warm-up: it faults in the fork and wait paths. */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	long long *ns = n > 0 ? calloc(n, sizeof(*ns)) : NULL;
	if (!ns) {
		fprintf(stderr, "usage: forkwait N\n");
		return 2;
	}
	if (round_trip() < 0)
		return 1;
	long long sum = 0;
	for (long i = 0; i < n; i++) {
		if ((ns[i] = round_trip()) < 0)
			return 1;
		sum += ns[i];
	}
	qsort(ns, n, sizeof(*ns), cmp_ll);
	printf("%ld round trips median %lld ns mean %lld ns\n", n, ns[n / 2],
	       sum / n);
	return 0;
}
