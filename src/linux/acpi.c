/* Builds the ACPI tables of acpi.h into a host buffer, with a small AML
 * encoder for the DSDT: each construct below names the ACPI 6.3 grammar
 * rule (chapter 20, "ACPI Machine Language Specification") it writes. */
#include "linux/acpi.h"

#include <stdbool.h>
#include <string.h>

#include "vm/plain.h"

#define LAPIC_ADDR  0xfee00000u
#define IOAPIC_ADDR 0xfec00000u
#define OEM_ID	    "MOTE  "   /* 6 bytes */
#define OEM_TABLE   "MOTEVM  " /* 8 bytes */

uint8_t acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

static void put(uint8_t *p, size_t off, uint64_t v, size_t n)
{
	memcpy(p + off, &v, n);
}

/* ---- the AML encoder ---- */

/* AML bytes written into a fixed buffer; `over` once something did not
 * fit (everything after is dropped, and acpi_build fails). */
struct aml {
	uint8_t *p;
	size_t n, cap;
	bool over;
};

static void aml_put(struct aml *a, const void *src, size_t k)
{
	if (a->over || k > a->cap - a->n) {
		a->over = true;
		return;
	}
	memcpy(a->p + a->n, src, k);
	a->n += k;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

/* PkgLength (20.2.4): its own bytes count in the length it gives; one byte
 * holds up to 63, else the first byte's bits 7-6 say how many follow and
 * bits 3-0 are the low nibble, the next bytes the rest. */
size_t aml_pkglen(uint8_t *out, size_t len)
{
	for (size_t k = 1; k <= 4; k++) {
		size_t v = len + k;
		if (k == 1 && v <= 0x3f) {
			out[0] = (uint8_t)v;
			return 1;
		}
		if (k > 1 && v < (1ul << (4 + 8 * (k - 1)))) {
			out[0] = (uint8_t)(((k - 1) << 6) | (v & 0xf));
			for (size_t i = 1; i < k; i++)
				out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
			return k;
		}
	}
	return 0;
}

/* A construct with a PkgLength: aml_open marks where its contents start,
 * aml_close puts the PkgLength in front of them once their size is known. */
static size_t aml_open(const struct aml *a)
{
	return a->n;
}

static void aml_close(struct aml *a, size_t start)
{
	uint8_t pl[4];
	size_t len = a->n - start, k = aml_pkglen(pl, len);
	if (a->over || !k || k > a->cap - a->n) {
		a->over = true;
		return;
	}
	memmove(a->p + start + k, a->p + start, len);
	memcpy(a->p + start, pl, k);
	a->n += k;
}

/* NameSeg (20.2.2): four characters, '_' padded by the caller. */
static void aml_nameseg(struct aml *a, const char *seg)
{
	aml_put(a, seg, 4);
}

/* Integer (20.2.3): ZeroOp, OneOp or the smallest of BytePrefix 0x0a,
 * WordPrefix 0x0b, DWordPrefix 0x0c. */
static void aml_int(struct aml *a, uint32_t v)
{
	if (v <= 1) {
		aml_byte(a, (uint8_t)v);
		return;
	}
	uint8_t prefix = v <= 0xff ? 0x0a : v <= 0xffff ? 0x0b : 0x0c;
	size_t k = prefix == 0x0a ? 1 : prefix == 0x0b ? 2 : 4;
	aml_byte(a, prefix);
	aml_put(a, &v, k);
}

/* String (20.2.3): StringPrefix 0x0d, ASCII, NUL. */
static void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);
	aml_put(a, s, strlen(s) + 1);
}

/* DefName (20.2.5.1): NameOp 0x08 NameString; the value follows. */
static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, 0x08);
	aml_nameseg(a, seg);
}

/* DefPackage (20.2.5.4): PackageOp 0x12 PkgLength NumElements, then the
 * elements (here Integers). */
static void aml_package(struct aml *a, const uint32_t *v, uint8_t n)
{
	aml_byte(a, 0x12);
	size_t s = aml_open(a);
	aml_byte(a, n);
	for (uint8_t i = 0; i < n; i++)
		aml_int(a, v[i]);
	aml_close(a, s);
}

/* DefBuffer (20.2.5.4): BufferOp 0x11 PkgLength BufferSize, the bytes. */
static void aml_buffer(struct aml *a, const uint8_t *b, uint8_t n)
{
	aml_byte(a, 0x11);
	size_t s = aml_open(a);
	aml_int(a, n);
	aml_put(a, b, n);
	aml_close(a, s);
}

/* DefDevice (20.2.5.2): ExtOpPrefix 0x5b DeviceOp 0x82 PkgLength
 * NameString TermList; DefScope (20.2.5.1): ScopeOp 0x10 PkgLength
 * NameString TermList. The caller writes the TermList, then aml_close. */
