/* /proc/cpuinfo, made from the CPUID the guest sees (the VM's, not the
 * host's): its vendor, model, flags and caches, one block per CPU the
 * run may use. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "lx/procfs.h"
#include "util.h"

/* A CPUID leaf as the guest's CPUID instruction answers it: from the
 * VM's table, or on kvm_pvm from the CPU itself. */
static bool leaf(struct lx_proc *p, uint32_t fn, uint32_t idx,
		 struct kvm_cpuid_entry2 *e)
{
	static int pvm = -1;
	if (pvm < 0)
		pvm = vm_kvm_is_pvm();
	*e = (struct kvm_cpuid_entry2){.function = fn, .index = idx};
	if (pvm) {
		if (fn > (uint32_t)__get_cpuid_max(fn & 0x80000000, NULL))
			return false;
		__cpuid_count(fn, idx, e->eax, e->ebx, e->ecx, e->edx);
		return true;
	}
	const struct kvm_cpuid2 *c = p->vm.cpuid;
	for (uint32_t i = 0; c && i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    c->entries[i].index == idx) {
			*e = c->entries[i];
			return true;
		}
	return false;
}

/* Linux's names for the feature bits of one CPUID register. */
struct flagset {
	uint32_t fn, idx;
	int reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	const char *names[32];
};

static const struct flagset flagsets[] = {
	{1, 0, 3, {"fpu", "vme",  "de",	  "pse",   "tsc", "msr",     "pae",
		   "mce", "cx8",  "apic", NULL,	   "sep", "mtrr",    "pge",
		   "mca", "cmov", "pat",  "pse36", "pn",  "clflush", NULL,
		   "dts", "acpi", "mmx",  "fxsr",  "sse", "sse2",    "ss",
		   "ht",  "tm",	  "ia64", "pbe"}},
	{0x80000001,
	 0,
	 3,
	 {[11] = "syscall",
	  [19] = "mp",
	  [20] = "nx",
	  [22] = "mmxext",
	  [25] = "fxsr_opt",
	  [26] = "pdpe1gb",
	  [27] = "rdtscp",
	  [29] = "lm",
	  [30] = "3dnowext",
	  [31] = "3dnow"}},
	{1,
	 0,
	 2,
	 {"pni",    "pclmulqdq", "dtes64", "monitor", "ds_cpl",
	  "vmx",    "smx",	 "est",	   "tm2",     "ssse3",
	  "cid",    "sdbg",	 "fma",	   "cx16",    "xtpr",
	  "pdcm",   NULL,	 "pcid",   "dca",     "sse4_1",
	  "sse4_2", "x2apic",	 "movbe",  "popcnt",  "tsc_deadline_timer",
	  "aes",    "xsave",	 NULL,	   "avx",     "f16c",
	  "rdrand", "hypervisor"}},
	{0x80000001, 0, 2, {"lahf_lm",	  "cmp_legacy",	 "svm",
			    "extapic",	  "cr8_legacy",	 "abm",
			    "sse4a",	  "misalignsse", "3dnowprefetch",
			    "osvw",	  "ibs",	 "xop",
			    "skinit",	  "wdt",	 NULL,
			    "lwp",	  "fma4",	 "tce",
			    NULL,	  "nodeid_msr",	 NULL,
			    "tbm",	  "topoext",	 "perfctr_core",
			    "perfctr_nb", NULL,		 "bpext",
			    "ptsc",	  "perfctr_llc", "mwaitx"}},
	{7, 0, 1, {"fsgsbase", "tsc_adjust", "sgx",	 "bmi1",       "hle",
		   "avx2",     NULL,	     "smep",	 "bmi2",       "erms",
		   "invpcid",  "rtm",	     "cqm",	 NULL,	       "mpx",
		   "rdt_a",    "avx512f",    "avx512dq", "rdseed",     "adx",
		   "smap",     "avx512ifma", NULL,	 "clflushopt", "clwb",
		   "intel_pt", "avx512pf",   "avx512er", "avx512cd",   "sha_ni",
		   "avx512bw", "avx512vl"}},
	{0xd, 1, 0, {"xsaveopt", "xsavec", "xgetbv1", "xsaves"}},
	{7,
	 0,
	 2,
	 {NULL,
	  "avx512vbmi",
	  "umip",
	  "pku",
	  "ospke",
	  "waitpkg",
	  "avx512_vbmi2",
	  NULL,
	  "gfni",
	  "vaes",
	  "vpclmulqdq",
	  "avx512_vnni",
	  "avx512_bitalg",
	  "tme",
	  "avx512_vpopcntdq",
	  NULL,
	  "la57",
	  [22] = "rdpid",
	  [24] = "bus_lock_detect",
	  [25] = "cldemote",
	  [27] = "movdiri",
	  [28] = "movdir64b",
	  [29] = "enqcmd",
	  [30] = "sgx_lc"}},
	{7,
	 0,
	 3,
	 {[2] = "avx512_4vnniw",
	  [3] = "avx512_4fmaps",
	  [4] = "fsrm",
	  [8] = "avx512_vp2intersect",
	  [10] = "md_clear",
	  [14] = "serialize",
	  [16] = "tsxldtrk",
	  [18] = "pconfig",
	  [19] = "arch_lbr",
	  [20] = "ibt",
	  [22] = "amx_bf16",
	  [23] = "avx512_fp16",
	  [24] = "amx_tile",
	  [25] = "amx_int8",
	  [28] = "flush_l1d",
	  [29] = "arch_capabilities"}},
};

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, int reg)
{
	const uint32_t r[4] = {e->eax, e->ebx, e->ecx, e->edx};
	return r[reg];
}

