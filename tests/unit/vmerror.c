/* vm_enokvm_hint: the fix a missing /dev/kvm gets named, from fabricated
 * /sys/module dirs and /proc/cpuinfo files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "vm/vm.h"

/* One fresh dir per machine: a modules dir and a cpuinfo file in it. */
static char mods[64], cpuinfo[64];
static char made[64][128];
static int nmade;

static void note(const char *path)
{
	if (nmade < 64)
		snprintf(made[nmade++], sizeof(made[0]), "%s", path);
}

/* A machine with the modules named (space-separated) and the CPU flags. */
static void machine(const char *modules, const char *flags)
{
	char dir[] = "/tmp/mote-unit-vmerror-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	snprintf(mods, sizeof(mods), "%s/m", dir);
	snprintf(cpuinfo, sizeof(cpuinfo), "%s/c", dir);
	mkdir(mods, 0755);
	char buf[128];
	for (const char *m = modules; *m;) {
		size_t n = strcspn(m, " ");
		snprintf(buf, sizeof(buf), "%s/%.*s", mods, (int)n, m);
		mkdir(buf, 0755);
		note(buf);
		m += n + (m[n] == ' ');
	}
	note(mods);
	FILE *f = fopen(cpuinfo, "w");
	fprintf(f, "processor\t: 0\nflags\t\t: fpu vme %s sse2\n\n", flags);
	fclose(f);
	note(cpuinfo);
	note(dir);
}

static int says(const char *what)
{
	return strstr(vm_enokvm_hint(mods, cpuinfo), what) != NULL;
}

static void enokvm_nested_vm(void)
{
	machine("kvm_pvm kvm", "hypervisor");
	CHECK(says("a VM without nested virtualization"));
	CHECK(says("make check"));
	machine("", "hypervisor");
	CHECK(says("a VM without nested virtualization"));
}

static void enokvm_module(void)
{
	machine("", "vmx");
	CHECK(says("modprobe kvm_intel"));
	machine("", "svm");
	CHECK(says("modprobe kvm_amd"));
	/* "svm" inside another flag is no SVM. */
	machine("", "svmx_not_a_flag hypervisor");
	CHECK(says("a VM without nested virtualization"));
}

static void enokvm_firmware(void)
{
	machine("kvm", "vmx");
	CHECK(says("firmware"));
	machine("", "");
	CHECK(says("enable virtualization in the firmware"));
}

static void cases(void)
{
	RUN(enokvm_nested_vm);
	RUN(enokvm_module);
	RUN(enokvm_firmware);
}

int main(void)
{
	int st = unit_main(cases, NULL);
	for (int i = 0; i < nmade; i++)
		remove(made[i]);
	return st;
}
