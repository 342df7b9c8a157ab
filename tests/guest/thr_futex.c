/* Raw futex calls between threads: WAIT with a stale value (EAGAIN), WAIT
 * with relative and absolute timeouts (ETIMEDOUT after about that time),
 * WAKE of a sleeping thread, WAIT_BITSET / WAKE_BITSET selecting by bits,
 * REQUEUE and CMP_REQUEUE moving sleepers between words, WAKE_OP updating
 * a second word and waking there; bad addresses (outside guest memory, in
 * the shim, misaligned) and bad arguments are refused. */
#define _GNU_SOURCE
#include "futex.h"
#include "proc.h"
#include <limits.h>
#include <pthread.h>

#define PRIV FUTEX_PRIVATE_FLAG

static uint32_t w1, w2, w3;

static long long since(long long t0)
{
	return now_ms() - t0;
}

static void stale_and_timeouts(void)
{
	struct timespec rel = {0, 100000000}, abs;
	w1 = 0;
	CHECK_ERR(futex(&w1, FUTEX_WAIT, 1, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(futex(&w1, FUTEX_WAIT | PRIV, 1, NULL, NULL, 0), EAGAIN);

	long long t0 = now_ms();
	CHECK_ERR(futex(&w1, FUTEX_WAIT | PRIV, 0, &rel, NULL, 0), ETIMEDOUT);
	CHECK(since(t0) >= 90 && since(t0) < 3000);

	/* WAIT_BITSET takes an absolute CLOCK_MONOTONIC time... */
	CHECK(clock_gettime(CLOCK_MONOTONIC, &abs) == 0);
	abs.tv_nsec += 100000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	t0 = now_ms();
	CHECK_ERR(futex(&w1, FUTEX_WAIT_BITSET | PRIV, 0, &abs, NULL,
			FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	CHECK(since(t0) >= 90 && since(t0) < 3000);
	/* ... which may already be over ... */
	CHECK_ERR(futex(&w1, FUTEX_WAIT_BITSET | PRIV, 0, &abs, NULL,
			FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	/* ... or CLOCK_REALTIME. */
	CHECK(clock_gettime(CLOCK_REALTIME, &abs) == 0);
	abs.tv_sec += 1;
	abs.tv_nsec = 0;
	t0 = now_ms();
	CHECK_ERR(futex(&w1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | PRIV, 0,
			&abs, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	CHECK(since(t0) < 3000);

	struct timespec bad = {0, 1000000000};
	CHECK_ERR(futex(&w1, FUTEX_WAIT | PRIV, 0, &bad, NULL, 0), EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	CHECK_ERR(futex(&w1, FUTEX_WAIT | PRIV, 0, &bad, NULL, 0), EINVAL);
	CHECK_ERR(futex(&w1, FUTEX_WAIT_BITSET | PRIV, 0, &rel, NULL, 0),
		  EINVAL);
	CHECK(futex(&w1, FUTEX_WAKE | PRIV, 1, NULL, NULL, 0) == 0);
}

struct waiter {
	pthread_t t;
	uint32_t *word;
	int op;
	uint32_t bits;
	long ret;
	int done;
};

static void *wait_body(void *arg)
{
	struct waiter *w = arg;
	w->ret = futex(w->word, w->op, 0, NULL, NULL, w->bits);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start(struct waiter *w, uint32_t *word, int op, uint32_t bits)
{
	w->word = word;
	w->op = op;
	w->bits = bits;
	w->ret = -2;
	w->done = 0;
	CHECK(pthread_create(&w->t, NULL, wait_body, w) == 0);
}

static void joined(struct waiter *w)
{
	CHECK(pthread_join(w->t, NULL) == 0);
	CHECK(w->done && w->ret == 0);
}

/* Repeats `wake` (which must return 0 or 1) until it returns 1: the waiter
 * may not be asleep yet on the first tries. */
#define WAKE_ONE(wake)                                                         \
	do {                                                                   \
		long r_;                                                       \
		long long t0_ = now_ms();                                      \
		while ((r_ = (wake)) == 0) {                                   \
			CHECK(since(t0_) < 10000);                             \
			sleep_ms(1);                                           \
		}                                                              \
		CHECK(r_ == 1);                                                \
	} while (0)

static void wake(void)
{
	struct waiter a, b;
	w1 = 0;
	start(&a, &w1, FUTEX_WAIT | PRIV, 0);
	WAKE_ONE(futex(&w1, FUTEX_WAKE | PRIV, 1, NULL, NULL, 0));
	joined(&a);
	/* Not private: the same with the shared form. */
	start(&a, &w1, FUTEX_WAIT, 0);
	WAKE_ONE(futex(&w1, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
	joined(&a);

	/* Bitsets: a wake for bit 1 leaves the bit-2 sleeper alone. */
	start(&a, &w1, FUTEX_WAIT_BITSET | PRIV, 0x1);
	start(&b, &w1, FUTEX_WAIT_BITSET | PRIV, 0x2);
	WAKE_ONE(
		futex(&w1, FUTEX_WAKE_BITSET | PRIV, INT_MAX, NULL, NULL, 0x1));
	joined(&a);
	sleep_ms(20);
	CHECK(!__atomic_load_n(&b.done, __ATOMIC_SEQ_CST));
	WAKE_ONE(
		futex(&w1, FUTEX_WAKE_BITSET | PRIV, INT_MAX, NULL, NULL, 0x6));
	joined(&b);
	CHECK_ERR(futex(&w1, FUTEX_WAKE_BITSET | PRIV, 1, NULL, NULL, 0),
		  EINVAL);
}

static void requeue(void)
{
	struct waiter a, b;
	w1 = w2 = 0;
	start(&a, &w1, FUTEX_WAIT | PRIV, 0);
	start(&b, &w1, FUTEX_WAIT | PRIV, 0);
	/* Move both sleepers from w1 to w2 (each once it sleeps). */
	long moved = 0;
	long long t0 = now_ms();
	while (moved < 2) {
		long r = futex2(&w1, FUTEX_REQUEUE | PRIV, 0, INT_MAX, &w2, 0);
		CHECK(r >= 0);
		moved += r;
		CHECK(since(t0) < 10000);
		sleep_ms(1);
	}
	CHECK(moved == 2);
	CHECK(futex(&w1, FUTEX_WAKE | PRIV, INT_MAX, NULL, NULL, 0) == 0);
	sleep_ms(20);
	CHECK(!a.done && !b.done);
	/* CMP_REQUEUE checks the value first... */
	w2 = 5;
	CHECK_ERR(futex2(&w2, FUTEX_CMP_REQUEUE | PRIV, 1, 1, &w3, 4), EAGAIN);
	/* ... then wakes one and moves one (to w3): 2 in all. */
	CHECK(futex2(&w2, FUTEX_CMP_REQUEUE | PRIV, 1, 1, &w3, 5) == 2);
	CHECK(futex(&w2, FUTEX_WAKE | PRIV, INT_MAX, NULL, NULL, 0) == 0);
	CHECK(futex(&w3, FUTEX_WAKE | PRIV, INT_MAX, NULL, NULL, 0) == 1);
	joined(&a);
	joined(&b);
	/* Negative counts. */
	CHECK_ERR(futex2(&w1, FUTEX_CMP_REQUEUE | PRIV, 1, -1, &w3, 0), EINVAL);
}

static uint32_t op_word;

static void *op_waiter(void *arg)
{
	for (;;) {
		uint32_t v = __atomic_load_n(&op_word, __ATOMIC_SEQ_CST);
		long r = futex(&op_word, FUTEX_WAIT | PRIV, v, NULL, NULL, 0);
		if (r == 0)
			return NULL;
		if (errno != EAGAIN)
			return (void *)1;
	}
}

static void wake_op(void)
{
	/* No sleepers: only the operation on the second word. */
	w1 = 0;
	op_word = 0;
	CHECK(futex2(&w1, FUTEX_WAKE_OP | PRIV, 1, 1, &op_word,
		     FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)) == 0);
	CHECK(op_word == 5);
	CHECK(futex2(&w1, FUTEX_WAKE_OP | PRIV, 1, 1, &op_word,
		     FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 100)) == 0);
	CHECK(op_word == 8);

	/* A sleeper on the second word, woken because old > 0 holds. Each
	 * try adds 1, so the word counts the tries. */
	pthread_t t;
	void *r;
	CHECK(pthread_create(&t, NULL, op_waiter, NULL) == 0);
	int tries = 0;
	WAKE_ONE((tries++,
		  futex2(&w1, FUTEX_WAKE_OP | PRIV, 1, 1, &op_word,
			 FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0))));
	CHECK(pthread_join(t, &r) == 0 && r == NULL);
	CHECK(op_word == 8 + (uint32_t)tries);
	CHECK_ERR(futex2(&w1, FUTEX_WAKE_OP | PRIV, 1, 1, BAD_PTR,
			 FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)),
		  EFAULT);
}

static void bad_addresses(void)
{
	void *far = (void *)(1UL << 46);
	struct timespec rel = {0, 1000000};
	CHECK_ERR(futex(BAD_PTR, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(BAD_PTR, FUTEX_WAIT | PRIV, 0, &rel, NULL, 0), EFAULT);
	CHECK_ERR(futex(far, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(far, FUTEX_WAIT | PRIV, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(SHIM_PTR, FUTEX_WAIT | PRIV, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(BAD_PTR, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(far, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(far, FUTEX_WAIT_BITSET, 0, NULL, NULL, 1), EFAULT);
	w1 = 0;
	CHECK_ERR(futex(&w1, FUTEX_WAIT | PRIV, 0, BAD_PTR, NULL, 0), EFAULT);
	CHECK_ERR(futex((char *)&w1 + 1, FUTEX_WAIT | PRIV, 0, NULL, NULL, 0),
		  EINVAL);
	CHECK_ERR(futex(&w1, 99, 0, NULL, NULL, 0), ENOSYS);
}

int main(void)
{
	stale_and_timeouts();
	wake();
	requeue();
	wake_op();
	bad_addresses();
	success();
}
