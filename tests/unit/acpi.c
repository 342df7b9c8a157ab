/* The ACPI tables mote gives a Linux guest (src/linux/acpi.c), walked the
 * way the kernel walks them: the RSDP's checksums, the RSDT and XSDT
 * pointing at the FADT and MADT, the FADT at the FACS and DSDT, every
 * table's length and checksum, the AML's PkgLength and the DSDT's \_S5;
 * and the PM1a and pvpanic ports a hostile guest may poke with any size. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "dev/pm.h"
#include "dev/pvpanic.h"
#include "linux/acpi.h"
#include "unit.h"

#define GPA 0xe0000u
#define CAP 0x10000u
static uint8_t buf[CAP];

/* Two PCI functions: slot 1 on GSI 10, slot 2 on GSI 11. */
static const struct linux_pci_irq pci[] = {{1, 10}, {2, 11}};

static size_t build(uint8_t *b, size_t cap, uint64_t gpa, unsigned cpus)
{
	const struct acpi_cfg c = {cpus, pci, 2, 0xc0000000u, 0x100000};
	return acpi_build(b, cap, gpa, &c);
}

static uint64_t get(const uint8_t *p, size_t off, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, p + off, n);
	return v;
}

/* The table at guest-physical gpa, if it lies whole in buf and sums to 0;
 * NULL otherwise. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	if (gpa < GPA || gpa - GPA > CAP - 36)
		return NULL;
	const uint8_t *t = buf + (gpa - GPA);
	uint32_t len = (uint32_t)get(t, 4, 4);
	if (memcmp(t, sig, 4) != 0 || len < 36 || len > CAP - (gpa - GPA) ||
	    acpi_checksum(t, len) != 0)
		return NULL;
	return t;
}

static void checksum(void)
{
	uint8_t b[5] = {1, 2, 3, 4, 0};
	b[4] = acpi_checksum(b, 4);
	CHECK(b[4] == 0xf6);
	CHECK(acpi_checksum(b, 5) == 0);
	CHECK(acpi_checksum(b, 0) == 0);
	memset(buf, 0xff, 300);
	buf[300] = acpi_checksum(buf, 300); /* 300 * 0xff = 0x..d4 */
	CHECK(buf[300] == 0x2c && acpi_checksum(buf, 301) == 0);
}

static void rsdp(void)
{
	CHECK(build(buf, CAP, GPA, 4) > 0);
	CHECK(memcmp(buf, "RSD PTR ", 8) == 0);
	CHECK(acpi_checksum(buf, 20) == 0);	      /* ACPI 1.0 part */
	CHECK(acpi_checksum(buf, 36) == 0);	      /* the whole */
	CHECK(buf[15] == 2 && get(buf, 20, 4) == 36); /* revision, length */
	const uint8_t *r = table(get(buf, 16, 4), "RSDT");
	const uint8_t *x = table(get(buf, 24, 8), "XSDT");
	CHECK(r && x);
	if (!r || !x)
		return;
	CHECK(get(r, 4, 4) == 36 + 2 * 4 && get(x, 4, 4) == 36 + 2 * 8);
	CHECK(get(r, 36, 4) == get(x, 36, 8) && get(r, 40, 4) == get(x, 44, 8));
	CHECK(table(get(x, 36, 8), "FACP") && table(get(x, 44, 8), "APIC"));
}

static const uint8_t *fadt_of(void)
{
	const uint8_t *x = table(get(buf, 24, 8), "XSDT");
	return x ? table(get(x, 36, 8), "FACP") : NULL;
}

static void fadt(void)
{
	CHECK(build(buf, CAP, GPA, 1) > 0);
	const uint8_t *f = fadt_of();
	CHECK(f && get(f, 4, 4) == 276 && f[8] == 6);
	if (!f)
		return;
	CHECK(get(f, 40, 4) == get(f, 140, 8) && table(get(f, 40, 4), "DSDT"));
	CHECK(get(f, 132, 8) == 0); /* X_FIRMWARE_CTRL: the 32-bit one alone */
	const uint8_t *facs = buf + (get(f, 36, 4) - GPA);
	CHECK((get(f, 36, 4) & 63) == 0 && memcmp(facs, "FACS", 4) == 0 &&
	      get(facs, 4, 4) == 64);
	CHECK(get(f, 46, 2) == ACPI_SCI_IRQ);
	CHECK(get(f, 56, 4) == ACPI_PM1A_EVT && f[88] == 4);
	CHECK(get(f, 64, 4) == ACPI_PM1A_CNT && f[89] == 2);
	/* Not hardware-reduced (flag bit 20), no SMI command port. */
	CHECK(!(get(f, 112, 4) & (1u << 20)) && get(f, 48, 4) == 0);
	/* X_PM1a_CNT_BLK: system I/O, 16 bits, at the port. */
	CHECK(f[172] == 1 && f[173] == 16 && get(f, 176, 8) == ACPI_PM1A_CNT);
}

