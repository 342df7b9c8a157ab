/* bzimage_parse on crafted setup headers, the port-I/O bus's dispatch on
 * a fake device, and the MP table with PCI interrupts read back from host
 * memory: no KVM, no kernel file needed. */
#include <stdlib.h>
#include <string.h>

#include "dev/ioport.h"
#include "linux/linux.h"
#include "unit.h"
#include "vm/plain.h"

#define IMG_SIZE (64 * 1024)
static uint8_t img[IMG_SIZE];

/* A minimal header that parses: 4 setup sectors, protocol 2.15, 64-bit
 * entry, loaded high, syssize and init_size to match the file. */
static void good_header(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 4;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;
	img[0x207] = 0x02;
	img[0x211] = 1;
	img[0x236] = 1;
	uint32_t sys = (IMG_SIZE - 5 * 512) / 16, init = 1 << 20;
	memcpy(img + 0x1f4, &sys, 4);
	memcpy(img + 0x260, &init, 4);
}

static int parse(size_t size, const char **why)
{
	struct bzimage b;
	return bzimage_parse(&b, img, size, why);
}

static void bz_good(void)
{
	const char *why = "unset";
	good_header();
	CHECK(parse(IMG_SIZE, &why) == 0 && why == NULL);
}

static void bz_not_bzimage(void)
{
	const char *why;
	good_header();
	memcpy(img + 0x202, "HdrX", 4);
	CHECK(parse(IMG_SIZE, &why) < 0 && strstr(why, "not a bzImage"));
	CHECK(parse(10, &why) < 0 && strstr(why, "not a bzImage"));
	CHECK(parse(0, &why) < 0);
}

static void bz_old(void)
{
	const char *why;
	good_header();
	img[0x206] = 0x0b; /* 2.11 */
	CHECK(parse(IMG_SIZE, &why) < 0 && strstr(why, "too old"));
	good_header();
	img[0x236] = 0; /* no XLF_KERNEL_64 */
	CHECK(parse(IMG_SIZE, &why) < 0 && strstr(why, "too old"));
}

static void bz_truncated(void)
{
	const char *why;
	good_header();
	CHECK(parse(0x240, &why) < 0 && strstr(why, "truncated"));
	CHECK(parse(5 * 512, &why) < 0 && strstr(why, "truncated"));
	CHECK(parse(IMG_SIZE - 16, &why) < 0 && strstr(why, "truncated"));
	good_header();
	uint32_t small = 512;
	memcpy(img + 0x260, &small, 4);
	CHECK(parse(IMG_SIZE, &why) < 0 && strstr(why, "init_size"));
}

static unsigned fake_outs;
static uint32_t fake_in(void *dev, uint16_t off, unsigned size)
{
	return 0x40u + off;
}
static void fake_out(void *dev, uint16_t off, unsigned size, uint32_t v)
{
	fake_outs++;
}

static void bus_dispatch(void)
{
	const struct ioport_dev d = {.name = "fake",
				     .base = 0x100,
				     .len = 4,
				     .in = fake_in,
				     .out = fake_out};
	struct ioport_bus b = {.devs = &d, .n = 1};
	uint8_t data[4096];
	memset(data, 0, sizeof(data));
	ioport_dispatch(&b, 0x102, 1, false, 1, data);
	CHECK(data[0] == 0x42 && b.unhandled == 0);
	ioport_dispatch(&b, 0x200, 2, false, 1, data);
	CHECK(data[0] == 0xff && data[1] == 0xff && b.unhandled == 1);
	ioport_dispatch(&b, 0x200, 1, true, 1, data);
	CHECK(b.unhandled == 2);
	/* rep outsb: one access per element. */
	ioport_dispatch(&b, 0x100, 1, true, 4096, data);
	CHECK(fake_outs == 4096);
	b.stop = DEV_RESET; /* a reset stops the rest of a string */
	ioport_dispatch(&b, 0x100, 1, true, 10, data);
	CHECK(fake_outs == 4096);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

/* One MP interrupt entry against what it should be: a PCI function's
 * INTA in pci (bus 0, flags 0: as PCI, level and active low) or an ISA
 * IRQ (bus 1) on its own pin. */
static void mp_intsrc(const uint8_t *e, const struct linux_pci_irq *pci,
		      unsigned npci, unsigned *npci_seen, uint32_t *isa_pins)
{
	CHECK(e[1] == 0 && e[2] == 0 && e[6] == 2); /* INT, IOAPIC id 2 */
	if (e[4] == 1) {
		CHECK(e[5] == e[7]);
		*isa_pins |= 1u << e[7];
		return;
	}
	CHECK(e[4] == 0 && (e[5] & 3) == 0);
	for (unsigned i = 0; i < npci; i++)
		if (pci[i].slot == e[5] >> 2 && pci[i].pin == e[7])
			++*npci_seen;
}

static void mp_table(void)
{
	static const struct linux_pci_irq pci[] = {{1, 10}, {2, 11}, {3, 10}};
	struct vm vm = {.mem = calloc(1, 2 << 20), .user_size = 2 << 20};
	CHECK(vm.mem && linux_mptable(&vm, 2, pci, 3) == 0);
	const uint8_t *mpf = vm.mem + PLAIN_BIOS, *h = mpf + 16;
	uint16_t len, count;
	memcpy(&len, h + 4, 2);
	memcpy(&count, h + 34, 2);
	CHECK(!memcmp(mpf, "_MP_", 4) && sum(mpf, 16) == 0);
	CHECK(!memcmp(h, "PCMP", 4) && sum(h, len) == 0);
	unsigned n = 0, cpus = 0, buses = 0, npci = 0;
	uint32_t isa_pins = 0;
	for (const uint8_t *e = h + 44; e < h + len; n++) {
		if (e[0] == 0) {
			cpus++;
			e += 20;
			continue;
		}
		if (e[0] == 1)
			buses += (e[1] == 0 && !memcmp(e + 2, "PCI   ", 6)) |
				 (e[1] == 1 && !memcmp(e + 2, "ISA   ", 6))
					 << 1;
		if (e[0] == 3)
			mp_intsrc(e, pci, 3, &npci, &isa_pins);
		e += 8;
	}
	CHECK(n == count && cpus == 2 && buses == 3 && npci == 3);
	/* ISA on every pin but the cascade (2) and PCI's (10, 11). */
	CHECK(isa_pins == (0xffffu & ~(1u << 2 | 1u << 10 | 1u << 11)));
	CHECK(linux_mptable(&vm, 1, (struct linux_pci_irq[]){{1, 2}}, 1) < 0);
	CHECK(linux_mptable(&vm, 1, (struct linux_pci_irq[]){{1, 16}}, 1) < 0);
	CHECK(linux_mptable(&vm, 1, (struct linux_pci_irq[]){{32, 10}}, 1) < 0);
	CHECK(linux_mptable(&vm, 1, pci, LINUX_PCI_IRQS_MAX + 1) < 0);
	free(vm.mem);
}

static void cases(void)
{
	RUN(bz_good);
	RUN(bz_not_bzimage);
	RUN(bz_old);
	RUN(bz_truncated);
	RUN(bus_dispatch);
	RUN(mp_table);
}

int main(void)
{
	return unit_main(cases, NULL);
}
