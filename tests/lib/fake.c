/* A guest process without KVM, for the fuzzers and the lx unit tests
 * (see fake.h). */
#define _GNU_SOURCE
#include "fake.h"
#include "run/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"
#include "vm/layout.h"

/* ---- link-time stand-ins (-Wl,--wrap=msg,--wrap=kvm_ioctl) ---- */

/* The monitor's one-line reports ("guest killed by SIGSEGV ...") would
 * flood the fuzzer's output; FUZZ_VERBOSE=1 shows them. */
void __wrap_msg(const char *fmt, ...)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("mote: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The vCPU's FPU/XSAVE state, which signal frames save and restore through
 * KVM_GET_XSAVE / KVM_SET_XSAVE. Every other KVM ioctl fails as on a
 * closed fd. */
static struct kvm_xsave fake_xsave;

int __wrap_kvm_ioctl(int fd, unsigned long req, void *arg)
{
	switch (req) {
	case KVM_GET_XSAVE:
		memcpy(arg, &fake_xsave, sizeof(fake_xsave));
		return 0;
	case KVM_SET_XSAVE:
		memcpy(&fake_xsave, arg, sizeof(fake_xsave));
		return 0;
	case KVM_SET_USER_MEMORY_REGION: /* exec re-adds the system slot */
		return 0;
	}
	errno = EBADF;
	return -1;
}

/* ---- the scratch directory ---- */

static void wipe_at(int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			fchmodat(dirfd, e->d_name, 0700, 0);
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			if (sub >= 0 && depth < 64)
				wipe_at(sub, depth + 1);
			else if (sub >= 0)
				close(sub);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

void fake_wipe(int dirfd)
{
	fchmod(dirfd, 0755);
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		wipe_at(fd, 0);
}

static char *scratch;
static pid_t scratch_owner;

static void remove_scratch(void)
{
	if (!scratch || getpid() != scratch_owner)
		return;
	int fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fake_wipe(fd);
		close(fd);
	}
	rmdir(scratch);
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz set-up: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	must(fd >= 0, path);
	must(write(fd, text, strlen(text)) == (ssize_t)strlen(text), path);
	close(fd);
}

/* A small guest root: a file, a directory, symlinks (one to an absolute
 * path, one that tries to climb out, one loop) and the volume's
 * mount point. */
static void make_root(const char *root)
{
	char p[256];
	must(mkdir(root, 0755) == 0, root);
	put_file(root, "f", "hello, fuzzer\n");
	snprintf(p, sizeof(p), "%s/d", root);
	must(mkdir(p, 0755) == 0, p);
	put_file(p, "g", "");
	snprintf(p, sizeof(p), "%s/v", root);
	must(mkdir(p, 0755) == 0, p);
	snprintf(p, sizeof(p), "%s/lib64", root);
	must(mkdir(p, 0755) == 0, p);
	snprintf(p, sizeof(p), "%s/lib64/ld-linux-x86-64.so.2", root);
	must(symlink("/ld.so", p) == 0, p);
	snprintf(p, sizeof(p), "%s/l", root);
	must(symlink("/f", p) == 0, p);
	snprintf(p, sizeof(p), "%s/esc", root);
	must(symlink("../../../../../../etc/passwd", p) == 0, p);
	snprintf(p, sizeof(p), "%s/loop", root);
	must(symlink("loop", p) == 0, p);
}

static void make_scratch(struct fake *f)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/mote-fuzz-XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	must(mkdtemp(f->dir) != NULL, "mkdtemp");
	scratch = f->dir;
	scratch_owner = getpid();
	atexit(remove_scratch);
	char root[96];
	snprintf(root, sizeof(root), "%s/root", f->dir);
	make_root(root);
	snprintf(f->vol, sizeof(f->vol), "%s/vol", f->dir);
	must(mkdir(f->vol, 0755) == 0, f->vol);
	f->opts.root = strdup(root);
	static struct lx_volume vol;
	vol = (struct lx_volume){f->vol, "/v", true};
	f->opts.volumes = &vol;
	f->opts.nvolumes = 1;
}

