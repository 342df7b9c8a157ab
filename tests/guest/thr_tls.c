/* Thread-local storage: each thread starts from the initial image (.tdata
 * values, zeroed .tbss), its __thread variables live at its own addresses
 * and keep its own values while the others write theirs; gettid differs
 * per thread while getpid is shared. */
#define _GNU_SOURCE
#include "guest.h"
#include <pthread.h>
#include <stdint.h>

#define THREADS 6

static __thread long tdata = 1234;
static __thread char tstr[16] = "initial";
static __thread long tbss[64];

static pthread_barrier_t barrier;
static uintptr_t addr[THREADS + 1];
static long tids[THREADS + 1];

static void *body(void *arg)
{
	long id = (long)arg;
	if (tdata != 1234 || strcmp(tstr, "initial"))
		return (void *)1;
	for (int i = 0; i < 64; i++)
		if (tbss[i] != 0)
			return (void *)2;
	tdata = id * 1000;
	snprintf(tstr, sizeof(tstr), "thread %ld", id);
	for (int i = 0; i < 64; i++)
		tbss[i] = id + i;
	addr[id] = (uintptr_t)&tdata;
	tids[id] = syscall(SYS_gettid);
	/* Everyone has written; now check nobody overwrote ours. */
	pthread_barrier_wait(&barrier);
	for (int round = 0; round < 1000; round++) {
		char want[16];
		snprintf(want, sizeof(want), "thread %ld", id);
		if (tdata != id * 1000 || strcmp(tstr, want))
			return (void *)3;
		for (int i = 0; i < 64; i++)
			if (tbss[i] != id + i)
				return (void *)4;
		if (round % 100 == 0)
			sched_yield();
	}
	if (getpid() != (pid_t)syscall(SYS_getpid))
		return (void *)5;
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	CHECK(pthread_barrier_init(&barrier, NULL, THREADS + 1) == 0);
	for (long i = 1; i <= THREADS; i++)
		CHECK(pthread_create(&t[i - 1], NULL, body, (void *)i) == 0);
	/* The main thread is thread 0. */
	void *r = body((void *)0);
	CHECK(r == NULL);
	for (int i = 0; i < THREADS; i++) {
		CHECK(pthread_join(t[i], &r) == 0);
		if (r != NULL) {
			printf("FAIL: thread %d: check %ld\n", i + 1, (long)r);
			return 1;
		}
	}
	CHECK(tids[0] == getpid());
	for (int i = 0; i <= THREADS; i++)
		for (int j = 0; j < i; j++)
			CHECK(addr[i] != addr[j] && tids[i] != tids[j]);
	success();
}