static void madt(void)
{
	CHECK(build(buf, CAP, GPA, 3) > 0);
	const uint8_t *x = table(get(buf, 24, 8), "XSDT");
	const uint8_t *m = x ? table(get(x, 44, 8), "APIC") : NULL;
	CHECK(m != NULL);
	if (!m)
		return;
	uint32_t len = (uint32_t)get(m, 4, 4);
	unsigned lapics = 0, ioapics = 0, ok = 1;
	for (uint32_t at = 44; at < len; at += m[at + 1]) {
		if (m[at + 1] < 2 || at + m[at + 1] > len) {
			ok = 0;
			break;
		}
		if (m[at] == 0 && m[at + 3] == lapics && (m[at + 4] & 1))
			lapics++;
		if (m[at] == 1 && get(m, at + 4, 4) == 0xfec00000u)
			ioapics++;
	}
	CHECK(ok && lapics == 3 && ioapics == 1);
	CHECK(get(m, 36, 4) == 0xfee00000u);
}

/* The DSDT of tables built for `cpus` vCPUs, its length in *len; NULL
 * (and a failed check) if it is not there whole. */
static const uint8_t *dsdt_of(unsigned cpus, size_t *len)
{
	CHECK(build(buf, CAP, GPA, cpus) > 0);
	const uint8_t *f = fadt_of();
	const uint8_t *d = f ? table(get(f, 40, 4), "DSDT") : NULL;
	CHECK(d != NULL);
	*len = d ? get(d, 4, 4) : 0;
	return d;
}

/* The DSDT's AML holds Name(_S5_, Package(4) {5, 5, 0, 0}), the pvpanic
 * device's _HID and its IO descriptor. */
