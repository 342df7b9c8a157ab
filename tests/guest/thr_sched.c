/* Scheduling calls: sched_getaffinity / sched_setaffinity (per thread;
 * pinning to one CPU makes getcpu report it), getcpu, sched_yield,
 * gettid; refusals for an empty mask, a bad size and bad pointers. */
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>
#include <sched.h>

static int first_cpu(const cpu_set_t *s)
{
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, s))
			return i;
	return -1;
}

static int last_cpu(const cpu_set_t *s)
{
	for (int i = CPU_SETSIZE - 1; i >= 0; i--)
		if (CPU_ISSET(i, s))
			return i;
	return -1;
}

static unsigned current_cpu(void)
{
	unsigned cpu = ~0u, node = ~0u;
	CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0);
	CHECK(node != ~0u);
	return cpu;
}

/* Pins the calling thread to `cpu` and checks that it runs there. */
static void pin(int cpu)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
	CHECK(sched_yield() == 0);
	CHECK(current_cpu() == (unsigned)cpu);
	cpu_set_t now;
	CHECK(sched_getaffinity(0, sizeof(now), &now) == 0);
	CHECK(CPU_EQUAL(&now, &one));
}

static cpu_set_t all;

static void *worker(void *arg)
{
	pin(last_cpu(&all));
	return (void *)syscall(SYS_gettid);
}

int main(void)
{
	CHECK(syscall(SYS_gettid) == getpid());
	CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
	CHECK(CPU_COUNT(&all) >= 1);
	CHECK(current_cpu() < CPU_SETSIZE);
	CHECK(CPU_ISSET(current_cpu(), &all));
	CHECK(sched_yield() == 0);

	/* A worker pins itself; the main thread's mask is unchanged. */
	pthread_t t;
	void *tid;
	CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
	CHECK(pthread_join(t, &tid) == 0);
	CHECK((long)tid != getpid());
	cpu_set_t now;
	CHECK(sched_getaffinity(0, sizeof(now), &now) == 0);
	CHECK(CPU_EQUAL(&now, &all));

	pin(first_cpu(&all));
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);

	cpu_set_t none;
	CPU_ZERO(&none);
	CHECK_ERR(sched_setaffinity(0, sizeof(none), &none), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 3, &now), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(now), BAD_PTR),
		  EFAULT);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(now), BAD_PTR),
		  EFAULT);
	CHECK_ERR(syscall(SYS_getcpu, BAD_PTR, NULL, NULL), EFAULT);
	success();
}