static size_t aml_device(struct aml *a, const char *seg)
{
	aml_put(a, (const uint8_t[]){0x5b, 0x82}, 2);
	size_t s = aml_open(a);
	aml_nameseg(a, seg);
	return s;
}

static size_t aml_scope_sb(struct aml *a)
{
	aml_byte(a, 0x10);
	size_t s = aml_open(a);
	aml_put(a, "\\_SB_", 5); /* RootChar '\', NameSeg _SB_ */
	return s;
}

/* PCI0's _CRS: what the host bridge decodes, which Linux makes the root
 * bus's resources (a BAR outside them would be moved):
 *   WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                  0, 0, 0, 0, 1)              // bus 0 alone
 *   IO (Decode16, 0xcf8, 0xcf8, 1, 8)           // the config ports
 *   DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *                NonCacheable, ReadWrite, 0, base, base + size - 1, 0,
 *                size)                          // the BAR window
 * (6.4.3.5: address space descriptors, large items 0x88 and 0x87.) */
static void pci_crs(struct aml *a, const struct acpi_cfg *c)
{
	uint8_t r[16 + 8 + 26 + 2] = {0};
	uint8_t *bus = r, *io = r + 16, *mem = r + 24;
	bus[0] = 0x88; /* Word Address Space Descriptor */
	put(bus, 1, 13, 2);
	bus[3] = 2;    /* bus number range */
	bus[4] = 0x0c; /* _MAF, _MIF, positive decode, producer */
	put(bus, 14, 1, 2);
	memcpy(io, (const uint8_t[8]){0x47, 1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8},
	       8);
	mem[0] = 0x87; /* DWord Address Space Descriptor */
	put(mem, 1, 23, 2);
	mem[3] = 0;    /* memory */
	mem[4] = 0x0c; /* _MAF, _MIF, positive decode, producer */
	mem[5] = 0x01; /* read-write, non-cacheable */
	put(mem, 10, c->pci_mmio, 4);
	put(mem, 14, c->pci_mmio + c->pci_mmio_size - 1, 4);
	put(mem, 22, c->pci_mmio_size, 4);
	r[50] = 0x79; /* End Tag, checksum 0 */
	aml_name(a, "_CRS");
	aml_buffer(a, r, sizeof(r));
}

/* PCI0's _PRT: a Package (Address, Pin, Source, Source Index) per
 * function, 6.2.13: address 0xSSSSFFFF (slot S, any function), pin 0
 * (INTA), source 0 (a GSI, no link device), the GSI. */
static void pci_prt(struct aml *a, const struct acpi_cfg *c)
{
	aml_name(a, "_PRT");
	aml_byte(a, 0x12);
	size_t s = aml_open(a);
	aml_byte(a, (uint8_t)c->npci);
	for (unsigned i = 0; i < c->npci; i++) {
		const uint32_t e[4] = {(uint32_t)c->pci[i].slot << 16 | 0xffff,
				       0, 0, c->pci[i].pin};
		aml_package(a, e, 4);
	}
	aml_close(a, s);
}

/*   Device (PCI0) {
 *     Name (_HID, EisaId ("PNP0A03"))   // a PCI host bridge
 *     Name (_CRS, ...)  Name (_PRT, ...)
 *   }
 * EisaId packs "PNP" in 5-bit letters, big-endian, then 0x0A03: the
 * DWord 0x030AD041. */
static void pci_root(struct aml *a, const struct acpi_cfg *c)
{
	size_t dev = aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_int(a, 0x030ad041);
	pci_crs(a, c);
	pci_prt(a, c);
	aml_close(a, dev);
}

/* The DSDT's definition block:
 *
 *   Name (\_S5, Package () { 5, 5, 0, 0 })   // SLP_TYPa, SLP_TYPb
 *   Scope (\_SB) {
 *     Device (PEVT) {                        // QEMU's name for pvpanic
 *       Name (_HID, "QEMU0001")
 *       Name (_CRS, ResourceTemplate () {
 *         IO (Decode16, 0x505, 0x505, 1, 1) })
 *     }
 *     Device (PCI0) { ... }                  // pci_root
 *   }
 */
static void dsdt_aml(struct aml *a, const struct acpi_cfg *c)
{
	const uint32_t s5[4] = {ACPI_S5_TYP, ACPI_S5_TYP, 0, 0};
	aml_name(a, "_S5_");
	aml_package(a, s5, 4);
	size_t sb = aml_scope_sb(a);
	size_t dev = aml_device(a, "PEVT");
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	/* 6.4.2.5 I/O Port Descriptor (0x47: small item 8, 7 bytes): 16-bit
	 * decode, min, max, alignment 1, length 1; 6.4.2.9 End Tag (0x79)
	 * with checksum 0 ("treat as summed"). */
	const uint8_t crs[] = {0x47,
			       0x01,
			       ACPI_PVPANIC & 0xff,
			       ACPI_PVPANIC >> 8,
			       ACPI_PVPANIC & 0xff,
			       ACPI_PVPANIC >> 8,
			       1,
			       1,
			       0x79,
			       0};
	aml_name(a, "_CRS");
	aml_buffer(a, crs, sizeof(crs));
	aml_close(a, dev);
	pci_root(a, c);
	aml_close(a, sb);
}

