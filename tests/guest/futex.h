/* The futex ABI for the guest tests (musl-gcc has no linux/futex.h) and a
 * raw futex call that returns -1 and sets errno. */
#ifndef MOTE_TEST_FUTEX_H
#define MOTE_TEST_FUTEX_H

#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT	       0
#define FUTEX_WAKE	       1
#define FUTEX_REQUEUE	       3
#define FUTEX_CMP_REQUEUE      4
#define FUTEX_WAKE_OP	       5
#define FUTEX_WAIT_BITSET      9
#define FUTEX_WAKE_BITSET      10
#define FUTEX_PRIVATE_FLAG     128
#define FUTEX_CLOCK_REALTIME   256
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

#define FUTEX_OP_SET	0
#define FUTEX_OP_ADD	1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg)                                       \
	((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) |  \
	 ((cmparg)&0xfff))

static inline long futex(void *uaddr, int op, uint32_t val,
			 const struct timespec *ts, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* REQUEUE, CMP_REQUEUE and WAKE_OP take a count where the timeout goes. */
static inline long futex2(void *uaddr, int op, uint32_t val, uint32_t val2,
			  void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, (unsigned long)val2, uaddr2,
		       val3);
}

#endif
