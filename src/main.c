/* mote: command-line dispatch. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_cli.h"
#include "ctl/ctl.h"
#include "lx/lx.h"
#include "oci/oci.h"
#include "run/run.h"
#include "snap/snap.h"
#include "util.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif

static const char usage_text[] =
	"usage: mote run [options] PROGRAM [ARGS...]\n"
	"       mote restore [options] SNAPSHOT\n"
	"       mote boot --kernel BZIMAGE [options]  (a Linux kernel; see "
	"mote boot\n"
	"                         --help and docs/boot.md)\n"
	"       mote ps [--json]\n"
	"       mote stop ID [--force] [--grace SECONDS]\n"
	"       mote pause ID | mote resume ID\n"
	"       mote stats ID [--json]\n"
	"       mote snapshot ID FILE [--stop]\n"
	"       mote oci [GLOBAL] COMMAND ...  (or mote-oci: runc's command "
	"line;\n"
	"                         see mote oci --help and docs/oci.md)\n"
	"       mote --help | --version\n"
	"\n"
	"Runs an x86-64 Linux program in its own KVM microVM, with no guest "
	"OS.\n"
	"\n"
	"options for run:\n"
	"  --memory SIZE         guest memory (address space) cap, e.g. 256M, "
	"2G;\n"
	"                        default 1G. Pages are allocated on first "
	"touch.\n"
	"  --root DIR            the guest's / (read-only); default /\n"
	"  --volume HOST:GUEST[:ro|rw]\n"
	"                        make host directory HOST visible at GUEST;\n"
	"                        read-only unless :rw. Repeatable.\n"
	"  --env K=V             add or replace an environment variable\n"
	"  --env-inherit         start from mote's own environment; by "
	"default\n"
	"                        the guest gets only\n"
	"                        PATH=" LX_DEFAULT_PATH "\n"
	"                        plus TERM and HOME when mote has them\n"
	"  --cwd DIR             the guest's working directory; default /\n"
	"  --pids N              at most N guest processes (fork beyond gives\n"
	"                        EAGAIN); default 256. --memory holds for "
	"each\n"
	"                        of them\n"
	"  --cpus N              the guest's threads run on N of the host "
	"CPUs\n"
	"                        mote may use (the first N of its affinity);\n"
	"                        the guest sees N CPUs (sched_getaffinity,\n"
	"                        nproc, /proc/cpuinfo). Default: all of them;\n"
	"                        more than mote has is an error\n"
	"  --timeout SECONDS     stop the whole guest (every process and "
	"thread)\n"
	"                        once SECONDS (e.g. 30, 0.5) have passed "
	"since\n"
	"                        mote started; mote then exits with status "
	"124.\n"
	"                        Default: none\n"
	"  --max-file-size SIZE  the guest's RLIMIT_FSIZE (soft and hard), "
	"e.g.\n"
	"                        10M: a write beyond it fails with EFBIG and\n"
	"                        raises SIGXFSZ. Default: mote's own limit\n"
	"  --max-fds N           the guest's RLIMIT_NOFILE hard limit (soft: "
	"the\n"
	"                        smaller of 1024 and N); default 65536, less\n"
	"                        if mote's own hard limit is low"
	"\n"
	"  --net[=PORT,...]      the host's network: AF_INET and AF_INET6\n"
	"                        sockets, abstract AF_UNIX names, sockets of\n"
	"                        the read-only root. With ports "
	"(--net=80,8080)\n"
	"                        the guest may bind and listen on those "
	"alone.\n"
	"                        Off by default; AF_UNIX in rw volumes and\n"
	"                        socketpair work without it\n"
	"  --trace[=FILE]        print each syscall (name, arguments, result) "
	"to\n"
	"                        stderr or FILE, and a count of ENOSYS at "
	"exit\n"
	"  --no-aslr             load the program, its loader, the mmap area,\n"
	"                        brk and stack at fixed addresses (default: "
	"random)\n"
	"  --snapshot FILE       let the guest save snapshots of itself to "
	"FILE\n"
	"                        by writing to /dev/mote-snapshot (see\n"
	"                        docs/snapshot.md); without it such a write\n"
	"                        fails with EPERM\n"
	"  --timing              print start-up and run time at exit\n"
	"  --name NAME           the run's id for mote ps/stop/... (letters,\n"
	"                        digits, . _ -; at most 64); default: 8 "
	"random\n"
	"                        hex digits. A name a running VM holds is\n"
	"                        refused\n"
	"  --merge               offer the guest's anonymous memory to KSM\n"
	"                        (MADV_MERGEABLE), which shares identical "
	"pages\n"
	"                        across VMs; needs /sys/kernel/mm/ksm/run = "
	"1.\n"
	"                        Off by default: page sharing is a timing\n"
	"                        side channel between VMs "
	"(docs/security.md)\n"
	"  --no-sandbox          run the monitor without its seccomp filter,\n"
	"                        Landlock rules and resource limits (for\n"
	"                        debugging mote; says so on stderr)\n"
	"  -h, --help            this text\n"
	"  --version             mote's version\n"
	"\n"
	"PROGRAM is found like a shell finds it (a name without / is looked "
	"up\n"
	"in PATH) on the host; it must be an x86-64 ELF executable (static,\n"
	"static-PIE, or dynamic: its loader, e.g. "
	"/lib64/ld-linux-x86-64.so.2,\n"
	"and libraries are found inside the guest root). A #! script runs\n"
	"as execve would run it: its interpreter is found in the guest root.\n"
	"\n"
	"options for restore (SNAPSHOT is a file a guest or mote snapshot "
	"wrote;\n"
	"the VM keeps the memory, root, volumes, network and limits it was\n"
	"started with):\n"
	"  -n, --count N         start N clones of the snapshot, each its own "
	"VM\n"
	"                        sharing every page it has not written; exit\n"
	"                        status: the first non-zero status of a "
	"clone\n"
	"  --name NAME           the VM's id (NAME-1..NAME-N with --count)\n"
	"  --snapshot FILE, --timing, --timeout SECONDS, --cpus N, --trace: "
	"as\n"
	"                        for run\n"
	"\n"
	"control (docs/control.md): each run has a runtime dir,\n"
	"$XDG_RUNTIME_DIR/mote/ID (else /run/mote/ID), with its control "
	"socket.\n"
	"  ps                    list the running VMs (--json: as JSON)\n"
	"  stop ID               SIGTERM to the guest, then kill the VM after\n"
	"                        --grace SECONDS (default 10); --force: at "
	"once\n"
	"  pause ID, resume ID   hold every vCPU of the VM, and let them go\n"
	"  stats ID              exits, syscalls, page faults, memory, CPU "
	"time\n"
	"  snapshot ID FILE      write a snapshot of the VM to FILE; --stop\n"
	"                        ends the VM once it is written\n"
	"\n"
	"exit status: the guest's status; 128+N if the guest was killed by\n"
	"signal N; 124 if --timeout stopped it; 125 if mote failed (bad "
	"option, no usable /dev/kvm, "
	"internal\n"
	"error); 126 if PROGRAM cannot be executed (not ELF, not x86-64, "
	"32-bit,\n"
	"bad segments, too big for --memory); 127 if PROGRAM or its dynamic\n"
	"loader does not exist.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static noreturn void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "mote: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see mote --help)\n");
	exit(MOTE_EXIT_FAIL);
}

/* The guest environment: a list of K=V strings with replace-by-key. */
struct env {
	char **v;
	int n, cap;
};

