/* Attack: the syscalls that act on the host beyond one process: debug or
 * write another process (ptrace, process_vm_*, pidfd_getfd, kcmp), load
 * code into the kernel (kexec_*, bpf, init_module, finit_module,
 * delete_module, seccomp), change mounts and namespaces (mount, umount2,
 * pivot_root, chroot, setns, unshare, clone3), the kernel's keyrings,
 * io_uring, userfaultfd, perf_event_open, fanotify, handles, swap, reboot,
 * the clock, the hostname, credentials (setuid(0) and friends, capset),
 * I/O privilege (iopl, ioperm, modify_ldt), device nodes; a host network
 * socket without --net; unknown ioctls on stdin (a tty's TIOCSTI
 * injection, KVM's own requests, a request with junk in the upper bits).
 * Promise: all refused: mote implements none of the first groups, so each
 * is ENOSYS (Linux would say EPERM to an unprivileged caller; ENOSYS is
 * what mote documents for what it does not implement, and what libcs fall
 * back on); a socket of the host's network is EACCES without --net; an
 * ioctl mote does not know is ENOTTY and never reaches the host's fd.
 * Afterwards the host is unchanged as far as the guest can see: the
 * clock, the hostname, the root. */
// expect-stderr: network access is off
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

#define NOSYS(...) CHECK_ERR(syscall(__VA_ARGS__), ENOSYS)

static char buf[256];

static void others_and_kernel(void)
{
	NOSYS(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0);
	NOSYS(SYS_ptrace, 16 /* ATTACH */, getppid(), 0, 0);
	NOSYS(SYS_ptrace, 16, 1, 0, 0);
	NOSYS(SYS_process_vm_readv, 1, buf, 1, buf, 1, 0);
	NOSYS(SYS_process_vm_writev, getppid(), buf, 1, buf, 1, 0);
	NOSYS(SYS_pidfd_open, 1, 0);
	NOSYS(SYS_pidfd_getfd, 0, 3, 0);
	NOSYS(SYS_kcmp, 1, getpid(), 0, 0, 0);
	NOSYS(SYS_kexec_load, 0, 0, 0, 0);
	NOSYS(SYS_kexec_file_load, 0, 0, 0, "", 0);
	NOSYS(SYS_bpf, 0, buf, 48);
	NOSYS(SYS_init_module, buf, 16, "");
	NOSYS(SYS_finit_module, 0, "", 0);
	NOSYS(SYS_delete_module, "kvm", 0);
	NOSYS(SYS_seccomp, 0, 0, 0);
	NOSYS(SYS_perf_event_open, buf, 0, -1, -1, 0);
	NOSYS(SYS_userfaultfd, 0);
	NOSYS(SYS_io_uring_setup, 1, buf);
	NOSYS(SYS_keyctl, 0, 0);
	NOSYS(SYS_add_key, "user", "x", "y", 1, -2);
	NOSYS(SYS_request_key, "user", "x", 0, 0);
	NOSYS(SYS_fanotify_init, 0, 0);
	NOSYS(SYS_open_by_handle_at, 0, buf, 0);
	NOSYS(SYS_name_to_handle_at, 0, "/", buf, buf, 0);
	NOSYS(SYS_lookup_dcookie, 0, buf, 1);
	NOSYS(SYS_memfd_secret, 0);
}

static void system_wide(void)
{
	struct timeval tv = {0};
	struct timespec ts = {0};
	NOSYS(SYS_mount, "none", "/tmp", "tmpfs", 0, 0);
	NOSYS(SYS_mount, "/", "/", NULL, 4096 /* MS_BIND */, 0);
	NOSYS(SYS_umount2, "/", 2 /* MNT_DETACH */);
	NOSYS(SYS_pivot_root, "/", "/");
	NOSYS(SYS_chroot, "/tmp");
	NOSYS(SYS_setns, 0, 0);
	NOSYS(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
	NOSYS(SYS_unshare, 0x00020000 /* CLONE_NEWNS */);
	NOSYS(SYS_swapon, "/x", 0);
	NOSYS(SYS_swapoff, "/x");
	NOSYS(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
	NOSYS(SYS_settimeofday, &tv, 0);
	NOSYS(SYS_clock_settime, CLOCK_REALTIME, &ts);
	NOSYS(SYS_adjtimex, buf);
	NOSYS(SYS_clock_adjtime, CLOCK_REALTIME, buf);
	NOSYS(SYS_sethostname, "pwned", 5);
	NOSYS(SYS_setdomainname, "pwned", 5);
	NOSYS(SYS_acct, "/x");
	NOSYS(SYS_quotactl, 0, "", 0, 0);
	NOSYS(SYS_syslog, 3, buf, 10);
	NOSYS(SYS_vhangup);
	NOSYS(SYS_mknod, "/tmp/kvm", 020666, 0x0a00 | 232);
}

static void credentials(void)
{
	NOSYS(SYS_setuid, 0);
	NOSYS(SYS_setgid, 0);
	NOSYS(SYS_setresuid, 0, 0, 0);
	NOSYS(SYS_setreuid, 0, 0);
	NOSYS(SYS_setgroups, 0, 0);
	NOSYS(SYS_iopl, 3);
	NOSYS(SYS_ioperm, 0, 1024, 1);
	NOSYS(SYS_modify_ldt, 1, buf, 16);
	NOSYS(SYS_personality, 0x0008 /* READ_IMPLIES_EXEC */);
	/* capset's header check comes first, as on Linux. */
	CHECK_ERR(syscall(SYS_capset, buf, buf), EINVAL);
}

static void no_net(void)
{
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, 0), EACCES);
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, 0), EACCES);
	CHECK_ERR(socket(AF_INET6, SOCK_STREAM, 0), EACCES);
	CHECK_ERR(socket(AF_INET, SOCK_RAW, 1), EACCES);
}

static void ioctls(void)
{
	unsigned long reqs[] = {
		0x5412,		      /* TIOCSTI: type into the host tty */
		0x540e,		      /* TIOCSCTTY */
		0x541d,		      /* TIOCCONS */
		0x4b3a,		      /* KDSETMODE */
		0xae00,		      /* KVM_GET_API_VERSION */
		0xae01,		      /* KVM_CREATE_VM */
		0xae80,		      /* KVM_RUN */
		0xdeadbeef,	      /* nothing */
		0xffffffff00005412UL, /* TIOCSTI in the low 32 bits */
	};
	int p[2];
	CHECK(pipe(p) == 0);
	for (unsigned i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		CHECK_ERR(syscall(SYS_ioctl, 0, reqs[i], "x"), ENOTTY);
		CHECK_ERR(syscall(SYS_ioctl, p[0], reqs[i], "x"), ENOTTY);
	}
}

int main(void)
{
	struct utsname u0, u1;
	struct timespec t0, t1;
	CHECK(uname(&u0) == 0);
	CHECK(clock_gettime(CLOCK_REALTIME, &t0) == 0);
	others_and_kernel();
	system_wide();
	credentials();
	no_net();
	ioctls();
	/* Nothing moved. */
	CHECK(uname(&u1) == 0 && strcmp(u0.nodename, u1.nodename) == 0);
	CHECK(clock_gettime(CLOCK_REALTIME, &t1) == 0);
	CHECK(t1.tv_sec >= t0.tv_sec && t1.tv_sec - t0.tv_sec < 60);
	struct stat st;
	CHECK(stat("/proc/self/exe", &st) == 0);
	success();
}
