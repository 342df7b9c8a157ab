/* The monitor's seccomp allowlist, and the build-time tool that compiles it
 * to the BPF programs mote loads (src/sandbox.c), as Firecracker's
 * seccompiler does: libseccomp runs here, at build time, so the monitor
 * neither links it nor spends start-up time generating the filter.
 *
 * Every guest syscall is served by host syscalls of the monitor, so the
 * allowlist is what the handlers in src/lx/ call (read from the code and
 * checked by running every test under the filter), plus what glibc needs
 * underneath (malloc, threads, fork). There is one list for every thread:
 * each host thread runs a vCPU and serves any of its guest's syscalls, and
 * the first one also ends the process, so a vCPU-thread list would be this
 * one. Arguments are filtered where a syscall's other uses are the danger:
 * ioctl (the KVM, terminal and socket requests mote makes), clone (a
 * thread or a fork, never a namespace; clone3, whose flags a filter cannot
 * read, fails with ENOSYS and glibc falls back to clone), socket and
 * socketpair (the families the guest may have), mmap and mprotect (never
 * executable: guest code is executable only in the guest's page tables),
 * prctl (the guest's few options), prlimit64 (the monitor's own) and
 * rt_sigqueueinfo (the hold's kick alone).
 *
 * Anything else raises SIGSYS (SCMP_ACT_TRAP), and the VM ends with one
 * line naming the call. No execve, ptrace, mount, bpf, kexec, module or
 * namespace calls: the monitor makes none.
 *
 * `mote boot` (a Linux guest) has a list of its own, far shorter: its
 * monitor serves port I/O, not syscalls (boot_plain below).
 *
 * Usage (the Makefile): seccomp-gen > seccomp_bpf.h. The header holds one
 * program per variant (--net or not; process_vm_readv for kernels without
 * MADV_POPULATE_READ or not) and mote boot's, the size of each allowlist,
 * and the names of the syscalls for the violation report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/sockios.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452 /* Linux 6.6, newer than Debian 12's headers */
#endif

struct allow {
	long nr; /* a syscall, or an argument's value */
	const char *why;
};

#define A(name, why)                                                           \
	{                                                                      \
		SCMP_SYS(name), why                                            \
	}

