/* The pvpanic device of a Linux guest (QEMU's ISA pvpanic: port
 * ACPI_PVPANIC, announced in the DSDT as QEMU0001): the guest's kernel
 * writes to it from its panic notifier. */
#ifndef MOTE_DEV_PVPANIC_H
#define MOTE_DEV_PVPANIC_H

#include "dev/ioport.h"

/* The bus entry; a panic sets bus->stop to DEV_PANIC. */
struct ioport_dev pvpanic_ioport(struct ioport_bus *bus);

#endif