/* ---- the process ---- */

/* What the guest's CPUID says matters to the monitor in two places: the
 * XSAVE size of signal frames (leaf 0xd) and AT_HWCAP (leaf 1). */
static struct kvm_cpuid2 *fake_cpuid(void)
{
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + 2 * sizeof(struct kvm_cpuid_entry2));
	must(c != NULL, "calloc");
	c->nent = 2;
	c->entries[0] =
		(struct kvm_cpuid_entry2){.function = 1, .edx = 0x178bfbff};
	c->entries[1] = (struct kvm_cpuid_entry2){.function = 0xd, .ecx = 832};
	return c;
}

static void fake_vm(struct vm *vm, uint64_t user_size)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->boot_ns = mono_ns();
	vm->user_size = user_size;
	vm->sys_size = layout_sys_size(user_size);
	vm->mem = mmap(NULL, user_size + vm->sys_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	must(vm->mem != MAP_FAILED, "mmap guest memory");
	pt_init(&vm->pt, vm->mem + user_size, user_size, SYS_PML4, SYS_PT_POOL,
		vm->sys_size);
	/* One chunk, already "registered": vm_mem_ensure never calls KVM. */
	vm->chunk_size = user_size;
	vm->chunk_live = calloc(1, 1);
	must(vm->chunk_live != NULL, "calloc");
	vm->chunk_live[0] = 1;
	vm->cpuid = fake_cpuid();
}

void fake_init(struct fake *f, uint64_t user_size)
{
	memset(f, 0, sizeof(*f));
	/* The special files of the layers above lx, as mote registers them. */
	run_init();
	make_scratch(f);
	static char *envp[] = {"PATH=/bin", "HOME=/", NULL};
	f->opts.memory = user_size;
	f->opts.pids = 16;
	f->opts.envp = envp;
	f->opts.cwd = "/";
	struct lx_proc *p = calloc(1, sizeof(*p));
	struct lx_thread *t = calloc(1, sizeof(*t));
	must(p && t, "calloc");
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->mm.lock, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->threads[0] = t;
	p->nlive = p->nrunning = 1;
	p->opts = &f->opts;
	p->task.pid = getpid();
	p->task.vfork_fd = -1;
	p->task.exe_fd = -1;
	snprintf(p->task.exe, sizeof(p->task.exe), "/bin/prog");
	/* FUZZ_TRACE=1: --trace, one line per syscall, to stderr. */
	p->trace = getenv("FUZZ_TRACE") ? stderr : NULL;
	p->task.tree = lx_tree_create(f->opts.pids);
	must(p->task.tree != NULL, "lx_tree_create");
	fake_vm(&p->vm, user_size);
	t->p = p;
	t->tid = p->task.pid;
	t->live = t->running = t->owner = true;
	t->host = pthread_self();
	t->host_tid = (pid_t)syscall(SYS_gettid);
	t->cpu.vm = &p->vm;
	t->cpu.fd = -1;
	t->cpu.run = calloc(1, sizeof(struct kvm_run));
	must(t->cpu.run != NULL, "calloc");
	must(lx_fs_init(p) == 0 && lx_fd_init(p) == 0, "lx_fs_init");
	f->nofile[0] = p->fdt.nofile_cur;
	f->nofile[1] = p->fdt.nofile_max;
	f->p = p;
	f->t = t;
	lx_signal_thread(t);
	fake_reset(f);
}

static void reset_fds(struct fake *f)
{
	struct lx_proc *p = f->p;
	for (int i = 0; i < p->fdt.top; i++)
		if (p->fdt.slot[i].used)
			lx_fd_close(p, i);
	p->fdt.top = 0;
	p->fdt.nofile_cur = f->nofile[0];
	p->fdt.nofile_max = f->nofile[1];
	for (int i = 0; i < 3; i++) {
		int h = open("/dev/null", O_RDWR | O_CLOEXEC);
		must(h >= 0, "/dev/null");
		must(lx_fd_install_at(p, i, h, 0, LX_FD_DEV, NULL) == i,
		     "lx_fd_install_at");
	}
}

