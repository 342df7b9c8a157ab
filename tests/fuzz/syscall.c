/* libFuzzer harness over the syscall dispatcher (lx_syscall) and signal
 * delivery, on a fake process (fake.c): no /dev/kvm needed.
 *
 * An input is a short program for the guest:
 *
 *   byte 0      bits 0-1: how the syscall entered (shim, doorbell, #PF
 *               trap); bits 2-4: number of calls - 1
 *   byte 1      where the user stack pointer starts (into the data pages,
 *               so that rt_sigreturn reads a frame the input wrote, or at
 *               the top of the stack, or somewhere bad)
 *   calls       each: one byte picking the syscall from ALLOWED (or a
 *               number the table does not know), then six arguments, each
 *               a kind byte and its operand bytes (see arg())
 *   the rest    the content of the guest's data pages (paths, iovecs,
 *               structs), DATA_SIZE writable bytes then one read-only page
 *
 * After each call the vCPU returns to user mode (sysret or iret, as the
 * shim would) and a pending guest signal is delivered, so signal frames
 * and rt_sigreturn are exercised too. Every blocking host call is cut
 * short by a timer that kicks this thread with LX_SIG_KICK, as a guest
 * signal kicks a vCPU thread under mote. Files: the guest's root is a
 * small scratch directory, read-only, with an rw volume at /v that is
 * emptied after each input.
 */
#define _GNU_SOURCE
#include <asm/unistd_64.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake.h"
#include "shim/shim.h"
#include "util.h"
#include "vm/layout.h"

#define USER_SIZE (8ULL << 20)
#define DATA	  0x100000ULL /* DATA_SIZE bytes, read-write */
#define DATA_SIZE 0x4000ULL
#define RO	  (DATA + DATA_SIZE) /* one read-only page */
#define HOLE	  (RO + PAGE_SIZE)   /* unmapped */
#define BRK	  0x200000ULL
#define RIP	  0x401000ULL /* where the guest "is"; nothing runs there */
#define MAX_CALLS 8

/* Every syscall the harness may make. Left out, because they would leave
 * this process or stop it rather than fail: fork, vfork, clone, clone3
 * (new host processes and threads), execve, execveat (replace the image
 * past the point of no return), rt_sigsuspend and pause (wait for a guest
 * signal, which no kick supplies), alarm and setitimer (the monitor's own
 * timers: SIGALRM is libFuzzer's -timeout, SIGVTALRM/SIGPROF would kill
 * it), setpgid and setsid (the host process group of the fuzzer). Others
 * are narrowed in sanitize(). A new handler belongs here once it cannot
 * block forever or leave the process. */