/* ---- the tables ---- */

/* Space in buf, 16-byte aligned (the RSDP's and the FACS's 64 alike). */
struct acpi_out {
	uint8_t *buf;
	size_t cap, n;
	uint64_t gpa;
};

static uint8_t *take(struct acpi_out *o, size_t len, size_t align)
{
	size_t at = (o->n + align - 1) & ~(align - 1);
	if (at > o->cap || len > o->cap - at)
		return NULL;
	o->n = at + len;
	memset(o->buf + at, 0, len);
	return o->buf + at;
}

static uint64_t gpa_of(const struct acpi_out *o, const uint8_t *p)
{
	return o->gpa + (uint64_t)(p - o->buf);
}

/* The 36-byte System Description Table Header (5.2.6); the checksum is
 * set by seal once the table is whole. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put(t, 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE, 8);
	put(t, 24, 1, 4);
	memcpy(t + 28, "MOTE", 4);
	put(t, 32, 1, 4);
}

static void seal(uint8_t *t)
{
	uint32_t len;
	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

/* MADT (5.2.12): the LAPIC address, PCAT_COMPAT (the 8259s exist: KVM's
 * in-kernel PIC), one Processor Local APIC per vCPU, the IOAPIC (GSIs 0-23
 * are its pins: ISA IRQ n on pin n, as KVM's default routing wires them,
 * so no override but the SCI's), the SCI level-triggered active-high, and
 * every LAPIC's LINT1 as NMI. */
static uint8_t *madt(struct acpi_out *o, unsigned cpus)
{
	uint32_t len = 44 + 8 * cpus + 12 + 10 + 6;
	uint8_t *t = take(o, len, 8), *e;
	if (!t)
		return NULL;
	header(t, "APIC", len, 5);
	put(t, 36, LAPIC_ADDR, 4);
	put(t, 40, 1, 4); /* PCAT_COMPAT */
	e = t + 44;
	for (unsigned i = 0; i < cpus; i++, e += 8) {
		const uint8_t lapic[8] = {0, 8, (uint8_t)i, (uint8_t)i, 1};
		memcpy(e, lapic, 8); /* type 0, UID, APIC ID, enabled */
	}
	const uint8_t ioapic[4] = {1, 12, (uint8_t)cpus, 0};
	memcpy(e, ioapic, 4); /* type 1, IOAPIC ID after the LAPICs' */
	put(e, 4, IOAPIC_ADDR, 4);
	put(e, 8, 0, 4); /* GSI base */
	e += 12;
	/* Type 2, ISA bus, IRQ 9 -> GSI 9, flags: active high (01), level
	 * (11 << 2). */
	const uint8_t iso[10] = {2, 10, 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ,
				 0, 0,	0, 0x0d,	 0};
	memcpy(e, iso, 10);
	e += 10;
	/* Type 4: all processors (UID 0xff), flags 0 (as the bus), LINT1. */
	memcpy(e, (const uint8_t[6]){4, 6, 0xff, 0, 0, 1}, 6);
	return t;
}

static uint8_t *dsdt(struct acpi_out *o, const struct acpi_cfg *c)
{
	uint8_t *t = take(o, 36, 8);
	if (!t)
		return NULL;
	struct aml a = {.p = o->buf + o->n, .cap = o->cap - o->n};
	dsdt_aml(&a, c);
	if (a.over)
		return NULL;
	o->n += a.n;
	header(t, "DSDT", (uint32_t)(36 + a.n), 2);
	return t;
}

/* FACS (5.2.10): no checksum; 64-byte aligned. */
static uint8_t *facs(struct acpi_out *o)
{
	uint8_t *t = take(o, 64, 64);
	if (t) {
		memcpy(t, "FACS", 4);
		put(t, 4, 64, 4);
		t[32] = 2; /* version */
	}
	return t;
}

/* A Generic Address Structure (5.2.3.2) for `len` bytes of I/O ports. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t len)
{
	g[0] = 1;		 /* system I/O */
	g[1] = 8 * len;		 /* register bit width */
	g[3] = len == 4 ? 3 : 2; /* access size: dword, word */
	put(g, 4, port, 8);
}

/* FADT (5.2.9), revision 6.3, not hardware-reduced: hardware-reduced ACPI
 * makes Linux drop the legacy PIC and the PIT (acpi_generic_reduced_hw_init)
 * and needs a sleep control register; the PM1a blocks are simpler. */
