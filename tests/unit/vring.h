/* The driver's side of a split virtqueue, for the device unit tests: a
 * fake VM's RAM with the rings at fixed addresses, and helpers that write
 * descriptors and make chains available the way a guest driver does. */
#ifndef MOTE_TEST_VRING_H
#define MOTE_TEST_VRING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtq.h"
#include "vm/vm.h"

#define RAM_SIZE  (8ULL << 20)
#define DESC_GPA  0x1000ULL
#define AVAIL_GPA 0x2000ULL
#define USED_GPA  0x3000ULL
#define INDIR_GPA 0x4000ULL
#define BUF_GPA	  0x10000ULL
#define QSIZE	  16

static struct vm vm;
static uint16_t drv_idx; /* the driver's next avail idx */

/* Fresh RAM (malloc'd, so ASan sees any access past it) and indices. */
static inline void vring_ram(void)
{
	if (!vm.mem) {
		vm.mem = calloc(1, RAM_SIZE);
		vm.user_size = RAM_SIZE;
		if (!vm.mem)
			abort();
	}
	memset(vm.mem, 0, RAM_SIZE);
	drv_idx = 0;
}

static inline void *ram(uint64_t gpa)
{
	return vm.mem + gpa;
}

/* A queue of size n over the standard rings, not yet enabled. */
static inline void vring_queue(struct virtq *q, uint16_t n)
{
	memset(q, 0, sizeof(*q));
	q->size = n;
	q->desc_gpa = DESC_GPA;
	q->avail_gpa = AVAIL_GPA;
	q->used_gpa = USED_GPA;
}

/* Descriptor i of the table at table_gpa. */
static inline void vring_desc_at(uint64_t table_gpa, uint16_t i, uint64_t addr,
				 uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram(table_gpa + 16 * (uint64_t)i);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static inline void vring_desc(uint16_t i, uint64_t addr, uint32_t len,
			      uint16_t flags, uint16_t next)
{
	vring_desc_at(DESC_GPA, i, addr, len, flags, next);
}

static inline uint16_t ld16_at(uint64_t gpa)
{
	uint16_t v;
	memcpy(&v, ram(gpa), 2);
	return v;
}

static inline uint32_t ld32_at(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, ram(gpa), 4);
	return v;
}

static inline void st16_at(uint64_t gpa, uint16_t v)
{
	memcpy(ram(gpa), &v, 2);
}

/* Makes the chain at head available in a queue of size n. */
static inline void vring_avail(uint16_t n, uint16_t head)
{
	st16_at(AVAIL_GPA + 4 + 2 * (drv_idx % n), head);
	drv_idx++;
	st16_at(AVAIL_GPA + 2, drv_idx);
}

static inline uint16_t used_idx(void)
{
	return ld16_at(USED_GPA + 2);
}

/* Used element i: its id and len. */
static inline uint32_t used_id(uint16_t n, uint16_t i)
{
	return ld32_at(USED_GPA + 4 + 8 * (i % n));
}

static inline uint32_t used_len(uint16_t n, uint16_t i)
{
	return ld32_at(USED_GPA + 8 + 8 * (i % n));
}

#endif
