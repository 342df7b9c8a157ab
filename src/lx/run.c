/* mote run: load a Linux program into a fresh microVM and serve it. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/elf.h"
#include "lx/lx.h"
#include "lx/stack.h"
#include "util.h"
#include "vm/exit.h"
#include "vm/layout.h"

#define PIE_BASE 0x400000ULL /* where static-PIE programs are loaded */
#define ARG_MAX_BYTES (2ULL << 20)

/* The program file, opened on the host and mapped read-only for parsing. */
struct image {
	char path[PATH_MAX]; /* as found on the host */
	int fd;
	const uint8_t *data;
	uint64_t size;
	struct elf_info elf;
	uint64_t bias;
};

/* Finds the program like a shell: a name with a slash is a path, anything
 * else is looked up in the host's PATH. */
static int find_program(const char *name, char *out, size_t outlen)
{
	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = LX_DEFAULT_PATH;
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(out, outlen, "%.*s/%s", (int)n, n ? path : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

static int open_image(const char *name, struct image *im)
{
	char *path = im->path;
	if (find_program(name, path, sizeof(im->path)) < 0) {
		msg("%s: command not found", name);
		return MOTE_EXIT_NOENT;
	}
	im->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (im->fd < 0 || fstat(im->fd, &st) < 0) {
		int e = errno;
		msg("%s: %s", path, strerror(e));
		return e == ENOENT ? MOTE_EXIT_NOENT : MOTE_EXIT_NOEXEC;
	}
	if (!S_ISREG(st.st_mode)) {
		msg("%s: not a regular file", path);
		return MOTE_EXIT_NOEXEC;
	}
	if (access(path, X_OK) < 0) {
		msg("%s: permission denied (not executable: chmod +x %s)", path,
		    path);
		return MOTE_EXIT_NOEXEC;
	}
	im->size = st.st_size;
	if (im->size == 0) {
		msg("%s: %s", path, elf_strerror(ELF_EMAGIC));
		return MOTE_EXIT_NOEXEC;
	}
	im->data = mmap(NULL, im->size, PROT_READ, MAP_PRIVATE, im->fd, 0);
	if (im->data == MAP_FAILED) {
		msg("%s: cannot map: %s", path, strerror(errno));
		return MOTE_EXIT_NOEXEC;
	}
	enum elf_error err = elf_parse(im->data, im->size, &im->elf);
	if (!err && im->elf.interp[0])
		err = ELF_EDYNAMIC;
	if (err) {
		msg("%s: %s", path, elf_strerror(err));
		return MOTE_EXIT_NOEXEC;
	}
	return 0;
}

static void close_image(struct image *im)
{
	if (im->data && im->data != MAP_FAILED)
		munmap((void *)im->data, im->size);
	if (im->fd >= 0)
		close(im->fd);
}

/* Maps one PT_LOAD: the file part straight from the host file, MAP_PRIVATE,
 * so every VM running this binary shares its clean pages through the page
 * cache; the rest is the fresh VM's zero memory. */
static int load_segment(struct lx_proc *p, struct image *im,
			const struct elf_seg *s)
{
	uint64_t va = s->vaddr + im->bias;
	uint64_t start = ALIGN_DOWN(va, PAGE_SIZE);
	uint64_t end = ALIGN_UP(va + s->memsz, PAGE_SIZE);
	uint8_t *host = p->vm.mem;
	if (s->filesz) {
		uint64_t off = ALIGN_DOWN(s->offset, PAGE_SIZE);
		uint64_t fend = ALIGN_UP(va + s->filesz, PAGE_SIZE);
		if (mmap(host + start, fend - start, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, im->fd, off) == MAP_FAILED)
			return -errno;
		/* The bytes after filesz in the last file page are bss. */
		if (s->memsz > s->filesz)
			memset(host + va + s->filesz, 0,
			       MIN(fend, va + s->memsz) - (va + s->filesz));
	}
	return lx_mm_map(p, start, end, s->prot, VMA_ELF);
}

static int load_image(struct lx_proc *p, struct image *im)
{
	enum elf_error e = elf_place(&im->elf, USER_MIN, p->mm.mmap_top,
				     PIE_BASE, &im->bias);
	if (e) {
		msg("%s: %s", p->opts->argv[0], elf_strerror(e));
		return MOTE_EXIT_NOEXEC;
	}
	for (int i = 0; i < im->elf.nsegs; i++) {
		int err = load_segment(p, im, &im->elf.segs[i]);
		if (err < 0) {
			msg("%s: cannot load segment: %s", p->opts->argv[0],
			    strerror(-err));
			return MOTE_EXIT_NOEXEC;
		}
	}
	p->mm.brk_start = p->mm.brk = im->elf.hi + im->bias;
	return 0;
}

static uint64_t hwcap(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == 1)
			return vm->cpuid->entries[i].edx;
	return 0;
}

static uint64_t build_stack(struct lx_proc *p, struct image *im)
{
	struct stack_image img = {
		.argv = p->opts->argv,
		.envp = p->opts->envp,
		.execfn = p->opts->argv[0],
		.platform = "x86_64",
	};
	if (getrandom(img.random, sizeof(img.random), 0) !=
	    sizeof(img.random))
		die(MOTE_EXIT_FAIL, "getrandom: %s", strerror(errno));
	uint64_t b = im->bias;
	const uint64_t aux[][2] = {
		{AT_SYSINFO_EHDR, 0}, /* placeholder, dropped below */
		{AT_HWCAP, hwcap(&p->vm)},
		{AT_PAGESZ, PAGE_SIZE},
		{AT_CLKTCK, 100},
		{AT_PHDR, im->elf.phdr + b},
		{AT_PHENT, sizeof(Elf64_Phdr)},
		{AT_PHNUM, im->elf.phnum},
		{AT_BASE, 0},
		{AT_FLAGS, 0},
		{AT_ENTRY, im->elf.entry + b},
		{AT_UID, getuid()},
		{AT_EUID, geteuid()},
		{AT_GID, getgid()},
		{AT_EGID, getegid()},
		{AT_SECURE, 0},
		{AT_HWCAP2, p->vm.fsgsbase ? 2 : 0}, /* HWCAP2_FSGSBASE */
	};
	for (size_t i = 1; i < ARRAY_SIZE(aux); i++) {
		img.auxv[img.nauxv][0] = aux[i][0];
		img.auxv[img.nauxv++][1] = aux[i][1];
	}
	uint64_t top = p->vm.user_size;
	uint64_t room = MIN(ARG_MAX_BYTES, top - p->mm.stack_lo);
	return stack_build(&img, p->vm.mem + top, top, room);
}

static void internal_error(struct lx_thread *t, const char *what)
{
	msg("internal error: %s (exit reason %s); vCPU %d registers:", what,
	    kvm_exit_reason_name(t->cpu.run->exit_reason), t->cpu.id);
	vcpu_dump(&t->cpu);
	t->p->exited = true;
	t->p->status = MOTE_EXIT_FAIL;
}

static void report_timing(struct lx_proc *p, uint64_t t_first)
{
	uint64_t now = mono_ns();
	msg("timing: start to first guest instruction %.1f us, run %.1f us, "
	    "%llu exits",
	    (t_first - p->opts->t_start) / 1e3, (now - t_first) / 1e3,
	    (unsigned long long)p->stats.exits);
}

static void run_loop(struct lx_thread *t)
{
	struct lx_proc *p = t->p;
	uint64_t t_first = mono_ns();
	while (!p->exited) {
		if (ioctl(t->cpu.fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			msg("internal error: KVM_RUN: %s", strerror(errno));
			vcpu_dump(&t->cpu);
			p->exited = true;
			p->status = MOTE_EXIT_FAIL;
			break;
		}
		p->stats.exits++;
		unsigned cpl = vcpu_sregs(&t->cpu)->cs.selector & 3;
		enum vm_exit e = vm_exit_classify(t->cpu.run, cpl,
						  p->vm.doorbell_gpa);
		switch (e) {
		case VMX_SYSCALL:
			lx_syscall(t);
			break;
		case VMX_EXCEPTION:
			lx_exception(t);
			break;
		case VMX_INTR:
			break;
		case VMX_BAD_DOORBELL:
			/* The guest touched a page Linux would not have
			 * mapped: what Linux does is SIGSEGV. */
			lx_kill(p, SIGSEGV, " (access to the syscall doorbell)");
			break;
		default:
			internal_error(t, vm_exit_name(e));
			break;
		}
	}
	if (p->opts->timing)
		report_timing(p, t_first);
}

static int setup(struct lx_proc *p, struct image *im, uint64_t *rsp)
{
	enum vm_error ve = vm_create(&p->vm, p->opts->memory);
	if (ve) {
		if (ve == VM_EKVM)
			msg("%s: %s", vm_strerror(ve), strerror(errno));
		else
			msg("%s", vm_strerror(ve));
		return MOTE_EXIT_FAIL;
	}
	int err = lx_mm_init(p);
	if (!err)
		err = load_image(p, im);
	if (err)
		return err;
	if (lx_fs_init(p) < 0 || lx_fd_init(p) < 0)
		return MOTE_EXIT_FAIL;
	*rsp = build_stack(p, im);
	if (!*rsp) {
		msg("arguments and environment too long for the stack");
		return MOTE_EXIT_FAIL;
	}
	return 0;
}

int lx_run(const struct lx_opts *o)
{
	struct image im = {.fd = -1};
	int status = open_image(o->argv[0], &im);
	if (status)
		goto out_image;
	struct lx_proc *p = calloc(1, sizeof(*p));
	struct lx_thread *t = calloc(1, sizeof(*t));
	if (!p || !t)
		die(MOTE_EXIT_FAIL, "out of memory");
	p->opts = o;
	p->trace = o->trace;
	p->pid = getpid();
	p->vm.kvm_fd = p->vm.vm_fd = -1;
	t->p = p;
	t->tid = p->pid;
	t->cpu.fd = -1;
	/* /proc/self/exe is absolute; the path the host found is the one the
	 * guest sees (its root is / unless --root says otherwise). */
	if (!realpath(im.path, p->exe))
		snprintf(p->exe, sizeof(p->exe), "%s", im.path);
	uint64_t rsp;
	status = setup(p, &im, &rsp);
	if (status)
		goto out_proc;
	if (vcpu_create(&p->vm, &t->cpu, 0, im.elf.entry + im.bias, rsp) < 0) {
		msg("cannot create vCPU: %s", strerror(errno));
		status = MOTE_EXIT_FAIL;
		goto out_proc;
	}
	close_image(&im);
	im.fd = -1;
	im.data = NULL;
	run_loop(t);
	status = p->status;
	if (p->trace)
		lx_trace_summary(p);
out_proc:
	vcpu_destroy(&t->cpu);
	lx_fd_fini(p);
	lx_fs_fini(p);
	lx_mm_fini(p);
	vm_destroy(&p->vm);
	free(t);
	free(p);
out_image:
	close_image(&im);
	return status;
}