/* Allowed whatever the arguments. */
static const struct allow plain[] = {
	/* guest I/O on its fds */
	A(read, "read, and reading /proc/PID/stat of the tree"),
	A(write, "write, and mote's own messages"),
	A(readv, "readv"),
	A(writev, "writev"),
	A(pread64, "pread64, and reading ELF headers"),
	A(pwrite64, "pwrite64, and a redrawn id into the control dir's state"),
	A(lseek, "lseek"),
	A(close, "close"),
	A(dup3, "dup3 onto a guest fd's host fd"),
	A(fcntl, "fcntl, F_DUPFD_CLOEXEC, locks, pipe sizes, seals"),
	A(pipe2, "pipe, pipe2"),
	A(sendfile, "sendfile"),
	A(splice, "splice"),
	A(tee, "tee"),
	A(copy_file_range, "copy_file_range"),
	A(fsync, "fsync"),
	A(fdatasync, "fdatasync"),
	A(ftruncate, "ftruncate, truncate (on an fd opened in the root)"),
	A(fallocate, "fallocate"),
	A(fadvise64, "fadvise64"),
	A(flock, "flock"),
	A(memfd_create, "memfd_create, and the guest's generated /proc files"),
	A(eventfd2, "eventfd, eventfd2"),
	A(timerfd_create, "timerfd_create"),
	A(timerfd_settime, "timerfd_settime"),
	A(timerfd_gettime, "timerfd_gettime"),
	A(epoll_create1, "epoll_create, epoll_create1"),
	A(epoll_ctl, "epoll_ctl"),
	A(epoll_pwait2, "epoll_wait, epoll_pwait, epoll_pwait2"),
	A(ppoll, "poll, ppoll, select, pselect6, and signal-safe waits"),
	/* guest paths, resolved beneath the root and volume fds */
	A(openat, "open of /proc/self/fd/N (reopen), devices, /proc/PID/stat"),
	A(openat2, "every guest path: RESOLVE_IN_ROOT beneath a mount fd"),
	A(newfstatat, "stat, fstat, lstat, newfstatat"),
	A(statx, "statx"),
	A(fstatfs, "statfs, fstatfs"),
	A(getdents64, "getdents64"),
	A(readlink, "readlink of /proc/self/fd/N: a host object's name"),
	A(readlinkat, "readlink, readlinkat"),
	A(access, "glibc's access, and checking the executable bit"),
	A(faccessat2, "access, faccessat, faccessat2, execve's X_OK check"),
	A(mkdirat, "mkdir, mkdirat"),
	A(unlinkat, "unlink, unlinkat, rmdir"),
	A(symlinkat, "symlink, symlinkat"),
	A(linkat, "link, linkat"),
	A(renameat, "rename, renameat"),
	A(renameat2, "renameat2, and placing the run's control dir (src/ctl)"),
	A(fchmod, "fchmod, and the control dir's state file (its mode)"),
	A(fchmodat2, "chmod, fchmodat: AT_EMPTY_PATH on the object's fd"),
	A(fchmodat, "chmod through /proc/self/fd/N where the host lacks "
		    "fchmodat2; the control socket's mode"),
	A(fchown, "fchown"),
	A(fchownat, "chown, lchown, fchownat"),
	A(utimensat, "utimensat, futimens"),
	A(umask, "umask"),
	A(getcwd, "glibc's realpath"),
	A(getxattr, "xattrs through /proc/self/fd/N"),
	A(setxattr, "xattrs through /proc/self/fd/N"),
	A(listxattr, "xattrs through /proc/self/fd/N"),
	A(removexattr, "xattrs through /proc/self/fd/N"),
	A(fgetxattr, "fgetxattr"),
	A(fsetxattr, "fsetxattr"),
	A(flistxattr, "flistxattr"),
	A(fremovexattr, "fremovexattr"),
	/* guest memory is host memory of the monitor */
	A(munmap, "munmap, and glibc's malloc and thread stacks"),
	A(mremap, "mremap"),
	A(madvise, "madvise, page-backing checks, freeing guest memory"),
	A(msync, "msync"),
	A(mincore, "mincore"),
	A(brk, "glibc's malloc"),
	/* processes and threads */
	A(exit, "a host thread ends (guest exit of a thread)"),
	A(exit_group, "the monitor ends"),
	A(wait4, "wait4 on the guest's children (forked monitors)"),
	A(waitid, "waitid"),
	A(kill, "kill, confined to the VM tree"),
	A(tgkill, "tgkill, tkill, and kicking a vCPU out of KVM_RUN"),
	A(getpid, "getpid"),
	A(gettid, "gettid, and the host thread to kick"),
	A(getppid, "getppid"),
	A(getpgrp, "getpgrp"),
	A(getpgid, "getpgid"),
	A(setpgid, "setpgid"),
	A(getsid, "getsid"),
	A(setsid, "setsid"),
	A(set_robust_list, "glibc: thread start and fork"),
	A(rseq, "glibc: thread start"),
	A(futex, "futex on guest memory, and pthread locks"),
	A(sched_yield,
	  "sched_yield, waiting out a busy page, the control dir's removal"),
	A(sched_getaffinity, "sched_getaffinity, and glibc's sysconf"),
	A(sched_setaffinity, "sched_setaffinity"),
	A(sched_getparam, "sched_getparam"),
	A(sched_getscheduler, "sched_getscheduler"),
	A(sched_get_priority_min, "sched_get_priority_min"),
	A(sched_get_priority_max, "sched_get_priority_max"),
	A(getpriority, "getpriority"),
	A(setpriority, "setpriority"),
	A(membarrier, "membarrier"),
	A(getrusage, "getrusage"),
	A(times, "times"),
	A(capget, "capget"),
	/* signals */
	A(rt_sigaction, "host signal handlers follow the guest's SIGCHLD"),
	A(rt_sigprocmask, "holding signals around waits and fork"),
	A(rt_sigreturn, "return from the host signal handler"),
	A(rt_sigsuspend, "pause, rt_sigsuspend"),
	A(restart_syscall, "a host call restarted after a stop"),
	A(sigaltstack, "ASan's signal handlers and threads check theirs"),
	A(alarm, "alarm"),
	A(setitimer, "setitimer"),
	A(getitimer, "getitimer"),
	/* time, identity, information */
	A(clock_gettime, "clock_gettime where the vDSO does not serve it"),
	A(clock_getres, "clock_getres"),
	A(clock_nanosleep, "nanosleep, clock_nanosleep, timed waits"),
	A(getuid, "getuid"),
	A(geteuid, "geteuid"),
	A(getgid, "getgid"),
	A(getegid, "getegid"),
	A(getresuid, "getresuid"),
	A(getresgid, "getresgid"),
	A(getgroups, "getgroups"),
	A(uname, "uname"),
	A(sysinfo, "sysinfo's load averages"),
	A(getrandom, "getrandom, and AT_RANDOM of an execve"),
	/* sockets (socket and socketpair themselves are filtered) */
	A(bind, "bind, and the run's control socket"),
	A(listen, "listen, and the run's control socket"),
	A(accept4, "accept, accept4"),
	A(connect, "connect"),
	A(getsockname, "getsockname"),
	A(getpeername, "getpeername"),
	A(shutdown, "shutdown"),
	A(setsockopt, "setsockopt"),
	A(getsockopt, "getsockopt"),
	A(sendto, "send, sendto, and signalfd's wakeups"),
	A(recvfrom, "recv, recvfrom"),
	A(sendmsg, "sendmsg, sendmmsg"),
	A(recvmsg, "recvmsg, recvmmsg"),
};

