/* Bench guest: the same CPU-bound work on 1 thread, then split over 2. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct work {
	uint64_t seed, iters, result;
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A serial integer hash chain (splitmix64's mixer): each step needs the
 * last, so the compiler can neither vectorize nor shorten it, and it touches
 * no memory, so it measures the vCPUs alone. */
static void *hash_loop(void *arg)
{
	struct work *w = arg;
	uint64_t x = w->seed;
	for (uint64_t i = 0; i < w->iters; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		x ^= x >> 31;
	}
	w->result = x;
	return NULL;
}

/* Runs iters steps split over nthreads (1 or 2), the first on this thread;
 * returns the wall time in ns, or -1. */
static long long run(int nthreads, uint64_t iters, uint64_t *sum)
{
	struct work w[2] = {{1, iters / nthreads, 0},
			    {2, iters - iters / nthreads, 0}};
	pthread_t tid;
	long long t0 = now_ns();
	if (nthreads == 2) {
		int err = pthread_create(&tid, NULL, hash_loop, &w[1]);
		if (err) {
			fprintf(stderr, "threads: pthread_create: %s\n",
				strerror(err));
			return -1;
		}
	}
	hash_loop(&w[0]);
	if (nthreads == 2)
		pthread_join(tid, NULL);
	long long ns = now_ns() - t0;
	*sum += w[0].result + w[1].result;
	return ns;
}

/* Prints "1 thread T1 ns 2 threads T2 ns (sum S)" for bench to parse; the
 * sum keeps the results live. */
int main(int argc, char **argv)
{
	long long iters = argc > 1 ? atoll(argv[1]) : 0;
	if (iters < 2) {
		fprintf(stderr, "usage: threads ITERATIONS\n");
		return 2;
	}
	uint64_t sum = 0;
	long long t1 = run(1, iters, &sum);
	long long t2 = run(2, iters, &sum);
	if (t1 < 0 || t2 < 0)
		return 1;
	printf("1 thread %lld ns 2 threads %lld ns (sum %llx)\n", t1, t2,
	       (unsigned long long)sum);
	return 0;
}
