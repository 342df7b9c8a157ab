/* KVM VM creation: guest memory, the system region, long mode. */
#define _GNU_SOURCE
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shim/shim.h"
#include "util.h"
#include "vm/dirty.h"
#include "vm/layout.h"

static enum vm_error open_kvm(struct vm *vm)
{
	/* No transparent huge pages, for this monitor and the forks it
	 * makes: where THP is "always" (Debian's and RHEL's kernels), each
	 * 2 MiB of guest memory the guest first touches would take 2 MiB of
	 * host memory (an idle guest: 8 MiB instead of a few pages) and the
	 * time to clear it. Density and start-up come first; a guest's own
	 * MADV_HUGEPAGE is then a no-op. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	vm->kvm_fd = fd_high(open("/dev/kvm", O_RDWR | O_CLOEXEC));
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			return VM_ENOKVM;
		if (errno == EACCES || errno == EPERM)
			return VM_EACCES;
		return VM_EKVM;
	}
	if (kvm_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION)
		return VM_EVERSION;
	int sync = kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			     (void *)KVM_CAP_SYNC_REGS);
	if (sync <= 0 || (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !=
				 (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS))
		return VM_EVERSION;
	if (kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		      (void *)KVM_CAP_USER_MEMORY) <= 0)
		return VM_EVERSION;
	vm->run_size = kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		return VM_EVERSION;
	return VM_OK;
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn,
					   uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* Drops KVM's paravirtual leaves (0x40000000-0x400000ff: the "KVMKVMKVM"
 * signature, kvmclock and PV features): the guest has no kernel to use them,
 * and they tell a hostile guest which host hypervisor it attacks. The
 * "hypervisor present" bit of leaf 1 stays: it is true, and programs (and
 * /proc/cpuinfo's flags) read it. */
static void hide_kvm_leaves(struct kvm_cpuid2 *c)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		if ((c->entries[i].function & 0xffffff00) != 0x40000000)
			c->entries[out++] = c->entries[i];
	c->nent = out;
}

/* What the guest sees in CPUID: what KVM supports, minus what a process
 * has no business seeing. */
static int setup_cpuid(struct vm *vm)
{
	vm->cpuid = cpuid_supported(vm->kvm_fd);
	if (!vm->cpuid)
		return -1;
	struct kvm_cpuid_entry2 *l1 = cpuid_find(vm->cpuid, 1, 0);
	struct kvm_cpuid_entry2 *l7 = cpuid_find(vm->cpuid, 7, 0);
	struct kvm_cpuid_entry2 *ld = cpuid_find(vm->cpuid, 0xd, 0);
	if (l1) {
		l1->ecx &= ~(1U << 5); /* VMX: no nested virtualization */
		l1->ecx |= 1U << 27;   /* OSXSAVE follows CR4, set below */
	}
	struct kvm_cpuid_entry2 *e1 = cpuid_find(vm->cpuid, 0x80000001, 0);
	if (e1)
		e1->ecx &= ~(1U << 2); /* SVM */
	hide_kvm_leaves(vm->cpuid);
	if (l7) {
		vm->smep = l7->ebx & (1U << 7);
		vm->smap = l7->ebx & (1U << 20);
		vm->fsgsbase = l7->ebx & (1U << 0);
		vm->umip = l7->ecx & (1U << 2);
	}
	/* x87, SSE, AVX, AVX-512 state: what glibc and musl pick paths by. */
	uint64_t want = 0x7 | 0xe0;
	vm->xcr0 = 0x3;
	if (ld)
		vm->xcr0 = (ld->eax | ((uint64_t)ld->edx << 32)) & want;
	return 0;
}

/* Fills the system region: GDT, IDT, per-vCPU TSSs, shim, and the page
 * tables that map it at SYS_GVA. */
