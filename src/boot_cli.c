/* mote boot's command line: its options, checked, for run/boot.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_cli.h"
#include "ctl/ctl.h"
#include "run/boot.h"
#include "util.h"
#include "vm/plain.h"

static const char boot_usage[] =
	"usage: mote boot --kernel BZIMAGE [options]\n"
	"\n"
	"Boots a Linux kernel (a distribution's stock bzImage, e.g. Debian's\n"
	"vmlinuz) in its own KVM VM, with its serial console (ttyS0) on\n"
	"mote's stdin and stdout; Ctrl-A x quits. See docs/boot.md.\n"
	"\n"
	"  --kernel BZIMAGE      the kernel (boot protocol 2.12 or later)\n"
	"  --initrd FILE         its initramfs\n"
	"  --append \"ARGS\"       the kernel command line; default\n"
	"                        \"" BOOT_CMDLINE "\"\n"
	"  --memory SIZE         guest RAM, 64M to 3G; default 512M\n"
	"  --cpus N              vCPUs, 1 to 64 (each a host thread); "
	"default 1\n"
	"  --timeout SECONDS     stop the guest after SECONDS (status 124)\n"
	"  --disk FILE[:ro]      a virtio disk (/dev/vda, vdb... in order) "
	"over\n"
	"                        a file or block device; :ro makes it\n"
	"                        read-only; up to 8. A virtio-rng is always\n"
	"                        there (/dev/hwrng)\n"
	"  --net TAP             a virtio network card (eth0) on the host's\n"
	"                        tap interface TAP, which must exist (ip\n"
	"                        tuntap add dev TAP mode tap user $USER)\n"
	"  --no-sandbox          run the monitor without its seccomp filter\n"
	"                        and Landlock rules (debugging)\n"
	"  --name NAME           the guest's name for mote ps, pause, resume,\n"
	"                        stats, snapshot and stop (letters, digits,\n"
	"                        '.', '_', '-'); default: a generated id\n"
	"  --snapshot: not supported yet (take one with mote snapshot NAME\n"
	"                        FILE; mote restore FILE runs it again)\n"
	"\n"
	"exit status: 0 when the guest powered off (poweroff -f), rebooted\n"
	"(reboot -f) or on Ctrl-A x; 1 when its kernel reset the CPU (a "
	"triple\n"
	"fault); 2 when its kernel panicked (told through pvpanic); 124 on\n"
	"--timeout; 137 on mote stop; 125 if mote failed (bad option, bad "
	"kernel file, no "
	"usable\n"
	"KVM, a syscall the monitor's sandbox refused).\n";

static noreturn void boot_bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "mote: boot: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see mote boot --help)\n");
	exit(MOTE_EXIT_FAIL);
}

static const struct option boot_options[] = {
	{"kernel", required_argument, NULL, 'k'},
	{"initrd", required_argument, NULL, 'i'},
	{"append", required_argument, NULL, 'a'},
	{"memory", required_argument, NULL, 'm'},
	{"cpus", required_argument, NULL, 'c'},
	{"timeout", required_argument, NULL, 't'},
	{"no-sandbox", no_argument, NULL, 'S'},
	{"disk", required_argument, NULL, 'd'},
	{"net", required_argument, NULL, 'n'},
	{"name", required_argument, NULL, 'N'},
	{"snapshot", required_argument, NULL, 'U'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static void boot_memory(struct boot_opts *o, const char *arg)
{
	uint64_t v;
	if (parse_size(arg, &v) < 0)
		boot_bad("--memory %s: expected a size like 512M or 2G", arg);
	if (v < PLAIN_MEM_MIN)
		boot_bad("--memory %s: must be at least 64M", arg);
	if (v > PLAIN_MEM_MAX)
		boot_bad("--memory %s: must be at most 3G (more needs RAM "
			 "above 4 GiB, not done yet)",
			 arg);
	o->memory = ALIGN_UP(v, 2ULL << 20);
}

static void boot_cpus(struct boot_opts *o, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] < '1' || arg[0] > '9' || n > BOOT_CPUS_MAX)
		boot_bad("--cpus %s: expected a number of vCPUs from 1 to 64",
			 arg);
	o->cpus = (unsigned)n;
}

static void boot_timeout(struct boot_opts *o, const char *arg)
{
	double v;
	if (parse_seconds(arg, &v) < 0 || v < 0.001 || v > 366 * 86400.0)
		boot_bad("--timeout %s: expected seconds from 0.001, like 30 "
			 "or 0.5",
			 arg);
	o->timeout_ns = (uint64_t)(v * 1e9);
	o->timeout_arg = arg;
}

static void boot_disk(struct boot_opts *o, const char *arg)
{
	_Static_assert(BOOT_DISKS_MAX == 8, "the line and --help say 8");
	if (o->ndisks == BOOT_DISKS_MAX)
		boot_bad("--disk %s: at most 8 disks", arg);
	o->disk[o->ndisks++] = arg;
}

static void boot_net(struct boot_opts *o, const char *arg)
{
	if (o->net)
		boot_bad("--net %s: one --net only (one network card)", arg);
	o->net = arg;
}

static void boot_name(struct boot_opts *o, const char *arg)
{
	char err[96], line[192];
	if (ctl_name_check(arg, err, sizeof(err)) < 0) {
		snprintf(line, sizeof(line), "--name %.64s: %s", arg, err);
		boot_bad("%s", line);
	}
	o->name = arg;
}

/* The option at index optind - 1 (the one getopt just took). */
static noreturn void boot_unsupported(char **argv)
{
	const char *a = argv[optind - 1];
	if (strncmp(a, "--", 2) != 0)
		a = argv[optind - 2];
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(a, "="), a);
	fprintf(stderr,
		"mote: boot: %s is not supported yet (see "
		"docs/boot.md)\n",
		name);
	exit(MOTE_EXIT_FAIL);
}

int cmd_boot(int argc, char **argv)
{
	struct boot_opts o = {
		.cmdline = BOOT_CMDLINE, .memory = 512ULL << 20, .cpus = 1};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", boot_options, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.kernel = optarg;
			o.kernel_file = true;
			break;
		case 'i': o.initrd = optarg; break;
		case 'a': o.cmdline = optarg; break;
		case 'm': boot_memory(&o, optarg); break;
		case 'c': boot_cpus(&o, optarg); break;
		case 't': boot_timeout(&o, optarg); break;
		case 'S': o.no_sandbox = true; break;
		case 'd': boot_disk(&o, optarg); break;
		case 'n': boot_net(&o, optarg); break;
		case 'N': boot_name(&o, optarg); break;
		case 'U': boot_unsupported(argv); break;
		case 'h': fputs(boot_usage, stdout); return 0;
		default: boot_bad("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		boot_bad("unexpected argument '%s'", argv[optind]);
	if (!o.kernel)
		boot_bad("%s", "--kernel BZIMAGE is needed");
	return boot_main(&o);
}
