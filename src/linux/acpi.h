/* The minimal ACPI tables mote gives a Linux guest (ACPI 6.3): the RSDP in
 * the BIOS area where the kernel looks for it, an RSDT and an XSDT, a FADT
 * whose PM1a control block is the power-off port (src/dev/pm.c), a FACS,
 * a MADT of the vCPUs and the in-kernel IOAPIC, and a DSDT whose AML names
 * \_S5, the pvpanic device and the PCI host bridge with its functions'
 * interrupts. See docs/boot.md ("ACPI") for why each. */
#ifndef MOTE_LINUX_ACPI_H
#define MOTE_LINUX_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "linux/linux.h"

struct vm;

/* The ports the tables announce (src/dev/pm.c and src/dev/pvpanic.c serve
 * them): PM1a event block (status, enable: 2 bytes each) and PM1a control
 * block (2 bytes), the SCI's ISA IRQ, and the pvpanic port. */
#define ACPI_PM1A_EVT 0x600
#define ACPI_PM1A_CNT 0x604
#define ACPI_PM_LEN   6 /* both blocks, ACPI_PM1A_EVT on */
#define ACPI_SCI_IRQ  9
#define ACPI_PVPANIC  0x505
/* PM1_CNT: SLP_TYP (bits 10-12) and SLP_EN (bit 13); \_S5's SLP_TYP. */
#define ACPI_SLP_TYP_SHIFT 10
#define ACPI_SLP_EN	   (1u << 13)
#define ACPI_SCI_EN	   (1u << 0)
#define ACPI_S5_TYP	   5

/* The 8-bit sum that makes the n bytes at p add up to 0. */
uint8_t acpi_checksum(const uint8_t *p, size_t n);

/* What the tables describe: `cpus` vCPUs with LAPIC IDs 0..cpus-1, and
 * PCI bus 0 with its BAR window and each function's INTA (npci of them,
 * the interrupt a GSI: an IOAPIC pin). */
struct acpi_cfg {
	unsigned cpus;
	const struct linux_pci_irq *pci;
	unsigned npci;
	uint32_t pci_mmio, pci_mmio_size;
};

/* Builds every table into buf (cap bytes, which the guest will see at
 * guest-physical gpa; the RSDP first, at gpa itself, 16-byte aligned).
 * Returns the bytes used, or 0 if they do not fit, cpus is 0 or above
 * 255, a PCI slot is above 31 or the BAR window is empty or wraps. Pure:
 * for unit tests. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t gpa,
		  const struct acpi_cfg *c);

/* The tables in vm's RAM at PLAIN_ACPI, the BAR window PLAIN_PCI_MMIO. 0,
 * or -1 if they do not fit or an entry is out of range. */
int linux_acpi(struct vm *vm, unsigned cpus, const struct linux_pci_irq *pci,
	       unsigned npci);

/* The AML encoder (exposed for its unit test): PkgLength of a package
 * whose contents are len bytes, written to out (up to 4 bytes); returns
 * how many bytes it took, 0 if len is too large for AML (2^28). */
size_t aml_pkglen(uint8_t *out, size_t len);

#endif
