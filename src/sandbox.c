/* The monitor sandboxes itself, once the VM is set up and before the
 * guest's first instruction: PR_SET_NO_NEW_PRIVS, resource limits,
 * Landlock (landlock.c), and a seccomp-bpf allowlist of the host syscalls
 * it serves its guest with. The allowlist, with the reason for every entry
 * and its argument filters, is src/seccomp/policy.c, compiled to BPF at
 * build time; here the program for this run is loaded, and a refused
 * syscall is reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lx/lx.h"
#include "sandbox.h"
#include "util.h"

struct sandbox_filter {
	const struct sock_filter *prog;
	unsigned short len;
	int nallowed, nfiltered; /* syscalls, those with argument filters */
};

#include "seccomp_bpf.h" /* generated: sandbox_filters, sandbox_names */

#define V_NET	1 /* as in policy.c */
#define V_READV 2

/* Kernels before 5.14 lack MADV_POPULATE_READ, and mmpage.c reads its own
 * memory with process_vm_readv instead. */
static bool need_vm_readv(void)
{
	void *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		return true;
	bool need = madvise(pg, 4096, MADV_POPULATE_READ) < 0;
	munmap(pg, 4096);
	return need;
}

static int load_prog(const struct sandbox_filter *f)
{
	struct sock_fprog prog = {f->len, (struct sock_filter *)f->prog};
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

/* On every thread (there is one yet; threads and forked monitors made
 * later inherit it). */
static const struct sandbox_filter *load_filter(const struct lx_opts *o)
{
	const struct sandbox_filter *f =
		&sandbox_filters[(o->net ? V_NET : 0) |
				 (need_vm_readv() ? V_READV : 0)];
	return load_prog(f) == 0 ? f : NULL;
}

/* ---- violations ---- */

static struct lx_tree *tree;

void sandbox_violation(const siginfo_t *si)
{
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < (int)ARRAY_SIZE(sandbox_names) &&
					   sandbox_names[nr]
				   ? sandbox_names[nr]
				   : "unknown";
	if (si->si_arch != AUDIT_ARCH_X86_64)
		name = "of another architecture";
	char line[128];
	int n = snprintf(line, sizeof(line),
			 "mote: sandbox violation: syscall %s (%d)\n", name,
			 nr);
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
	/* The monitor is not to be trusted any more: every process of the
	 * VM goes with it. */
	if (tree)
		lx_tree_kill_all(tree);
	ctl_remove_now();
	_exit(MOTE_EXIT_FAIL);
}

/* ---- entering ---- */

static int set_limits(void)
{
	/* No core file of a monitor (it holds guest memory); no locked
	 * memory (the guest's mlock is accepted and not passed on). */
	const struct rlimit zero = {0, 0};
	if (setrlimit(RLIMIT_CORE, &zero) < 0 ||
	    setrlimit(RLIMIT_MEMLOCK, &zero) < 0)
		return -errno;
	return 0;
}

/* Test hooks, from mote's own environment (never the guest's): an open()
 * of a host path Landlock must refuse, a syscall seccomp must refuse. */
static void test_open(void)
{
	const char *path = getenv("MOTE_TEST_SANDBOX_OPEN");
	if (path) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		msg("sandbox test: open %s: %s", path,
		    fd < 0 ? strerror(errno) : "opened");
		if (fd >= 0)
			close(fd);
	}
}

static void test_violation(void)
{
	/* An invalid ptrace request: EIO if it were allowed. */
	if (getenv("MOTE_TEST_SANDBOX_VIOLATION"))
		syscall(SYS_ptrace, -1L, 0L, 0L, 0L);
}

static void test_hooks(void)
{
	test_open();
	test_violation();
}

/* The first two layers, for mote run and mote boot alike. 0 or -1 after
 * a message. */
static int confine_process(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		msg("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	int err = set_limits();
	if (err) {
		msg("sandbox: resource limits: %s", strerror(-err));
		return -1;
	}
	return 0;
}

int sandbox_enter(struct lx_proc *p)
{
	const struct lx_opts *o = p->opts;
	if (o->no_sandbox) {
		test_hooks();
		return 0;
	}
	tree = p->task.tree;
	int err, abi = 0;
	if (confine_process() < 0)
		return -1;
	if ((err = landlock_enter(p, &abi)) < 0) {
		msg("sandbox: Landlock: %s (--no-sandbox runs without it)",
		    strerror(-err));
		return -1;
	}
	const struct sandbox_filter *f = load_filter(o);
	if (!f) {
		msg("sandbox: seccomp filter: %s (--no-sandbox runs without "
		    "it)",
		    strerror(errno));
		return -1;
	}
	/* Said where asked for alone: normal runs stay quiet. */
	if (p->trace) {
		char ll[48] = "no Landlock in this kernel";
		if (abi)
			snprintf(ll, sizeof(ll), "Landlock ABI %d", abi);
		fprintf(p->trace,
			"mote: sandbox: %d syscalls allowed (%d with argument "
			"filters), %s\n",
			f->nallowed, f->nfiltered, ll);
	}
	test_hooks();
	return 0;
}

/* ---- mote boot ---- */

int sandbox_enter_boot(const struct sandbox_file *files, size_t n,
		       bool no_sandbox)
{
	if (no_sandbox) {
		msg("warning: --no-sandbox: the monitor runs without its "
		    "seccomp/Landlock sandbox");
		test_hooks();
		return 0;
	}
	int abi, err;
	if (confine_process() < 0)
		return -1;
	if ((err = landlock_files(files, n, &abi)) < 0) {
		msg("sandbox: Landlock: %s (--no-sandbox runs without it)",
		    strerror(-err));
		return -1;
	}
	/* Before the filter, which refuses open itself: this tests
	 * Landlock alone. */
	test_open();
	if (load_prog(&sandbox_boot_filter) != 0) {
		msg("sandbox: seccomp filter: %s (--no-sandbox runs without "
		    "it)",
		    strerror(errno));
		return -1;
	}
	test_violation();
	return 0;
}
