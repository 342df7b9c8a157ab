/* The contents of the guest's /proc files, in Linux's formats, made from
 * the monitor's state: the VMAs, threads, signals and fds of the process,
 * the VM's memory size and the CPUID the guest sees. What a process could
 * not learn inside a VM (the host's other processes, its memory, its load)
 * never appears. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lx/procfs.h"
#include "util.h"

#define HZ 100 /* clock ticks, as AT_CLKTCK says */

void sb_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + n + 256);
		char *s = realloc(b->s, cap);
		if (!s) {
			b->err = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_add(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->err = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* ---- memory ---- */

struct memuse {
	uint64_t size, rss, anon, file, stack, exe, data;
	uint64_t code_lo, code_hi, data_lo, data_hi;
};

/* Resident pages of [start, end), by the host's page cache view. */
static uint64_t resident(struct lx_proc *p, uint64_t start, uint64_t end)
{
	unsigned char vec[4096];
	uint64_t n = 0;
	for (uint64_t a = start; a < end; a += sizeof(vec) * PAGE_SIZE) {
		uint64_t len = MIN(end - a, sizeof(vec) * PAGE_SIZE);
		void *h = gm_range(&p->vm, a, len);
		if (!h || mincore(h, len, vec) < 0)
			continue;
		for (uint64_t i = 0; i < len / PAGE_SIZE; i++)
			n += vec[i] & 1;
	}
	return n * PAGE_SIZE;
}

static void mem_use(struct lx_proc *p, struct memuse *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_lock(&p->mm.lock);
	for (int i = 0; i < p->mm.nvmas; i++) {
		const struct lx_vma *v = &p->mm.vmas[i];
		uint64_t len = v->end - v->start,
			 r = resident(p, v->start, v->end);
		m->size += len;
		m->rss += r;
		if (v->kind == VMA_FILE || v->kind == VMA_ELF)
			m->file += r;
		else
			m->anon += r;
		if (v->kind == VMA_STACK)
			m->stack += len;
		else if (v->kind == VMA_ELF && (v->prot & PT_EXEC))
			m->exe += len;
		else if (!(v->prot & PT_EXEC) && (v->prot & PT_WRITE))
			m->data += len;
		if (v->kind == VMA_ELF && (v->prot & PT_EXEC) && !m->code_lo) {
			m->code_lo = v->start;
			m->code_hi = v->end;
		}
		if (v->kind == VMA_ELF && (v->prot & PT_WRITE)) {
			m->data_lo = m->data_lo ? m->data_lo : v->start;
			m->data_hi = v->end;
		}
	}
	pthread_mutex_unlock(&p->mm.lock);
}

static const char *vma_name(const struct lx_vma *v)
{
	if (v->kind == VMA_BRK)
		return "[heap]";
	if (v->kind == VMA_STACK)
		return "[stack]";
	if (v->name)
		return v->name;
	return v->shared && v->kind == VMA_ANON ? "/dev/zero (deleted)" : NULL;
}

static void gen_maps(struct lx_proc *p, struct sbuf *b)
{
	pthread_mutex_lock(&p->mm.lock);
	for (int i = 0; i < p->mm.nvmas; i++) {
		const struct lx_vma *v = &p->mm.vmas[i];
		bool file = v->kind == VMA_FILE || v->kind == VMA_ELF;
		size_t at = b->len;
		sb_printf(b, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
			  (unsigned long)v->start, (unsigned long)v->end,
			  v->prot & PT_READ ? 'r' : '-',
			  v->prot & PT_WRITE ? 'w' : '-',
			  v->prot & PT_EXEC ? 'x' : '-', v->shared ? 's' : 'p',
			  (unsigned long)(file ? v->off : 0),
			  file ? major(v->dev) : 0, file ? minor(v->dev) : 0,
			  (unsigned long)(file ? v->ino : 0));
		const char *name = vma_name(v);
		while (name && b->len - at < 73 && !b->err)
			sb_add(b, " ", 1);
		sb_printf(b, "%s\n", name ? name : "");
	}
	pthread_mutex_unlock(&p->mm.lock);
}

/* ---- the process ---- */

/* What a thread (or, for tid 0, the process) has pending and blocked. */
struct sigs {
	uint64_t pnd, shd, blk, ign, cgt;
	int threads;
};

static void get_sigs(struct lx_proc *p, pid_t tid, struct sigs *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&p->lock);
	struct lx_thread *t = lx_procfs_thread(p, tid);
	if (!t)
		t = lx_procfs_thread(p, p->task.pid);
	if (t) {
		s->pnd = t->tpending | t->own_pending;
		s->blk = t->sigmask;
	}
	s->shd = p->sig.pending;
	s->threads = p->nlive;
	for (int i = 0; i < 64; i++) {
		uint64_t h = p->sig.act[i].handler;
		if (h == (uint64_t)(uintptr_t)SIG_IGN)
			s->ign |= 1ULL << i;
		else if (h != (uint64_t)(uintptr_t)SIG_DFL)
			s->cgt |= 1ULL << i;
	}
	pthread_mutex_unlock(&p->lock);
}

static const char *comm(struct lx_proc *p)
{
	if (p->task.comm[0])
		return p->task.comm;
	const char *s = strrchr(p->task.exe, '/');
	return s ? s + 1 : p->task.exe;
}

/* The terminal of the guest's stdio, if it has one: its device number and
 * foreground group. */
static void tty_of(struct lx_proc *p, unsigned *nr, int *pgrp)
{
	*nr = 0;
	*pgrp = -1;
	pthread_mutex_lock(&p->fdt.lock);
	for (int fd = 0; fd < 3 && !*nr; fd++) {
		struct lx_fd *f = lx_fd_get(p, fd);
		struct stat st;
		if (!f || f->kind != LX_FD_TTY || fstat(f->host, &st) < 0)
			continue;
		unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
		*nr = (mi & 0xff) | (ma << 8) | ((mi & ~0xffU) << 12);
		*pgrp = tcgetpgrp(f->host);
	}
	pthread_mutex_unlock(&p->fdt.lock);
}

static uint64_t ticks(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * HZ + (uint64_t)tv.tv_usec / (1000000 / HZ);
}

static void gen_status(struct lx_proc *p, pid_t tid, struct sbuf *b)
{
	struct sigs s;
	struct memuse m;
	uid_t u[3];
	gid_t g[3];
	get_sigs(p, tid, &s);
	mem_use(p, &m);
	getresuid(&u[0], &u[1], &u[2]);
	getresgid(&g[0], &g[1], &g[2]);
	sb_printf(b, "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\n", comm(p),
		  (unsigned)p->fs.umask);
	sb_printf(b,
		  "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		  (int)p->task.pid, (int)tid, (int)lx_getppid(p));
	sb_printf(b, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", u[0], u[1],
		  u[2], u[1], g[0], g[1], g[2], g[1]);
	sb_printf(b, "FDSize:\t%d\nGroups:\t\n",
		  (int)ALIGN_UP(p->fdt.top + 1, 64));
	sb_printf(b,
		  "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t       0 kB\n"
		  "VmPin:\t       0 kB\nVmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\n"
		  "RssAnon:\t%8lu kB\nRssFile:\t%8lu kB\n"
		  "RssShmem:\t       0 kB\nVmData:\t%8lu kB\n"
		  "VmStk:\t%8lu kB\nVmExe:\t%8lu kB\nVmLib:\t       0 kB\n"
		  "VmPTE:\t       0 kB\nVmSwap:\t       0 kB\n",
		  m.size >> 10, m.size >> 10, m.rss >> 10, m.rss >> 10,
		  m.anon >> 10, m.file >> 10, m.data >> 10, m.stack >> 10,
		  m.exe >> 10);
	sb_printf(b, "Threads:\t%d\nSigQ:\t0/%d\n", s.threads, 63413);
	sb_printf(b,
		  "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n"
		  "SigIgn:\t%016lx\nSigCgt:\t%016lx\n",
		  s.pnd, s.shd, s.blk, s.ign, s.cgt);
	sb_printf(b, "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
		     "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
		     "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
		     "Seccomp:\t0\n");
	int ids[CPU_SETSIZE];
	int n = lx_procgen_cpus(p, ids, CPU_SETSIZE);
	uint64_t mask = 0;
	for (int i = 0; i < n; i++)
		mask |= ids[i] < 64 ? 1ULL << ids[i] : 0;
	sb_printf(b, "Cpus_allowed:\t%lx\nCpus_allowed_list:\t", mask);
	for (int i = 0; i < n; i++)
		sb_printf(b, "%s%d", i ? "," : "", ids[i]);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	sb_printf(b,
		  "\nvoluntary_ctxt_switches:\t%ld\n"
		  "nonvoluntary_ctxt_switches:\t%ld\n",
		  ru.ru_nvcsw, ru.ru_nivcsw);
}

static void gen_stat(struct lx_proc *p, pid_t tid, struct sbuf *b)
{
	struct sigs s;
	struct memuse m;
	struct rusage self, kids;
	unsigned tty;
	int tpgid;
	get_sigs(p, tid, &s);
	mem_use(p, &m);
	tty_of(p, &tty, &tpgid);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	uint64_t start =
		p->task.start_ns ? p->task.start_ns - p->vm.boot_ns : 0;
	const struct lx_mm *mm = &p->mm;
	sb_printf(b, "%d (%s) R %d %d %d %u %d 4194304 ", (int)tid, comm(p),
		  (int)lx_getppid(p), (int)lx_getpgrp(p), (int)lx_getsid(p),
		  tty, tpgid);
	sb_printf(b, "%ld 0 %ld 0 %lu %lu %lu %lu 20 0 %d 0 %lu %lu %lu ",
		  self.ru_minflt, self.ru_majflt, ticks(self.ru_utime),
		  ticks(self.ru_stime), ticks(kids.ru_utime),
		  ticks(kids.ru_stime), s.threads,
		  (unsigned long)(start / (1000000000 / HZ)),
		  (unsigned long)m.size, (unsigned long)(m.rss / PAGE_SIZE));
	sb_printf(b,
		  "%lu %lu %lu %lu 0 0 %lu %lu %lu %lu 0 0 0 17 0 0 0 0 0 0 ",
		  (unsigned long)RLIM_INFINITY, (unsigned long)m.code_lo,
		  (unsigned long)m.code_hi, (unsigned long)mm->arg_start,
		  (unsigned long)(s.pnd | s.shd), (unsigned long)s.blk,
		  (unsigned long)s.ign, (unsigned long)s.cgt);
	sb_printf(b, "%lu %lu %lu %lu %lu %lu %lu 0\n",
		  (unsigned long)m.data_lo, (unsigned long)m.data_hi,
		  (unsigned long)mm->brk_start, (unsigned long)mm->arg_start,
		  (unsigned long)mm->arg_end, (unsigned long)mm->env_start,
		  (unsigned long)mm->env_end);
}

static void gen_statm(struct lx_proc *p, struct sbuf *b)
{
	struct memuse m;
	mem_use(p, &m);
	sb_printf(b, "%lu %lu %lu %lu 0 %lu 0\n",
		  (unsigned long)(m.size / PAGE_SIZE),
		  (unsigned long)(m.rss / PAGE_SIZE),
		  (unsigned long)(m.file / PAGE_SIZE),
		  (unsigned long)(m.exe / PAGE_SIZE),
		  (unsigned long)((m.data + m.stack) / PAGE_SIZE));
}

/* Guest memory [lo, hi) as it is now (a program may rewrite its argv). */
static void guest_bytes(struct lx_proc *p, uint64_t lo, uint64_t hi,
			struct sbuf *b)
{
	if (hi <= lo || hi - lo > (8ULL << 20))
		return;
	const char *s = gm_user(&p->vm, lo, hi - lo, GM_READ);
	if (s)
		sb_add(b, s, hi - lo);
}

static void gen_limits(struct lx_proc *p, struct sbuf *b)
{
	static const struct {
		const char *name, *unit;
	} rl[RLIM_NLIMITS] = {
		[RLIMIT_CPU] = {"Max cpu time", "seconds"},
		[RLIMIT_FSIZE] = {"Max file size", "bytes"},
		[RLIMIT_DATA] = {"Max data size", "bytes"},
		[RLIMIT_STACK] = {"Max stack size", "bytes"},
		[RLIMIT_CORE] = {"Max core file size", "bytes"},
		[RLIMIT_RSS] = {"Max resident set", "bytes"},
		[RLIMIT_NPROC] = {"Max processes", "processes"},
		[RLIMIT_NOFILE] = {"Max open files", "files"},
		[RLIMIT_MEMLOCK] = {"Max locked memory", "bytes"},
		[RLIMIT_AS] = {"Max address space", "bytes"},
		[RLIMIT_LOCKS] = {"Max file locks", "locks"},
		[RLIMIT_SIGPENDING] = {"Max pending signals", "signals"},
		[RLIMIT_MSGQUEUE] = {"Max msgqueue size", "bytes"},
		[RLIMIT_NICE] = {"Max nice priority", ""},
		[RLIMIT_RTPRIO] = {"Max realtime priority", ""},
		[RLIMIT_RTTIME] = {"Max realtime timeout", "us"},
	};
	sb_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
		  "Hard Limit", "Units");
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit l;
		if (p->task.rlimits)
			l = p->task.rlimits[r];
		else if (r == RLIMIT_NOFILE)
			l = (struct rlimit){p->fdt.nofile_cur,
					    p->fdt.nofile_max};
		else if (r == RLIMIT_AS)
			l = (struct rlimit){p->vm.user_size, p->vm.user_size};
		else
			getrlimit(r, &l);
		char cur[24], max[24];
		snprintf(cur, sizeof(cur), "%lu", (unsigned long)l.rlim_cur);
		snprintf(max, sizeof(max), "%lu", (unsigned long)l.rlim_max);
		sb_printf(b, "%-25s %-20s %-20s %-10s\n", rl[r].name,
			  l.rlim_cur == RLIM_INFINITY ? "unlimited" : cur,
			  l.rlim_max == RLIM_INFINITY ? "unlimited" : max,
			  rl[r].unit);
	}
}

