/* The plain VM of a Linux guest (mote boot): RAM from guest-physical 0,
 * in-kernel irqchip and PIT, CPUID with KVM's paravirtual leaves, vCPUs
 * at the boot protocol's 64-bit entry, the decoded exits. */
#define _GNU_SOURCE
#include "vm/plain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

/* KVM needs three pages for the TSS (VMX) and one for the identity map of
 * real mode (VMX without unrestricted guests): in the MMIO hole, under
 * the 4 GiB BIOS area, where kvmtool and QEMU put them too. */
#define TSS_ADDR       0xfffbd000ULL
#define IDENT_MAP_ADDR 0xfffbc000ULL

#define CR0_PE	 (1ULL << 0)
#define CR0_ET	 (1ULL << 4)
#define CR0_PG	 (1ULL << 31)
#define CR4_PAE	 (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static enum vm_error plain_open(struct vm *vm)
{
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	vm->kvm_fd = fd_high(open("/dev/kvm", O_RDWR | O_CLOEXEC));
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			return VM_ENOKVM;
		return errno == EACCES || errno == EPERM ? VM_EACCES : VM_EKVM;
	}
	if (kvm_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION)
		return VM_EVERSION;
	if (kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		      (void *)KVM_CAP_IRQCHIP) <= 0 ||
	    kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_PIT2) <=
		    0)
		return VM_EVERSION;
	vm->run_size = kvm_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		return VM_EVERSION;
	vm->vm_fd = fd_high(kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0));
	return vm->vm_fd < 0 ? VM_EKVM : VM_OK;
}

static int plain_devices(struct vm *vm)
{
	/* The speaker port (0x61) in the kernel too: it gates PIT channel 2,
	 * which Linux may calibrate the TSC against. */
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	uint64_t ident = IDENT_MAP_ADDR;
	if (kvm_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (void *)TSS_ADDR) < 0 ||
	    kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
	    kvm_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL) < 0 ||
	    kvm_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -1;
	return 0;
}

/* A flat GDT (null, null, __BOOT_CS 0x10, __BOOT_DS 0x18) and page tables
 * mapping the first 4 GiB 1:1 with 2 MiB pages, for the 64-bit entry. */
static void plain_tables(struct vm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + PLAIN_GDT);
	gdt[2] = 0x00af9b000000ffffULL; /* 64-bit code */
	gdt[3] = 0x00cf93000000ffffULL; /* data */
	uint64_t *pml4 = (uint64_t *)(vm->mem + PLAIN_PML4);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pdpt + 512;
	pml4[0] = (PLAIN_PML4 + 0x1000) | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (PLAIN_PML4 + 0x2000 + i * 0x1000) | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
}

/* RAM anonymous (fd -1), or a snapshot's memory image at off of fd,
 * copy-on-write. */
static enum vm_error plain_create(struct vm *vm, uint64_t mem_size, int fd,
				  uint64_t off)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	if (mem_size < PLAIN_MEM_MIN || mem_size > PLAIN_MEM_MAX ||
	    mem_size % (2u << 20)) {
		errno = EINVAL;
		return VM_EKVM;
	}
	enum vm_error e = plain_open(vm);
	if (e != VM_OK)
		return e;
	if (plain_devices(vm) < 0)
		return VM_EKVM;
	void *m =
		mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0),
		     fd, (off_t)off);
	if (m == MAP_FAILED)
		return VM_ENOMEM;
	vm->mem = m;
	vm->user_size = mem_size;
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)m,
	};
	if (kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return VM_EKVM;
	if (fd < 0)
		plain_tables(vm);
	else
		vm->from_file = true;
	vm->cpuid = cpuid_supported(vm->kvm_fd);
	return vm->cpuid ? VM_OK : VM_EKVM;
}

enum vm_error vm_plain_create(struct vm *vm, uint64_t mem_size)
{
	return plain_create(vm, mem_size, -1, 0);
}

enum vm_error vm_plain_create_from(struct vm *vm, uint64_t mem_size, int fd,
				   uint64_t off)
{
	return plain_create(vm, mem_size, fd, off);
}

/* KVM's supported CPUID, with this vCPU's APIC ID in leaves 1, 0xb and
 * 0x1f and the hypervisor bit set. The paravirtual leaves (0x40000000:
 * "KVMKVMKVM", 0x40000001: its features: kvmclock, PV EOI, PV unhalt...) stay
 * as KVM offers them. */
