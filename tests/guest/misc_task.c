/* close_range, getrusage, times, prctl (name, death signal, no_new_privs,
 * dumpable), priorities and scheduling parameters, memory locks,
 * membarrier (with a second thread running), capget/capset. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/times.h>

#define NOBODY 0x3fffffff /* a pid no process has */

/* The kernel's ABI, spelled out: musl's headers have no <linux/...>. */
#define CLOSE_RANGE_CLOEXEC			  (1U << 2)
#define MEMBARRIER_CMD_QUERY			  0
#define MEMBARRIER_CMD_GLOBAL			  1
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED	  8
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16
#define CAP_V1					  0x19980330
#define CAP_V3					  0x20080522
#define CAP_SYS_ADMIN				  21
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static void closing(void)
{
	int first = dup(1);
	for (int i = 0; i < 5; i++)
		CHECK(dup(1) == first + 1 + i);
	CHECK(syscall(SYS_close_range, first, first + 1, CLOSE_RANGE_CLOEXEC) ==
	      0);
	CHECK(fcntl(first, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(first + 1, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(first + 2, F_GETFD) == 0);
	CHECK(syscall(SYS_close_range, first + 3, ~0U, 0) == 0);
	CHECK_ERR(fcntl(first + 3, F_GETFD), EBADF);
	CHECK_ERR(fcntl(first + 5, F_GETFD), EBADF);
	CHECK(fcntl(first + 2, F_GETFD) == 0);
	CHECK(syscall(SYS_close_range, first, first + 2, 0) == 0);
	CHECK_ERR(fcntl(first, F_GETFD), EBADF);
	CHECK_ERR(syscall(SYS_close_range, 10, 5, 0), EINVAL);
	CHECK_ERR(syscall(SYS_close_range, 3, 5, 0x100), EINVAL);
	CHECK(fcntl(1, F_GETFD) >= 0); /* stdout is still there */
}

static void usage(void)
{
	struct rusage ru;
	volatile uint64_t x = 0;
	for (int i = 0; i < 20000000; i++)
		x += i;
	CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
	CHECK(ru.ru_maxrss > 0);
	CHECK(ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0 ||
	      ru.ru_stime.tv_usec > 0);
	CHECK(getrusage(RUSAGE_THREAD, &ru) == 0);
	CHECK(getrusage(RUSAGE_CHILDREN, &ru) == 0);
	CHECK_ERR(getrusage(5, &ru), EINVAL);
	CHECK_ERR(getrusage(RUSAGE_SELF, BAD_PTR), EFAULT);
	struct tms tm;
	CHECK(times(&tm) != (clock_t)-1);
	CHECK(tm.tms_utime + tm.tms_stime >= 0);
	CHECK(syscall(SYS_times, NULL) != -1);
	CHECK_ERR(syscall(SYS_times, BAD_PTR), EFAULT);
}

static void names(const char *argv0)
{
	char name[32] = {0};
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	CHECK(prctl(PR_GET_NAME, name) == 0);
	CHECK(strncmp(name, base, 15) == 0 && strlen(name) <= 15);
	CHECK(prctl(PR_SET_NAME, "mote-test-name-long") == 0);
	CHECK(prctl(PR_GET_NAME, name) == 0);
	CHECK(strcmp(name, "mote-test-name-") == 0);
	CHECK(prctl(PR_SET_NAME, "short") == 0);
	CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "short") == 0);
	CHECK_ERR(prctl(PR_SET_NAME, BAD_PTR), EFAULT);
	CHECK_ERR(prctl(PR_GET_NAME, BAD_PTR), EFAULT);

	int sig = -1;
	CHECK(prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0);
	CHECK(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGUSR1);
	CHECK(prctl(PR_SET_PDEATHSIG, 0) == 0);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 100), EINVAL);
	CHECK_ERR(prctl(PR_GET_PDEATHSIG, BAD_PTR), EFAULT);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0), EINVAL);
	CHECK(prctl(PR_GET_DUMPABLE) == 1);
	CHECK(prctl(PR_SET_DUMPABLE, 0) == 0 && prctl(PR_GET_DUMPABLE) == 0);
	CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
	CHECK_ERR(prctl(PR_SET_DUMPABLE, 5), EINVAL);
	CHECK_ERR(prctl(9999, 0, 0, 0, 0), EINVAL);
}