static void gen_mounts(struct lx_proc *p, struct sbuf *b)
{
	for (int i = 0; i < p->fs.nmounts; i++) {
		const struct lx_mount *m = &p->fs.mounts[i];
		sb_printf(b, "mote %s mote %s 0 0\n", m->len ? m->guest : "/",
			  m->rw ? "rw" : "ro");
	}
	sb_printf(b, "proc /proc proc ro,nosuid,nodev,noexec 0 0\n");
}

/* ---- the machine ---- */

int lx_procgen_cpus(struct lx_proc *p, int *ids, int max)
{
	cpu_set_t set;
	int n = 0;
	if (p->opts && p->opts->ncpus) {
		memcpy(&set, p->opts->cpus, sizeof(set));
	} else if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		ids[0] = 0;
		return 1;
	}
	for (int i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			ids[n++] = i;
	return n;
}

static uint64_t uptime_ns(struct lx_proc *p)
{
	return mono_ns() - p->vm.boot_ns;
}

static void gen_meminfo(struct lx_proc *p, struct sbuf *b)
{
	struct memuse m;
	mem_use(p, &m);
	uint64_t total = p->vm.user_size >> 10, used = m.size >> 10;
	uint64_t free_kb = total > used ? total - used : 0;
	sb_printf(b,
		  "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
		  "MemAvailable:   %8lu kB\nBuffers:               0 kB\n"
		  "Cached:                0 kB\nSwapCached:            0 kB\n",
		  (unsigned long)total, (unsigned long)free_kb,
		  (unsigned long)free_kb);
	sb_printf(b,
		  "Active:         %8lu kB\nInactive:              0 kB\n"
		  "SwapTotal:             0 kB\nSwapFree:              0 kB\n"
		  "Dirty:                 0 kB\nWriteback:             0 kB\n"
		  "AnonPages:      %8lu kB\nMapped:         %8lu kB\n"
		  "Shmem:                 0 kB\n",
		  (unsigned long)(m.rss >> 10), (unsigned long)(m.anon >> 10),
		  (unsigned long)(m.file >> 10));
	sb_printf(b,
		  "CommitLimit:    %8lu kB\nCommitted_AS:   %8lu kB\n"
		  "HugePages_Total:       0\nHugePages_Free:        0\n"
		  "Hugepagesize:       2048 kB\n",
		  (unsigned long)total, (unsigned long)used);
}

