/* A CPU-bound computation (counting primes below 300,000 by trial
 * division) split over 2 threads gives the same answer as one thread and
 * as the known count. Correctness only; the speed-up is measured by the
 * benchmarks. */
#define _GNU_SOURCE
#include "guest.h"
#include <pthread.h>

#define LIMIT  300000
#define PRIMES 25997 /* pi(300000) */

struct part {
	long from, step, count;
};

static int is_prime(long n)
{
	if (n < 2)
		return 0;
	for (long d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

static void *count(void *arg)
{
	struct part *p = arg;
	for (long n = p->from; n < LIMIT; n += p->step)
		p->count += is_prime(n);
	return NULL;
}

int main(void)
{
	struct part one = {0, 1, 0}, a = {0, 2, 0}, b = {1, 2, 0};
	pthread_t ta, tb;
	count(&one);
	CHECK(one.count == PRIMES);
	CHECK(pthread_create(&ta, NULL, count, &a) == 0);
	CHECK(pthread_create(&tb, NULL, count, &b) == 0);
	CHECK(pthread_join(ta, NULL) == 0 && pthread_join(tb, NULL) == 0);
	CHECK(a.count + b.count == PRIMES);
	success();
}