static void env_set(struct env *e, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (int i = 0; i < e->n; i++)
		if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
			e->v[i] = (char *)kv;
			return;
		}
	if (e->n + 2 > e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = realloc(e->v, e->cap * sizeof(char *));
		if (!e->v)
			die(MOTE_EXIT_FAIL, "out of memory");
	}
	e->v[e->n++] = (char *)kv;
	e->v[e->n] = NULL;
}

static void env_default(struct env *e, bool inherit)
{
	extern char **environ;
	if (inherit) {
		for (char **p = environ; *p; p++)
			env_set(e, *p);
		return;
	}
	env_set(e, "PATH=" LX_DEFAULT_PATH);
	static const char *const keep[] = {"TERM", "HOME"};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		const char *v = getenv(keep[i]);
		if (!v)
			continue;
		char *kv;
		if (asprintf(&kv, "%s=%s", keep[i], v) < 0)
			die(MOTE_EXIT_FAIL, "out of memory");
		env_set(e, kv);
	}
}

/* Normalises a guest path given on the command line: absolute, no "."
 * or ".." or trailing slashes. */
static char *guest_path(const char *s, const char *what)
{
	if (s[0] != '/')
		bad_usage("%s must be an absolute guest path", what);
	char *out = calloc(1, strlen(s) + 2);
	if (!out)
		die(MOTE_EXIT_FAIL, "out of memory");
	size_t n = 0;
	for (const char *p = s; *p;) {
		while (*p == '/')
			p++;
		size_t k = strcspn(p, "/");
		if (k == 0)
			break;
		if ((k == 1 && p[0] == '.') || (k == 2 && !strncmp(p, "..", 2)))
			bad_usage("%s must not contain . or .. components",
				  what);
		out[n++] = '/';
		memcpy(out + n, p, k);
		n += k;
		p += k;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return out;
}

static void add_volume(struct lx_opts *o, const char *spec)
{
	char *s = strdup(spec);
	if (!s)
		die(MOTE_EXIT_FAIL, "out of memory");
	char *host = s, *guest = strchr(s, ':');
	if (!guest || guest == s || !guest[1])
		bad_usage("--volume %s: expected HOST:GUEST[:ro|rw]", spec);
	*guest++ = 0;
	bool rw = false;
	char *mode = strchr(guest, ':');
	if (mode) {
		*mode++ = 0;
		if (strcmp(mode, "rw") == 0)
			rw = true;
		else if (strcmp(mode, "ro") != 0)
			bad_usage("--volume %s: mode must be ro or rw", spec);
	}
	o->volumes =
		realloc(o->volumes, (o->nvolumes + 1) * sizeof(*o->volumes));
	if (!o->volumes)
		die(MOTE_EXIT_FAIL, "out of memory");
	const char *g = guest_path(guest, "--volume GUEST");
	if (strcmp(g, "/") == 0)
		bad_usage("--volume %s: use --root to replace /", spec);
	o->volumes[o->nvolumes++] = (struct lx_volume){host, g, rw};
}

enum {
	OPT_MEMORY = 256,
	OPT_ROOT,
	OPT_VOLUME,
	OPT_ENV,
	OPT_ENV_INHERIT,
	OPT_CWD,
	OPT_TRACE,
	OPT_TIMING,
	OPT_NO_ASLR,
	OPT_VERSION,
	OPT_PIDS,
	OPT_NET,
	OPT_CPUS,
	OPT_TIMEOUT,
	OPT_MAX_FILE_SIZE,
	OPT_MAX_FDS,
	OPT_NO_SANDBOX,
	OPT_SNAPSHOT,
	OPT_NAME,
	OPT_MERGE,
};

static const struct option run_options[] = {
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"root", required_argument, NULL, OPT_ROOT},
	{"volume", required_argument, NULL, OPT_VOLUME},
	{"env", required_argument, NULL, OPT_ENV},
	{"env-inherit", no_argument, NULL, OPT_ENV_INHERIT},
	{"cwd", required_argument, NULL, OPT_CWD},
	{"pids", required_argument, NULL, OPT_PIDS},
	{"net", optional_argument, NULL, OPT_NET},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE},
	{"max-fds", required_argument, NULL, OPT_MAX_FDS},
	{"trace", optional_argument, NULL, OPT_TRACE},
	{"timing", no_argument, NULL, OPT_TIMING},
	{"no-aslr", no_argument, NULL, OPT_NO_ASLR},
	{"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
	{"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	{"name", required_argument, NULL, OPT_NAME},
	{"merge", no_argument, NULL, OPT_MERGE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{0},
};

static const struct option restore_options[] = {
	{"count", required_argument, NULL, 'n'},
	{"name", required_argument, NULL, OPT_NAME},
	{"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	{"timing", no_argument, NULL, OPT_TIMING},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"trace", optional_argument, NULL, OPT_TRACE},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static void parse_memory(struct lx_opts *o, const char *arg)
{
	uint64_t v;
	if (parse_size(arg, &v) < 0)
		bad_usage("--memory %s: expected a size like 512M or 2G", arg);
	if (v < (16ULL << 20) || v > (256ULL << 30))
		bad_usage("--memory %s: must be between 16M and 256G", arg);
	o->memory = ALIGN_UP(v, 2ULL << 20);
}

/* A decimal count from 1 to max, or -1. */
static long parse_count(const char *arg, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] < '1' || arg[0] > '9' || v > max)
		return -1;
	return (long)v;
}

static void parse_pids(struct lx_opts *o, const char *arg)
{
	long v = parse_count(arg, 65536);
	if (v < 0)
		bad_usage("--pids %s: expected a number from 1 to 65536", arg);
	o->pids = (uint32_t)v;
}

static void parse_max_fds(struct lx_opts *o, const char *arg)
{
	long v = parse_count(arg, LX_NOFILE_MAX);
	if (v < 4)
		bad_usage("--max-fds %s: expected a number from 4 to 65536",
			  arg);
	o->max_fds = (uint32_t)v;
}

/* The run's CPUs: the first N of mote's own (default: all of them). */
static void parse_cpus(struct lx_opts *o, const char *arg)
{
	cpu_set_t own, set;
	if (sched_getaffinity(0, sizeof(own), &own) < 0)
		die(MOTE_EXIT_FAIL, "--cpus: cannot read mote's CPUs: %s",
		    strerror(errno));
	int have = CPU_COUNT(&own);
	long n = have;
	if (arg && (n = parse_count(arg, CPU_SETSIZE)) < 0)
		bad_usage("--cpus %s: expected a number of CPUs from 1", arg);
	if (n > have) {
		fprintf(stderr,
			"mote: --cpus %s: only %d CPU%s available to mote "
			"(see nproc)\n",
			arg, have, have == 1 ? " is" : "s are");
		exit(MOTE_EXIT_FAIL);
	}
	CPU_ZERO(&set);
	for (int i = 0, k = 0; i < CPU_SETSIZE && k < n; i++)
		if (CPU_ISSET(i, &own)) {
			CPU_SET(i, &set);
			k++;
		}
	memcpy(o->cpus, &set, sizeof(o->cpus));
	o->ncpus = (int)n;
}

/* Seconds, decimals allowed: "30", "0.5". Nothing else (no sign, no
 * exponent, no hex, no inf): at most a year. */
static void parse_timeout(struct lx_opts *o, const char *arg)
{
	double v;
	if (parse_seconds(arg, &v) < 0)
		bad_usage("--timeout %s: expected seconds, like 30 or 0.5",
			  arg);
	if (v < 0.001 || v > 366 * 86400.0)
		bad_usage("--timeout %s: must be from 0.001 to 31622400 "
			  "seconds",
			  arg);
	o->timeout_ns = (uint64_t)(v * 1e9);
	o->timeout_arg = arg;
}

static void parse_max_file_size(struct lx_opts *o, const char *arg)
{
	if (parse_size(arg, &o->fsize) < 0)
		bad_usage("--max-file-size %s: expected a size like 0, 4096, "
			  "512K or 2G",
			  arg);
	o->fsize_set = true;
}

/* --net or --net=PORT,PORT...: host sockets, listening on those ports
 * alone when any are listed. */
static void parse_net(struct lx_opts *o, const char *arg)
{
	o->net = true;
	if (!arg)
		return;
	uint16_t *ports = calloc(strlen(arg) / 2 + 1, sizeof(*ports));
	if (!ports)
		die(MOTE_EXIT_FAIL, "out of memory");
	int n = 0;
	for (const char *s = arg;; s++) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno || end == s || *s < '0' || *s > '9' || v < 1 ||
		    v > 65535 || (*end && *end != ','))
			bad_usage("--net=%s: expected ports from 1 to 65535 "
				  "separated by commas",
				  arg);
		ports[n++] = (uint16_t)v;
		s = end;
		if (!*s)
			break;
	}
	o->net_ports = ports;
	o->nnet_ports = n;
}

