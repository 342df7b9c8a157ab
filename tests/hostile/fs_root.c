/* Attack: leave the guest root (an empty scratch directory) or reach the
 * monitor's descriptors: "..", absolute and relative symlinks the guest
 * makes in its rw volume, symlink loops and long chains, /proc/self/root,
 * /proc/self/cwd, /proc/1/root, /proc/self/fd/N and openat(N, ...) for N
 * where the monitor keeps its fds (KVM, the VM, vCPUs, the root and volume
 * directories: just above the guest's RLIMIT_NOFILE hard limit, see
 * fd_high in src/util.c, and low numbers a plain program would have), and
 * execve of such an fd.
 * Promise (docs/security.md): paths resolve inside the root and volumes
 * only: what is outside is ENOENT; a loop is ELOOP; guest fd numbers index
 * the guest's own table, so a monitor fd number is EBADF (ENOENT under
 * /proc/self/fd), whatever N. Nothing outside the root is created
 * (suites/fs.sh checks a prepared host tree from outside). */
// mote-args: --root @TMP@ --volume @TMP@:/data:rw
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static long sys_open(const char *p, int fl)
{
	return syscall(SYS_open, p, fl, 0644);
}

static void dots_and_links(void)
{
	const char *out[] = {"../../../../etc/passwd",
			     "/../../../etc/passwd",
			     "/data/../../../../etc/passwd",
			     "/data/abs/passwd",
			     "/data/rel/passwd",
			     "/data/rel/../../etc/passwd",
			     "/proc/self/root/etc/passwd",
			     "/proc/self/root/../../etc/passwd",
			     "/proc/self/cwd/../../etc/passwd",
			     "/proc/1/root/etc/passwd",
			     "/proc/self/root/proc/self/root/etc/passwd",
			     "/dev/kvm"};
	CHECK(symlink("/etc", "/data/abs") == 0);
	CHECK(symlink("../../../../../../../../etc", "/data/rel") == 0);
	for (unsigned i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		CHECK_ERR(sys_open(out[i], O_RDONLY), ENOENT);
		CHECK_ERR(sys_open(out[i], O_PATH), ENOENT);
	}
	/* Creating through a link that points outside lands nowhere or in
	 * the volume, never outside it. */
	CHECK(symlink("/../../../../tmp/mote-hostile-escape", "/data/new") ==
	      0);
	CHECK_ERR(sys_open("/data/new", O_CREAT | O_WRONLY), ENOENT);
	char buf[64];
	long n = readlink("/proc/self/root", buf, sizeof(buf));
	CHECK(n == 1 && buf[0] == '/');
}

static void loops(void)
{
	/* Relative: an absolute link in a volume resolves from the volume's
	 * top (docs/abi.md), where "/data/b" is not. */
	CHECK(symlink("b", "/data/a") == 0);
	CHECK(symlink("./a", "/data/b") == 0);
	CHECK(symlink("self", "/data/self") == 0);
	CHECK_ERR(sys_open("/data/a", O_RDONLY), ELOOP);
	CHECK_ERR(sys_open("/data/self", O_RDONLY), ELOOP);
	CHECK_ERR(sys_open("/data/self/x", O_CREAT | O_WRONLY), ELOOP);
	struct stat st;
	CHECK_ERR(stat("/data/a", &st), ELOOP);
	CHECK(lstat("/data/a", &st) == 0 && S_ISLNK(st.st_mode));
	/* A chain of 41: past Linux's 40 links. */
	char from[32], to[32];
	for (int i = 0; i < 41; i++) {
		snprintf(from, sizeof(from), "/data/c%d", i);
		snprintf(to, sizeof(to), "c%d", i + 1);
		CHECK(symlink(to, from) == 0);
	}
	CHECK(mkdir("/data/c41", 0755) == 0);
	CHECK_ERR(sys_open("/data/c0", O_RDONLY), ELOOP);
	long fd = sys_open("/data/c2", O_RDONLY); /* 39 is fine */
	CHECK(fd >= 0 && close(fd) == 0);
}

/* Each number N must name nothing of the monitor's. */
static void not_mine(int n)
{
	char p[64];
	CHECK_ERR(fcntl(n, F_GETFD), EBADF);
	CHECK_ERR(syscall(SYS_openat, n, "etc", O_RDONLY), EBADF);
	CHECK_ERR(syscall(SYS_openat, n, "..", O_RDONLY), EBADF);
	CHECK_ERR(syscall(SYS_read, n, p, 1), EBADF);
	CHECK_ERR(syscall(SYS_ioctl, n, 0xae01 /* KVM_CREATE_VM */, 0), EBADF);
	CHECK_ERR(syscall(SYS_dup, n), EBADF);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", n);
	CHECK_ERR(sys_open(p, O_RDONLY), ENOENT);
	char l[64];
	CHECK_ERR(readlink(p, l, sizeof(l)), ENOENT);
}

static void monitor_fds(void)
{
	struct rlimit r;
	CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0);
	for (int n = 3; n < 1024; n++)
		not_mine(n);
	int top = r.rlim_max < (1 << 20) ? (int)r.rlim_max : 1 << 20;
	for (int n = top; n < top + 600; n++)
		not_mine(n);
	int likely[] = {65535, 524287, 1048575, 1048576, 0x7fffffff};
	for (unsigned i = 0; i < 5; i++)
		not_mine(likely[i]);
	/* dup2 onto such a number is the guest's own limit, not a hijack. */
	CHECK_ERR(dup2(1, top + 20), EBADF);
	char *argv[] = {"x", NULL};
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", top + 20);
	CHECK_ERR(execve(p, argv, argv + 1), ENOENT);
	CHECK_ERR(syscall(SYS_execveat, top + 20, "", argv, argv + 1,
			  AT_EMPTY_PATH),
		  EBADF);
}

int main(void)
{
	dots_and_links();
	loops();
	monitor_fds();
	success();
}
