/* Identity and system information: ids, groups, uname, sysinfo,
 * getrandom, sched_getaffinity, sched_yield. */
// mote-args: --memory 256M
#define _GNU_SOURCE
#include "guest.h"
#include <sched.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

static void ids(void)
{
	long pid = syscall(SYS_getpid);
	CHECK(pid > 0);
	CHECK(syscall(SYS_gettid) == pid); /* one thread: tid == pid */
	CHECK(getpid() == pid);
	CHECK(syscall(SYS_getppid) > 0 && syscall(SYS_getppid) != pid);
	long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
	long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
	CHECK(uid >= 0 && euid >= 0 && gid >= 0 && egid >= 0);
	CHECK(uid == (long)getuid() && gid == (long)getgid());

	int n = (int)syscall(SYS_getgroups, 0, NULL);
	CHECK(n >= 0 && n <= 65536);
	gid_t *g = calloc(n + 1, sizeof(*g));
	CHECK(g);
	CHECK(syscall(SYS_getgroups, n, g) == n);
	CHECK(syscall(SYS_getgroups, n + 1, g) == n);
	CHECK_ERR(syscall(SYS_getgroups, -1, g), EINVAL);
	if (n > 0) {
		CHECK_ERR(syscall(SYS_getgroups, n - 1, g), EINVAL);
		CHECK_ERR(syscall(SYS_getgroups, n, BAD_PTR), EFAULT);
	}
	free(g);
}

static void names(void)
{
	struct utsname u;
	CHECK(syscall(SYS_uname, &u) == 0);
	CHECK(strcmp(u.sysname, "Linux") == 0);
	CHECK(strcmp(u.machine, "x86_64") == 0);
	CHECK(u.release[0] >= '1' && u.release[0] <= '9');
	CHECK_ERR(syscall(SYS_uname, BAD_PTR), EFAULT);

	struct sysinfo si;
	CHECK(syscall(SYS_sysinfo, &si) == 0);
	CHECK(si.mem_unit >= 1);
	CHECK((uint64_t)si.totalram * si.mem_unit == 256ULL << 20);
	CHECK(si.freeram > 0 && si.freeram <= si.totalram);
	CHECK(si.procs >= 1);
	CHECK_ERR(syscall(SYS_sysinfo, BAD_PTR), EFAULT);
}

static void randomness(void)
{
	unsigned char a[32], b[32], zero[32] = {0};
	CHECK(syscall(SYS_getrandom, a, sizeof(a), 0) == 32);
	CHECK(syscall(SYS_getrandom, b, sizeof(b), GRND_NONBLOCK) == 32);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK(memcmp(a, zero, 32) != 0 && memcmp(b, zero, 32) != 0);
	CHECK(syscall(SYS_getrandom, a, 0, 0) == 0);
	CHECK_ERR(syscall(SYS_getrandom, a, sizeof(a), 0x100), EINVAL);
	CHECK_ERR(syscall(SYS_getrandom, a, sizeof(a), -1), EINVAL);
}

static void affinity(void)
{
	uint64_t set[16] = {0};
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), set);
	CHECK(n >= 8 && n % 8 == 0 && n <= (long)sizeof(set));
	int cpus = 0;
	for (long i = 0; i < n / 8; i++)
		cpus += __builtin_popcountll(set[i]);
	CHECK(cpus >= 1);
	CHECK(syscall(SYS_sched_getaffinity, getpid(), sizeof(set), set) == n);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 1, set), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(set), BAD_PTR),
		  EFAULT);
	cpu_set_t cs;
	CHECK(sched_getaffinity(0, sizeof(cs), &cs) == 0 &&
	      CPU_COUNT(&cs) >= 1);
	CHECK(syscall(SYS_sched_yield) == 0);
	CHECK(sched_yield() == 0);
}

int main(void)
{
	ids();
	names();
	randomness();
	affinity();
	success();
}