/* ioctl requests, on whatever fd: those of KVM are KVM's alone (0xAE). */
static const struct allow ioctls[] = {
	{KVM_RUN, "run the vCPU"},
	{KVM_CREATE_VM, "a forked monitor's own VM"},
	{KVM_CHECK_EXTENSION, "a forked monitor's VM: the MSR filter"},
	{KVM_X86_SET_MSR_FILTER, "a forked monitor's VM: the MSR filter"},
	{KVM_SET_USER_MEMORY_REGION, "guest memory slots as they are used, "
				     "logged or not (migration)"},
	{KVM_GET_DIRTY_LOG, "the pages the guest wrote (migration's rounds)"},
	{UFFDIO_WAKE, "post-copy: a page came, its waiters go on"},
	{UFFDIO_ZEROPAGE, "post-copy: a fault on a zero page of the snapshot"},
	{KVM_CREATE_VCPU, "a vCPU per guest thread"},
	{KVM_SET_CPUID2, "a new vCPU's CPUID"},
	{KVM_SET_XCRS, "a new vCPU's XCR0"},
	{KVM_GET_SREGS, "a new vCPU's segments"},
	{KVM_GET_MSRS, "the TSC, saved for a fork"},
	{KVM_SET_MSRS, "a new vCPU's MSRs"},
	{KVM_GET_XSAVE, "FPU state for signal frames and fork"},
	{KVM_SET_XSAVE, "FPU state from sigreturn, execve, fork"},
	{TCGETS, "tcgetattr, isatty"},
	{TCSETS, "tcsetattr"},
	{TCSETSW, "tcsetattr"},
	{TCSETSF, "tcsetattr"},
	{TIOCGWINSZ, "the terminal's size"},
	{TIOCGPGRP, "tcgetpgrp"},
	{TIOCSPGRP, "tcsetpgrp (to a group of the tree)"},
	{TIOCGSID, "tcgetsid"},
	{FIONREAD, "FIONREAD"},
	{TIOCOUTQ, "SIOCOUTQ"},
	{SIOCOUTQNSD, "SIOCOUTQNSD"},
	{SIOCATMARK, "SIOCATMARK"},
};