static uint8_t *fadt(struct acpi_out *o, uint64_t facs_at, uint64_t dsdt_at)
{
	uint8_t *t = take(o, 276, 8);
	if (!t)
		return NULL;
	header(t, "FACP", 276, 6);
	put(t, 36, facs_at, 4);
	put(t, 40, dsdt_at, 4);
	put(t, 46, ACPI_SCI_IRQ, 2);
	/* SMI_CMD 0: no SMM, the system is always in ACPI mode. */
	put(t, 56, ACPI_PM1A_EVT, 4);
	put(t, 64, ACPI_PM1A_CNT, 4);
	t[88] = 4; /* PM1_EVT_LEN */
	t[89] = 2; /* PM1_CNT_LEN */
	/* No PM timer, no GPE blocks: nothing to raise an SCI for. */
	/* IAPC_BOOT_ARCH: LEGACY_DEVICES (the UART, the RTC) and "VGA not
	 * present"; no 8042 flag, so Linux does not probe the i8042 (mote
	 * serves only its reset line). */
	put(t, 109, 0x0001 | 0x0004, 2);
	/* Flags: WBINVD; PWR_BUTTON and SLP_BUTTON (no fixed buttons). */
	put(t, 112, (1u << 0) | (1u << 4) | (1u << 5), 4);
	t[131] = 3; /* minor version: 6.3 */
	/* X_FIRMWARE_CTRL stays 0: Linux installs the FACS of each field
	 * that is set (twice, with both); the tables lie below 4 GiB. */
	put(t, 140, dsdt_at, 8);
	gas_io(t + 148, ACPI_PM1A_EVT, 4);
	gas_io(t + 172, ACPI_PM1A_CNT, 2);
	memcpy(t + 268, "MOTE", 4); /* hypervisor vendor identity */
	return t;
}

/* RSDT (32-bit entries) and XSDT (64-bit), both listing the FADT and the
 * MADT; rev-2 RSDP pointing at both. */
static uint8_t *sdts(struct acpi_out *o, uint8_t *rsdp, const uint8_t *f,
		     const uint8_t *m)
{
	uint8_t *r = take(o, 36 + 2 * 4, 8), *x = take(o, 36 + 2 * 8, 8);
	if (!r || !x)
		return NULL;
	header(r, "RSDT", 36 + 2 * 4, 1);
	put(r, 36, gpa_of(o, f), 4);
	put(r, 40, gpa_of(o, m), 4);
	header(x, "XSDT", 36 + 2 * 8, 1);
	put(x, 36, gpa_of(o, f), 8);
	put(x, 44, gpa_of(o, m), 8);
	seal(r);
	seal(x);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2; /* revision: ACPI 2.0+ */
	put(rsdp, 16, gpa_of(o, r), 4);
	put(rsdp, 20, 36, 4);
	put(rsdp, 24, gpa_of(o, x), 8);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	return rsdp;
}

static bool cfg_ok(const struct acpi_cfg *c)
{
	if (c->cpus == 0 || c->cpus > 255 || c->npci > 255 ||
	    !c->pci_mmio_size ||
	    c->pci_mmio_size - 1 > UINT32_MAX - c->pci_mmio)
		return false;
	for (unsigned i = 0; i < c->npci; i++)
		if (c->pci[i].slot > 31 || c->pci[i].pin >= 24)
			return false;
	return true;
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t gpa,
		  const struct acpi_cfg *c)
{
	struct acpi_out o = {.buf = buf, .cap = cap, .gpa = gpa};
	if (!cfg_ok(c) || (gpa & 15) || gpa + cap > 1ull << 32)
		return 0;
	uint8_t *rsdp = take(&o, 36, 16), *fc = facs(&o), *d = dsdt(&o, c);
	uint8_t *m = madt(&o, c->cpus);
	uint8_t *f = rsdp && fc && d && m
			     ? fadt(&o, gpa_of(&o, fc), gpa_of(&o, d))
			     : NULL;
	if (!f || !sdts(&o, rsdp, f, m))
		return 0;
	seal(d);
	seal(m);
	seal(f);
	return o.n;
}

int linux_acpi(struct vm *vm, unsigned cpus, const struct linux_pci_irq *pci,
	       unsigned npci)
{
	const struct acpi_cfg c = {.cpus = cpus,
				   .pci = pci,
				   .npci = npci,
				   .pci_mmio = PLAIN_PCI_MMIO,
				   .pci_mmio_size = PLAIN_PCI_MMIO_BYTES};
	uint8_t *p = gm_phys(vm, PLAIN_ACPI, PLAIN_ACPI_MAX);
	return p && acpi_build(p, PLAIN_ACPI_MAX, PLAIN_ACPI, &c) ? 0 : -1;
}
