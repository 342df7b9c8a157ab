/* The i8042's command port: the status reads "nothing to read, ready for
 * a command" (so the kernel's wait before a reset ends at once) and the
 * pulse-reset command 0xfe ends the guest as a reboot. Its data port
 * (0x60) is not emulated: the kernel finds no keyboard controller. */
#include "dev/i8042.h"

#define I8042_RESET 0xfe

static uint32_t i8042_in(void *dev, uint16_t off, unsigned size)
{
	return 0;
}

static void i8042_out(void *dev, uint16_t off, unsigned size, uint32_t val)
{
	struct ioport_bus *bus = dev;
	if ((val & 0xff) == I8042_RESET)
		__atomic_store_n(&bus->stop, DEV_RESET, __ATOMIC_RELAXED);
}

struct ioport_dev i8042_ioport(struct ioport_bus *bus)
{
	return (struct ioport_dev){
		.name = "i8042",
		.base = I8042_CMD,
		.len = 1,
		.in = i8042_in,
		.out = i8042_out,
		.dev = bus,
	};
}
