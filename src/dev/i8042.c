/* The i8042's command port: the pulse-reset command 0xfe ends the guest as
 * a reboot. Its data port (0x60) is not emulated (it reads all-ones), and
 * the status always says "output full, input empty": the kernel's reset
 * path waits for "input empty" alone, so it resets at once; its probe
 * finds an output buffer that never drains and gives up after 16 reads
 * ("No controller found"). A status of 0 instead made the probe wait for
 * output that never came: 7.5 s of a 50 s boot in the test VM. */
#include "dev/i8042.h"

#define I8042_RESET   0xfe
#define I8042_STR_OBF 0x01 /* output buffer full */

static uint32_t i8042_in(void *dev, uint16_t off, unsigned size)
{
	return I8042_STR_OBF;
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