static void gen_sysstat(struct lx_proc *p, struct sbuf *b)
{
	int ids[CPU_SETSIZE];
	int n = lx_procgen_cpus(p, ids, CPU_SETSIZE);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	uint64_t up = uptime_ns(p) / (1000000000 / HZ);
	uint64_t user = ticks(ru.ru_utime), sys = ticks(ru.ru_stime);
	uint64_t idle = up * n > user + sys ? up * n - user - sys : 0;
	sb_printf(b, "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", (unsigned long)user,
		  (unsigned long)sys, (unsigned long)idle);
	for (int i = 0; i < n; i++)
		sb_printf(b, "cpu%d %lu 0 %lu %lu 0 0 0 0 0 0\n", ids[i],
			  (unsigned long)(user / n), (unsigned long)(sys / n),
			  (unsigned long)(idle / n));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	sb_printf(b,
		  "intr 0\nctxt %ld\nbtime %ld\nprocesses %d\n"
		  "procs_running 1\nprocs_blocked 0\n",
		  ru.ru_nvcsw + ru.ru_nivcsw,
		  (long)(now.tv_sec - (time_t)(uptime_ns(p) / 1000000000)),
		  lx_tree_count(p->task.tree));
}

static void gen_uptime(struct lx_proc *p, struct sbuf *b)
{
	int ids[CPU_SETSIZE];
	int n = lx_procgen_cpus(p, ids, CPU_SETSIZE);
	uint64_t cs = uptime_ns(p) / 10000000;
	sb_printf(b, "%lu.%02lu %lu.%02lu\n", (unsigned long)(cs / 100),
		  (unsigned long)(cs % 100), (unsigned long)(cs * n / 100),
		  (unsigned long)(cs * n % 100));
}