static void setup_sys(struct vm *vm, uint8_t *sys)
{
	uint64_t sys_gpa = vm->user_size;
	/* Whole pages: a snapshot's image may hold anything in them (a call
	 * gate in the GDT would be a door to CPL 0). */
	memset(sys + SYS_GDT, 0, PAGE_SIZE);
	memset(sys + SYS_IDT, 0, PAGE_SIZE);
	memset(sys + SYS_SHIM, 0, PAGE_SIZE);
	uint64_t *gdt = (uint64_t *)(sys + SYS_GDT);
	gdt[SEL_KCODE >> 3] = 0x00af9b000000ffffULL; /* 64-bit code, DPL 0 */
	gdt[SEL_KDATA >> 3] = 0x00cf93000000ffffULL;
	gdt[SEL_UCODE32 >> 3] = 0x00cffb000000ffffULL;
	gdt[SEL_UDATA >> 3] = 0x00cff3000000ffffULL;
	gdt[SEL_UCODE >> 3] = 0x00affb000000ffffULL; /* 64-bit code, DPL 3 */
	/* The TSS descriptor of vCPU 0; each vCPU's TR is loaded with its own
	 * base through KVM_SET_SREGS, which never reads this entry. */
	uint64_t tss = SYS_GVA + SYS_VCPU;
	gdt[SEL_TSS >> 3] = 103 | ((tss & 0xffffff) << 16) | (0x89ULL << 40) |
			    (((tss >> 24) & 0xff) << 56);
	gdt[(SEL_TSS >> 3) + 1] = tss >> 32;

	uint64_t *idt = (uint64_t *)(sys + SYS_IDT);
	for (int v = 0; v < SHIM_VECTORS; v++) {
		uint64_t h = SYS_GVA + SYS_SHIM + SHIM_OFF_VECTOR(v);
		/* Interrupt gate, DPL 0 (so `int n` from CPL 3 is #GP), IST 1;
		 * DPL 3 for #BP and #OF, so that int3 and `int $4` trap as
		 * they do on Linux. */
		uint64_t type = v == 3 || v == 4 ? 0xee : 0x8e;
		idt[2 * v] = (h & 0xffff) | ((uint64_t)SEL_KCODE << 16) |
			     (1ULL << 32) | (type << 40) |
			     ((h >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = h >> 32;
	}
	vm_shim_check();
	memcpy(sys + SYS_SHIM, shim_blob, shim_blob_end - shim_blob);

	pt_init(&vm->pt, sys, sys_gpa, SYS_PML4, SYS_PT_POOL, vm->sys_size);
	/* Zero already in a new VM; a snapshot's image may hold anything
	 * (vm_adopt_image). */
	memset(sys + SYS_PT_SYS, 0, PAGE_SIZE);
	memset(sys + SYS_PD_SYS, 0, PAGE_SIZE);
	memset(sys + SYS_PDPT_SYS, 0, PAGE_SIZE);
	/* Accessed and dirty already, as pt_map makes user entries. */
	const uint64_t ad = PTE_P | PTE_A | PTE_D;
	pt_set_entry(&vm->pt, SYS_PML4, 511,
		     (sys_gpa + SYS_PDPT_SYS) | ad | PTE_W);
	pt_set_entry(&vm->pt, SYS_PDPT_SYS, 510,
		     (sys_gpa + SYS_PD_SYS) | ad | PTE_W);
	pt_set_entry(&vm->pt, SYS_PD_SYS, 0,
		     (sys_gpa + SYS_PT_SYS) | ad | PTE_W);
	/* Supervisor only. GDT, IDT and shim read-only (CR0.WP makes that
	 * hold at CPL 0 too); the vCPU pages writable, never executable. */
	uint64_t *pt = (uint64_t *)(sys + SYS_PT_SYS);
	pt[SYS_GDT >> 12] = (sys_gpa + SYS_GDT) | ad | PTE_NX;
	pt[SYS_IDT >> 12] = (sys_gpa + SYS_IDT) | ad | PTE_NX;
	pt[SYS_SHIM >> 12] = (sys_gpa + SYS_SHIM) | ad;
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		uint64_t off = SYS_VCPU + i * PAGE_SIZE;
		pt[off >> 12] = (sys_gpa + off) | ad | PTE_W | PTE_NX;
	}
}

static int vm_set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t len)
{
	/* User slots log the guest's writes while migration tracks them
	 * (vm/dirty.c); slot 0, the system region, never does. */
	bool log = slot && len && vm_dirty_on(vm);
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = len,
		.userspace_addr = (uintptr_t)(vm->mem + gpa),
	};
	return kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

#define CHUNK_MIN (64ULL << 20)

/* Slot 0 is the system region; user chunk i is slot 1 + i. */
static int plan_chunks(struct vm *vm)
{
	int nslots = kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			       (void *)KVM_CAP_NR_MEMSLOTS);
	if (nslots < 8)
		nslots = 32; /* the documented minimum */
	uint64_t per =
		ALIGN_UP(vm->user_size / (uint64_t)(nslots - 2), HUGE_SIZE);
	vm->chunk_size = MAX(CHUNK_MIN, per);
	uint64_t n = (vm->user_size + vm->chunk_size - 1) / vm->chunk_size;
	vm->chunk_live = calloc(n, 1);
	return vm->chunk_live ? 0 : -1;
}

