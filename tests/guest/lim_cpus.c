/* --cpus 1: the guest runs on one host CPU and its affinity says so; a
 * wider sched_setaffinity is narrowed to that CPU, one naming only other
 * CPUs fails with EINVAL (as a cpuset confines a Linux task).
 * tests/suites/limits.sh checks nproc and /proc/cpuinfo.
 * Natively: in a cpuset cgroup of one CPU (taskset alone lets the task
 * widen its affinity again). */
// mote-args: --cpus 1
#define _GNU_SOURCE
#include "guest.h"
#include <sched.h>

int main(void)
{
	cpu_set_t set, all;
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(CPU_COUNT(&set) == 1);
	int cpu = 0;
	while (!CPU_ISSET(cpu, &set))
		cpu++;
	memset(&all, 0xff, sizeof(all));
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set));
	CPU_CLR(cpu, &all);
	CHECK_ERR(sched_setaffinity(0, sizeof(all), &all), EINVAL);
	CHECK(sched_getcpu() == cpu);
	success();
}