/* prctl options. */
static const struct allow prctls[] = {
	{PR_SET_PDEATHSIG, "the guest's, on its host thread"},
	{PR_GET_PDEATHSIG, "the guest's"},
	{PR_SET_DUMPABLE, "the guest's; and no core of a dying monitor"},
	{PR_GET_DUMPABLE, "the guest's"},
	{PR_SET_NO_NEW_PRIVS, "the guest's (already set)"},
	{PR_GET_NO_NEW_PRIVS, "the guest's"},
};

/* clone flags: glibc 2.36's pthread_create (after clone3 fails) and
 * fork. */
#define CLONE_THREAD_FLAGS                                                     \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND |   \
	 CLONE_THREAD | CLONE_SETTLS | CLONE_PARENT_SETTID |                   \
	 CLONE_CHILD_CLEARTID)
#define CLONE_FORK_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)

static const struct allow clones[] = {
	{CLONE_THREAD_FLAGS, "a guest thread: a host thread with a vCPU"},
	{CLONE_FORK_FLAGS, "a guest fork: a forked monitor"},
};

/* socket families: what net.c lets a guest create; AF_INET and AF_INET6
 * with --net alone (socketpair: the first only). */
static const struct allow families[] = {
	{AF_UNIX, "AF_UNIX: socketpair, and sockets in rw volumes"},
	{AF_INET, "--net"},
	{AF_INET6, "--net"},
};

/* rt_sigqueueinfo (sigqueue): the kick that tells the other monitors of
 * the tree to look at the hold word, with the tree's cookie (hold.c);
 * that signal alone (glibc's SIGRTMAX, a function, is __SIGRTMAX). */
static const struct allow kicks[] = {
	{__SIGRTMAX, "mote pause and snapshots: kick the tree's monitors"},
};

/* mmap and mprotect: any protection but PROT_EXEC. */
static const struct allow noexec[] = {{0, "no executable mapping"}};

/* prlimit64: glibc's getrlimit and setrlimit of the monitor itself (the
 * guest's limits are the monitor's bookkeeping). */
static const struct allow self[] = {{0, "pid 0: the calling process"}};

/* mote boot's monitor (src/run/boot.c), sandboxed once the VM, its vCPUs
 * and the guest's memory are set up and before its threads start: vCPU
 * threads (KVM_RUN, and the devices' port I/O served on them), the
 * console thread (stdin to the UART), virtio-net's rx thread, the
 * control thread (its socket and dir made before, src/run/bootctl.c) and
 * the signals that end a run. A device that touches host files (virtio
 * disks) or fds (the tap, opened and set up before) adds its calls
 * here. */