/* ---- kernel identity: uname's, which the guest already sees ---- */

static void gen_uname(struct lx_proc *p, enum procgen g, struct sbuf *b)
{
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	if (p->opts->hostname)
		snprintf(u.nodename, sizeof(u.nodename), "%s",
			 p->opts->hostname);
	switch (g) {
	case G_VERSION:
		sb_printf(b,
			  "Linux version %s (mote) (mote microVM monitor) %s\n",
			  u.release, u.version);
		break;
	case G_OSTYPE: sb_printf(b, "Linux\n"); break;
	case G_OSRELEASE: sb_printf(b, "%s\n", u.release); break;
	default: sb_printf(b, "%s\n", u.nodename); break;
	}
}

void lx_procgen(struct lx_proc *p, pid_t tid, enum procgen g, struct sbuf *b)
{
	switch (g) {
	case G_MAPS: gen_maps(p, b); break;
	case G_STATUS: gen_status(p, tid, b); break;
	case G_STAT: gen_stat(p, tid, b); break;
	case G_STATM: gen_statm(p, b); break;
	case G_CMDLINE:
		guest_bytes(p, p->mm.arg_start, p->mm.arg_end, b);
		break;
	case G_ENVIRON:
		guest_bytes(p, p->mm.env_start, p->mm.env_end, b);
		break;
	case G_COMM: sb_printf(b, "%s\n", comm(p)); break;
	case G_LIMITS: gen_limits(p, b); break;
	case G_CPUINFO: lx_procgen_cpuinfo(p, b); break;
	case G_MEMINFO: gen_meminfo(p, b); break;
	case G_UPTIME: gen_uptime(p, b); break;
	case G_LOADAVG:
		sb_printf(b, "0.00 0.00 0.00 1/%d %d\n",
			  lx_tree_count(p->task.tree), (int)p->task.pid);
		break;
	case G_SYSSTAT: gen_sysstat(p, b); break;
	case G_FILESYSTEMS:
		sb_printf(b, "nodev\tproc\nnodev\ttmpfs\nnodev\tpipefs\n");
		break;
	case G_MOUNTS: gen_mounts(p, b); break;
	case G_PIDMAX: sb_printf(b, "4194304\n"); break;
	case G_VERSION:
	case G_OSTYPE:
	case G_OSRELEASE:
	case G_HOSTNAME: gen_uname(p, g, b); break;
	case G_NGEN: break;
	}
}
