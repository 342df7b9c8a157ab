/* The one part of the i8042 keyboard controller a Linux guest needs: its
 * reset line (0xfe written to port 0x64), which `reboot=k` uses. */
#ifndef MOTE_DEV_I8042_H
#define MOTE_DEV_I8042_H

#include "dev/ioport.h"

#define I8042_CMD 0x64

/* The bus entry for port 0x64; a reset sets bus->stop to DEV_RESET. */
struct ioport_dev i8042_ioport(struct ioport_bus *bus);

#endif