int vm_mem_ensure(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (!len || gpa >= vm->user_size)
		return 0;
	uint64_t last = MIN(gpa + len, vm->user_size) - 1;
	for (uint64_t i = gpa / vm->chunk_size; i <= last / vm->chunk_size;
	     i++) {
		if (vm->chunk_live[i])
			continue;
		uint64_t at = i * vm->chunk_size;
		uint64_t size = MIN(vm->chunk_size, vm->user_size - at);
		if (vm_set_slot(vm, 1 + (uint32_t)i, at, size) < 0)
			return -ENOMEM;
		vm->chunk_live[i] = 1;
	}
	return 0;
}

/* kvm_pvm (software virtualization on shadow page tables, as on the build
 * machines) runs the instruction at LSTAR after `syscall` without entering
 * CPL 0. It serves /dev/kvm only when no hardware KVM module is loaded.
 * MOTE_SYSCALL_ENTRY=shim forces the shim path (tests use it to exercise
 * the #PF fallback of that path on such hosts). */
bool vm_kvm_is_pvm(void)
{
	static int pvm = -1; /* asked once: forks inherit the answer */
	if (pvm < 0)
		pvm = access("/sys/module/kvm_pvm", F_OK) == 0 &&
		      access("/sys/module/kvm_intel", F_OK) != 0 &&
		      access("/sys/module/kvm_amd", F_OK) != 0;
	return pvm;
}

/* "N" or "0" in a KVM module parameter file. */
static bool param_off(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool off = read(fd, &c, 1) == 1 && (c == 'N' || c == '0');
	close(fd);
	return off;
}

/* True if KVM shadows the guest's page tables (kvm_pvm, or EPT/NPT off)
 * rather than letting the CPU walk them. */
static bool shadow_paging(void)
{
	static int shadow = -1;
	if (shadow < 0)
		shadow = vm_kvm_is_pvm() ||
			 param_off("/sys/module/kvm_intel/parameters/ept") ||
			 param_off("/sys/module/kvm_amd/parameters/npt");
	return shadow;
}

static bool want_doorbell(void)
{
	const char *force = getenv("MOTE_SYSCALL_ENTRY");
	if (force)
		return strcmp(force, "doorbell") == 0;
	return vm_kvm_is_pvm();
}

/* Past the end of every slot: no memory backs it. */
static uint64_t doorbell_gpa(const struct vm *vm)
{
	return vm->user_size + vm->sys_size + HUGE_SIZE;
}

/* The trampoline: movb %al, DOORBELL_GVA; jmp *%rcx. */
static void setup_doorbell(struct vm *vm)
{
	static const uint8_t code[] = {
		0x88, 0x04, 0x25, DOORBELL_GVA & 0xff, DOORBELL_GVA >> 8 & 0xff,
		0,    0,    /* mov %al, DOORBELL_GVA (absolute, 32-bit) */
		0xff, 0xe1, /* jmp *%rcx */
	};
	_Static_assert(DOORBELL_GVA < 0x10000, "doorbell address encoding");
	memset(vm->pt.sys + SYS_TRAMP, 0, PAGE_SIZE);
	memcpy(vm->pt.sys + SYS_TRAMP, code, sizeof(code));
	vm->doorbell_gpa = doorbell_gpa(vm);
	pt_map(&vm->pt, TRAMP_GVA, vm->user_size + SYS_TRAMP, PAGE_SIZE,
	       PT_USER | PT_READ | PT_EXEC);
	pt_map(&vm->pt, DOORBELL_GVA, vm->doorbell_gpa, PAGE_SIZE,
	       PT_USER | PT_READ | PT_WRITE);
}

/* Guest RDMSR/WRMSR: the app runs at CPL 3, where both are #GP anyway, and
 * the shim at CPL 0 uses none. Denying every MSR means that even code that
 * reached CPL 0 could read or write none (it gets #GP). The monitor's own
 * KVM_GET/SET_MSRS are host-initiated and not filtered.
 *
 * Not on kvm_pvm: there, any MSR filter (deny-all or a few allowed) made
 * about one fork in five take 16 ms instead of 1.5 ms (measured with a
 * fork loop, 2026-11); the filter guards against CPL-0 guest code that
 * cannot exist, so it is not worth that (docs/security.md). */
static void deny_msrs(struct vm *vm)
{
	if (vm_kvm_is_pvm())
		return;
	/* KVM refuses a deny-all filter with no range: one range of one MSR
	 * whose bit is clear (denied) makes it non-empty. */
	static uint8_t deny_bitmap[8];
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_DENY,
		.ranges[0] = {.flags = KVM_MSR_FILTER_READ |
				       KVM_MSR_FILTER_WRITE,
			      .nmsrs = 1,
			      .base = 0,
			      .bitmap = deny_bitmap},
	};
	vm->msr_filter = kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				   (void *)KVM_CAP_X86_MSR_FILTER) > 0 &&
			 kvm_ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) == 0;
}

