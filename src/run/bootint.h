/* mote boot's guest, shared by its files: the boot (boot.c) and its
 * snapshots and restore (bootsnap.c). */
#ifndef MOTE_RUN_BOOTINT_H
#define MOTE_RUN_BOOTINT_H

#include <stdint.h>
#include <stdnoreturn.h>

#include "dev/cmos.h"
#include "dev/console.h"
#include "dev/pm.h"
#include "dev/uart.h"
#include "run/boot.h"
#include "run/bootctl.h"
#include "run/bootdev.h"
#include "vm/plain.h"
#include "vm/plainstate.h"

struct guest {
	struct vm vm;
	struct vcpu cpu[BOOT_CPUS_MAX];
	unsigned ncpus;
	const struct boot_opts *o;
	struct uart uart;
	struct cmos cmos;
	struct console con;
	struct acpi_pm pm;
	struct bootdev dev;
	struct ioport_dev devs[6];
	struct ioport_bus bus;
	struct boot_hold hold;
	uint64_t mmio_unhandled;
	struct plain_msrs msrs; /* what a snapshot saves of each vCPU */
	/* Each --disk as given, made absolute (a restore may run from
	 * another dir): what a snapshot names the disks by. */
	char *disk_spec[BOOT_DISKS_MAX];
	int in_fd, out_fd; /* the console: stdin and stdout, or a
			    * clone's pipes (bootsnap.c) */
};

/* One guest a process. */
extern struct guest the_guest;

/* The devices on the port-I/O bus, once the vCPUs exist, and the MSRs
 * a snapshot saves. */
void boot_devices(struct guest *g);
/* The rest of a boot once g is built (loaded, or restored): the sandbox,
 * the threads, the control socket served, vCPU 0's loop. Returns an exit
 * status only if that start fails. */
int boot_go(struct guest *g, const struct boot_opts *o);

/* bootsnap.c: g's disks' specs made absolute, before the sandbox (0,
 * or -1 after a message). */
int boot_snap_paths(struct guest *g, const struct boot_opts *o);
/* bootsnap.c: the snapshot of g, held (the control thread's, through
 * the hold's save hook), into fd. 0, or -1 with the reason in err. */
int boot_snap_save(void *g, int fd, char *err, size_t errlen);

#endif