static void priorities(void)
{
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	CHECK(errno == 0 && nice >= -20 && nice <= 19);
	long raw = syscall(SYS_getpriority, PRIO_PROCESS, 0);
	CHECK(raw == 20 - nice);
	if (nice < 19) {
		CHECK(setpriority(PRIO_PROCESS, 0, nice + 1) == 0);
		CHECK(getpriority(PRIO_PROCESS, getpid()) == nice + 1);
	}
	CHECK(getpriority(PRIO_PGRP, 0) >= -20);
	CHECK_ERR(getpriority(PRIO_PROCESS, NOBODY), ESRCH);
	CHECK_ERR(setpriority(PRIO_PROCESS, NOBODY, 0), ESRCH);
	CHECK_ERR(getpriority(99, 0), EINVAL);
	struct sched_param sp = {.sched_priority = 5};
	CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
	CHECK(syscall(SYS_sched_getparam, 0, &sp) == 0 &&
	      sp.sched_priority == 0);
	CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getparam, -1, &sp), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getparam, 0, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_sched_getparam, NOBODY, &sp), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getscheduler, -1), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getscheduler, NOBODY), ESRCH);
	CHECK(sched_get_priority_max(SCHED_FIFO) == 99);
	CHECK(sched_get_priority_min(SCHED_RR) == 1);
	CHECK(sched_get_priority_max(SCHED_OTHER) == 0);
	CHECK_ERR(sched_get_priority_max(99), EINVAL);
	CHECK_ERR(sched_get_priority_min(-1), EINVAL);
}

static void locks(void)
{
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK(mlock(m + 10, 4096) == 0);
	CHECK(munlock(m, 3 * 4096) == 0);
	CHECK(syscall(SYS_mlock2, m, 4096, MLOCK_ONFAULT) == 0);
	CHECK_ERR(syscall(SYS_mlock2, m, 4096, 2), EINVAL);
	CHECK(munmap(m + 4096, 4096) == 0);
	CHECK_ERR(mlock(m, 3 * 4096), ENOMEM);
	CHECK_ERR(munlock(m + 4096, 10), ENOMEM);
	CHECK_ERR(mlock((void *)-4096L, 8192), EINVAL);
	CHECK(mlock(m, 0) == 0);
	CHECK_ERR(mlockall(0), EINVAL);
	CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
	CHECK_ERR(mlockall(0x100), EINVAL);
	CHECK(munlockall() == 0);
}

static volatile int stop;

static void *spin(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

static void barriers(void)
{
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	CHECK(q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	pthread_t th;
	CHECK(pthread_create(&th, NULL, spin, NULL) == 0);
	CHECK_ERR(
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0),
		EPERM);
	CHECK(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		      0, 0) == 0);
	for (int i = 0; i < 100; i++)
		CHECK(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED,
			      0, 0) == 0);
	if (q & MEMBARRIER_CMD_GLOBAL)
		CHECK(syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) ==
		      0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK_ERR(syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_membarrier, 3, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_membarrier, 1 << 20, 0, 0), EINVAL);
}

static void caps(void)
{
	struct cap_header h = {CAP_V3, 0};
	struct cap_data d[2];
	CHECK(syscall(SYS_capget, &h, d) == 0);
	if (getuid() != 0)
		CHECK(d[0].effective == 0 && d[0].permitted == 0);
	CHECK(syscall(SYS_capset, &h, d) == 0); /* no change */
	if (getuid() != 0) {
		struct cap_data up[2];
		memcpy(up, d, sizeof(up));
		up[0].effective = up[0].permitted = 1U << CAP_SYS_ADMIN;
		CHECK_ERR(syscall(SYS_capset, &h, up), EPERM);
	}
	h.pid = NOBODY;
	CHECK_ERR(syscall(SYS_capset, &h, d), EPERM);
	CHECK_ERR(syscall(SYS_capget, &h, d), ESRCH);
	h.pid = -1;
	CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
	/* The version dance: a bad one is answered with the one to use. */
	h = (struct cap_header){0x1234, 0};
	CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
	CHECK(h.version == CAP_V3);
	h.version = 0x1234;
	CHECK(syscall(SYS_capget, &h, NULL) == 0);
	CHECK(h.version == CAP_V3);
	h.version = 0x1234;
	CHECK_ERR(syscall(SYS_capset, &h, d), EINVAL);
	h.version = CAP_V1;
	CHECK(syscall(SYS_capget, &h, d) == 0);
	CHECK_ERR(syscall(SYS_capget, BAD_PTR, d), EFAULT);
	h.version = CAP_V3;
	CHECK_ERR(syscall(SYS_capget, &h, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_capset, &h, BAD_PTR), EFAULT);
}

int main(int argc, char **argv)
{
	(void)argc;
	closing();
	usage();
	names(argv[0]);
	priorities();
	locks();
	barriers();
	caps();
	success();
}