enum vm_error vm_create(struct vm *vm, uint64_t user_size)
{
	return vm_create_from(vm, user_size, -1, 0);
}

enum vm_error vm_create_from(struct vm *vm, uint64_t user_size, int fd,
			     uint64_t off)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->boot_ns = mono_ns();
	enum vm_error err = open_kvm(vm);
	if (err)
		goto err_close;
	vm->vm_fd = fd_high(kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL));
	if (vm->vm_fd < 0) {
		err = errno == ENOMEM ? VM_ENOMEM : VM_EKVM;
		goto err_close;
	}
	vm->user_size = user_size;
	vm->sys_size = layout_sys_size(user_size);
	uint64_t total = user_size + vm->sys_size;
	/* 2 MiB-aligned, so that the host can back it with huge pages
	 * where they are wanted: reserve a bit more and trim. */
	uint8_t *raw = mmap(NULL, total + HUGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		err = VM_ENOMEM;
		goto err_close;
	}
	uint8_t *mem = (uint8_t *)(((uintptr_t)raw + HUGE_SIZE - 1) &
				   ~(uintptr_t)(HUGE_SIZE - 1));
	if (mem > raw)
		munmap(raw, mem - raw);
	munmap(mem + total, raw + HUGE_SIZE - mem);
	vm->mem = mem;
	/* A snapshot's memory: the file's pages, copied on write, so that
	 * every VM restored from it shares each page it has not written. */
	if (fd >= 0 && mmap(mem, total, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd,
			    (off_t)off) == MAP_FAILED) {
		err = VM_ENOMEM;
		goto err_unmap;
	}
	vm->from_file = fd >= 0;
	if (vm_set_slot(vm, 0, user_size, vm->sys_size) < 0 ||
	    plan_chunks(vm) < 0) {
		err = VM_EKVM;
		goto err_unmap;
	}
	if (setup_cpuid(vm) < 0) {
		err = VM_EKVM;
		goto err_unmap;
	}
	deny_msrs(vm);
	vm->doorbell = want_doorbell();
	if (fd >= 0) {
		/* The system region and its tables came with the memory. */
		pt_init(&vm->pt, vm->mem + user_size, user_size, SYS_PML4,
			SYS_PT_POOL, vm->sys_size);
		vm->doorbell_gpa = doorbell_gpa(vm);
		return VM_OK;
	}
	setup_sys(vm, vm->mem + user_size);
	if (vm->doorbell)
		setup_doorbell(vm);
	return VM_OK;

err_unmap:
	munmap(vm->mem, total);
	vm->mem = NULL;
	free(vm->chunk_live);
	vm->chunk_live = NULL;
err_close:
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	return err;
}

/* Checks the tables of the system region at sys (a snapshot's) and
 * rewrites everything at CPL 0 there as mote's own. */
static int adopt(struct vm *vm, uint8_t *sys, uint64_t pool)
{
	if (pool < SYS_PT_POOL || pool > vm->sys_size)
		return -1;
	pt_init(&vm->pt, sys, vm->user_size, SYS_PML4, SYS_PT_POOL,
		vm->sys_size);
	vm->pt.pool = pool;
	static const uint64_t extra[] = {TRAMP_GVA, DOORBELL_GVA};
	if (!pt_check_user(&vm->pt, SYS_PT_POOL, vm->user_size, extra,
			   vm->doorbell ? 2 : 0))
		return -1;
	/* Everything at CPL 0 is mote's own again: GDT, IDT, the shim, the
	 * tables that map them, the trampoline. */
	setup_sys(vm, sys);
	vm->pt.pool = pool;
	if (vm->doorbell)
		setup_doorbell(vm);
	return 0;
}

int vm_adopt_image(struct vm *vm, uint64_t pool)
{
	return adopt(vm, vm->mem + vm->user_size, pool);
}

int vm_sys_share_make(uint64_t user_size, int fd, uint64_t off, uint64_t pool)
{
	struct vm v = {.user_size = user_size,
		       .sys_size = layout_sys_size(user_size),
		       .doorbell = want_doorbell()};
	v.doorbell_gpa = doorbell_gpa(&v);
	if (pool < SYS_PT_POOL || pool > v.sys_size) {
		errno = EINVAL;
		return -1;
	}
	int mfd = memfd_create("mote-sys", MFD_CLOEXEC);
	if (mfd < 0)
		return -1;
	uint8_t *sys = MAP_FAILED;
	if (ftruncate(mfd, (off_t)pool) < 0 ||
	    (sys = mmap(NULL, pool, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
			0)) == MAP_FAILED ||
	    pread_all(fd, sys, pool, off + user_size) < 0)
		goto err;
	if (adopt(&v, sys, pool) < 0) {
		errno = EINVAL;
		goto err;
	}
	munmap(sys, pool);
	return fd_high(mfd);
err:
	if (sys != MAP_FAILED)
		munmap(sys, pool);
	close(mfd);
	return -1;
}

