/* Port-I/O devices of a Linux guest, as ops tables registered in one
 * place (ioport.c's table), and the dispatch of a port-I/O exit to them.
 * Every access comes from the guest: devices check what they are given. */
#ifndef MOTE_DEV_IOPORT_H
#define MOTE_DEV_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Why a device ended the guest (what the run loop reports). */
enum dev_stop {
	DEV_RUN = 0,
	DEV_RESET,    /* the i8042 reset line: the guest rebooted */
	DEV_QUIT,     /* the console's Ctrl-A x */
	DEV_POWEROFF, /* ACPI S5 through PM1a_CNT (pm.c) */
	DEV_PANIC,    /* the pvpanic port (pvpanic.c) */
};

struct ioport_dev {
	const char *name;
	uint16_t base, len; /* ports [base, base + len) */
	/* One access of size bytes at base + off; in reads *val. */
	uint32_t (*in)(void *dev, uint16_t off, unsigned size);
	void (*out)(void *dev, uint16_t off, unsigned size, uint32_t val);
	void *dev;
};

struct ioport_bus {
	const struct ioport_dev *devs;
	unsigned n;
	/* Both touched by every vCPU thread, atomically. */
	uint64_t unhandled; /* accesses to ports no device has */
	enum dev_stop stop; /* set by a device to end the guest */
};

/* Serves one port-I/O exit: count accesses of size bytes at port, data in
 * KVM's run page. Ports no device has read all-ones; writes are dropped;
 * both counted. */
void ioport_dispatch(struct ioport_bus *b, uint16_t port, unsigned size,
		     bool out, uint32_t count, uint8_t *data);

#endif
