/* The syscall table, the dispatcher and --trace. */
#define _GNU_SOURCE
#include <asm/unistd_64.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "lx/lx.h"
#include "util.h"

/* How --trace prints an argument. Packed (one byte), as is enum lx_lock,
 * so that an entry of the table is 24 bytes, not 48: the table is in
 * RELRO, where the loader's relocations make every page of it resident,
 * and at 48 bytes its 462 entries took about 22 KiB of each monitor. */
enum __attribute__((packed)) arg {
	A_NONE = 0,
	A_INT,	/* signed decimal */
	A_UINT, /* unsigned decimal */
	A_HEX,	/* pointer or flags */
	A_FD,	/* descriptor; AT_FDCWD by name */
	A_STR,	/* guest string (a path) */
	A_OCT,	/* mode */
};

/* How a call runs beside the process's other threads. */
enum __attribute__((packed)) lx_lock {
	L_NONE, /* on its own */
	L_MM,	/* holds mm_lock: the address space has one writer at a time */
};

struct lx_syscall {
	const char *name;
	lx_sys_fn fn;
	enum arg args[6];
	enum lx_lock lock;
};
_Static_assert(sizeof(struct lx_syscall) == 24,
	       "a syscall table entry grew: the whole table is resident");

#define S(nm, ...) [__NR_##nm] = {#nm, lx_sys_##nm, {__VA_ARGS__}, L_NONE}
/* One that changes the address space. */
#define M(nm, ...) [__NR_##nm] = {#nm, lx_sys_##nm, {__VA_ARGS__}, L_MM}
/* Known to the table (so --trace names it) but not implemented: ENOSYS. */
#define N(nm, ...) [__NR_##nm] = {#nm, NULL, {__VA_ARGS__}, L_NONE}

