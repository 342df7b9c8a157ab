/* bzimage_parse on crafted setup headers, and the port-I/O bus's dispatch
 * on a fake device: no KVM, no kernel file needed. */
#include <stdlib.h>
#include <string.h>

#include "dev/ioport.h"
#include "linux/linux.h"
#include "unit.h"

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

static void cases(void)
{
	RUN(bz_good);
	RUN(bz_not_bzimage);
	RUN(bz_old);
	RUN(bz_truncated);
	RUN(bus_dispatch);
}

int main(void)
{
	return unit_main(cases, NULL);
}
