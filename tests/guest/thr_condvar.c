/* Producers and consumers on a bounded queue (16 slots) with a mutex and
 * two condition variables: 10,000 items from 2 producers reach 2
 * consumers, each exactly once (a per-item tally and a checksum). */
#define _GNU_SOURCE
#include "guest.h"
#include <pthread.h>

#define ITEMS	  10000
#define PRODUCERS 2
#define CONSUMERS 2
#define SLOTS	  16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int queue[SLOTS], head, count, produced_done;
static unsigned char seen[ITEMS];
static long long sum;

static void *producer(void *arg)
{
	long id = (long)arg;
	for (int i = (int)id; i < ITEMS; i += PRODUCERS) {
		pthread_mutex_lock(&lock);
		while (count == SLOTS)
			pthread_cond_wait(&not_full, &lock);
		queue[(head + count) % SLOTS] = i;
		count++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	produced_done++;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consumer(void *arg)
{
	long got = 0;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (count == 0 && produced_done < PRODUCERS)
			pthread_cond_wait(&not_empty, &lock);
		if (count == 0) {
			pthread_mutex_unlock(&lock);
			return (void *)got;
		}
		int item = queue[head];
		head = (head + 1) % SLOTS;
		count--;
		seen[item]++;
		sum += item;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		got++;
	}
}

int main(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	for (long i = 0; i < CONSUMERS; i++)
		CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
	for (long i = 0; i < PRODUCERS; i++)
		CHECK(pthread_create(&p[i], NULL, producer, (void *)i) == 0);
	for (int i = 0; i < PRODUCERS; i++)
		CHECK(pthread_join(p[i], NULL) == 0);
	long total = 0;
	for (int i = 0; i < CONSUMERS; i++) {
		void *got;
		CHECK(pthread_join(c[i], &got) == 0);
		total += (long)got;
	}
	CHECK(total == ITEMS);
	for (int i = 0; i < ITEMS; i++)
		CHECK(seen[i] == 1);
	CHECK(sum == (long long)ITEMS * (ITEMS - 1) / 2);
	success();
}