static const struct lx_syscall table[LX_NSYSCALLS] = {
	S(read, A_FD, A_HEX, A_UINT),
	S(write, A_FD, A_HEX, A_UINT),
	S(open, A_STR, A_HEX, A_OCT),
	S(close, A_FD),
	S(stat, A_STR, A_HEX),
	S(fstat, A_FD, A_HEX),
	S(lstat, A_STR, A_HEX),
	S(poll, A_HEX, A_UINT, A_INT),
	S(lseek, A_FD, A_INT, A_INT),
	M(mmap, A_HEX, A_UINT, A_HEX, A_HEX, A_FD, A_HEX),
	M(mprotect, A_HEX, A_UINT, A_HEX),
	M(munmap, A_HEX, A_UINT),
	M(brk, A_HEX),
	S(rt_sigaction, A_INT, A_HEX, A_HEX, A_UINT),
	S(rt_sigprocmask, A_INT, A_HEX, A_HEX, A_UINT),
	S(ioctl, A_FD, A_HEX, A_HEX),
	S(pread64, A_FD, A_HEX, A_UINT, A_INT),
	S(pwrite64, A_FD, A_HEX, A_UINT, A_INT),
	S(readv, A_FD, A_HEX, A_UINT),
	S(writev, A_FD, A_HEX, A_UINT),
	S(access, A_STR, A_OCT),
	S(pipe, A_HEX),
	S(select, A_INT, A_HEX, A_HEX, A_HEX, A_HEX),
	S(sched_yield),
	M(mremap, A_HEX, A_UINT, A_UINT, A_HEX, A_HEX),
	M(madvise, A_HEX, A_UINT, A_INT),
	M(msync, A_HEX, A_UINT, A_HEX),
	M(mincore, A_HEX, A_UINT, A_HEX),
	S(dup, A_FD),
	S(dup2, A_FD, A_FD),
	S(nanosleep, A_HEX, A_HEX),
	S(getpid),
	S(exit, A_INT),
	S(uname, A_HEX),
	S(fcntl, A_FD, A_INT, A_HEX),
	S(fsync, A_FD),
	S(fdatasync, A_FD),
	S(truncate, A_STR, A_INT),
	S(ftruncate, A_FD, A_INT),
	S(getcwd, A_HEX, A_UINT),
	S(chdir, A_STR),
	S(fchdir, A_FD),
	S(rename, A_STR, A_STR),
	S(mkdir, A_STR, A_OCT),
	S(rmdir, A_STR),
	S(link, A_STR, A_STR),
	S(unlink, A_STR),
	S(symlink, A_STR, A_STR),
	S(readlink, A_STR, A_HEX, A_UINT),
	S(chmod, A_STR, A_OCT),
	S(fchmod, A_FD, A_OCT),
	S(chown, A_STR, A_INT, A_INT),
	S(fchown, A_FD, A_INT, A_INT),
	S(lchown, A_STR, A_INT, A_INT),
	S(umask, A_OCT),
	S(gettimeofday, A_HEX, A_HEX),
	S(getrlimit, A_INT, A_HEX),
	S(sysinfo, A_HEX),
	S(getuid),
	S(getgid),
	S(geteuid),
	S(getegid),
	S(getppid),
	S(getgroups, A_INT, A_HEX),
	S(setrlimit, A_INT, A_HEX),
	S(arch_prctl, A_HEX, A_HEX),
	S(gettid),
	S(time, A_HEX),
	S(sched_getaffinity, A_INT, A_UINT, A_HEX),
	S(set_tid_address, A_HEX),
	S(clock_gettime, A_INT, A_HEX),
	S(clock_getres, A_INT, A_HEX),
	S(clock_nanosleep, A_INT, A_HEX, A_HEX, A_HEX),
	S(exit_group, A_INT),
	S(rt_sigreturn),
	S(rt_sigpending, A_HEX, A_UINT),
	S(rt_sigsuspend, A_HEX, A_UINT),
	S(pause),
	S(sigaltstack, A_HEX, A_HEX),
	S(alarm, A_UINT),
	S(setitimer, A_INT, A_HEX, A_HEX),
	S(getitimer, A_INT, A_HEX),
	S(openat, A_FD, A_STR, A_HEX, A_OCT),
	S(mkdirat, A_FD, A_STR, A_OCT),
	S(fchownat, A_FD, A_STR, A_INT, A_INT, A_HEX),
	S(newfstatat, A_FD, A_STR, A_HEX, A_HEX),
	S(unlinkat, A_FD, A_STR, A_HEX),
	S(renameat, A_FD, A_STR, A_FD, A_STR),
	S(linkat, A_FD, A_STR, A_FD, A_STR, A_HEX),
	S(symlinkat, A_STR, A_FD, A_STR),
	S(readlinkat, A_FD, A_STR, A_HEX, A_UINT),
	S(fchmodat, A_FD, A_STR, A_OCT),
	S(faccessat, A_FD, A_STR, A_OCT),
	S(pselect6, A_INT, A_HEX, A_HEX, A_HEX, A_HEX, A_HEX),
	S(ppoll, A_HEX, A_UINT, A_HEX, A_HEX, A_UINT),
	S(set_robust_list, A_HEX, A_UINT),
	S(utimensat, A_FD, A_STR, A_HEX, A_HEX),
	S(dup3, A_FD, A_FD, A_HEX),
	S(pipe2, A_HEX, A_HEX),
	S(prlimit64, A_INT, A_INT, A_HEX, A_HEX),
	S(getrandom, A_HEX, A_UINT, A_HEX),
	S(renameat2, A_FD, A_STR, A_FD, A_STR, A_HEX),
	S(statx, A_FD, A_STR, A_HEX, A_HEX, A_HEX),
	S(getdents64, A_FD, A_HEX, A_UINT),
	S(faccessat2, A_FD, A_STR, A_OCT, A_HEX),
	/* Named so --trace shows them; they return ENOSYS. rseq is refused on
	 * purpose: glibc falls back cleanly and the shim has no rseq ABI. */
	N(rseq, A_HEX, A_UINT, A_HEX, A_HEX),
	S(clone, A_HEX, A_HEX, A_HEX, A_HEX, A_HEX),
	S(clone3, A_HEX, A_UINT),
	S(fork),
	S(vfork),
	S(execve, A_STR, A_HEX, A_HEX),
	S(execveat, A_FD, A_STR, A_HEX, A_HEX, A_HEX),
	S(wait4, A_INT, A_HEX, A_HEX, A_HEX),
	S(waitid, A_INT, A_INT, A_HEX, A_HEX, A_HEX),
	S(kill, A_INT, A_INT),
	S(tgkill, A_INT, A_INT, A_INT),
	S(tkill, A_INT, A_INT),
	S(setpgid, A_INT, A_INT),
	S(getpgid, A_INT),
	S(getpgrp),
	S(setsid),
	S(getsid, A_INT),
	S(futex, A_HEX, A_INT, A_INT, A_HEX, A_HEX, A_INT),
	S(sched_setaffinity, A_INT, A_UINT, A_HEX),
	S(getcpu, A_HEX, A_HEX, A_HEX),
	S(socket, A_INT, A_HEX, A_INT),
	S(socketpair, A_INT, A_HEX, A_INT, A_HEX),
	S(bind, A_FD, A_HEX, A_UINT),
	S(listen, A_FD, A_INT),
	S(accept, A_FD, A_HEX, A_HEX),
	S(accept4, A_FD, A_HEX, A_HEX, A_HEX),
	S(connect, A_FD, A_HEX, A_UINT),
	S(getsockname, A_FD, A_HEX, A_HEX),
	S(getpeername, A_FD, A_HEX, A_HEX),
	S(shutdown, A_FD, A_INT),
	S(setsockopt, A_FD, A_INT, A_INT, A_HEX, A_UINT),
	S(getsockopt, A_FD, A_INT, A_INT, A_HEX, A_HEX),
	S(sendto, A_FD, A_HEX, A_UINT, A_HEX, A_HEX, A_UINT),
	S(recvfrom, A_FD, A_HEX, A_UINT, A_HEX, A_HEX, A_HEX),
	S(sendmsg, A_FD, A_HEX, A_HEX),
	S(recvmsg, A_FD, A_HEX, A_HEX),
	S(sendmmsg, A_FD, A_HEX, A_UINT, A_HEX),
	S(recvmmsg, A_FD, A_HEX, A_UINT, A_HEX, A_HEX),
	/* event.c, sigfd.c */
	S(epoll_create, A_INT),
	S(epoll_create1, A_HEX),
	S(epoll_ctl, A_FD, A_INT, A_FD, A_HEX),
	S(epoll_wait, A_FD, A_HEX, A_INT, A_INT),
	S(epoll_pwait, A_FD, A_HEX, A_INT, A_INT, A_HEX, A_UINT),
	S(epoll_pwait2, A_FD, A_HEX, A_INT, A_HEX, A_HEX, A_UINT),
	S(eventfd, A_UINT),
	S(eventfd2, A_UINT, A_HEX),
	S(timerfd_create, A_INT, A_HEX),
	S(timerfd_settime, A_FD, A_HEX, A_HEX, A_HEX),
	S(timerfd_gettime, A_FD, A_HEX),
	S(signalfd, A_FD, A_HEX, A_UINT),
	S(signalfd4, A_FD, A_HEX, A_UINT, A_HEX),
	N(inotify_init),
	N(inotify_init1, A_HEX),
	N(inotify_add_watch, A_FD, A_STR, A_HEX),
	N(inotify_rm_watch, A_FD, A_INT),
	/* task.c */
	S(getrusage, A_INT, A_HEX),
	S(times, A_HEX),
	S(getpriority, A_INT, A_INT),
	S(setpriority, A_INT, A_INT, A_INT),
	S(sched_getparam, A_INT, A_HEX),
	S(sched_getscheduler, A_INT),
	S(sched_get_priority_max, A_INT),
	S(sched_get_priority_min, A_INT),
	S(prctl, A_INT, A_HEX, A_HEX, A_HEX, A_HEX),
	S(mlock, A_HEX, A_UINT),
	S(munlock, A_HEX, A_UINT),
	S(mlock2, A_HEX, A_UINT, A_HEX),
	S(mlockall, A_HEX),
	S(munlockall),
	S(membarrier, A_INT, A_HEX, A_INT),
	S(capget, A_HEX, A_HEX),
	S(capset, A_HEX, A_HEX),
	/* fileops.c */
	S(memfd_create, A_STR, A_HEX),
	S(copy_file_range, A_FD, A_HEX, A_FD, A_HEX, A_UINT, A_HEX),
	S(sendfile, A_FD, A_FD, A_HEX, A_UINT),
	S(splice, A_FD, A_HEX, A_FD, A_HEX, A_UINT, A_HEX),
	S(tee, A_FD, A_FD, A_UINT, A_HEX),
	S(fallocate, A_FD, A_HEX, A_INT, A_INT),
	S(flock, A_FD, A_HEX),
	S(fadvise64, A_FD, A_INT, A_INT, A_INT),
	S(statfs, A_STR, A_HEX),
	S(fstatfs, A_FD, A_HEX),
	S(getxattr, A_STR, A_STR, A_HEX, A_UINT),
	S(lgetxattr, A_STR, A_STR, A_HEX, A_UINT),
	S(fgetxattr, A_FD, A_STR, A_HEX, A_UINT),
	S(listxattr, A_STR, A_HEX, A_UINT),
	S(llistxattr, A_STR, A_HEX, A_UINT),
	S(flistxattr, A_FD, A_HEX, A_UINT),
	S(setxattr, A_STR, A_STR, A_HEX, A_UINT, A_HEX),
	S(lsetxattr, A_STR, A_STR, A_HEX, A_UINT, A_HEX),
	S(fsetxattr, A_FD, A_STR, A_HEX, A_UINT, A_HEX),
	S(removexattr, A_STR, A_STR),
	S(lremovexattr, A_STR, A_STR),
	S(fremovexattr, A_FD, A_STR),
	S(close_range, A_UINT, A_UINT, A_HEX),
	N(ptrace, A_INT, A_INT, A_HEX, A_HEX),
	N(mount, A_STR, A_STR, A_STR, A_HEX, A_HEX),
};
#undef S
#undef N