int vm_sys_share(struct vm *vm, int mfd, uint64_t pool)
{
	uint8_t *sys = vm->mem + vm->user_size;
	size_t npages = vm->sys_size / PAGE_SIZE;
	uint8_t *bits = calloc(npages / 8 + 1, 1);
	if (!bits || pool < SYS_PT_POOL || pool > vm->sys_size ||
	    mmap(sys, SYS_VCPU, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 mfd, 0) == MAP_FAILED ||
	    (pool > SYS_PT_POOL &&
	     mmap(sys + SYS_PT_POOL, pool - SYS_PT_POOL, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_FIXED, mfd, SYS_PT_POOL) == MAP_FAILED)) {
		free(bits);
		return -1;
	}
	/* The vCPU pages between stay this VM's own (vcpu_open writes its
	 * TSS there); the tables and the CPL-0 pages are shared until this
	 * VM first writes one (pt.c). */
	for (uint64_t off = 0; off < pool; off += PAGE_SIZE)
		if (off < SYS_VCPU || off >= SYS_PT_POOL)
			bits[off / PAGE_SIZE / 8] |= 1 << (off / PAGE_SIZE % 8);
	pt_init(&vm->pt, sys, vm->user_size, SYS_PML4, SYS_PT_POOL,
		vm->sys_size);
	vm->pt.pool = pool;
	vm->pt.shared = bits;
	return 0;
}

int vm_reset_user(struct vm *vm)
{
	/* Every user mapping hangs off the low half of the PML4; the system
	 * region's tables are outside the pool and stay. */
	if (pt_clear_user(&vm->pt) < 0)
		return -1;
	vm->pt.pool = SYS_PT_POOL;
	/* The pool's pages are reused for other addresses now. A shadow-
	 * paging KVM (kvm_pvm) links its shadow of a directory entry to the
	 * shadow of the table it pointed to, and writes from outside the
	 * guest never reach it: the old links would map new addresses
	 * through old tables (a library's page read as another's, now and
	 * then). Deleting and re-adding the slot that holds the tables makes
	 * KVM drop every shadow page made from them (~0.8 ms; with EPT or NPT
	 * the CPU walks the tables itself and a TLB flush is enough). */
	if (shadow_paging() &&
	    (vm_set_slot(vm, 0, vm->user_size, 0) < 0 ||
	     vm_set_slot(vm, 0, vm->user_size, vm->sys_size) < 0))
		return -1;
	if (vm->doorbell)
		setup_doorbell(vm);
	return 0;
}

int vm_refork(struct vm *vm)
{
	/* The parent's VM fd is no use here: KVM ties a VM to the mm that
	 * created it. The memory, copied on write, is already in place. */
	close(vm->vm_fd);
	/* A migration tracks the parent's writes, not this VM's. */
	vm->dirty.on = false;
	vm->vm_fd = fd_high(kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL));
	if (vm->vm_fd < 0 ||
	    vm_set_slot(vm, 0, vm->user_size, vm->sys_size) < 0)
		return -1;
	deny_msrs(vm);
	return vm_set_user_slots(vm);
}

int vm_set_user_slots(struct vm *vm)
{
	uint64_t n = (vm->user_size + vm->chunk_size - 1) / vm->chunk_size;
	for (uint64_t i = 0; i < n; i++) {
		if (!vm->chunk_live[i])
			continue;
		uint64_t at = i * vm->chunk_size;
		if (vm_set_slot(vm, 1 + (uint32_t)i, at,
				MIN(vm->chunk_size, vm->user_size - at)) < 0)
			return -1;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (vm->mem)
		munmap(vm->mem, vm->user_size + vm->sys_size);
	free(vm->cpuid);
	free(vm->chunk_live);
	free(vm->pt.shared);
	free(vm->dirty.sticky);
	free(vm->dirty.once);
	free(vm->dirty.kvm);
	vm->dirty = (struct vm_dirty){0};
	vm->chunk_live = NULL;
	vm->pt.shared = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->mem = NULL;
	vm->cpuid = NULL;
	vm->vm_fd = vm->kvm_fd = -1;
}
