/* The MC146818 RTC and CMOS of a Linux guest (ports 0x70-0x71): the
 * host's time, read-only. */
#ifndef MOTE_DEV_CMOS_H
#define MOTE_DEV_CMOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/ioport.h"

#define CMOS_PORT 0x70

struct cmos {
	pthread_mutex_t lock; /* the index and the RAM, for every vCPU */
	uint8_t index;
	uint8_t ram[128];
};

void cmos_init(struct cmos *c);
/* The bus entry for ports 0x70-0x71. */
struct ioport_dev cmos_ioport(struct cmos *c);

/* A snapshot of c (mote boot's): the index and the RAM (the time
 * registers are the host's clock, read when the guest reads them).
 * cmos_load: false on a malformed record. */
struct wbuf;
struct rbuf;
void cmos_save(struct cmos *c, struct wbuf *w);
bool cmos_load(struct cmos *c, struct rbuf *r);

#endif