_Static_assert(LX_NSYSCALLS > __NR_statx && LX_NSYSCALLS > __NR_faccessat2 &&
		       LX_NSYSCALLS > __NR_epoll_pwait2,
	       "syscall table too small");

const char *lx_sys_name(uint64_t nr)
{
	return nr < LX_NSYSCALLS && table[nr].name ? table[nr].name : NULL;
}

static void trace_str(struct lx_thread *t, FILE *f, uint64_t gva)
{
	char buf[96];
	long n = gm_strncpy(&t->p->vm, buf, gva, sizeof(buf));
	if (n == -EFAULT) {
		fprintf(f, "0x%" PRIx64, gva);
		return;
	}
	fputc('"', f);
	for (const char *s = buf; *s && s < buf + sizeof(buf) - 1; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 32 || (unsigned char)*s > 126)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputs(n < 0 ? "\"..." : "\"", f);
}

static void trace_arg(struct lx_thread *t, FILE *f, enum arg type, uint64_t v)
{
	switch (type) {
	case A_NONE: break;
	case A_INT: fprintf(f, "%" PRId64, (int64_t)v); break;
	case A_UINT: fprintf(f, "%" PRIu64, v); break;
	case A_HEX: fprintf(f, "0x%" PRIx64, v); break;
	case A_FD:
		if ((int)v == AT_FDCWD)
			fputs("AT_FDCWD", f);
		else
			fprintf(f, "%d", (int)v);
		break;
	case A_STR: trace_str(t, f, v); break;
	case A_OCT: fprintf(f, "0%" PRIo64, v); break;
	}
}

