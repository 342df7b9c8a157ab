/* exit (exit_group) from a worker thread ends every thread of the process
 * with its status, while the others are blocked: main in read on a pipe,
 * the others in pthread_cond_wait, nanosleep, sigsuspend and pause. */
// expect-status: 42
// expect-stdout: worker exits
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void *in_cond(void *arg)
{
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&cond, &lock);
	return NULL;
}

static void *in_sleep(void *arg)
{
	sleep(100);
	return NULL;
}

static void *in_sigsuspend(void *arg)
{
	sigset_t none;
	sigemptyset(&none);
	sigsuspend(&none);
	return NULL;
}

static void *in_pause(void *arg)
{
	pause();
	return NULL;
}

static void *exiter(void *arg)
{
	sleep_ms(100);
	printf("worker exits\n");
	exit(42);
}

int main(void)
{
	pthread_t t;
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	CHECK(pthread_create(&t, NULL, in_cond, NULL) == 0);
	CHECK(pthread_create(&t, NULL, in_sleep, NULL) == 0);
	CHECK(pthread_create(&t, NULL, in_sigsuspend, NULL) == 0);
	CHECK(pthread_create(&t, NULL, in_pause, NULL) == 0);
	CHECK(pthread_create(&t, NULL, exiter, NULL) == 0);
	read(p[0], &c, 1);
	printf("FAIL: main thread woke up\n");
	return 1;
}
