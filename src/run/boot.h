/* mote boot: a Linux guest's lifecycle, from the checked kernel file to
 * the exit status. */
#ifndef MOTE_RUN_BOOT_H
#define MOTE_RUN_BOOT_H

#include <stdbool.h>
#include <stdint.h>

/* The default kernel command line: the console on the UART; reboot=k so
 * that a reboot comes through the i8042 reset line mote serves; panic=-1
 * so that a panic reboots at once instead of hanging the VM. */
#define BOOT_CMDLINE "console=ttyS0 reboot=k panic=-1"

/* Exit statuses of mote boot beside MOTE_EXIT_* (util.h). */
enum {
	BOOT_EXIT_POWEROFF = 0,	 /* the guest powered off (ACPI S5) */
	BOOT_EXIT_REBOOT = 0,	 /* the guest rebooted (or quit: Ctrl-A x) */
	BOOT_EXIT_CPU_RESET = 1, /* a triple fault */
	BOOT_EXIT_PANIC = 2,	 /* its kernel panicked (pvpanic) */
	BOOT_EXIT_STOPPED = 137, /* mote stop: as mote run's forced stop */
};

#define BOOT_CPUS_MAX  64
#define BOOT_DISKS_MAX 8

struct boot_opts {
	const char *kernel;
	bool kernel_file; /* kernel is a file to read (not a restore's name) */
	const char *initrd; /* NULL: none */
	const char *cmdline;
	uint64_t memory;
	unsigned cpus;
	uint64_t timeout_ns; /* 0: none */
	const char *timeout_arg;
	bool no_sandbox;		  /* --no-sandbox */
	const char *disk[BOOT_DISKS_MAX]; /* FILE, FILE:ro or FILE:rw */
	unsigned ndisks;
	const char *net;  /* --net TAP, or NULL */
	const char *name; /* --name NAME, or NULL: a generated id */
};

/* Boots o->kernel and runs it to its end. Returns the exit status; every
 * failure has printed its one line. */
int boot_main(const struct boot_opts *o);

/* mote restore of a boot snapshot (kind SNAP_KIND_BOOT) at file: the
 * guest, or count clones of it (each named NAME-i with a name), each
 * with the VM the snapshot describes, its disks and tap opened again by
 * path, run on. timeout_ns (0: none) as boot's --timeout. Returns the
 * exit status (the first non-zero clone's); every failure has printed
 * its one line. */
int boot_restore(const char *file, const char *name, unsigned count,
		 uint64_t timeout_ns, const char *timeout_arg);

#endif
