/* The split virtqueue (src/dev/virtq.c) against a fake guest driver: good
 * chains, direct and indirect, the used ring and interrupt suppression,
 * and every hostile ring the device must refuse by breaking the queue. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "unit.h"
#include "vring.h"

static struct virtq q;
static struct virtq_chain c;

/* Fresh RAM and a ready queue of size n, indirect descriptors on. */
static void setup(uint16_t n)
{
	vring_ram();
	vring_queue(&q, n);
	q.indirect = true;
	if (virtq_enable(&q, &vm) < 0)
		printf("  cannot enable a good queue of %u\n", n);
}

/* Makes head 0 available, pops, and checks the queue broke with why, and
 * stays broken. */
static int breaks(enum virtq_fault why)
{
	vring_avail(q.size, 0);
	int r = virtq_pop(&q, &c);
	int again = virtq_pop(&q, &c);
	if (q.fault != why)
		printf("  fault %d (%s), not %d\n", q.fault,
		       virtq_fault_name(q.fault), why);
	return r == -1 && again == -1 && q.fault == why && used_idx() == 0 &&
	       virtq_push(&q, 0, 0) == -1 && !virtq_want_interrupt(&q);
}

static void good_chain(void)
{
	setup(QSIZE);
	CHECK(virtq_pop(&q, &c) == 0);
	vring_desc(3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 7);
	vring_desc(7, BUF_GPA + 0x1000, 512,
		   VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 3);
	CHECK(virtq_pop(&q, &c) == 1);
	CHECK(c.head == 3 && c.nr == 1 && c.nw == 2);
	CHECK(c.rlen == 16 && c.wlen == 513);
	CHECK(c.iov[0].iov_base == ram(BUF_GPA) && c.iov[0].iov_len == 16);
	CHECK(c.iov[1].iov_base == ram(BUF_GPA + 0x1000));
	CHECK(c.iov[2].iov_base == ram(BUF_GPA + 0x2000));
	CHECK(c.iov[2].iov_len == 1);
	CHECK(virtq_pop(&q, &c) == 0);
	CHECK(virtq_push(&q, 3, 513) == 0);
	CHECK(used_idx() == 1 && used_id(QSIZE, 0) == 3);
	CHECK(used_len(QSIZE, 0) == 513);
	CHECK(virtq_want_interrupt(&q));
	CHECK(!virtq_want_interrupt(&q));
	CHECK(!virtq_broken(&q));
}

/* Indices wrap at 2^16 and slots at the queue size. */
static void ring_wraps(void)
{
	setup(4);
	vring_desc(0, BUF_GPA, 8, 0, 0);
	for (unsigned i = 0; i < 70000; i++) {
		vring_avail(4, 0);
		if (virtq_pop(&q, &c) != 1 || virtq_push(&q, 0, i) != 0)
			break;
	}
	CHECK(!virtq_broken(&q));
	CHECK(used_idx() == (uint16_t)70000);
	CHECK(used_len(4, (uint16_t)69999) == 69999);
	/* A full ring of pending entries is fine; one more is not. */
	for (int i = 0; i < 4; i++)
		vring_avail(4, 0);
	for (int i = 0; i < 4; i++)
		CHECK(virtq_pop(&q, &c) == 1);
	CHECK(virtq_pop(&q, &c) == 0);
}

