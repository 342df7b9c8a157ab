/* The ACPI PM1a event and control blocks of a Linux guest (ports
 * ACPI_PM1A_EVT..+6, announced by the FADT): writing SLP_TYP 5 with
 * SLP_EN to PM1a_CNT is the guest powering off (S5). */
#ifndef MOTE_DEV_PM_H
#define MOTE_DEV_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/ioport.h"

struct acpi_pm {
	pthread_mutex_t lock; /* the registers, for every vCPU */
	/* PM1_STS, PM1_EN, PM1_CNT, little-endian, as the ports lay them. */
	uint8_t reg[6];
	struct ioport_bus *bus;
};

void acpi_pm_init(struct acpi_pm *pm, struct ioport_bus *bus);
/* The bus entry; S5 sets bus->stop to DEV_POWEROFF. */
struct ioport_dev acpi_pm_ioport(struct acpi_pm *pm);

/* A snapshot of pm's registers (mote boot's). acpi_pm_load: false on a
 * malformed record; SCI_EN stays set. */
struct wbuf;
struct rbuf;
void acpi_pm_save(struct acpi_pm *pm, struct wbuf *w);
bool acpi_pm_load(struct acpi_pm *pm, struct rbuf *r);

#endif
