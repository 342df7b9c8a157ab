/* Three threads wait on a condition variable (blocked in futex) while the
 * main thread snapshots the process; then each does its work and the
 * results are printed in order. The original and every clone print the
 * same lines; the threads' blocked futex waits are restarted. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, waiting;
static uint64_t result[3];
static __thread uint64_t tls_seed;

static void *worker(void *arg)
{
	long id = (long)arg;
	tls_seed = 1000 + id;
	pthread_mutex_lock(&mu);
	waiting++;
	pthread_cond_broadcast(&cv);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	uint64_t x = tls_seed;
	for (int i = 0; i < 1000000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	result[id] = x;
	return NULL;
}

int main(void)
{
	pthread_t th[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	pthread_mutex_lock(&mu);
	while (waiting < 3)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	usleep(20000); /* let them sleep in the kernel's futex */
	int s = open("/dev/mote-snapshot", O_WRONLY);
	if (s < 0 || write(s, "x", 1) != 1) {
		perror("snapshot");
		return 4;
	}
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 3; i++)
		printf("thread %d: %016llx\n", i,
		       (unsigned long long)result[i]);
	return 0;
}
