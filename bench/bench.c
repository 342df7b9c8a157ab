/* make bench: mote's start-up, syscall, fork and thread costs, size and
 * memory, as ratios. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Every figure is measured against a baseline run in the same invocation,
 * because the absolute numbers of a shared, virtualized build machine drift
 * from minute to minute while the ratios hold. The targets come from
 * DESIGN.md: start-to-exit within 1.3x the raw-KVM floor, a stripped binary
 * of at most 512 KiB, at most 2 MiB of monitor memory beyond the guest's.
 * A guest fork round trip should take at most 1.5x a native one plus the
 * floor (the child monitor builds a new VM), and two guest threads doing
 * half the work each at most 0.6x the time of one.
 */
#define TARGET_START_RATIO  1.3
#define TARGET_SIZE_KIB	    512
#define TARGET_RSS_KIB	    2048
#define TARGET_FORK_RATIO   1.5
#define TARGET_THREAD_RATIO 0.6

#define GETPPID_CAL_CALLS 1000
#define GETPPID_MOTE_NS	  1000000000LL /* ~1 s of guest loop under mote */
#define GETPPID_NATIVE_NS 250000000LL  /* the native loop is steady sooner */
#define FORKWAIT_N	  1000 /* ~1-2 ms a guest fork: ~1.5 s under mote */
#define THREADS_ITERS	  140000000LL /* ~0.5 s on one thread natively */
#define THREADS_RUNS	  5
#define TIMING_RUNS	  11
#define RSS_RUNS	  5
#define OUT_MAX		  4096
#define CHILD_TIMEOUT_S	  60 /* a hung guest fails the bench, not stalls it */

struct paths {
	char *mote, *floor, *hello, *getppid, *idle, *forkwait, *threads;
};

/* One child, timed from before fork() to after it is reaped. */
struct run {
	int64_t ns;
	long maxrss_kib;
	int status;
};

enum kind { NATIVE, FLOOR, MOTE, NKINDS };
static const char *const kind_name[NKINDS] = {"native hello", "raw KVM floor",
					      "mote run hello"};

/* The same small environment for every child: mote hands its guest a
 * minimal one by default, and the native runs should not copy make's. */
static char *child_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", NULL};
static int devnull = -1;

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Runs argv (looked up in PATH) with stdin from /dev/null and stdout and
 * stderr on the given fds. wait4() gives this child's own rusage, where
 * RUSAGE_CHILDREN would keep the maximum over every child so far. */
static struct run spawn(char *const argv[], int out, int err)
{
	struct run r = {0};
	struct rusage ru;
	int64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(out, 1);
		dup2(err, 2);
		alarm(CHILD_TIMEOUT_S); /* survives execve */
		execvpe(argv[0], argv, child_env);
		_exit(127);
	}
	if (wait4(pid, &r.status, 0, &ru) < 0)
		die("wait4: %s", strerror(errno));
	r.ns = now_ns() - t0;
	r.maxrss_kib = ru.ru_maxrss;
	return r;
}

