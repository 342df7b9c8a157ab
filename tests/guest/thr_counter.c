/* 8 pthreads each add 1 to a mutex-protected counter 1,000,000 times: the
 * total is exactly 8,000,000 (lost updates or a broken futex would show). */
#define _GNU_SOURCE
#include "guest.h"
#include <pthread.h>

#define THREADS 8
#define ROUNDS	1000000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void *work(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

int main(void)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, work, (void *)i) == 0);
	for (long i = 0; i < THREADS; i++) {
		void *r;
		CHECK(pthread_join(t[i], &r) == 0 && r == (void *)i);
	}
	if (counter != (long)THREADS * ROUNDS) {
		printf("FAIL: counter %ld, want %ld\n", counter,
		       (long)THREADS * ROUNDS);
		return 1;
	}
	success();
}