static const uint16_t allowed[] = {
	__NR_read,
	__NR_write,
	__NR_open,
	__NR_close,
	__NR_stat,
	__NR_fstat,
	__NR_lstat,
	__NR_poll,
	__NR_lseek,
	__NR_mmap,
	__NR_mprotect,
	__NR_munmap,
	__NR_brk,
	__NR_rt_sigaction,
	__NR_rt_sigprocmask,
	__NR_rt_sigreturn,
	__NR_ioctl,
	__NR_pread64,
	__NR_pwrite64,
	__NR_readv,
	__NR_writev,
	__NR_access,
	__NR_pipe,
	__NR_select,
	__NR_sched_yield,
	__NR_mremap,
	__NR_madvise,
	__NR_dup,
	__NR_dup2,
	__NR_nanosleep,
	__NR_getitimer,
	__NR_getpid,
	__NR_exit,
	__NR_wait4,
	__NR_kill,
	__NR_uname,
	__NR_fcntl,
	__NR_fsync,
	__NR_fdatasync,
	__NR_truncate,
	__NR_ftruncate,
	__NR_getcwd,
	__NR_chdir,
	__NR_fchdir,
	__NR_rename,
	__NR_mkdir,
	__NR_rmdir,
	__NR_link,
	__NR_unlink,
	__NR_symlink,
	__NR_readlink,
	__NR_chmod,
	__NR_fchmod,
	__NR_chown,
	__NR_fchown,
	__NR_lchown,
	__NR_umask,
	__NR_gettimeofday,
	__NR_getrlimit,
	__NR_sysinfo,
	__NR_getuid,
	__NR_getgid,
	__NR_geteuid,
	__NR_getegid,
	__NR_getppid,
	__NR_getpgrp,
	__NR_getgroups,
	__NR_setrlimit,
	__NR_getpgid,
	__NR_getsid,
	__NR_rt_sigpending,
	__NR_sigaltstack,
	__NR_arch_prctl,
	__NR_gettid,
	__NR_tkill,
	__NR_time,
	__NR_futex,
	__NR_sched_setaffinity,
	__NR_sched_getaffinity,
	__NR_set_tid_address,
	__NR_clock_gettime,
	__NR_clock_getres,
	__NR_clock_nanosleep,
	__NR_exit_group,
	__NR_tgkill,
	__NR_waitid,
	__NR_openat,
	__NR_mkdirat,
	__NR_fchownat,
	__NR_newfstatat,
	__NR_unlinkat,
	__NR_renameat,
	__NR_linkat,
	__NR_symlinkat,
	__NR_readlinkat,
	__NR_fchmodat,
	__NR_faccessat,
	__NR_pselect6,
	__NR_ppoll,
	__NR_set_robust_list,
	__NR_utimensat,
	__NR_dup3,
	__NR_pipe2,
	__NR_prlimit64,
	__NR_getrandom,
	__NR_renameat2,
	__NR_statx,
	__NR_getcpu,
	__NR_getdents64,
	__NR_faccessat2,
	/* sockets (no --net: AF_UNIX only) */
	__NR_socket,
	__NR_socketpair,
	__NR_bind,
	__NR_listen,
	__NR_accept4,
	__NR_connect,
	__NR_getsockname,
	__NR_getpeername,
	__NR_shutdown,
	__NR_setsockopt,
	__NR_getsockopt,
	__NR_sendto,
	__NR_recvfrom,
	__NR_sendmsg,
	__NR_recvmsg,
	__NR_sendmmsg,
	__NR_recvmmsg,
	/* events */
	__NR_epoll_create1,
	__NR_epoll_ctl,
	__NR_epoll_wait,
	__NR_epoll_pwait,
	__NR_eventfd2,
	__NR_timerfd_create,
	__NR_timerfd_settime,
	__NR_timerfd_gettime,
	__NR_signalfd4,
	/* files and memory */
	__NR_memfd_create,
	__NR_sendfile,
	__NR_copy_file_range,
	__NR_splice,
	__NR_tee,
	__NR_fallocate,
	__NR_flock,
	__NR_fadvise64,
	__NR_statfs,
	__NR_fstatfs,
	__NR_close_range,
	__NR_msync,
	__NR_mincore,
	/* tasks */
	__NR_getrusage,
	__NR_times,
	__NR_prctl,
	__NR_mlock,
	__NR_munlock,
	__NR_membarrier,
	__NR_capget,
	__NR_getxattr,
	__NR_listxattr,
};
#define NALLOWED (sizeof(allowed) / sizeof(allowed[0]))

/* Numbers the table has no handler for, or that lie beyond it. */
static const uint64_t unknown[] = {
	__NR_rseq,    __NR_inotify_init1, __NR_ptrace, LX_NSYSCALLS - 1,
	LX_NSYSCALLS, 0xffffffffULL,	  1ULL << 63,  ~0ULL,
};

static const uint64_t edges[] = {
	~0ULL,
	1ULL << 63,
	0x7fffffffULL,
	0x80000000ULL,
	0xffffffffULL,
	1ULL << 47,
	USER_SIZE,
	SYS_GVA,
	SYS_GVA + SYS_SHIM,
	-(uint64_t)4096,
	USER_MIN - 1,
	TRAMP_GVA,
	DOORBELL_GVA,
	PAGE_SIZE,
	~0ULL - 7,
	0x10000000000ULL,
};

struct input {
	const uint8_t *d;
	size_t n;
};