static const struct allow boot_plain[] = {
	A(read, "the console thread reads mote's stdin; virtio-net's rx "
		"thread empties its kick eventfd"),
	A(write, "the UART's output to stdout; mote's line on stderr; "
		 "virtio-net's rx kick (an eventfd)"),
	A(futex, "the devices' locks (UART, CMOS, PM, PCI functions), "
		 "pthread joins"),
	A(munmap, "glibc: a thread's stack, freed when it ends"),
	A(madvise, "glibc: an ending thread gives its stack back"),
	A(brk, "glibc's malloc"),
	A(set_robust_list, "glibc: thread start"),
	A(rseq, "glibc: thread start"),
	A(rt_sigaction, "SIGALRM (--timeout), SIGUSR1 (Ctrl-A x), SIGUSR2 "
			"(mote pause's kick)"),
	A(rt_sigprocmask, "the vCPU's signals blocked in the console "
			  "thread; glibc's thread start and end"),
	A(rt_sigreturn, "return from the SIGALRM, SIGUSR1 and SIGUSR2 "
			"handlers"),
	A(sigaltstack, "ASan's signal handlers and threads check theirs"),
	A(getpid, "pthread_kill: Ctrl-A x kicks vCPU 0's thread"),
	A(tgkill, "pthread_kill: Ctrl-A x kicks vCPU 0's thread, mote "
		  "pause and stop every vCPU's"),
	A(setitimer, "--timeout"),
	A(clock_gettime, "the RTC's host time where the vDSO does not serve"),
	A(clock_nanosleep, "the console waits for the guest to read the UART"),
	A(exit, "the console thread ends at the end of its input; "
		"virtio-net's rx thread when the tap fails"),
	A(exit_group, "mote ends"),
	A(preadv, "virtio-blk: a read request"),
	A(pwritev, "virtio-blk: a write request"),
	A(fdatasync, "virtio-blk: a flush"),
	A(getrandom, "virtio-rng"),
	A(writev, "virtio-net: a guest's frame to the tap"),
	A(readv, "virtio-net: a frame from the tap into the guest's buffers"),
	A(poll, "virtio-net's rx thread waits for a frame or the guest's "
		"kick"),
	A(gettid, "a vCPU thread's tid, for mote pause's kicks and stats"),
	A(ppoll, "the control thread waits for a client or its request"),
	A(accept4, "the control socket's clients"),
	A(recvmsg, "a control request, and the fd that may come with it"),
	A(sendto, "a control reply"),
	A(getsockopt, "SO_PEERCRED: a control client's uid"),
	A(setsockopt, "SO_SNDTIMEO: a control client that does not read"),
	A(close, "a control client's socket, and an fd passed with it"),
	A(newfstatat, "the control dir's removal: whether it is gone"),
	A(fstat, "the control dir's removal: whether it is gone"),
	A(unlinkat, "the control dir's socket and state file, and the dir"),
	A(sched_yield, "the control dir's removal, tried again"),
	A(pwrite64, "mote snapshot: the file's pages, state and header, "
		    "into the fd that came with the request"),
	A(ftruncate, "mote snapshot: the file emptied and sized, so that "
		     "the RAM's zero pages are holes"),
	A(mremap, "glibc's realloc of a large block: the snapshot's state "
		  "as it grows"),
};

static const struct allow boot_ioctls[] = {
	{KVM_RUN, "run a vCPU"},
	{KVM_IRQ_LINE, "the UART's and the PCI functions' interrupts"},
	{KVM_GET_REGS, "a vCPU's registers for an internal-error report"},
	{KVM_GET_SREGS, "a vCPU's registers for an internal-error report"},
	{KVM_GET_XSAVE, "mote snapshot: a vCPU's FPU, SSE and AVX state"},
	{KVM_GET_XCRS, "mote snapshot: a vCPU's XCR0"},
	{KVM_GET_LAPIC, "mote snapshot: a vCPU's in-kernel LAPIC"},
	{KVM_GET_MSRS, "mote snapshot: a vCPU's MSRs (kvmclock's, the TSC...)"},
	{KVM_GET_MP_STATE, "mote snapshot: a vCPU's run state (halted...)"},
	{KVM_GET_VCPU_EVENTS, "mote snapshot: a vCPU's pending exception, "
			      "interrupt and NMI"},
	{KVM_GET_DEBUGREGS, "mote snapshot: a vCPU's debug registers"},
	{KVM_GET_IRQCHIP, "mote snapshot: the in-kernel PIC and IOAPIC"},
	{KVM_GET_PIT2, "mote snapshot: the in-kernel PIT"},
	{KVM_GET_CLOCK, "mote snapshot: kvmclock"},
	{TCGETS, "isatty, tcgetattr: the console's terminal"},
	{TCSETS, "tcsetattr: the console raw, and back at the end"},
};

static const struct allow boot_clones[] = {
	{CLONE_THREAD_FLAGS, "pthread_create: a vCPU's, the console's, "
			     "virtio-net's rx or the control thread"},
};

