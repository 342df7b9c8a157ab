/* Post-copy's receiving side (docs/migration.md): the VM runs before all
 * of its memory has come. The pages the source left out (its LAZY runs)
 * are holes in the received file; userfaultfd reports a fault on one, in
 * a vCPU (through KVM) or in the monitor, and a thread of the receiving
 * monitor asks the source for it, while the rest streams in behind. */
#ifndef MOTE_SNAP_POSTCOPY_H
#define MOTE_SNAP_POSTCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "snap/mig.h"
#include "snap/state.h"
#include "vm/vm.h"

struct postcopy;

/* Before the receiver says READY: checks the lazy runs f->lazy against
 * the snapshot's header h (whole pages of user memory) and opens the
 * userfaultfd, so that a host where post-copy cannot work is found while
 * the source still holds the VM. memfd is the file (the object keeps a
 * copy of the fd). NULL with the reason in err. */
struct postcopy *postcopy_prepare(int memfd, const struct mig_fwd *f,
				  const struct snap_header *h, char *err,
				  size_t errlen);
/* Once READY is sent: the stream, as it stands then, is the object's
 * (a copy of the fd). 0, or -1 with errno. */
int postcopy_attach(struct postcopy *pc, const struct mig *m);

/* After the VM is built from the file (every mapping in place, no vCPU
 * run yet): registers the lazy pages' host ranges and starts the thread
 * that fetches them. 0, or -1 with the reason in err (the VM cannot run:
 * fatal, READY was said). */
int postcopy_start(struct postcopy *pc, struct vm *vm, char *err,
		   size_t errlen);

/* The last step, once the stream has ended: waits until every lazy page
 * has come (vm->settle does too). */
void postcopy_wait(struct postcopy *pc);

#endif