static void parse_name(struct lx_opts *o, const char *arg)
{
	char err[96];
	if (ctl_name_check(arg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mote: --name %s: %s (see mote --help)\n", arg,
			err);
		exit(MOTE_EXIT_FAIL);
	}
	o->name = arg;
}

static void open_trace(struct lx_opts *o, const char *arg)
{
	if (!arg) {
		o->trace = stderr;
		return;
	}
	o->trace = fopen(arg, "we");
	if (!o->trace)
		die(MOTE_EXIT_FAIL, "--trace=%s: %s", arg, strerror(errno));
}

static int cmd_run(int argc, char **argv, uint64_t t_start)
{
	struct lx_opts o = {.memory = LX_DEFAULT_MEMORY,
			    .pids = LX_DEFAULT_PIDS,
			    .root = "/",
			    .cwd = "/",
			    .aslr = true,
			    .t_start = t_start};
	struct env env = {0};
	const char **extra = calloc(argc, sizeof(char *));
	int nextra = 0;
	bool inherit = false;
	int c;
	optind = 1;
	opterr = 0;
	/* "+": stop at the program name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:h", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_MEMORY: parse_memory(&o, optarg); break;
		case OPT_ROOT: o.root = optarg; break;
		case OPT_VOLUME: add_volume(&o, optarg); break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				bad_usage("--env %s: expected K=V", optarg);
			extra[nextra++] = optarg;
			break;
		case OPT_ENV_INHERIT: inherit = true; break;
		case OPT_CWD: o.cwd = guest_path(optarg, "--cwd"); break;
		case OPT_PIDS: parse_pids(&o, optarg); break;
		case OPT_NET: parse_net(&o, optarg); break;
		case OPT_CPUS: parse_cpus(&o, optarg); break;
		case OPT_TIMEOUT: parse_timeout(&o, optarg); break;
		case OPT_MAX_FILE_SIZE: parse_max_file_size(&o, optarg); break;
		case OPT_MAX_FDS: parse_max_fds(&o, optarg); break;
		case OPT_TRACE: open_trace(&o, optarg); break;
		case OPT_TIMING: o.timing = true; break;
		case OPT_NO_ASLR: o.aslr = false; break;
		case OPT_NO_SANDBOX: o.no_sandbox = true; break;
		case OPT_SNAPSHOT: o.snapshot = optarg; break;
		case OPT_NAME: parse_name(&o, optarg); break;
		case OPT_MERGE: o.merge = true; break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: printf("mote %s\n", MOTE_VERSION); exit(0);
		case ':':
			bad_usage("option %s needs a value", argv[optind - 1]);
		default: bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("%s: no PROGRAM given", "run");
	if (!o.ncpus)
		parse_cpus(&o, NULL);
	if (o.no_sandbox)
		msg("warning: --no-sandbox: the monitor runs without its "
		    "seccomp/Landlock sandbox");
	env_default(&env, inherit);
	for (int i = 0; i < nextra; i++)
		env_set(&env, extra[i]);
	if (!env.v)
		env_set(&env, "PATH=" LX_DEFAULT_PATH);
	o.envp = env.v;
	o.argv = argv + optind;
	fflush(stdout);
	int status = run_program(&o);
	if (o.trace && o.trace != stderr)
		fclose(o.trace);
	free(extra);
	return status;
}

static int cmd_restore(int argc, char **argv, uint64_t t_start)
{
	struct lx_opts o = {.t_start = t_start};
	const char *name = NULL;
	long count = 1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hn:", restore_options, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			count = parse_count(optarg, 100000);
			if (count < 0)
				bad_usage(
					"--count %s: expected a number from 1 "
					"to 100000",
					optarg);
			break;
		case OPT_NAME:
			parse_name(&o, optarg);
			name = o.name;
			break;
		case OPT_SNAPSHOT: o.snapshot = optarg; break;
		case OPT_TIMING: o.timing = true; break;
		case OPT_TIMEOUT: parse_timeout(&o, optarg); break;
		case OPT_CPUS: parse_cpus(&o, optarg); break;
		case OPT_TRACE: open_trace(&o, optarg); break;
		case 'h': usage(stdout); exit(0);
		case ':':
			bad_usage("option %s needs a value", argv[optind - 1]);
		default: bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("%s: no SNAPSHOT file given", "restore");
	if (optind + 1 < argc)
		bad_usage("restore: unexpected argument %s", argv[optind + 1]);
	if (!o.ncpus)
		parse_cpus(&o, NULL);
	fflush(stdout);
	return run_restore(argv[optind], name, (unsigned)count, &o);
}

int main(int argc, char **argv)
{
	uint64_t t_start = mono_ns();
	/* A guest writing to a pipe without a reader gets EPIPE (or its own
	 * SIGPIPE), never kills the monitor. */
	signal(SIGPIPE, SIG_IGN);
	run_init();
	const char *base = strrchr(argv[0], '/');
	if (!strcmp(base ? base + 1 : argv[0], "mote-oci"))
		return oci_main(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return MOTE_EXIT_FAIL;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mote %s\n", MOTE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, t_start);
	if (!strcmp(argv[1], "boot"))
		return cmd_boot(argc - 1, argv + 1);
	if (!strcmp(argv[1], "oci"))
		return oci_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return cmd_restore(argc - 1, argv + 1, t_start);
	if (ctl_is_command(argv[1]))
		return ctl_main(argc - 1, argv + 1);
	fprintf(stderr, "mote: unknown command '%s' (see mote --help)\n",
		argv[1]);
	return MOTE_EXIT_FAIL;
}
