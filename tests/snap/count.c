/* A guest that counts: prints 0 to N-1 (argv[1], default 40), one line
 * every argv[2] ms (default 100), and a checksum of a 4 MiB buffer it
 * keeps changing, so that a migration or restore mid-count shows both
 * that no line is lost or printed twice and that memory came across.
 * With argv[3] = T > 0, T threads take part: at each line, each adds to a
 * counter of its own, woken through a condition variable, and the line
 * ends with the counters' sum, the same in every run. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t buf[1 << 20];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long tick, done_count;
static long slot[16];

static void *worker(void *arg)
{
	long id = (long)arg, seen = 0;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (tick == seen)
			pthread_cond_wait(&cv, &mu);
		seen = tick;
		slot[id] += seen * (id + 1);
		done_count++;
		pthread_cond_broadcast(&cv);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 40;
	long ms = argc > 2 ? atol(argv[2]) : 100;
	int nt = argc > 3 ? atoi(argv[3]) : 0;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	pthread_t th;
	for (long i = 0; i < nt && i < 16; i++)
		pthread_create(&th, NULL, worker, (void *)i);
	uint32_t sum = 0;
	for (int i = 0; i < n; i++) {
		for (size_t j = (size_t)i; j < sizeof(buf) / 4; j += 97)
			buf[j] += (uint32_t)(i * 2654435761U);
		sum = 0;
		for (size_t j = 0; j < sizeof(buf) / 4; j += 4096)
			sum = sum * 31 + buf[j];
		long all = 0;
		pthread_mutex_lock(&mu);
		tick++;
		done_count = 0;
		pthread_cond_broadcast(&cv);
		while (done_count < nt)
			pthread_cond_wait(&cv, &mu);
		for (int t = 0; t < nt; t++)
			all += slot[t];
		pthread_mutex_unlock(&mu);
		if (nt)
			printf("%d %08x %ld\n", i, sum, all);
		else
			printf("%d %08x\n", i, sum);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return 7;
}