static void check(const struct run *r, char *const argv[], const char *err)
{
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return;
	fprintf(stderr, "bench: %s", argv[0]);
	for (int i = 1; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	if (WIFEXITED(r->status))
		fprintf(stderr, ": exit status %d\n", WEXITSTATUS(r->status));
	else if (WTERMSIG(r->status) == SIGALRM)
		fprintf(stderr, ": hung, killed after %d s\n", CHILD_TIMEOUT_S);
	else
		fprintf(stderr, ": killed by signal %d\n", WTERMSIG(r->status));
	fputs(err ? err : "", stderr);
	exit(1);
}

/* spawn() with stdout to /dev/null; stderr stays ours, so a failing mote
 * says why. */
static struct run run_quiet(char *const argv[])
{
	struct run r = spawn(argv, devnull, 2);
	check(&r, argv, NULL);
	return r;
}

static void read_back(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* spawn() collecting stdout and stderr (small: a line or two each). */
static struct run run_capture(char *const argv[], char *out, char *err)
{
	int ofd = memfd_create("out", MFD_CLOEXEC);
	int efd = memfd_create("err", MFD_CLOEXEC);
	if (ofd < 0 || efd < 0)
		die("memfd_create: %s", strerror(errno));
	struct run r = spawn(argv, ofd, efd);
	read_back(ofd, out, OUT_MAX);
	read_back(efd, err, OUT_MAX);
	check(&r, argv, err);
	return r;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts v and returns its p-th percentile (nearest rank). */
static int64_t pct(int64_t *v, int n, int p)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	return v[(p * (n - 1) + 50) / 100];
}

static const char *verdict(bool ok)
{
	return ok ? "ok" : "MISS";
}

/* mote's own report: "timing: start to first guest instruction X us, run
 * Y us, N exits" on stderr at exit. */
static void parse_timing(const char *err, double *first_us,
			 unsigned long long *exits)
{
	const char *s = strstr(err, "timing: ");
	double run_us;
	if (!s || sscanf(s,
			 "timing: start to first guest instruction %lf us, "
			 "run %lf us, %llu exits",
			 first_us, &run_us, exits) != 3)
		die("cannot parse mote --timing output:\n%s", err);
}

/* (a) Start-to-exit, interleaved so that drift hits the three alike. */
static void bench_start(const struct paths *p, int runs, int64_t *med,
			long *rss)
{
	char *argv[NKINDS][4] = {
		[NATIVE] = {p->hello, NULL},
		[FLOOR] = {p->floor, NULL},
		[MOTE] = {p->mote, "run", p->hello, NULL},
	};
	int64_t *ns = calloc(NKINDS * runs, sizeof(*ns));
	int64_t *kib = calloc(NKINDS * runs, sizeof(*kib));
	if (!ns || !kib)
		die("out of memory");
	for (int k = 0; k < NKINDS; k++) /* warm the page cache */
		run_quiet(argv[k]);
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < NKINDS; k++) {
			struct run r = run_quiet(argv[k]);
			ns[k * runs + i] = r.ns;
			kib[k * runs + i] = r.maxrss_kib;
		}
	printf("start to exit: fork+exec+waitpid, CLOCK_MONOTONIC, stdout to "
	       "/dev/null, %d interleaved runs each\n"
	       "                       median       p10       p90\n",
	       runs);
	for (int k = 0; k < NKINDS; k++) {
		int64_t *v = ns + k * runs;
		med[k] = pct(v, runs, 50);
		printf("  %-16s %8.0f us %6.0f us %6.0f us\n", kind_name[k],
		       med[k] / 1e3, pct(v, runs, 10) / 1e3,
		       pct(v, runs, 90) / 1e3);
		rss[k] = pct(kib + k * runs, runs, 50);
	}
	free(ns);
	free(kib);
}

static void bench_start_ratios(const struct paths *p, const int64_t *med)
{
	char *argv[] = {p->mote, "run", "--timing", p->hello, NULL};
	char out[OUT_MAX], err[OUT_MAX];
	int64_t first[TIMING_RUNS];
	unsigned long long exits = 0;
	for (int i = 0; i < TIMING_RUNS; i++) {
		double us;
		run_capture(argv, out, err);
		parse_timing(err, &us, &exits);
		first[i] = us * 1e3;
	}
	double r = (double)med[MOTE] / med[FLOOR];
	printf("  mote / floor     %8.2fx      target <= %.1fx  %s\n", r,
	       TARGET_START_RATIO, verdict(r <= TARGET_START_RATIO));
	printf("  mote / native    %8.2fx\n", (double)med[MOTE] / med[NATIVE]);
	printf("  mote start to first guest instruction (--timing, median "
	       "of %d): %.0f us\n",
	       TIMING_RUNS, pct(first, TIMING_RUNS, 50) / 1e3);
	printf("  mote exits per hello run: %llu\n\n", exits);
}

/* Runs the getppid guest for n calls, natively or under mote; returns the
 * guest's own ns per call and, under mote, mote's exit count. */
static double getppid_run(const struct paths *p, bool mote, long n,
			  unsigned long long *exits)
{
	char nbuf[32], out[OUT_MAX], err[OUT_MAX];
	snprintf(nbuf, sizeof(nbuf), "%ld", n);
	char *native[] = {p->getppid, nbuf, NULL};
	char *under[] = {p->mote, "run", "--timing", p->getppid, nbuf, NULL};
	run_capture(mote ? under : native, out, err);
	long calls;
	long long ns;
	if (sscanf(out, "%ld calls %lld ns", &calls, &ns) != 2 || calls != n)
		die("cannot parse getppid output: %s", out);
	if (mote) {
		double first_us;
		parse_timing(err, &first_us, exits);
	}
	return (double)ns / n;
}

/* Sizes the loop from a short run so the measured one lasts ~target_ns.
 * Under mote, the two runs' exit counts differ by the extra calls' exits. */
static double getppid_bench(const struct paths *p, bool mote, int64_t target_ns,
			    long *n, double *exits_per)
{
	unsigned long long e0 = 0, e1 = 0;
	double cal = getppid_run(p, mote, GETPPID_CAL_CALLS, &e0);
	*n = target_ns / (cal > 1 ? cal : 1);
	if (*n < 2 * GETPPID_CAL_CALLS)
		*n = 2 * GETPPID_CAL_CALLS;
	double ns = getppid_run(p, mote, *n, &e1);
	if (exits_per)
		*exits_per = (double)(e1 - e0) / (*n - GETPPID_CAL_CALLS);
	return ns;
}

/* (b) The cost of a syscall the monitor serves, as the guest sees it. */
static void bench_getppid(const struct paths *p)
{
	long nn, nm;
	double exits;
	double native = getppid_bench(p, false, GETPPID_NATIVE_NS, &nn, NULL);
	double mote = getppid_bench(p, true, GETPPID_MOTE_NS, &nm, &exits);
	printf("getppid loop: syscall(SYS_getppid) N times, timed inside the "
	       "guest\n");
	printf("  native           %10.0f ns/call  (N = %ld)\n", native, nn);
	printf("  mote             %10.0f ns/call  (N = %ld, %.2f exits per "
	       "call)\n",
	       mote, nm, exits);
	printf("  mote / native    %10.1fx\n\n", mote / native);
}

static long file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		die("%s: %s", path, strerror(errno));
	return st.st_size;
}