static void trace_call(struct lx_thread *t, uint64_t nr, const uint64_t *a,
		       long ret)
{
	FILE *f = t->p->trace;
	const char *name = lx_sys_name(nr);
	fprintf(f, "[%d] ", t->tid);
	if (name)
		fprintf(f, "%s(", name);
	else
		fprintf(f, "syscall_%" PRIu64 "(", nr);
	for (int i = 0; name && i < 6 && table[nr].args[i]; i++) {
		if (i)
			fputs(", ", f);
		trace_arg(t, f, table[nr].args[i], a[i]);
	}
	if (ret < 0 && ret >= -4095)
		fprintf(f, ") = -1 %s (%s)\n", strerrorname_np((int)-ret),
			strerror((int)-ret));
	else if (ret >= 0 && ret < 1 << 20)
		fprintf(f, ") = %ld\n", ret);
	else
		fprintf(f, ") = 0x%lx\n", (unsigned long)ret);
}

void lx_trace_summary(struct lx_proc *p)
{
	FILE *f = p->trace;
	uint64_t total = p->stats.enosys_other;
	for (int i = 0; i < LX_NSYSCALLS; i++)
		total += p->stats.enosys[i];
	fprintf(f, "--- %" PRIu64 " syscall(s) returned ENOSYS ---\n", total);
	for (int i = 0; i < LX_NSYSCALLS; i++)
		if (p->stats.enosys[i])
			fprintf(f, "%8" PRIu64 "  %s\n", p->stats.enosys[i],
				lx_sys_name(i) ? lx_sys_name(i) : "?");
	if (p->stats.enosys_other)
		fprintf(f, "%8" PRIu64 "  (numbers beyond %d)\n",
			p->stats.enosys_other, LX_NSYSCALLS - 1);
	fflush(f);
}