/* A variant of the filter: bit 0 --net, bit 1 process_vm_readv. */
#define V_NET	 1
#define V_READV	 2
#define VARIANTS 4

/* The allowlist's size: syscalls, and those with argument filters. */
static int nallowed, nfiltered;

static int allow_arg(scmp_filter_ctx ctx, int nr, unsigned arg,
		     const struct allow *v, size_t n, scmp_datum_t mask)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c = {arg, SCMP_CMP_MASKED_EQ, mask,
					 (scmp_datum_t)v[i].nr & mask};
		int err =
			seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
		if (err)
			return err;
	}
	nallowed++;
	nfiltered++;
	return 0;
}

static int add_filtered(scmp_filter_ctx ctx, int variant)
{
	/* The kernel reads ioctl's request and socket's family as ints. */
	const scmp_datum_t ux = 0xffffffffu;
	int err = allow_arg(ctx, SCMP_SYS(ioctl), 1, ioctls, ARRAY_SIZE(ioctls),
			    ux);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(prctl), 0, prctls,
				   ARRAY_SIZE(prctls), ux);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(clone), 0, clones,
				   ARRAY_SIZE(clones), ~0ULL);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(socket), 0, families,
				   variant & V_NET ? 3 : 1, ux);
	err = err ?: allow_arg(ctx, SCMP_SYS(socketpair), 0, families, 1, ux);
	err = err ?: allow_arg(ctx, SCMP_SYS(mmap), 2, noexec, 1, PROT_EXEC);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(mprotect), 2, noexec, 1,
				   PROT_EXEC);
	err = err ?: allow_arg(ctx, SCMP_SYS(prlimit64), 0, self, 1, ~0ULL);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(rt_sigqueueinfo), 1, kicks,
				   ARRAY_SIZE(kicks), ux);
	err = err
		      ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					  SCMP_SYS(clone3), 0);
	if (!err && (variant & V_READV)) {
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
				       SCMP_SYS(process_vm_readv), 0);
		nallowed++;
	}
	return err;
}

/* A filter's start: the plain list (n entries) allowed whatever the
 * arguments. Another architecture's syscall (int $0x80) is reported like
 * a refused one; a binary tree of syscall numbers, KVM_RUN's ioctl first,
 * keeps the hot path short. */
static scmp_filter_ctx start(const struct allow *v, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return NULL;
	nallowed = nfiltered = 0;
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	err = err ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	err = err ?: seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	for (size_t i = 0; i < n && !err; i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, (int)v[i].nr, 0);
	nallowed += (int)n;
	if (err) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* mote boot's: its plain list, its ioctls, and threads as mote run's: a
 * clone with pthread_create's flags, mmap and mprotect (a new thread's
 * stack and its guard page) never PROT_EXEC. */
static scmp_filter_ctx build_boot(void)
{
	scmp_filter_ctx ctx = start(boot_plain, ARRAY_SIZE(boot_plain));
	if (!ctx)
		return NULL;
	const scmp_datum_t ux = 0xffffffffu;
	int err = allow_arg(ctx, SCMP_SYS(ioctl), 1, boot_ioctls,
			    ARRAY_SIZE(boot_ioctls), ux);
	err = err ?: allow_arg(ctx, SCMP_SYS(clone), 0, boot_clones, 1, ~0ULL);
	err = err ?: allow_arg(ctx, SCMP_SYS(mmap), 2, noexec, 1, PROT_EXEC);
	err = err
		      ?: allow_arg(ctx, SCMP_SYS(mprotect), 2, noexec, 1,
				   PROT_EXEC);
	err = err
		      ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					  SCMP_SYS(clone3), 0);
	if (err) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

