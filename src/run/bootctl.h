/* mote boot's control: the hold that pauses every vCPU, a forced stop,
 * and the ops through which the control socket serves a booted guest
 * (docs/control.md). */
#ifndef MOTE_RUN_BOOTCTL_H
#define MOTE_RUN_BOOTCTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl/ctl.h"
#include "run/boot.h"
#include "vm/vm.h"

struct boot_hold {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* parked changed, or the hold ended */
	bool paused;	     /* atomic: the vCPUs are to park */
	bool stop;	     /* atomic: mote stop: vCPU 0 ends the guest */
	unsigned parked;
	unsigned ncpus;
	struct vcpu *cpu;
	pthread_t thread[BOOT_CPUS_MAX];
	pid_t tid[BOOT_CPUS_MAX];
	uint64_t exits; /* atomic: every vCPU's, for stats */
	uint64_t memory;
	const char *kernel;
	struct ctl_rate rate; /* of exits */
	struct ctl_run *ctl;
	/* The snapshot of the held guest into fd: 0, or -1 with the reason
	 * in err. */
	int (*save)(void *arg, int fd, char *err, size_t errlen);
	void *save_arg;
};

/* The signal that kicks a vCPU thread out of KVM_RUN for the hold. */
#define BOOT_KICK_SIGNAL SIGUSR2

/* The hold of the ncpus vCPUs at cpu, unpaused, and its kick signal's
 * handler. */
void boot_hold_init(struct boot_hold *h, struct vcpu *cpu, unsigned ncpus,
		    const struct boot_opts *o,
		    int (*save)(void *arg, int fd, char *err, size_t errlen),
		    void *save_arg);
/* vCPU c's thread, once, on the thread itself: its pthread and tid. */
void boot_hold_thread(struct boot_hold *h, const struct vcpu *c);
/* Before each KVM_RUN of vCPU c: parks while the guest is paused. true:
 * run it; false: still paused (vCPU 0 comes back every 100 ms to see the
 * signals and the stop that end the guest), call again. */
bool boot_hold_wait(struct boot_hold *h, struct vcpu *c);
/* Whether the vCPUs are to park (a pause or a snapshot). */
bool boot_hold_paused(struct boot_hold *h);
/* Whether mote stop asked the guest to end (vCPU 0 then ends it). */
bool boot_hold_stopping(struct boot_hold *h);

/* The runtime dir and control socket (name: --name or NULL), before the
 * sandbox: 0 or MOTE_EXIT_FAIL after a message. */
int boot_ctl_open(struct boot_hold *h, const char *name);
/* Starts serving, after the sandbox (the thread inherits it). */
void boot_ctl_serve(struct boot_hold *h);
/* At the end: the dir removed, after any request under way. */
void boot_ctl_close(struct boot_hold *h);
/* Its fds, for Landlock's rules (-1: no control dir). */
int boot_ctl_root_fd(const struct boot_hold *h);
int boot_ctl_dir_fd(const struct boot_hold *h);

#endif
