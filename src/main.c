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
#include "run/boot.h"
#include "run/run.h"
#include "snap/boot.h"
#include "snap/snap.h"
#include "util.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif

/* The help text (usage.c). */
extern const char mote_usage_text[];

static void usage(FILE *f)
{
	fputs(mote_usage_text, f);
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
	OPT_LISTEN,
	OPT_KEY,
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

static const struct option receive_options[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"key", required_argument, NULL, OPT_KEY},
	{"name", required_argument, NULL, OPT_NAME},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
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

/* mote restore of a booted guest's snapshot: --name, -n and --timeout
 * apply; the rest are mote run's. */
static int restore_boot(const char *file, const char *name, unsigned count,
			const struct lx_opts *o)
{
	const char *other = o->ncpus	  ? "--cpus"
			    : o->snapshot ? "--snapshot"
			    : o->timing	  ? "--timing"
			    : o->trace	  ? "--trace"
					  : NULL;
	if (other) {
		fprintf(stderr,
			"mote: restore: %s is for a mote run snapshot; %s is a "
			"booted Linux guest's (it keeps its vCPUs; give "
			"--name, -n or --timeout alone)\n",
			other, file);
		return MOTE_EXIT_FAIL;
	}
	fflush(stdout);
	return boot_restore(file, name, count, o->timeout_ns, o->timeout_arg);
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
	int kind = snap_kind_of(argv[optind]);
	if (kind < 0)
		return -kind;
	if (kind == SNAP_KIND_BOOT)
		return restore_boot(argv[optind], name, (unsigned)count, &o);
	if (!o.ncpus)
		parse_cpus(&o, NULL);
	fflush(stdout);
	return run_restore(argv[optind], name, (unsigned)count, &o);
}

static int cmd_receive(int argc, char **argv, uint64_t t_start)
{
	struct lx_opts o = {.t_start = t_start};
	const char *listen = NULL, *key = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", receive_options, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_LISTEN: listen = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_NAME: parse_name(&o, optarg); break;
		case OPT_TIMEOUT: parse_timeout(&o, optarg); break;
		case 'h': usage(stdout); exit(0);
		case ':':
			bad_usage("option %s needs a value", argv[optind - 1]);
		default: bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (!listen || !key)
		bad_usage("%s", "receive: --listen ADDR:PORT and --key FILE "
				"are both needed");
	if (optind < argc)
		bad_usage("receive: unexpected argument %s", argv[optind]);
	parse_cpus(&o, NULL);
	fflush(stdout);
	return run_receive(listen, key, o.name, &o);
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
	if (!strcmp(argv[1], "receive"))
		return cmd_receive(argc - 1, argv + 1, t_start);
	if (ctl_is_command(argv[1]))
		return ctl_main(argc - 1, argv + 1);
	fprintf(stderr, "mote: unknown command '%s' (see mote --help)\n",
		argv[1]);
	return MOTE_EXIT_FAIL;
}
