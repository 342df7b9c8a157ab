/* The MC146818 RTC and CMOS: the time registers give the host's UTC time
 * (BCD, 24-hour: Linux on x86 reads them as BCD whatever register B says),
 * never "update in progress"; the other bytes are
 * RAM the guest may write. Without it the ports read all-ones, which says
 * "update in progress" forever: the kernel found no RTC and its rtc_cmos
 * probe cost 10 s of a boot in the test VM. The guest cannot set the
 * time: its writes to the time registers are kept but not read back. */
#include "dev/cmos.h"

#include <string.h>
#include <time.h>

#include "stream.h"

enum {
	REG_SEC = 0x00,
	REG_MIN = 0x02,
	REG_HOUR = 0x04,
	REG_WDAY = 0x06,
	REG_MDAY = 0x07,
	REG_MON = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0a,
	REG_B = 0x0b,
	REG_C = 0x0c,
	REG_D = 0x0d,
	REG_CENTURY = 0x32,
};
#define B_24H	 0x02
#define B_BINARY 0x04
#define D_VALID	 0x80 /* the battery is good */

void cmos_init(struct cmos *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->ram[REG_A] = 0x26; /* 32.768 kHz, 1024 Hz, no update in progress */
	c->ram[REG_B] = B_24H;
	c->ram[REG_D] = D_VALID;
	/* glibc's gmtime_r loads the time zone the first time it runs
	 * (opening /etc/localtime): here, before the monitor's sandbox,
	 * which refuses open. */
	tzset();
}

static int bcd(int v)
{
	return (v / 10) << 4 | v % 10;
}

/* A time register now (BCD), or -1 for the others. */
static int cmos_time(uint8_t reg)
{
	struct tm tm;
	time_t now = time(NULL);
	if (!gmtime_r(&now, &tm))
		return -1;
	switch (reg) {
	case REG_SEC: return bcd(tm.tm_sec);
	case REG_MIN: return bcd(tm.tm_min);
	case REG_HOUR: return bcd(tm.tm_hour);
	case REG_WDAY: return bcd(tm.tm_wday + 1);
	case REG_MDAY: return bcd(tm.tm_mday);
	case REG_MON: return bcd(tm.tm_mon + 1);
	case REG_YEAR: return bcd(tm.tm_year % 100);
	case REG_CENTURY: return bcd(19 + tm.tm_year / 100);
	}
	return -1;
}

static uint32_t cmos_in(void *dev, uint16_t off, unsigned size)
{
	struct cmos *c = dev;
	if (off == 0)
		return 0xff; /* the index port is write-only */
	pthread_mutex_lock(&c->lock);
	int t = cmos_time(c->index);
	uint8_t v = t >= 0 ? (uint8_t)t : c->ram[c->index];
	if (c->index == REG_C)
		c->ram[REG_C] = 0; /* reading the flags clears them */
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void cmos_out(void *dev, uint16_t off, unsigned size, uint32_t val)
{
	struct cmos *c = dev;
	pthread_mutex_lock(&c->lock);
	if (off == 0)
		c->index = val & 0x7f; /* bit 7 masks NMIs: nothing here */
	else if (c->index == REG_B)    /* the time stays BCD, 24-hour */
		c->ram[REG_B] = ((uint8_t)val | B_24H) & ~B_BINARY;
	else if (c->index != REG_A && c->index != REG_C && c->index != REG_D)
		c->ram[c->index] = (uint8_t)val;
	pthread_mutex_unlock(&c->lock);
}

struct ioport_dev cmos_ioport(struct cmos *c)
{
	return (struct ioport_dev){
		.name = "cmos",
		.base = CMOS_PORT,
		.len = 2,
		.in = cmos_in,
		.out = cmos_out,
		.dev = c,
	};
}

void cmos_save(struct cmos *c, struct wbuf *w)
{
	pthread_mutex_lock(&c->lock);
	W(w, c->index);
	W(w, c->ram);
	pthread_mutex_unlock(&c->lock);
}

bool cmos_load(struct cmos *c, struct rbuf *r)
{
	R(r, c->index);
	R(r, c->ram);
	c->index &= 0x7f;
	return !r->bad;
}
