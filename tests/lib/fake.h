/* A guest process without KVM, for the fuzzers and the lx unit tests
 * (tests/unit/lx_*.c): the monitor's own
 * structures (struct lx_proc, lx_thread, vm) set up by hand, guest memory an
 * anonymous mapping with real page tables and VMAs, the vCPU's registers a
 * struct kvm_run in plain memory. What the syscall handlers see is what
 * they see under mote run, minus a VM to run. */
#ifndef MOTE_TEST_FAKE_H
#define MOTE_TEST_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "lx/lx.h"

struct fake {
	struct lx_proc *p;
	struct lx_thread *t;
	struct lx_opts opts;
	char dir[64];	    /* the scratch directory: root/ and vol/ */
	char vol[96];	    /* host path of the rw volume, at guest /v */
	uint64_t nofile[2]; /* the fd limits lx_fd_init chose */
};

/* Creates the scratch directory (a small guest root with files, a
 * directory and symlinks, and an empty rw volume at /v) and a process with
 * user_size bytes of guest memory. Exits on failure. */
void fake_init(struct fake *f, uint64_t user_size);
/* Back to a fresh process: fds 0-2 on /dev/null and nothing else, an
 * address space with only the stack, no signal state, an empty volume. */
void fake_reset(struct fake *f);
/* Empties the host directory at dirfd (and makes it writable again). */
void fake_wipe(int dirfd);
/* Aborts unless the VMAs are sorted, disjoint and in user memory and the
 * page tables map exactly them (identity, user, no write beyond the VMA's
 * protection), nothing outside. */
void fake_check_mm(struct lx_proc *p);
/* Aborts if a guest fd is one of the monitor's own descriptors. */
void fake_check_fds(struct lx_proc *p);

#endif
