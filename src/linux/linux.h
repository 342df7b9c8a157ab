/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the
 * bzImage's setup header, checked; the kernel, boot_params (the "zero
 * page") with its e820 map, the command line and the initrd, written
 * into a plain VM's RAM for the 64-bit entry. */
#ifndef MOTE_LINUX_LINUX_H
#define MOTE_LINUX_LINUX_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/* The oldest protocol with the 64-bit entry and XLF_KERNEL_64: 2.12. */
#define LINUX_PROTO_MIN 0x020c

/* What the setup header says, once checked. */
struct bzimage {
	const uint8_t *file;
	size_t file_size;
	uint16_t version;
	size_t setup_size;  /* bytes before the protected-mode kernel */
	size_t kernel_size; /* the protected-mode kernel's bytes */
	uint32_t init_size; /* memory it needs from its load address */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* without the NUL */
	uint32_t alignment;
};

/* Checks the file is a bzImage this loader can boot. 0, or -1 with a
 * one-line reason (no verb, no "mote:") in *why. Pure: for unit tests and
 * fuzzing. */
int bzimage_parse(struct bzimage *b, const uint8_t *file, size_t size,
		  const char **why);

/* What goes into the VM beside the kernel. */
struct linux_load {
	const char *cmdline;
	const uint8_t *initrd; /* NULL for none */
	size_t initrd_size;
	uint64_t mem_size;
};

/* Writes the kernel, the command line, the initrd and boot_params into
 * vm's RAM. Returns the 64-bit entry's address, or 0 with a one-line
 * reason in *why (the command line too long, the initrd too large). */
uint64_t linux_load(struct vm *vm, const struct bzimage *b,
		    const struct linux_load *l, const char **why);

/* A PCI function's INTA on bus 0, wired to an IOAPIC pin below 16 (the
 * same number as its PIC line and its config space's interrupt line). */
struct linux_pci_irq {
	uint8_t slot;
	uint8_t pin; /* the IOAPIC pin */
};
#define LINUX_PCI_IRQS_MAX 32

/* Writes an MP table describing `cpus` vCPUs (LAPIC IDs 0..cpus-1, vCPU
 * 0 the BSP), the IOAPIC, PCI bus 0 with the npci interrupts in pci
 * (level-triggered, active low, as PCI's are) and the ISA interrupts on
 * the pins no PCI function has. 0, or -1 if it does not fit or an entry
 * is out of range. */
int linux_mptable(struct vm *vm, unsigned cpus, const struct linux_pci_irq *pci,
		  unsigned npci);

#endif