static scmp_filter_ctx build(int variant)
{
	scmp_filter_ctx ctx = start(plain, ARRAY_SIZE(plain));
	if (ctx && add_filtered(ctx, variant)) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* Prints the program of ctx as a C array named filter_N. */
static int emit(scmp_filter_ctx ctx, int variant)
{
	FILE *f = tmpfile();
	if (!f || seccomp_export_bpf(ctx, fileno(f)) < 0)
		return -1;
	rewind(f);
	printf("static const struct sock_filter filter_%d[] = {\n", variant);
	struct sock_filter ins;
	while (fread(&ins, sizeof(ins), 1, f) == 1)
		printf("\t{0x%04x, %u, %u, 0x%08x},\n", ins.code, ins.jt,
		       ins.jf, ins.k);
	printf("};\n");
	fclose(f);
	return 0;
}

static void emit_names(void)
{
	printf("static const char *const sandbox_names[] = {\n");
	for (int nr = 0; nr < 512; nr++) {
		char *name =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		if (name)
			printf("\t[%d] = \"%s\",\n", nr, name);
		free(name);
	}
	printf("};\n");
}

/* The allowlist with its reasons, for people (seccomp-gen --list). */
static void list_one(const char *what, const struct allow *v, size_t n,
		     bool hex)
{
	for (size_t i = 0; i < n; i++) {
		char *name = what ? NULL
				  : seccomp_syscall_resolve_num_arch(
					    SCMP_ARCH_X86_64, (int)v[i].nr);
		if (what)
			printf(hex ? "%s 0x%lx\t%s\n" : "%s %ld\t%s\n", what,
			       v[i].nr, v[i].why);
		else
			printf("%s\t%s\n", name, v[i].why);
		free(name);
	}
}

static void list(void)
{
	list_one(NULL, plain, ARRAY_SIZE(plain), false);
	list_one("ioctl", ioctls, ARRAY_SIZE(ioctls), true);
	list_one("prctl", prctls, ARRAY_SIZE(prctls), false);
	list_one("clone", clones, ARRAY_SIZE(clones), true);
	list_one("socket", families, ARRAY_SIZE(families), false);
	list_one("mmap/mprotect", noexec, 1, false);
	list_one("prlimit64", self, 1, false);
	list_one("rt_sigqueueinfo", kicks, ARRAY_SIZE(kicks), false);
	printf("process_vm_readv\tkernels without MADV_POPULATE_READ "
	       "(mmpage.c)\n");
	printf("\nmote boot:\n");
	list_one(NULL, boot_plain, ARRAY_SIZE(boot_plain), false);
	list_one("ioctl", boot_ioctls, ARRAY_SIZE(boot_ioctls), true);
	list_one("clone", boot_clones, 1, true);
	list_one("mmap/mprotect", noexec, 1, false);
	printf("clone3\tfails with ENOSYS: glibc falls back to clone\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		list();
		return 0;
	}
	int counts[VARIANTS][2];
	printf("/* Generated by src/seccomp/policy.c: do not edit. */\n");
	for (int v = 0; v < VARIANTS; v++) {
		scmp_filter_ctx ctx = build(v);
		if (!ctx || emit(ctx, v) < 0) {
			fprintf(stderr, "seccomp-gen: cannot build filter %d\n",
				v);
			return 1;
		}
		seccomp_release(ctx);
		counts[v][0] = nallowed;
		counts[v][1] = nfiltered;
	}
	scmp_filter_ctx boot = build_boot();
	if (!boot || emit(boot, VARIANTS) < 0) {
		fprintf(stderr,
			"seccomp-gen: cannot build mote boot's filter\n");
		return 1;
	}
	seccomp_release(boot);
	printf("static const struct sandbox_filter sandbox_filters[] = {\n");
	for (int v = 0; v < VARIANTS; v++)
		printf("\t{filter_%d, ARRAY_SIZE(filter_%d), %d, %d},\n", v, v,
		       counts[v][0], counts[v][1]);
	printf("};\n");
	printf("static const struct sandbox_filter sandbox_boot_filter = "
	       "{filter_%d, ARRAY_SIZE(filter_%d), %d, %d};\n",
	       VARIANTS, VARIANTS, nallowed, nfiltered);
	emit_names();
	return 0;
}