void lx_syscall(struct lx_thread *t)
{
	struct kvm_regs *r = vcpu_regs(&t->cpu);
	uint64_t nr = r->rax;
	const uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	long ret = -ENOSYS;
	t->replaced = false;
	if (nr < LX_NSYSCALLS) {
		uint64_t t0 = mono_ns();
		/* Counted atomically: the process's vCPU threads make
		 * calls at once. */
		__atomic_fetch_add(&t->p->stats.calls[nr], 1, __ATOMIC_RELAXED);
		if (table[nr].fn && table[nr].lock == L_MM) {
			pthread_mutex_lock(&t->p->mm.lock);
			ret = table[nr].fn(t, a);
			pthread_mutex_unlock(&t->p->mm.lock);
		} else if (table[nr].fn) {
			ret = table[nr].fn(t, a);
		}
		__atomic_fetch_add(&t->p->stats.ns[nr], mono_ns() - t0,
				   __ATOMIC_RELAXED);
		if (ret == -ENOSYS)
			__atomic_fetch_add(&t->p->stats.enosys[nr], 1,
					   __ATOMIC_RELAXED);
		/* A call a hold interrupted (with no signal for the guest)
		 * runs again once the hold ends, whatever it is. */
		if (ret == -EINTR &&
		    (lx_signal_restartable(nr) ||
		     (lx_held(t->p) && !(lx_signal_pending(t) & ~t->sigmask))))
			t->restart_nr = nr + 1;
	} else {
		__atomic_fetch_add(&t->p->stats.enosys_other, 1,
				   __ATOMIC_RELAXED);
	}
	if (t->p->trace) {
		struct lx_own_write w;
		lx_own_write_begin(t->p, &w);
		clearerr(t->p->trace);
		trace_call(t, nr, a, ret);
		lx_own_write_end(t->p, &w,
				 ferror(t->p->trace) && errno == EFBIG);
	}
	if (!t->replaced) {
		/* Re-read: fork's child runs on a new vCPU. */
		r = vcpu_regs(&t->cpu);
		r->rax = (uint64_t)ret;
		vcpu_regs_dirty(&t->cpu);
	}
	lx_mm_sync(t);
}

int lx_put(struct lx_thread *t, uint64_t gva, const void *v, size_t len)
{
	return gm_copy_out(&t->p->vm, gva, v, len);
}

void lx_set_user(struct lx_thread *t, const struct kvm_regs *r)
{
	vcpu_set_user(&t->cpu, r);
	t->replaced = true;
	/* The user context is now r, whichever way the call came in: not
	 * the caller's RCX and R11, nor (on the shim's path, where r waits
	 * in an iret frame) the vCPU's own registers. */
	t->entry = ENTRY_NONE;
}
