/* The monitor's own sandbox: what a monitor taken over by its guest could
 * still do (seccomp-bpf allowlist, Landlock, resource limits). */
#ifndef MOTE_SANDBOX_H
#define MOTE_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct lx_proc;

/* Confines the calling monitor for good, once the VM, its first vCPU, the
 * root and volume directories and the fd table of `p` exist and before the
 * first guest instruction: PR_SET_NO_NEW_PRIVS, resource limits, Landlock
 * (where the kernel has it), then the seccomp filter (on every thread, and
 * inherited by the threads and forked monitors made later). The host's
 * SIGSYS handler must already be installed: it calls sandbox_violation.
 * Returns 0, or -1 after a message (the VM must not start). */
int sandbox_enter(struct lx_proc *p);

/* True if the host signal is the seccomp filter refusing a syscall of the
 * monitor (not a SIGSYS some process sent). */
static inline bool sandbox_trapped(int sig, const siginfo_t *si)
{
	return sig == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */;
}

/* From the SIGSYS handler: prints `mote: sandbox violation: syscall NAME
 * (N)`, ends every process of the VM tree and exits with status 125. */
_Noreturn void sandbox_violation(const siginfo_t *si);

/* landlock.c: confines the monitor's filesystem access to the root and
 * volumes of `p` (and the few host paths it serves: /proc, the allowed
 * devices, its own stdio). Sets *abi to the kernel's Landlock ABI version,
 * 0 if it has none (nothing is done then). Returns 0 or -errno. */
int landlock_enter(const struct lx_proc *p, int *abi);
/* A restored tree, before its monitors fork: one Landlock domain that
 * keeps signals and abstract sockets within the tree (ABI 6+; nothing
 * before, or with --no-sandbox), which each process's own domain then
 * leaves to it. Returns 0 or -errno. */
int landlock_tree_scope(const struct lx_proc *p);

/* What mote boot's monitor may do with a file or dir. */
enum sandbox_access {
	SB_READ,	/* a file read */
	SB_WRITE,	/* a file read and written */
	SB_REMOVE_FILE, /* a dir whose files are removed (the control dir) */
	SB_REMOVE_DIR,	/* a dir whose subdirs are removed (the runtime root) */
};

/* A host file a booted Linux guest is given (mote boot), or a dir its
 * monitor cleans up, by its path or, with path NULL, its open fd. */
struct sandbox_file {
	const char *path;
	int fd;
	enum sandbox_access access;
};

/* mote boot's sandbox, once the VM is set up and before its threads
 * start: PR_SET_NO_NEW_PRIVS, resource limits, Landlock allowing nothing
 * but the n files (the kernel and initrd, read; a disk as it is opened;
 * the control dir's removal),
 * and mote boot's own seccomp allowlist. The caller's SIGSYS handler must
 * already be installed: it calls sandbox_violation. With no_sandbox, says
 * so and does none of it. Returns 0, or -1 after a message. */
int sandbox_enter_boot(const struct sandbox_file *files, size_t n,
		       bool no_sandbox);

/* landlock.c: the Landlock part of sandbox_enter_boot. Sets *abi as
 * landlock_enter does. Returns 0 or -errno. */
int landlock_files(const struct sandbox_file *files, size_t n, int *abi);

#endif
