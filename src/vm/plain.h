/* The plain VM a Linux guest boots in (mote boot): RAM from guest-physical
 * 0, KVM's in-kernel irqchip and PIT, the paravirtual CPUID leaves, vCPUs
 * that start in long mode at a kernel's 64-bit entry, and the guest memory
 * map of the boot structures. */
#ifndef MOTE_VM_PLAIN_H
#define MOTE_VM_PLAIN_H

#include <stdint.h>

#include "vm/vm.h"

/* Where the boot structures go in guest-physical memory (below 640 KiB,
 * which the e820 map gives the kernel as RAM: it copies what it needs
 * before it reuses that memory). */
#define PLAIN_GDT	  0x500ULL
#define PLAIN_ZERO_PAGE	  0x7000ULL /* boot_params */
#define PLAIN_STACK_TOP	  0x8ff0ULL
#define PLAIN_PML4	  0x9000ULL /* then the PDPT and 4 PDs: 4 GiB */
#define PLAIN_PT_END	  0xf000ULL
#define PLAIN_CMDLINE	  0x20000ULL
#define PLAIN_CMDLINE_MAX 4096ULL
#define PLAIN_LOW_END	  0x9fc00ULL /* end of low RAM in the e820 map */
#define PLAIN_ACPI	  0xe0000ULL /* reserved: the ACPI tables, RSDP first */
#define PLAIN_ACPI_MAX	  0x10000ULL
#define PLAIN_BIOS	  0xf0000ULL /* reserved: the MP table's area */
#define PLAIN_HIGH	  0x100000ULL
#define PLAIN_KERNEL	  0x1000000ULL /* where the kernel is loaded */
/* RAM ends below the 32-bit MMIO hole (the in-kernel IOAPIC and LAPIC,
 * KVM's TSS and identity map): larger guests need a second RAM range
 * above 4 GiB, not done yet. */
#define PLAIN_MEM_MAX 0xc0000000ULL
#define PLAIN_MEM_MIN 0x4000000ULL /* 64 MiB */
/* The PCI functions' BARs, from where RAM ends at its largest: a hole in
 * the e820 map (neither RAM nor reserved, so the kernel keeps the BARs
 * where they are), below the IOAPIC. */
#define PLAIN_PCI_MMIO	     0xc0000000ULL
#define PLAIN_PCI_MMIO_BYTES 0x100000ULL
_Static_assert(PLAIN_MEM_MAX <= PLAIN_PCI_MMIO, "RAM below the BAR window");

/* Creates the VM with mem_size bytes of RAM at guest-physical 0 (a
 * multiple of 2 MiB, PLAIN_MEM_MIN..PLAIN_MEM_MAX), the in-kernel
 * irqchip and PIT, and identity page tables plus a GDT for the 64-bit
 * entry. */
enum vm_error vm_plain_create(struct vm *vm, uint64_t mem_size);
/* The same on a snapshot's memory image, [off, off + mem_size) of fd,
 * mapped copy-on-write (clones of one snapshot share the pages none has
 * written); nothing is written to it: no tables, no GDT. */
enum vm_error vm_plain_create_from(struct vm *vm, uint64_t mem_size, int fd,
				   uint64_t off);
/* Creates vCPU id. Every vCPU gets KVM's supported CPUID with the
 * paravirtual leaves and its own APIC ID; vCPU 0 starts in long mode at
 * `rip` with RSI = `rsi` (the boot protocol's 64-bit entry), the others
 * wait for the BSP's INIT/SIPI in the in-kernel LAPIC. 0 or -1 (errno). */
int vm_plain_vcpu(struct vm *vm, struct vcpu *c, int id, uint64_t rip,
		  uint64_t rsi);
/* Raises (level 1) or lowers an ISA interrupt line of the irqchip. */
void vm_irq_line(struct vm *vm, unsigned irq, int level);

/* One exit of a plain VM's vCPU, decoded. */
enum plain_exit {
	PX_IO,	     /* port I/O: see io */
	PX_MMIO,     /* MMIO outside RAM: see mmio */
	PX_INTR,     /* interrupted: a kick or a host signal */
	PX_SHUTDOWN, /* triple fault */
	PX_OTHER,    /* an exit a Linux guest should not cause */
	PX_FAIL,     /* KVM_RUN failed: errno in err */
};
struct plain_io {
	uint16_t port;
	uint8_t size;	/* 1, 2 or 4 */
	uint8_t out;	/* 1 for out, 0 for in */
	uint32_t count; /* string I/O: count accesses of size bytes */
	uint8_t *data;	/* count * size bytes in the run page */
};
struct plain_mmio {
	uint64_t addr;
	uint32_t len; /* 1..8 */
	uint8_t write;
	uint8_t *data;
};
struct plain_exit_rec {
	enum plain_exit kind;
	unsigned reason; /* KVM's exit_reason */
	int err;
	struct plain_io io;
	struct plain_mmio mmio;
};
/* Prints the registers of a vCPU stopped in an exit (vcpu_dump's
 * format), for internal-error reports. */
void vm_plain_dump(struct vcpu *c);
/* KVM_RUN once and decode its exit. I/O data lies in the run page, which
 * KVM wrote; its offset and size are still checked against the page. */
struct plain_exit_rec vm_plain_run(struct vcpu *c);

#endif
