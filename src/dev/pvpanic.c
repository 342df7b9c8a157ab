/* pvpanic (QEMU's docs/specs/pvpanic.rst): a read gives the events the
 * device supports, a write reports them. mote supports PVPANIC_PANICKED
 * alone, which ends the guest as a panic; Linux's driver masks what it
 * sends with what it read, so the "crash loaded" event (a kdump kernel
 * takes over) is never sent, and any other bit written is ignored. */
#include "dev/pvpanic.h"

#include "linux/acpi.h"

#define PVPANIC_PANICKED 0x01

static uint32_t pvpanic_in(void *dev, uint16_t off, unsigned size)
{
	return PVPANIC_PANICKED;
}

static void pvpanic_out(void *dev, uint16_t off, unsigned size, uint32_t val)
{
	struct ioport_bus *bus = dev;
	if (val & PVPANIC_PANICKED)
		__atomic_store_n(&bus->stop, DEV_PANIC, __ATOMIC_RELAXED);
}

struct ioport_dev pvpanic_ioport(struct ioport_bus *bus)
{
	return (struct ioport_dev){
		.name = "pvpanic",
		.base = ACPI_PVPANIC,
		.len = 1,
		.in = pvpanic_in,
		.out = pvpanic_out,
		.dev = bus,
	};
}
