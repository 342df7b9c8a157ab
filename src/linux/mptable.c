/* The Intel MultiProcessor Specification 1.4 table that tells the kernel
 * about the vCPUs, the in-kernel IOAPIC, PCI bus 0's interrupts and the
 * ISA interrupts, in the reserved BIOS area where the kernel looks for
 * its floating pointer. */
#include <string.h>

#include "linux/linux.h"
#include "vm/plain.h"

#define LAPIC_ADDR  0xfee00000u
#define IOAPIC_ADDR 0xfec00000u
#define MP_SPEC_REV 4
/* Linux looks a PCI function's interrupt up by the MP bus id equal to its
 * PCI bus number: PCI bus 0 is MP bus 0, so ISA is bus 1. */
#define MP_BUS_PCI 0
#define MP_BUS_ISA 1

enum { MP_CPU = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

static uint8_t mp_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

/* An 8-byte interrupt entry: type, irq type, flags 0 (as the bus: edge
 * and active high on ISA, level and active low on PCI), the source bus
 * and irq, the destination APIC and pin. */
static uint8_t *mp_irq(uint8_t *p, uint8_t type, uint8_t kind, uint8_t bus,
		       uint8_t irq, uint8_t apic, uint8_t pin)
{
	const uint8_t e[8] = {type, kind, 0, 0, bus, irq, apic, pin};
	memcpy(p, e, 8);
	return p + 8;
}

static uint8_t *mp_cpus(uint8_t *p, unsigned cpus)
{
	for (unsigned i = 0; i < cpus; i++, p += 20) {
		memset(p, 0, 20);
		p[0] = MP_CPU;
		p[1] = (uint8_t)i;		    /* LAPIC ID */
		p[2] = 0x14;			    /* LAPIC version */
		p[3] = 1 | (i == 0 ? 2 : 0);	    /* enabled, BSP */
		uint32_t sig = 0x600, feat = 0x201; /* family 6; FPU, APIC */
		memcpy(p + 4, &sig, 4);
		memcpy(p + 8, &feat, 4);
	}
	return p;
}

/* The buses and the IOAPIC. */
static uint8_t *mp_buses(uint8_t *p, uint8_t ioapic)
{
	uint32_t ioapic_addr = IOAPIC_ADDR;
	memcpy(p,
	       (const uint8_t[8]){MP_BUS, MP_BUS_PCI, 'P', 'C', 'I', ' ', ' ',
				  ' '},
	       8);
	memcpy(p + 8,
	       (const uint8_t[8]){MP_BUS, MP_BUS_ISA, 'I', 'S', 'A', ' ', ' ',
				  ' '},
	       8);
	memcpy(p + 16, (const uint8_t[4]){MP_IOAPIC, ioapic, 0x11, 1}, 4);
	memcpy(p + 20, &ioapic_addr, 4);
	return p + 24;
}

/* The interrupt entries: each PCI function's INTA (source irq slot << 2
 * | pin - 1), ISA IRQs 0-15 on IOAPIC pins 0-15 (as KVM's default
 * routing wires them; 2 is the PIC cascade) but on the pins PCI has,
 * ExtINT and NMI on every LAPIC's LINT0 and LINT1. */
static uint8_t *mp_irqs(uint8_t *p, uint8_t ioapic,
			const struct linux_pci_irq *pci, unsigned npci,
			uint16_t *count)
{
	uint32_t pci_pins = 0;
	for (unsigned i = 0; i < npci; i++, ++*count) {
		pci_pins |= 1u << pci[i].pin;
		p = mp_irq(p, MP_INTSRC, MP_INT, MP_BUS_PCI,
			   (uint8_t)(pci[i].slot << 2), ioapic, pci[i].pin);
	}
	for (uint8_t irq = 0; irq < 16; irq++) {
		if (irq == 2 || (pci_pins & 1u << irq))
			continue;
		p = mp_irq(p, MP_INTSRC, MP_INT, MP_BUS_ISA, irq, ioapic, irq);
		++*count;
	}
	p = mp_irq(p, MP_LINTSRC, MP_EXTINT, MP_BUS_ISA, 0, 0xff, 0);
	p = mp_irq(p, MP_LINTSRC, MP_NMI, MP_BUS_ISA, 0, 0xff, 1);
	*count += 2;
	return p;
}

static int pci_ok(const struct linux_pci_irq *pci, unsigned npci)
{
	if (npci > LINUX_PCI_IRQS_MAX)
		return 0;
	for (unsigned i = 0; i < npci; i++)
		if (pci[i].slot >= 32 || pci[i].pin >= 16 || pci[i].pin == 2)
			return 0;
	return 1;
}

int linux_mptable(struct vm *vm, unsigned cpus, const struct linux_pci_irq *pci,
		  unsigned npci)
{
	/* 16 bytes of floating pointer, 44 of header, then the entries. */
	size_t max = 16 + 44 + (size_t)cpus * 20 + 24 + (16 + npci + 2) * 8;
	uint8_t *mpf = gm_phys(vm, PLAIN_BIOS, max);
	if (!mpf || cpus == 0 || cpus > 254 || !pci_ok(pci, npci))
		return -1;
	memset(mpf, 0, max);
	uint8_t *hdr = mpf + 16, *end;
	uint16_t count = (uint16_t)(cpus + 3);
	uint8_t ioapic = (uint8_t)cpus;
	end = mp_buses(mp_cpus(hdr + 44, cpus), ioapic);
	end = mp_irqs(end, ioapic, pci, npci, &count);
	uint16_t len = (uint16_t)(end - hdr);
	uint32_t lapic = LAPIC_ADDR, at = (uint32_t)(PLAIN_BIOS + 16);
	memcpy(hdr, "PCMP", 4);
	memcpy(hdr + 4, &len, 2);
	hdr[6] = MP_SPEC_REV;
	memcpy(hdr + 8, "MOTE    ", 8);
	memcpy(hdr + 16, "microvisor  ", 12);
	memcpy(hdr + 34, &count, 2);
	memcpy(hdr + 36, &lapic, 4);
	hdr[7] = mp_sum(hdr, len);
	memcpy(mpf, "_MP_", 4);
	memcpy(mpf + 4, &at, 4);
	mpf[8] = 1; /* length in 16-byte units */
	mpf[9] = MP_SPEC_REV;
	mpf[10] = mp_sum(mpf, 16);
	return 0;
}