static void cpu_flags(struct lx_proc *p, struct sbuf *b)
{
	sb_printf(b, "flags\t\t:");
	for (size_t i = 0; i < ARRAY_SIZE(flagsets); i++) {
		const struct flagset *f = &flagsets[i];
		struct kvm_cpuid_entry2 e;
		leaf(p, f->fn, f->idx, &e);
		uint32_t v = reg_of(&e, f->reg);
		for (int bit = 0; bit < 32; bit++)
			if ((v >> bit & 1) && f->names[bit])
				sb_printf(b, " %s", f->names[bit]);
	}
	sb_printf(b, "\n");
}

/* The brand string of leaves 0x80000002..4, without its padding. */
static void model_name(struct lx_proc *p, char out[49])
{
	memset(out, 0, 49);
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_cpuid_entry2 e;
		leaf(p, 0x80000002 + i, 0, &e);
		const uint32_t r[4] = {e.eax, e.ebx, e.ecx, e.edx};
		memcpy(out + 16 * i, r, 16);
	}
	size_t skip = strspn(out, " ");
	memmove(out, out + skip, 49 - skip);
	for (size_t n = strlen(out); n && out[n - 1] == ' '; n--)
		out[n - 1] = 0;
	if (!out[0])
		snprintf(out, 49, "mote virtual CPU");
}

void lx_procgen_cpuinfo(struct lx_proc *p, struct sbuf *b)
{
	struct kvm_cpuid_entry2 l0, l1, l16, a8;
	leaf(p, 0, 0, &l0);
	leaf(p, 1, 0, &l1);
	leaf(p, 0x16, 0, &l16);
	bool has_a8 = leaf(p, 0x80000008, 0, &a8);
	char vendor[13] = "", name[49];
	memcpy(vendor, &l0.ebx, 4);
	memcpy(vendor + 4, &l0.edx, 4);
	memcpy(vendor + 8, &l0.ecx, 4);
	model_name(p, name);
	uint32_t sig = l1.eax;
	unsigned fam = (sig >> 8) & 0xf, model = (sig >> 4) & 0xf;
	if (fam == 0xf)
		fam += (sig >> 20) & 0xff;
	if (fam >= 6)
		model |= ((sig >> 16) & 0xf) << 4;
	int ids[CPU_SETSIZE];
	int n = lx_procgen_cpus(p, ids, CPU_SETSIZE);
	for (int i = 0; i < n; i++) {
		sb_printf(b,
			  "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\n"
			  "model\t\t: %u\nmodel name\t: %s\nstepping\t: %u\n",
			  ids[i], vendor, fam, model, name, sig & 0xf);
		if (l16.eax & 0xffff)
			sb_printf(b, "cpu MHz\t\t: %u.000\n", l16.eax & 0xffff);
		sb_printf(b,
			  "physical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\n"
			  "cpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: "
			  "%d\nfpu\t\t: yes\nfpu_exception\t: yes\n"
			  "cpuid level\t: %u\nwp\t\t: yes\n",
			  n, i, n, i, i, l0.eax);
		cpu_flags(p, b);
		sb_printf(b,
			  "clflush size\t: %u\ncache_alignment\t: 64\n"
			  "address sizes\t: %u bits physical, %u bits virtual\n"
			  "power management:\n\n",
			  l1.ebx & 0xff00 ? ((l1.ebx >> 8) & 0xff) * 8 : 64,
			  has_a8 ? a8.eax & 0xff : 48,
			  has_a8 ? (a8.eax >> 8) & 0xff : 48);
	}
}