static void dsdt(void)
{
	size_t len;
	const uint8_t *d = dsdt_of(2, &len);
	if (!d)
		return;
	const uint8_t s5[] = {0x08, '_',  'S',	'5',  '_',  0x12, 0x08,
			      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
	CHECK(len >= 36 + sizeof(s5) && memcmp(d + 36, s5, sizeof(s5)) == 0);
	CHECK(memmem(d, len, "QEMU0001", 9) != NULL);
	const uint8_t io[] = {0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 1, 1};
	CHECK(memmem(d, len, io, sizeof(io)) != NULL);
	/* Then Scope (\_SB_), whose PkgLength (two bytes: low nibble,
	 * then the rest) covers the rest of the table. */
	const uint8_t *sc = d + 36 + sizeof(s5);
	CHECK(sc[0] == 0x10 && sc[1] >> 6 == 1);
	CHECK(memcmp(sc + 3, "\\_SB_", 5) == 0);
	CHECK(36 + sizeof(s5) + 1 + ((sc[1] & 0xfu) | sc[2] << 4) == len);
}

/* PCI0: the host bridge's _HID (EisaId PNP0A03), its _CRS's BAR window
 * (DWord descriptor: min, max, length) and a _PRT entry per function. */
static void dsdt_pci(void)
{
	size_t len;
	const uint8_t *d = dsdt_of(1, &len);
	if (!d)
		return;
	const uint8_t hid[] = {0x08, '_',  'H',	 'I',  'D',
			       0x0c, 0x41, 0xd0, 0x0a, 0x03};
	const uint8_t *p = memmem(d, len, "PCI0", 4);
	/* DeviceOp, then a two-byte PkgLength that ends with the table. */
	CHECK(p && p[-4] == 0x5b && p[-3] == 0x82 && p[-2] >> 6 == 1);
	CHECK(p && (size_t)(p - 2 - d) + ((p[-2] & 0xfu) | p[-1] << 4) == len);
	CHECK(p && memcmp(p + 4, hid, sizeof(hid)) == 0);
	const uint8_t win[] = {0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0x0f, 0xc0};
	const uint8_t *m = memmem(d, len, "\x87\x17\x00", 3);
	CHECK(m && memcmp(m + 10, win, 8) == 0 && get(m, 22, 4) == 0x100000);
	/* Package (4) { 0x0002FFFF, Zero, Zero, 11 } */
	const uint8_t prt[] = {0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff,
			       0x02, 0x00, 0x00, 0x00, 0x0a, 11};
	CHECK(memmem(d, len, prt, sizeof(prt)) != NULL);
	const uint8_t *r = memmem(d, len, "_PRT\x12", 5);
	CHECK(r && r[6] == 2); /* two entries (one PkgLength byte) */
	/* Bad configurations. */
	struct linux_pci_irq bad[] = {{32, 10}};
	struct acpi_cfg c = {1, bad, 1, 0xc0000000u, 0x100000};
	CHECK(acpi_build(buf, CAP, GPA, &c) == 0);
	bad[0] = (struct linux_pci_irq){1, 24};
	CHECK(acpi_build(buf, CAP, GPA, &c) == 0);
	bad[0] = (struct linux_pci_irq){1, 10};
	c.pci_mmio = 0xfff00001u; /* wraps */
	CHECK(acpi_build(buf, CAP, GPA, &c) == 0);
	c.pci_mmio = 0xc0000000u;
	c.pci_mmio_size = 0;
	CHECK(acpi_build(buf, CAP, GPA, &c) == 0);
}

static void pkglen(void)
{
	uint8_t o[4];
	CHECK(aml_pkglen(o, 0) == 1 && o[0] == 1);
	CHECK(aml_pkglen(o, 62) == 1 && o[0] == 63);
	/* 63 bytes of contents need 2 of PkgLength: 65 = 0x41. */
	CHECK(aml_pkglen(o, 63) == 2 && o[0] == 0x41 && o[1] == 0x04);
	CHECK(aml_pkglen(o, 4093) == 2 && o[0] == 0x4f && o[1] == 0xff);
	CHECK(aml_pkglen(o, 4094) == 3 && o[0] == 0x81 && o[1] == 0x00 &&
	      o[2] == 0x01);
	CHECK(aml_pkglen(o, (1u << 28) - 5) == 4 && o[0] == 0xcf);
	CHECK(aml_pkglen(o, (1u << 28) - 4) == 0);
}

static void bad_args(void)
{
	CHECK(build(buf, CAP, GPA, 0) == 0);
	CHECK(build(buf, CAP, GPA, 256) == 0);
	CHECK(build(buf, CAP, GPA, 255) > 0);
	CHECK(build(buf, CAP, GPA + 8, 1) == 0); /* RSDP misaligned */
	size_t need = build(buf, CAP, GPA, 64);
	CHECK(need > 0 && build(buf, need, GPA, 64) == need);
	/* Every shorter buffer fails cleanly (no write past it: ASan). */
	for (size_t cap = 0; cap < need; cap += 7) {
		uint8_t *b = malloc(cap ? cap : 1);
		CHECK(build(b, cap, GPA, 64) == 0);
		free(b);
	}
}

/* One port access on a bus of the two devices, as ioport_dispatch does. */
static uint32_t io(struct ioport_bus *b, uint16_t port, unsigned size, bool out,
		   uint32_t v)
{
	uint8_t d[4];
	memcpy(d, &v, 4);
	ioport_dispatch(b, port, size, out, 1, d);
	v = 0;
	memcpy(&v, d, size);
	return v;
}

static void pm_ports(void)
{
	struct ioport_bus b = {0};
	struct acpi_pm pm;
	acpi_pm_init(&pm, &b);
	struct ioport_dev devs[2] = {acpi_pm_ioport(&pm), pvpanic_ioport(&b)};
	b.devs = devs;
	b.n = 2;
	CHECK(io(&b, ACPI_PM1A_CNT, 2, false, 0) == ACPI_SCI_EN);
	/* Any size at any offset: a dword at the last byte reads past. */
	CHECK(io(&b, ACPI_PM1A_EVT + 5, 4, false, 0) == 0xffffff00);
	io(&b, ACPI_PM1A_EVT + 2, 4, true, 0xffffffff); /* PM1_EN, CNT */
	CHECK(b.stop == DEV_RUN);			/* SLP_TYP 7 */
	CHECK(io(&b, ACPI_PM1A_CNT, 2, false, 0) == (0xffff & ~ACPI_SLP_EN));
	io(&b, ACPI_PM1A_EVT, 2, true, 0xffff); /* status: write 1 clears */
	CHECK(io(&b, ACPI_PM1A_EVT, 2, false, 0) == 0);
	/* S3 (not named by the DSDT) is ignored; S5 powers off, also when
	 * its high byte comes alone. */
	io(&b, ACPI_PM1A_CNT, 2, true, 3 << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN);
	CHECK(b.stop == DEV_RUN);
	io(&b, ACPI_PM1A_CNT + 1, 1, true,
	   (ACPI_S5_TYP << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN) >> 8);
	CHECK(b.stop == DEV_POWEROFF);
}

static void pvpanic_port(void)
{
	struct ioport_bus b = {0};
	struct ioport_dev d = pvpanic_ioport(&b);
	b.devs = &d;
	b.n = 1;
	CHECK(io(&b, ACPI_PVPANIC, 1, false, 0) == 1);
	CHECK(io(&b, ACPI_PVPANIC, 4, false, 0) == 1);
	io(&b, ACPI_PVPANIC, 1, true, 2); /* crash loaded: not supported */
	CHECK(b.stop == DEV_RUN);
	io(&b, ACPI_PVPANIC, 4, true, 0xffffffff);
	CHECK(b.stop == DEV_PANIC);
}

static void cases(void)
{
	RUN(checksum);
	RUN(rsdp);
	RUN(fadt);
	RUN(madt);
	RUN(dsdt);
	RUN(dsdt_pci);
	RUN(pkglen);
	RUN(bad_args);
	RUN(pm_ports);
	RUN(pvpanic_port);
}

int main(void)
{
	return unit_main(cases, NULL);
}
