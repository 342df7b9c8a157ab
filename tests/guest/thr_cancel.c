/* pthread_cancel of threads blocked in cancellation points (read on an
 * empty pipe, nanosleep, pthread_cond_wait): each is interrupted, runs its
 * cleanup handler and pthread_join returns PTHREAD_CANCELED. A thread with
 * cancellation disabled finishes normally. Both libcs cancel by sending a
 * signal to the thread, whose handler inspects and edits the interrupted
 * context. */
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

static int p[2];
static volatile int cleanups, started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void cleanup(void *arg)
{
	__atomic_fetch_add(&cleanups, 1, __ATOMIC_SEQ_CST);
	if (arg)
		pthread_mutex_unlock(arg);
}

static void *in_read(void *arg)
{
	char c;
	pthread_cleanup_push(cleanup, NULL);
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	read(p[0], &c, 1);
	pthread_cleanup_pop(0);
	return (void *)1;
}

static void *in_sleep(void *arg)
{
	pthread_cleanup_push(cleanup, NULL);
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	sleep(100);
	pthread_cleanup_pop(0);
	return (void *)2;
}

static void *in_cond(void *arg)
{
	pthread_mutex_lock(&lock);
	pthread_cleanup_push(cleanup, &lock);
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pthread_cond_wait(&cond, &lock);
	pthread_cleanup_pop(1);
	return (void *)3;
}

static void *disabled(void *arg)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	sleep_ms(300);
	return (void *)4;
}

int main(void)
{
	void *(*fns[])(void *) = {in_read, in_sleep, in_cond};
	pthread_t t[3], d;
	void *r;
	CHECK(pipe(p) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, fns[i], NULL) == 0);
	CHECK(pthread_create(&d, NULL, disabled, NULL) == 0);
	/* Let them reach their blocking calls. */
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 4)
		sleep_ms(1);
	sleep_ms(100);
	long long t0 = now_ms();
	for (int i = 0; i < 3; i++)
		CHECK(pthread_cancel(t[i]) == 0);
	CHECK(pthread_cancel(d) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(pthread_join(t[i], &r) == 0);
		if (r != PTHREAD_CANCELED) {
			printf("FAIL: thread %d returned %p\n", i, r);
			return 1;
		}
	}
	CHECK(now_ms() - t0 < 10000);
	CHECK(cleanups == 3);
	/* Cancelled while disabled: the request stays pending, and is acted
	 * on only at a cancellation point after re-enabling, which this
	 * thread never reaches before returning. */
	CHECK(pthread_join(d, &r) == 0 && r == (void *)4);
	/* The mutex the cond waiter held was released by its cleanup. */
	CHECK(pthread_mutex_trylock(&lock) == 0);
	success();
}
