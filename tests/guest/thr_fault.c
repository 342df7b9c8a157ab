/* A NULL write in a worker thread kills the whole process with SIGSEGV,
 * while the main thread is blocked in pthread_join. */
// expect-status: 139
// expect-stdout: worker about to fault
// expect-stderr: SIGSEGV
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

static void *worker(void *arg)
{
	sleep_ms(50);
	printf("worker about to fault\n");
	fflush(stdout);
	*(volatile int *volatile)NULL = 1;
	return NULL;
}

int main(void)
{
	pthread_t t;
	no_core();
	CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
	pthread_join(t, NULL);
	printf("FAIL: the process survived its thread's fault\n");
	return 1;
}
