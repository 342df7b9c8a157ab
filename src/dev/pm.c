/* The ACPI PM1a blocks: PM1_STS (write 1 to clear; nothing ever sets a
 * bit, since mote raises no ACPI event), PM1_EN (kept as written),
 * PM1_CNT (SCI_EN always 1: the system is in ACPI mode from the start;
 * SLP_EN reads 0). An access may be any size at any offset of the block
 * (the guest chooses): it is served a byte at a time, and bytes past the
 * block read all-ones and are dropped. Sleep types other than S5 are
 * ignored: the DSDT names no other \_Sx, so a guest that writes one is
 * not following it, and it goes on running. */
#include "dev/pm.h"

#include "linux/acpi.h"
#include "stream.h"

enum { STS = 0, EN = 2, CNT = 4 };

void acpi_pm_init(struct acpi_pm *pm, struct ioport_bus *bus)
{
	pthread_mutex_init(&pm->lock, NULL);
	for (unsigned i = 0; i < sizeof(pm->reg); i++)
		pm->reg[i] = 0;
	pm->reg[CNT] = ACPI_SCI_EN;
	pm->bus = bus;
}

static uint32_t pm_in(void *dev, uint16_t off, unsigned size)
{
	struct acpi_pm *pm = dev;
	uint32_t v = 0;
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = o < sizeof(pm->reg) ? pm->reg[o] : 0xff;
		v |= (uint32_t)b << (8 * i);
	}
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void pm_byte(struct acpi_pm *pm, unsigned o, uint8_t b)
{
	if (o < EN)
		pm->reg[o] &= (uint8_t)~b; /* write 1 to clear */
	else if (o < CNT)
		pm->reg[o] = b;
	else if (o == CNT)
		pm->reg[o] = b | ACPI_SCI_EN;
	else if (o == CNT + 1)
		pm->reg[o] = b;
}

/* After a write that reached PM1_CNT: SLP_EN starts the sleep its
 * SLP_TYP names, and reads back 0. */
static void pm_sleep(struct acpi_pm *pm)
{
	uint16_t cnt = (uint16_t)(pm->reg[CNT] | pm->reg[CNT + 1] << 8);
	if (!(cnt & ACPI_SLP_EN))
		return;
	pm->reg[CNT + 1] &= (uint8_t) ~(ACPI_SLP_EN >> 8);
	if (((cnt >> ACPI_SLP_TYP_SHIFT) & 7) == ACPI_S5_TYP)
		__atomic_store_n(&pm->bus->stop, DEV_POWEROFF,
				 __ATOMIC_RELAXED);
}

static void pm_out(void *dev, uint16_t off, unsigned size, uint32_t val)
{
	struct acpi_pm *pm = dev;
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size && off + i < sizeof(pm->reg); i++)
		pm_byte(pm, off + i, (uint8_t)(val >> (8 * i)));
	if (off + size > CNT)
		pm_sleep(pm);
	pthread_mutex_unlock(&pm->lock);
}

struct ioport_dev acpi_pm_ioport(struct acpi_pm *pm)
{
	return (struct ioport_dev){
		.name = "acpi-pm",
		.base = ACPI_PM1A_EVT,
		.len = ACPI_PM_LEN,
		.in = pm_in,
		.out = pm_out,
		.dev = pm,
	};
}

void acpi_pm_save(struct acpi_pm *pm, struct wbuf *w)
{
	pthread_mutex_lock(&pm->lock);
	W(w, pm->reg);
	pthread_mutex_unlock(&pm->lock);
}

bool acpi_pm_load(struct acpi_pm *pm, struct rbuf *r)
{
	R(r, pm->reg);
	pm->reg[CNT] |= ACPI_SCI_EN;
	pm->reg[CNT + 1] &= (uint8_t) ~(ACPI_SLP_EN >> 8);
	return !r->bad;
}