static int plain_cpuid(struct vm *vm, struct vcpu *c, int id)
{
	size_t sz = sizeof(*vm->cpuid) +
		    vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *cp = malloc(sz);
	if (!cp)
		return -1;
	memcpy(cp, vm->cpuid, sz);
	for (uint32_t i = 0; i < cp->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cp->entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffu) | ((uint32_t)id << 24);
			/* KVM leaves the hypervisor bit to the VMM; without it
			 * Linux never reads the paravirtual leaves. */
			e->ecx |= 1u << 31;
		}
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = (uint32_t)id;
	}
	int r = kvm_ioctl(c->fd, KVM_SET_CPUID2, cp);
	free(cp);
	return r;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type,
		     int code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = !code,
		.s = 1,
		.l = code,
		.g = 1,
	};
}

/* The 64-bit entry's state: long mode, paging on the identity tables,
 * flat segments of the GDT, interrupts off, RSI the boot_params. */
static int plain_boot_regs(struct vcpu *c, uint64_t rip, uint64_t rsi)
{
	struct kvm_sregs s;
	if (kvm_ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	seg_flat(&s.cs, 0x10, 11, 1);
	seg_flat(&s.ds, 0x18, 3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt.base = PLAIN_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.cr0 = CR0_PE | CR0_ET | CR0_PG;
	s.cr3 = PLAIN_PML4;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (kvm_ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		return -1;
	struct kvm_regs r = {
		.rip = rip,
		.rsi = rsi,
		.rflags = 2,
		.rsp = PLAIN_STACK_TOP,
	};
	return kvm_ioctl(c->fd, KVM_SET_REGS, &r);
}

int vm_plain_vcpu(struct vm *vm, struct vcpu *c, int id, uint64_t rip,
		  uint64_t rsi)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->id = id;
	c->fd = fd_high(
		kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *)(long)id));
	if (c->fd < 0)
		return -1;
	void *run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 c->fd, 0);
	if (run == MAP_FAILED)
		return -1;
	c->run = run;
	if (plain_cpuid(vm, c, id) < 0)
		return -1;
	return id == 0 ? plain_boot_regs(c, rip, rsi) : 0;
}

void vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = {.irq = irq, .level = level};
	if (kvm_ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		die(MOTE_EXIT_FAIL, "internal error: KVM_IRQ_LINE %u: %s", irq,
		    strerror(errno));
}

static struct plain_exit_rec plain_io(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct plain_exit_rec x = {.kind = PX_IO, .reason = run->exit_reason};
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	if ((run->io.size != 1 && run->io.size != 2 && run->io.size != 4) ||
	    run->io.data_offset > (uint64_t)c->vm->run_size ||
	    bytes > (uint64_t)c->vm->run_size - run->io.data_offset) {
		x.kind = PX_OTHER;
		return x;
	}
	x.io = (struct plain_io){
		.port = run->io.port,
		.size = run->io.size,
		.out = run->io.direction == KVM_EXIT_IO_OUT,
		.count = run->io.count,
		.data = (uint8_t *)run + run->io.data_offset,
	};
	return x;
}

struct plain_exit_rec vm_plain_run(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct plain_exit_rec x = {.kind = PX_OTHER};
	int err = vcpu_run_raw(c);
	if (err) {
		x.err = err;
		x.kind = err == EINTR || err == EAGAIN ? PX_INTR : PX_FAIL;
		return x;
	}
	x.reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: return plain_io(c);
	case KVM_EXIT_MMIO:
		x.kind = run->mmio.len >= 1 && run->mmio.len <= 8 ? PX_MMIO
								  : PX_OTHER;
		x.mmio = (struct plain_mmio){
			.addr = run->mmio.phys_addr,
			.len = run->mmio.len,
			.write = run->mmio.is_write,
			.data = run->mmio.data,
		};
		return x;
	case KVM_EXIT_SHUTDOWN: x.kind = PX_SHUTDOWN; return x;
	case KVM_EXIT_INTR: x.kind = PX_INTR; return x;
	}
	return x;
}

void vm_plain_dump(struct vcpu *c)
{
	/* A plain VM's vCPU does not sync its registers into the run page
	 * at every exit (most exits are the UART's): read them for
	 * vcpu_dump, which prints that area. */
	if (kvm_ioctl(c->fd, KVM_GET_REGS, &c->run->s.regs.regs) < 0 ||
	    kvm_ioctl(c->fd, KVM_GET_SREGS, &c->run->s.regs.sregs) < 0) {
		fprintf(stderr, "  (registers unreadable: %s)\n",
			strerror(errno));
		return;
	}
	vcpu_dump(c);
}