/* (c) mote's size once stripped: strip -o writes a stripped copy. */
static void bench_size(const struct paths *p)
{
	char tmp[] = "/tmp/mote-bench-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		die("mkstemp: %s", strerror(errno));
	close(fd);
	char *argv[] = {"strip", "-o", tmp, p->mote, NULL};
	run_quiet(argv);
	long stripped = file_size(tmp);
	unlink(tmp);
	printf("size and memory\n");
	printf("  mote binary, stripped %7.1f KiB  (%.1f KiB unstripped)  "
	       "target <= %d KiB  %s\n",
	       stripped / 1024.0, file_size(p->mote) / 1024.0, TARGET_SIZE_KIB,
	       verdict(stripped <= TARGET_SIZE_KIB * 1024));
}

/* VmHWM of a stopped tracee: the peak RSS of its current (exec'd) image. */
static long read_hwm(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	if (kib < 0)
		die("%s: no VmHWM", path);
	return kib;
}

static void ptrace_or_die(enum __ptrace_request req, pid_t pid, long data)
{
	if (ptrace(req, pid, NULL, (void *)data) < 0)
		die("ptrace(%d): %s", (int)req, strerror(errno));
}

/* Runs argv traced, only to stop it at its exit event, while its memory is
 * still there, and read its VmHWM. ru_maxrss cannot give this: Linux folds
 * the peak of the pre-exec image (a fork of bench, plus the libc pages the
 * child faults in on its way to execve) into it. */
