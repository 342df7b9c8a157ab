/* The machine as the guest's /proc shows it: /proc/cpuinfo has one entry
 * per CPU the guest may run on (what sysconf and sched_getaffinity say)
 * with the flags CPUID gives it; /proc/meminfo's MemTotal is --memory;
 * uptime, stat, version and the sysctls answer; /dev's usual names work. */
// mote-args: --memory 256M
#define _GNU_SOURCE
#include "guest.h"
#include <cpuid.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static char buf[1 << 17];

static long slurp(const char *path)
{
	long fd = syscall(SYS_open, path, O_RDONLY, 0);
	CHECK(fd >= 0);
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	CHECK(r == 0 && close(fd) == 0);
	buf[n] = 0;
	return n;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *s = hay; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* Whether the first "flags" line lists flag. */
static int has_flag(const char *flag)
{
	char *s = strstr(buf, "\nflags\t\t:");
	CHECK(s);
	char *nl = strchr(s + 1, '\n');
	char want[32];
	snprintf(want, sizeof(want), " %s", flag);
	size_t n = strlen(want);
	for (char *p = s + 1; (p = strstr(p, want)) && p < nl; p++)
		if (p[n] == ' ' || p[n] == '\n')
			return 1;
	return 0;
}

static void cpus(void)
{
	slurp("/proc/cpuinfo");
	int n = count(buf, "processor\t: ");
	cpu_set_t set;
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(n >= 1 && n == CPU_COUNT(&set));
	CHECK(n == sysconf(_SC_NPROCESSORS_ONLN));
	unsigned a, b, c, d;
	CHECK(__get_cpuid(1, &a, &b, &c, &d));
	CHECK(has_flag("sse2") == !!(d & (1 << 26)));
	CHECK(has_flag("fpu") == !!(d & 1));
	CHECK(has_flag("avx") == !!(c & (1 << 28)));
	CHECK(has_flag("vmx") == !!(c & (1 << 5)));
	__cpuid_count(7, 0, a, b, c, d);
	CHECK(has_flag("avx2") == !!(b & (1 << 5)));
	CHECK(has_flag("avx512f") == !!(b & (1 << 16)));
	slurp("/proc/stat");
	CHECK(count(buf, "\ncpu") == n);
}

static void memory(void)
{
	slurp("/proc/meminfo");
	unsigned long total = 0, avail = 0;
	char *s = strstr(buf, "MemTotal:");
	CHECK(s && sscanf(s, "MemTotal: %lu kB", &total) == 1);
	CHECK(total == 256 * 1024);
	s = strstr(buf, "MemAvailable:");
	CHECK(s && sscanf(s, "MemAvailable: %lu kB", &avail) == 1);
	CHECK(avail > 0 && avail < total);
}

static void misc(void)
{
	double up, idle;
	slurp("/proc/uptime");
	CHECK(sscanf(buf, "%lf %lf", &up, &idle) == 2 && up >= 0 && up < 60);
	slurp("/proc/version");
	CHECK(strncmp(buf, "Linux version ", 14) == 0 && strstr(buf, "mote"));
	slurp("/proc/sys/kernel/ostype");
	CHECK(strcmp(buf, "Linux\n") == 0);
	slurp("/proc/sys/kernel/osrelease");
	struct utsname u;
	CHECK(uname(&u) == 0 &&
	      strncmp(buf, u.release, strlen(u.release)) == 0);
	slurp("/proc/loadavg");
	CHECK(count(buf, " ") == 4);
	CHECK_ERR(syscall(SYS_open, "/proc/sys/kernel/ostype", O_WRONLY, 0),
		  EACCES);
	CHECK_ERR(syscall(SYS_open, "/proc/sys/vm/overcommit_memory", O_RDONLY,
			  0),
		  ENOENT);
}

static void devs(void)
{
	char b[16];
	struct stat st;
	long fd = syscall(SYS_open, "/dev/null", O_WRONLY | O_CREAT | O_TRUNC,
			  0666);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0);
	fd = syscall(SYS_open, "/dev/zero", O_RDONLY, 0);
	CHECK(fd >= 0 && read(fd, b, 4) == 4 && !b[0] && !b[3] &&
	      close(fd) == 0);
	fd = syscall(SYS_open, "/dev/urandom", O_RDONLY, 0);
	CHECK(fd >= 0 && read(fd, b, 16) == 16 && close(fd) == 0);
	CHECK(stat("/dev/random", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK_ERR(syscall(SYS_open, "/dev/null", O_CREAT | O_EXCL, 0), EEXIST);
	CHECK_ERR(syscall(SYS_open, "/dev/null/x", O_RDONLY, 0), ENOTDIR);
	CHECK(lstat("/dev/fd", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat("/dev/fd", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(lstat("/dev/stderr", &st) == 0 && S_ISLNK(st.st_mode));
	long n = readlink("/dev/fd", b, sizeof(b));
	CHECK(n == 13 && memcmp(b, "/proc/self/fd", 13) == 0);
}

int main(void)
{
	cpus();
	memory();
	misc();
	devs();
	success();
}