static uint64_t take(struct input *in, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++) {
		uint8_t b = 0;
		if (in->n) {
			b = *in->d++;
			in->n--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

/* One argument: biased toward what breaks handlers. */
static uint64_t arg(struct input *in, const uint64_t *rets, int ncalls)
{
	unsigned kind = (unsigned)take(in, 1);
	switch (kind % 16) {
	case 0: return take(in, 1);
	case 1: return -take(in, 1);
	case 2: return take(in, 8);
	case 3: return DATA + take(in, 2) % DATA_SIZE;
	case 4: return RO - take(in, 1); /* runs into the read-only page */
	case 5: return RO + take(in, 1) * 16;
	case 6: return HOLE - take(in, 1);	/* runs into the hole */
	case 7: return USER_SIZE - take(in, 1); /* the top of the stack */
	case 8: return (uint64_t)((int)(take(in, 1) % 12) - 1); /* fd -1..10 */
	case 9: return (uint64_t)(int64_t)AT_FDCWD;
	case 10: { /* the result of an earlier call (an fd, an address) */
		unsigned i = (unsigned)take(in, 1);
		return ncalls ? rets[i % ncalls] : 0;
	}
	case 11: return edges[take(in, 1) % 16];
	case 12: return 0;
	case 13: return take(in, 4);
	case 14: return USER_SIZE - 0x10000 + take(in, 2); /* in the stack */
	default: return 1ULL << (take(in, 1) % 64);
	}
}

static bool stop_signal(uint64_t sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* Narrows the calls that would otherwise reach outside this process or
 * block for good: signals only to this guest process (never a stop signal:
 * its default action stops the monitor), no PI futex locks (an owner tid
 * from the input can be any host task), waits never block. */
static void sanitize(struct fake *f, uint64_t nr, uint64_t *a)
{
	switch (nr) {
	case __NR_kill:
		a[0] = (uint64_t)f->p->task.pid;
		if (stop_signal(a[1]))
			a[1] = 0;
		break;
	case __NR_tkill:
		a[0] = (uint64_t)f->t->tid;
		if (stop_signal(a[1]))
			a[1] = 0;
		break;
	case __NR_tgkill:
		a[0] = (uint64_t)f->p->task.pid;
		a[1] = (uint64_t)f->t->tid;
		if (stop_signal(a[2]))
			a[2] = 0;
		break;
	case __NR_futex: {
		int cmd = (int)a[1] &
			  ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
		if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2)
			a[1] = FUTEX_WAKE;
		break;
	}
	case __NR_fallocate: /* the volume is a host directory: no 1 TiB file */
		a[3] &= (1 << 20) - 1;
		break;
	case __NR_wait4: a[2] |= WNOHANG; break;
	case __NR_waitid: a[3] |= WNOHANG; break;
	}
}

/* ---- kicks: blocking host calls end with EINTR ---- */

static timer_t kick_timer;

/* A wait that only a deliverable guest signal ends (poll, epoll and the
 * other waits on lx_wait) ignores a bare kick, as it should; after
 * KICKS_TO_STOP of them the call is told its thread must stop, as when
 * the guest exits under mote. */
#define KICKS_TO_STOP 5
static struct lx_thread *volatile kick_target;
static volatile int kicks;

static void on_kick(int sig)
{
	(void)sig;
	if (++kicks >= KICKS_TO_STOP && kick_target)
		kick_target->exiting = true;
}

static void kick_init(void)
{
	struct sigaction sa = {.sa_handler = on_kick};
	sigemptyset(&sa.sa_mask);
	sigaction(LX_SIG_KICK, &sa, NULL); /* no SA_RESTART */
	struct sigevent ev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = LX_SIG_KICK,
	};
	ev._sigev_un._tid = gettid(); /* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &ev, &kick_timer) < 0) {
		perror("timer_create");
		exit(1);
	}
}

/* Every 10 ms while armed: one kick could land just before the host call
 * starts. */
static void kick_arm(bool on)
{
	struct itimerspec its = {0};
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = 10000000;
	timer_settime(kick_timer, 0, &its, NULL);
}

/* ---- the vCPU side ---- */

enum { MODE_SHIM, MODE_DOORBELL, MODE_TRAP };

static void set_cpl(struct lx_thread *t, int mode)
{
	struct kvm_sregs *s = vcpu_sregs(&t->cpu);
	s->cs.selector = mode == MODE_DOORBELL ? SEL_UCODE : SEL_KCODE;
	s->ss.selector = mode == MODE_DOORBELL ? SEL_UDATA : SEL_KDATA;
}

/* The guest executes `syscall`: RCX and R11 take RIP and RFLAGS; through
 * the #PF trap the user RSP is in the exception frame, RSP on the shim's
 * stack. */
static void enter(struct fake *f, int mode, uint64_t nr, const uint64_t *a)
{
	struct lx_thread *t = f->t;
	struct kvm_regs *r = vcpu_regs(&t->cpu);
	set_cpl(t, mode);
	r->rcx = r->rip;
	r->r11 = r->rflags;
	r->rax = nr;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
	t->entry = mode == MODE_SHIM	   ? ENTRY_SHIM
		   : mode == MODE_DOORBELL ? ENTRY_DOORBELL
					   : ENTRY_TRAP;
	if (mode == MODE_TRAP) {
		t->trap_rsp = r->rsp;
		r->rsp = SYS_GVA + SYS_VCPU + PAGE_SIZE - 64;
	}
}

/* Back to user mode the way the shim would go: the iret frame a replaced
 * context left on the vCPU's stack, or sysret. */
static void leave(struct fake *f, int mode, bool replaced)
{
	struct lx_thread *t = f->t;
	struct kvm_regs *r = vcpu_regs(&t->cpu);
	if (replaced && mode != MODE_DOORBELL) {
		const uint64_t *fr = gm_sys(&f->p->vm, r->rsp, 5 * 8);
		if (r->rip != SYS_GVA + SYS_SHIM + SHIM_OFF_IRET || !fr)
			abort(); /* vcpu_set_user left no way back to CPL 3 */
		r->rip = fr[0];
		r->rflags = fr[2];
		r->rsp = fr[3];
	} else if (!replaced) {
		r->rip = r->rcx;
		if (mode != MODE_DOORBELL)
			r->rflags = r->r11;
		if (mode == MODE_TRAP)
			r->rsp = t->trap_rsp;
	}
	/* RIP may be anything a handler address can be (the CPU faults on
	 * a bad one and the guest dies of SIGSEGV, tests/guest/
	 * sig_bad_handler.c); the stack is the frame's, in user memory. */
	if (replaced && r->rsp >= 1ULL << 47) {
		fprintf(stderr, "user stack outside user space: %#llx\n",
			r->rsp);
		abort();
	}
}

/* A signal delivery (not a restart) enters one of the handlers. */
static bool in_handler(const struct lx_proc *p, uint64_t rip)
{
	for (int i = 0; i < 64; i++)
		if (p->sig.act[i].handler > 1 && p->sig.act[i].handler == rip)
			return true;
	return false;
}

static uint64_t start_rsp(unsigned sel)
{
	if (sel < 0x80)
		return DATA + 8 + sel * 64; /* frames the input wrote */
	if (sel < 0xf0)
		return USER_SIZE - (sel - 0x7f) * 256;
	return edges[sel % 16];
}

/* ---- the fuzz target ---- */

static struct fake fk;
static cpu_set_t affinity;

static void setup(struct fake *f, int mode, unsigned rsp_sel, struct input *mem)
{
	struct lx_proc *p = f->p;
	fake_reset(f);
	if (lx_mm_map(p, DATA, DATA + DATA_SIZE, PT_READ | PT_WRITE, VMA_ANON) <
		    0 ||
	    lx_mm_map(p, RO, RO + PAGE_SIZE, PT_READ, VMA_ANON) < 0)
		abort();
	p->mm.brk_start = p->mm.brk = BRK;
	memcpy(p->vm.mem + DATA, mem->d, MIN(mem->n, DATA_SIZE + PAGE_SIZE));
	struct kvm_regs *r = vcpu_regs(&f->t->cpu);
	r->rip = RIP;
	r->rflags = 0x202;
	r->rsp = start_rsp(rsp_sel);
	set_cpl(f->t, mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fake_init(&fk, USER_SIZE);
		kick_init();
		sched_getaffinity(0, sizeof(affinity), &affinity);
		ready = true;
	}
	struct input in = {data, size};
	unsigned flags = (unsigned)take(&in, 1);
	unsigned rsp_sel = (unsigned)take(&in, 1);
	int mode = (flags & 3) == 3 ? MODE_SHIM : (int)(flags & 3);
	int ncalls = 1 + (int)((flags >> 2) & 7);
	/* The calls come first; the data pages are what is left. */
	uint64_t nrs[MAX_CALLS], args[MAX_CALLS][6], rets[MAX_CALLS];
	struct input calls = in;
	for (int i = 0; i < ncalls; i++) {
		unsigned pick = (unsigned)take(&in, 1);
		nrs[i] = pick < 0xf8 ? allowed[pick % NALLOWED]
				     : unknown[pick - 0xf8];
		for (int j = 0; j < 6; j++)
			(void)arg(&in, rets, 0);
	}
	setup(&fk, mode, rsp_sel, &in);
	in = calls;
	bool affinity_changed = false;
	for (int i = 0; i < ncalls && !fk.p->task.exited; i++) {
		(void)take(&in, 1);
		for (int j = 0; j < 6; j++)
			args[i][j] = arg(&in, rets, i);
		sanitize(&fk, nrs[i], args[i]);
		affinity_changed |= nrs[i] == __NR_sched_setaffinity;
		enter(&fk, mode, nrs[i], args[i]);
		kicks = 0;
		kick_target = fk.t;
		kick_arm(true);
		lx_syscall(fk.t);
		kick_arm(false);
		kick_target = NULL;
		fk.t->exiting = false;
		bool replaced = fk.t->replaced, handler = false;
		rets[i] = vcpu_regs(&fk.t->cpu)->rax;
		if (!fk.p->task.exited) {
			fk.t->replaced = false;
			lx_signal_deliver(fk.t);
			handler = fk.t->replaced;
		}
		leave(&fk, mode, replaced || handler);
		/* The handler returns at once: its `ret` pops the restorer's
		 * address, so a following rt_sigreturn finds its frame. */
		if (handler && in_handler(fk.p, vcpu_regs(&fk.t->cpu)->rip))
			vcpu_regs(&fk.t->cpu)->rsp += 8;
	}
	if (affinity_changed)
		sched_setaffinity(0, sizeof(affinity), &affinity);
	/* The guest's RLIMIT_FSIZE is this process's own (limit.c): it must
	 * not outlive the input, or libFuzzer's next write to its log or
	 * corpus dies of SIGXFSZ (its handler then exits 1 without a word). */
	lx_limit_fsize(RLIM_INFINITY);
	fake_check_mm(fk.p);
	fake_check_fds(fk.p);
	return 0;
}