static void indirect_chain(void)
{
	setup(QSIZE);
	vring_desc(0, INDIR_GPA, 48, VIRTQ_DESC_F_INDIRECT, 0);
	vring_desc_at(INDIR_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	vring_desc_at(INDIR_GPA, 2, BUF_GPA + 16, 4096,
		      VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vring_desc_at(INDIR_GPA, 1, BUF_GPA + 8192, 1, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1);
	CHECK(c.nr == 1 && c.nw == 2 && c.rlen == 16 && c.wlen == 4097);
	CHECK(c.iov[2].iov_base == ram(BUF_GPA + 8192));
	/* A table need not be aligned; direct descriptors may lead to it. */
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	vring_desc(5, INDIR_GPA + 3, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vring_desc_at(INDIR_GPA + 3, 0, BUF_GPA + 64, 1, VIRTQ_DESC_F_WRITE, 0);
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1);
	CHECK(c.nr == 1 && c.nw == 1 && c.iov[1].iov_base == ram(BUF_GPA + 64));
}

/* Exactly size links is a chain; one more is a loop. */
static void longest_chain(void)
{
	setup(QSIZE);
	for (uint16_t i = 0; i < QSIZE; i++)
		vring_desc(i, BUF_GPA + i, 1,
			   i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1 && c.nr == QSIZE);
}

static int enable_fails(uint16_t n, uint64_t desc, uint64_t avail,
			uint64_t used, enum virtq_fault why)
{
	vring_queue(&q, n);
	q.desc_gpa = desc;
	q.avail_gpa = avail;
	q.used_gpa = used;
	return virtq_enable(&q, &vm) == -1 && q.fault == why && !q.ready &&
	       virtq_pop(&q, &c) == -1;
}

static void bad_sizes(void)
{
	vring_ram();
	uint16_t bad[] = {0, 3, 12, 255, VIRTQ_MAX_SIZE * 2, 0xffff};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(enable_fails(bad[i], DESC_GPA, AVAIL_GPA, USED_GPA,
				   VQ_BAD_SIZE));
	vring_queue(&q, VIRTQ_MAX_SIZE);
	CHECK(virtq_enable(&q, &vm) == 0);
	vring_queue(&q, 1);
	CHECK(virtq_enable(&q, &vm) == 0);
}

static void bad_rings(void)
{
	vring_ram();
	enum virtq_fault r = VQ_BAD_RING;
	CHECK(enable_fails(QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA, r));
	CHECK(enable_fails(QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA, r));
	CHECK(enable_fails(QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2, r));
	CHECK(enable_fails(QSIZE, RAM_SIZE - 16 * QSIZE + 16, AVAIL_GPA,
			   USED_GPA, r));
	CHECK(enable_fails(QSIZE, DESC_GPA, RAM_SIZE - 2, USED_GPA, r));
	CHECK(enable_fails(QSIZE, DESC_GPA, AVAIL_GPA, RAM_SIZE, r));
	CHECK(enable_fails(QSIZE, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, r));
	CHECK(enable_fails(QSIZE, UINT64_MAX - 15, AVAIL_GPA, USED_GPA, r));
	/* The rings' last bytes (used_event, avail_event) count. */
	CHECK(enable_fails(QSIZE, DESC_GPA, RAM_SIZE - 4 - 2 * QSIZE, USED_GPA,
			   r));
	CHECK(enable_fails(QSIZE, DESC_GPA, AVAIL_GPA, RAM_SIZE - 4 - 8 * QSIZE,
			   r));
	vring_queue(&q, QSIZE);
	q.used_gpa = RAM_SIZE - 6 - 8 * QSIZE - 2; /* 4-aligned, fits */
	CHECK(virtq_enable(&q, &vm) == 0);
}

static void bad_indices(void)
{
	setup(QSIZE);
	st16_at(AVAIL_GPA + 4, QSIZE); /* head */
	drv_idx = 1;
	st16_at(AVAIL_GPA + 2, 1);
	CHECK(virtq_pop(&q, &c) == -1 && q.fault == VQ_BAD_INDEX);
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	CHECK(breaks(VQ_BAD_INDEX));
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	CHECK(breaks(VQ_BAD_INDEX));
	/* avail idx more than size ahead of the device. */
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, 0, 0);
	st16_at(AVAIL_GPA + 2, QSIZE + 1);
	CHECK(virtq_pop(&q, &c) == -1 && q.fault == VQ_BAD_AVAIL);
	setup(QSIZE);
	st16_at(AVAIL_GPA + 2, 0xffff); /* behind: as far ahead as can be */
	CHECK(virtq_pop(&q, &c) == -1 && q.fault == VQ_BAD_AVAIL);
}

static void loops(void)
{
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	CHECK(breaks(VQ_LOOP));
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	vring_desc(2, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	CHECK(breaks(VQ_LOOP));
	/* In an indirect table. */
	setup(QSIZE);
	vring_desc(0, INDIR_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vring_desc_at(INDIR_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	vring_desc_at(INDIR_GPA, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	CHECK(breaks(VQ_LOOP));
}

/* One indirect descriptor at head 0, len bytes at addr, flags added. */
static void indirect(uint64_t addr, uint32_t len, uint16_t flags)
{
	setup(QSIZE);
	vring_desc(0, addr, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	vring_desc(1, BUF_GPA, 8, 0, 0);
	for (uint16_t i = 0; i < 8; i++)
		vring_desc_at(INDIR_GPA, i, BUF_GPA, 8, 0, 0);
}

static void bad_indirect(void)
{
	enum virtq_fault f = VQ_BAD_INDIRECT;
	indirect(INDIR_GPA, 40, 0);
	CHECK(breaks(f));
	indirect(INDIR_GPA, 0, 0);
	CHECK(breaks(f));
	indirect(INDIR_GPA, 16 * (VIRTQ_MAX_SEGS + 1), 0);
	CHECK(breaks(f));
	indirect(INDIR_GPA, 0xfffffff0, 0);
	CHECK(breaks(f));
	indirect(INDIR_GPA, 32, VIRTQ_DESC_F_NEXT);
	CHECK(breaks(f));
	indirect(RAM_SIZE - 16, 32, 0);
	CHECK(breaks(VQ_BAD_ADDR));
	indirect(UINT64_MAX - 15, 32, 0);
	CHECK(breaks(VQ_BAD_ADDR));
	/* Nested: an indirect descriptor in an indirect table. */
	indirect(INDIR_GPA, 32, 0);
	vring_desc_at(INDIR_GPA, 1, INDIR_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vring_desc_at(INDIR_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	CHECK(breaks(f));
	/* next beyond the table's own size (2), though < the queue's. */
	indirect(INDIR_GPA, 32, 0);
	vring_desc_at(INDIR_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	CHECK(breaks(VQ_BAD_INDEX));
	/* Not negotiated. */
	indirect(INDIR_GPA, 32, 0);
	q.indirect = false;
	CHECK(breaks(f));
}

static void bad_lengths(void)
{
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 0, 0, 0);
	CHECK(breaks(VQ_BAD_LEN));
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 0xffffffff, 0, 0);
	CHECK(breaks(VQ_BAD_LEN));
	setup(QSIZE);
	vring_desc(0, BUF_GPA, VIRTQ_MAX_BYTES + 1, 0, 0);
	CHECK(breaks(VQ_BAD_LEN));
	/* Each in RAM and under the cap, together over it. */
	setup(QSIZE);
	vring_desc(0, 0, VIRTQ_MAX_BYTES / 2, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, 0, VIRTQ_MAX_BYTES / 2, VIRTQ_DESC_F_NEXT, 2);
	vring_desc(2, 0, 1, VIRTQ_DESC_F_WRITE, 0);
	CHECK(breaks(VQ_BAD_LEN));
	setup(QSIZE);
	vring_desc(0, 0, VIRTQ_MAX_BYTES / 2, VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, 0, VIRTQ_MAX_BYTES / 2, 0, 0);
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1 && c.rlen == VIRTQ_MAX_BYTES);
}

static void bad_buffers(void)
{
	setup(QSIZE);
	vring_desc(0, RAM_SIZE - 4, 8, 0, 0);
	CHECK(breaks(VQ_BAD_ADDR));
	setup(QSIZE);
	vring_desc(0, UINT64_MAX - 1, 4, VIRTQ_DESC_F_WRITE, 0);
	CHECK(breaks(VQ_BAD_ADDR));
	setup(QSIZE);
	vring_desc(0, RAM_SIZE - 4, 4, 0, 0); /* the last bytes: fine */
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1);
}

static void bad_order(void)
{
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vring_desc(1, BUF_GPA, 8, 0, 0);
	CHECK(breaks(VQ_ORDER));
}

/* More segments than an iovec list holds, in a queue that can name them. */
static void too_many(void)
{
	setup(VIRTQ_MAX_SIZE);
	for (uint16_t i = 0; i <= VIRTQ_MAX_SEGS; i++)
		vring_desc(i, BUF_GPA, 1, VIRTQ_DESC_F_NEXT, i + 1);
	CHECK(breaks(VQ_TOO_MANY));
}

/* A broken queue stays so until a reset; then it works again. */
static void reset_clears(void)
{
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 0, 0, 0);
	CHECK(breaks(VQ_BAD_LEN));
	virtq_reset(&q);
	CHECK(!q.ready && q.fault == VQ_OK && virtq_pop(&q, &c) == -1);
	vring_ram();
	vring_queue(&q, QSIZE);
	CHECK(virtq_enable(&q, &vm) == 0);
	vring_desc(0, BUF_GPA, 8, 0, 0);
	vring_avail(QSIZE, 0);
	CHECK(virtq_pop(&q, &c) == 1);
	CHECK(virtq_push(&q, QSIZE, 0) == -1 && q.fault == VQ_BAD_USED);
	CHECK(*virtq_fault_name(VQ_BAD_USED) && *virtq_fault_name(99));
}

/* One readable descriptor, popped and pushed n times. */
static void round_trips(int n)
{
	for (int i = 0; i < n; i++) {
		vring_avail(q.size, 0);
		if (virtq_pop(&q, &c) != 1 || virtq_push(&q, 0, 1) != 0)
			printf("  round trip %d failed\n", i);
	}
}

static void no_interrupt(void)
{
	setup(QSIZE);
	vring_desc(0, BUF_GPA, 8, 0, 0);
	CHECK(!virtq_want_interrupt(&q)); /* nothing used yet */
	st16_at(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	round_trips(2);
	CHECK(!virtq_want_interrupt(&q));
	st16_at(AVAIL_GPA, 0);
	CHECK(virtq_want_interrupt(&q));
	CHECK(!virtq_want_interrupt(&q));
}

static void event_idx(void)
{
	setup(QSIZE);
	q.event_idx = true;
	vring_desc(0, BUF_GPA, 8, 0, 0);
	uint64_t used_event = AVAIL_GPA + 4 + 2 * QSIZE;
	uint64_t avail_event = USED_GPA + 4 + 8 * QSIZE;
	st16_at(AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT); /* ignored now */
	round_trips(1);
	CHECK(ld16_at(avail_event) == 1);
	CHECK(virtq_want_interrupt(&q)); /* used_event 0 reached */
	st16_at(used_event, 4);		 /* wake me when entry 4 is used */
	round_trips(3);
	CHECK(!virtq_want_interrupt(&q));
	round_trips(1);
	CHECK(virtq_want_interrupt(&q));
	CHECK(ld16_at(avail_event) == 5);
	round_trips(5);
	CHECK(!virtq_want_interrupt(&q)); /* used_event 4 long passed */
}

/* A guest vCPU that rewrites descriptors 0-2 while the device walks
 * them: good values and bad ones, addresses past RAM, loops, indirect
 * tables. */
static atomic_bool racing;
static atomic_ulong rewrites;

static void *racer(void *arg)
{
	static const uint64_t addrs[] = {BUF_GPA, RAM_SIZE - 4, INDIR_GPA,
					 UINT64_MAX - 2, RAM_SIZE};
	static const uint32_t lens[] = {8, 0, 16, 0xffffffff, 32};
	uint64_t x = 88172645463325252ULL;
	while (atomic_load(&racing)) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint8_t *d = ram(DESC_GPA + 16 * (x % 3));
		__atomic_store_n((uint64_t *)d, addrs[(x >> 8) % 5],
				 __ATOMIC_RELAXED);
		__atomic_store_n((uint32_t *)(d + 8), lens[(x >> 16) % 5],
				 __ATOMIC_RELAXED);
		__atomic_store_n((uint16_t *)(d + 12), (x >> 24) & 7,
				 __ATOMIC_RELAXED);
		__atomic_store_n((uint16_t *)(d + 14), (x >> 32) % 4,
				 __ATOMIC_RELAXED);
		atomic_fetch_add(&rewrites, 1);
	}
	return NULL;
}

/* Whether every segment of c lies in RAM, within the caps. */
static bool chain_in_ram(void)
{
	uint64_t total = 0;
	if (c.nr + c.nw > VIRTQ_MAX_SEGS)
		return false;
	for (unsigned i = 0; i < c.nr + c.nw; i++) {
		uint8_t *b = c.iov[i].iov_base;
		if (b < vm.mem || c.iov[i].iov_len > RAM_SIZE ||
		    b + c.iov[i].iov_len > vm.mem + RAM_SIZE)
			return false;
		total += c.iov[i].iov_len;
	}
	return total == (uint64_t)c.rlen + c.wlen && total <= VIRTQ_MAX_BYTES;
}

/* Whatever the guest writes meanwhile, each field is checked and used as
 * read once: no chain the device accepts reaches outside RAM. */
static void concurrent_guest(void)
{
	pthread_t t;
	int popped = 0, broke = 0, bad = 0;
	vring_ram();
	atomic_store(&racing, true);
	if (pthread_create(&t, NULL, racer, NULL) != 0)
		abort();
	while (atomic_load(&rewrites) < 1000)
		;
	/* 20000 walks, and more until the racer has been seen both making
	 * good chains and bad ones (it may be descheduled for a while). */
	int i;
	for (i = 0; i < 20000 || ((!popped || !broke) && i < 5000000); i++) {
		vring_queue(&q, QSIZE);
		q.indirect = true;
		if (virtq_enable(&q, &vm) < 0)
			abort();
		drv_idx = 0;
		vring_avail(QSIZE, 0);
		int r = virtq_pop(&q, &c);
		popped += r == 1;
		broke += r == -1;
		bad += r == 1 && !chain_in_ram();
	}
	atomic_store(&racing, false);
	pthread_join(t, NULL);
	CHECK(bad == 0 && popped + broke == i);
	CHECK(popped > 0 && broke > 0); /* the racer reached the device */
}

static void cases(void)
{
	RUN(good_chain);
	RUN(ring_wraps);
	RUN(indirect_chain);
	RUN(longest_chain);
	RUN(bad_sizes);
	RUN(bad_rings);
	RUN(bad_indices);
	RUN(loops);
	RUN(bad_indirect);
	RUN(bad_lengths);
	RUN(bad_buffers);
	RUN(bad_order);
	RUN(too_many);
	RUN(reset_clears);
	RUN(no_interrupt);
	RUN(event_idx);
	RUN(concurrent_guest);
}

int main(void)
{
	return unit_main(cases, NULL);
}