static long run_hwm(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		alarm(CHILD_TIMEOUT_S);
		execvpe(argv[0], argv, child_env);
		_exit(127);
	}
	struct run r = {0};
	long kib = -1;
	if (waitpid(pid, &r.status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (WIFSTOPPED(r.status)) { /* the SIGTRAP of a traced execve */
		ptrace_or_die(PTRACE_SETOPTIONS, pid, PTRACE_O_TRACEEXIT);
		ptrace_or_die(PTRACE_CONT, pid, 0);
	}
	while (waitpid(pid, &r.status, 0) == pid && WIFSTOPPED(r.status)) {
		int sig = WSTOPSIG(r.status);
		if (r.status >> 8 == (SIGTRAP | PTRACE_EVENT_EXIT << 8)) {
			kib = read_hwm(pid);
			sig = 0;
		}
		ptrace_or_die(PTRACE_CONT, pid, sig);
	}
	check(&r, argv, NULL);
	return kib;
}

static long median_hwm(char *const argv[])
{
	int64_t kib[RSS_RUNS];
	for (int i = 0; i < RSS_RUNS; i++)
		kib[i] = run_hwm(argv);
	return pct(kib, RSS_RUNS, 50);
}

static void print_overhead(const char *how, long kib)
{
	printf("  monitor overhead ~= %-28s %5ld KiB  target <= %d KiB  %s\n",
	       how, kib, TARGET_RSS_KIB, verdict(kib <= TARGET_RSS_KIB));
}

/*
 * The monitor's memory beyond what its guest touched: mote's peak RSS
 * minus the same program's run natively, which touches about what the
 * guest does (the native figure adds the vDSO and the kernel's stack
 * set-up, so the difference errs low by a few pages). Two programs:
 * - idle, which touches a code page and its stack: mote's peak is nearly
 *   all monitor (binary, libc, heap, kvm_run, the system region);
 * - the hello, for a guest that does a little work (brk, TLS, stdio).
 */
static void bench_rss(const struct paths *p, const long *rss)
{
	char *hello_native[] = {p->hello, NULL};
	char *hello_mote[] = {p->mote, "run", p->hello, NULL};
	char *idle_native[] = {p->idle, NULL};
	char *idle_mote[] = {p->mote, "run", p->idle, NULL};
	long hn = median_hwm(hello_native), hm = median_hwm(hello_mote);
	long in = median_hwm(idle_native), im = median_hwm(idle_mote);
	printf("  %-21s%14s%16s%13s%15s\n", "peak RSS, KiB", "native hello",
	       "mote run hello", "native idle", "mote run idle");
	printf("    %-19s%14ld%16ld\n", "ru_maxrss (wait4)", rss[NATIVE],
	       rss[MOTE]);
	printf("    %-19s%14ld%16ld%13ld%15ld\n", "VmHWM at exit", hn, hm, in,
	       im);
	printf("    (ru_maxrss also counts the fork of bench before execve; "
	       "VmHWM, read\n    at the exit event under ptrace, counts the "
	       "exec'd program alone; medians)\n");
	print_overhead("mote idle - native idle", im - in);
	print_overhead("mote hello - native hello", hm - hn);
}

/* Runs the forkwait guest, natively or under mote, for the guest's median
 * and mean us per fork + _exit + waitpid round trip. */
static void forkwait_run(const struct paths *p, bool mote, double *med,
			 double *mean)
{
	char nbuf[32], out[OUT_MAX], err[OUT_MAX];
	snprintf(nbuf, sizeof(nbuf), "%d", FORKWAIT_N);
	char *native[] = {p->forkwait, nbuf, NULL};
	char *under[] = {p->mote, "run", p->forkwait, nbuf, NULL};
	run_capture(mote ? under : native, out, err);
	long n;
	long long med_ns, mean_ns;
	if (sscanf(out, "%ld round trips median %lld ns mean %lld ns", &n,
		   &med_ns, &mean_ns) != 3 ||
	    n != FORKWAIT_N)
		die("cannot parse forkwait output: %s", out);
	*med = med_ns / 1e3;
	*mean = mean_ns / 1e3;
}

/* (d) A guest fork is a host fork of the monitor plus a new VM in the
 * child, so its bound is a native fork plus the floor's VM set-up. */
static void bench_forkwait(const struct paths *p, const int64_t *med)
{
	double native, native_mean, mote, mote_mean;
	forkwait_run(p, false, &native, &native_mean);
	forkwait_run(p, true, &mote, &mote_mean);
	double floor_us = med[FLOOR] / 1e3, r = mote / (native + floor_us);
	printf("fork round trip: fork, child _exit(0), waitpid, timed inside "
	       "the guest; N = %d\n"
	       "                       median      mean\n",
	       FORKWAIT_N);
	printf("  %-16s %8.0f us %7.0f us\n", "native", native, native_mean);
	printf("  %-16s %8.0f us %7.0f us\n", "mote", mote, mote_mean);
	printf("  %-16s %8.0f us             (median start to exit, above)\n",
	       "raw KVM floor", floor_us);
	printf("  %-16s %8.0f us             = %.1f x (native + floor)\n",
	       "bound", TARGET_FORK_RATIO * (native + floor_us),
	       TARGET_FORK_RATIO);
	printf("  mote / (native + floor) %5.2fx  target <= %.1fx  %s\n", r,
	       TARGET_FORK_RATIO, verdict(r <= TARGET_FORK_RATIO));
	printf("  mote / native    %8.2fx\n\n", mote / native);
}

/* One run of the threads guest, natively or under mote: the guest's
 * 1-thread and 2-thread times, in ns. */
static void threads_run(const struct paths *p, bool mote, int64_t *t1,
			int64_t *t2)
{
	char nbuf[32], out[OUT_MAX], err[OUT_MAX];
	snprintf(nbuf, sizeof(nbuf), "%lld", THREADS_ITERS);
	char *native[] = {p->threads, nbuf, NULL};
	char *under[] = {p->mote, "run", p->threads, nbuf, NULL};
	long long a, b;
	run_capture(mote ? under : native, out, err);
	if (sscanf(out, "1 thread %lld ns 2 threads %lld ns", &a, &b) != 2)
		die("cannot parse threads output: %s", out);
	*t1 = a;
	*t2 = b;
}

/* Prints one row from the runs' medians; returns its 2 / 1 ratio. */
static double print_threads(const char *name, int64_t *one, int64_t *two)
{
	int64_t t1 = pct(one, THREADS_RUNS, 50);
	int64_t t2 = pct(two, THREADS_RUNS, 50);
	double r = (double)t2 / t1;
	printf("  %-16s %8.0f ms %7.0f ms %8.2fx", name, t1 / 1e6, t2 / 1e6, r);
	return r;
}

/* (e) Guest threads are vCPUs on host threads, so two should share the
 * work as natively. Medians, as another process on the host can take a CPU
 * from one run; interleaved, so that drift hits native and mote alike. */
static void bench_threads(const struct paths *p)
{
	int64_t t[2][2][THREADS_RUNS]; /* [under mote][threads - 1][run] */
	for (int i = 0; i < THREADS_RUNS; i++)
		for (int m = 0; m < 2; m++)
			threads_run(p, m, &t[m][0][i], &t[m][1][i]);
	printf("threads: %lld integer hash steps on 1 thread, then half each "
	       "on 2\n(pthreads); timed inside the guest, median of %d runs\n"
	       "                      1 thread  2 threads    2 / 1\n",
	       THREADS_ITERS, THREADS_RUNS);
	print_threads("native", t[0][0], t[0][1]);
	printf("\n");
	double r = print_threads("mote", t[1][0], t[1][1]);
	/* One CPU (the test VM) cannot run two threads at once: the target
	 * says nothing there, and native shows it. */
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		printf("  target <= %.1fx  n/a (1 CPU here)\n",
		       TARGET_THREAD_RATIO);
	else
		printf("  target <= %.1fx  %s\n", TARGET_THREAD_RATIO,
		       verdict(r <= TARGET_THREAD_RATIO));
}

static void usage(void)
{
	fprintf(stderr, "usage: bench [-n RUNS] MOTE FLOOR HELLO GETPPID "
			"IDLE FORKWAIT THREADS\n");
	exit(2);
}

static int parse_args(int argc, char **argv, struct paths *p)
{
	int runs = 100, opt;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (runs = atoi(optarg)) < 1)
			usage();
	}
	if (argc - optind != 7)
		usage();
	char **a = argv + optind;
	*p = (struct paths){a[0], a[1], a[2], a[3], a[4], a[5], a[6]};
	return runs;
}

int main(int argc, char **argv)
{
	struct paths p;
	int runs = parse_args(argc, argv, &p);
	if (access("/dev/kvm", R_OK | W_OK) < 0)
		die("/dev/kvm: %s: mote needs KVM, there is nothing to measure",
		    strerror(errno));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null: %s", strerror(errno));
	int64_t med[NKINDS];
	long rss[NKINDS];
	bench_start(&p, runs, med, rss);
	bench_start_ratios(&p, med);
	bench_getppid(&p);
	bench_size(&p);
	bench_rss(&p, rss);
	printf("\n");
	bench_forkwait(&p, med);
	bench_threads(&p);
	return 0;
}