static void reset_signals(struct lx_proc *p)
{
	memset(p->sig.act, 0, sizeof(p->sig.act));
	p->sig.pending = 0;
	memset(p->sig.info, 0, sizeof(p->sig.info));
	memset(p->sig.rt_extra, 0, sizeof(p->sig.rt_extra));
}

/* The thread as a fresh one, keeping who it is and its vCPU. */
static void reset_thread(struct lx_thread *t)
{
	struct lx_thread keep = *t;
	memset(t, 0, sizeof(*t));
	t->p = keep.p;
	t->cpu = keep.cpu;
	t->tid = keep.tid;
	t->host = keep.host;
	t->host_tid = keep.host_tid;
	t->live = t->running = t->owner = true;
	memset(t->cpu.run, 0, sizeof(struct kvm_run));
}

void fake_reset(struct fake *f)
{
	struct lx_proc *p = f->p;
	reset_fds(f);
	free(p->task.rlimits);
	p->task.rlimits = NULL;
	/* The guest's RLIMIT_FSIZE is this process's own (limit.c). */
	lx_limit_fsize(RLIM_INFINITY);
	snprintf(p->fs.cwd, sizeof(p->fs.cwd), "/");
	p->fs.umask = 022;
	must(lx_mm_reset(p) == 0, "lx_mm_reset");
	p->mm.tlb_stale = false;
	reset_signals(p);
	memset(&p->stats, 0, sizeof(p->stats));
	p->task.exited = p->task.forked = false;
	p->task.status = p->task.term_sig = 0;
	reset_thread(f->t);
	memset(&fake_xsave, 0, sizeof(fake_xsave));
	/* A valid MXCSR, as a fresh vCPU has. */
	fake_xsave.region[6] = 0x1f80;
	/* The guest may have made its volume unreadable. */
	chmod(f->vol, 0755);
	int fd = open(f->vol, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fake_wipe(fd);
		close(fd);
	}
}

/* ---- invariants the fuzzers check ---- */

/* The VMAs are sorted, disjoint and inside user memory, and the page
 * tables map exactly them, identity, nothing beyond. */
void fake_check_mm(struct lx_proc *p)
{
	const struct lx_mm *mm = &p->mm;
	uint64_t prev = USER_MIN;
	for (int i = 0; i < mm->nvmas; i++) {
		const struct lx_vma *v = &mm->vmas[i];
		if (v->start < prev || v->end <= v->start ||
		    v->end > p->vm.user_size || (v->start | v->end) % PAGE_SIZE)
			abort();
		prev = v->end;
	}
	int i = 0;
	for (uint64_t a = 0; a < p->vm.user_size + HUGE_SIZE; a += PAGE_SIZE) {
		while (i < mm->nvmas && mm->vmas[i].end <= a)
			i++;
		bool in = i < mm->nvmas && mm->vmas[i].start <= a;
		uint64_t e = pt_lookup(&p->vm.pt, a);
		if (!(e & PTE_P))
			continue;
		if (!in || (e & PTE_ADDR) != a || !(e & PTE_U) ||
		    (!!(e & PTE_W) && !(mm->vmas[i].prot & PT_WRITE)))
			abort();
	}
}

/* No guest fd is one of the monitor's own descriptors. */
void fake_check_fds(struct lx_proc *p)
{
	for (int i = 0; i < p->fdt.top; i++) {
		if (!p->fdt.slot[i].used)
			continue;
		if (p->fdt.slot[i].host < 0)
			abort();
		for (int m = 0; m < p->fs.nmounts; m++)
			if (p->fdt.slot[i].host == p->fs.mounts[m].host_fd)
				abort();
	}
}
