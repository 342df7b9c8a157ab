/* The bzImage's setup header, read and checked before anything is loaded:
 * the magic numbers, a protocol with the 64-bit entry, sizes that fit the
 * file. */
#include <string.h>

#include "linux/linux.h"

/* Offsets in the file (the setup header starts at 0x1f1). */
enum {
	HDR_SETUP_SECTS = 0x1f1,
	HDR_SYSSIZE = 0x1f4,
	HDR_BOOT_FLAG = 0x1fe,
	HDR_MAGIC = 0x202,
	HDR_VERSION = 0x206,
	HDR_LOADFLAGS = 0x211,
	HDR_INITRD_MAX = 0x22c,
	HDR_ALIGN = 0x230,
	HDR_XLOADFLAGS = 0x236,
	HDR_CMDLINE_SIZE = 0x238,
	HDR_INIT_SIZE = 0x260,
	HDR_END = 0x264,
};
#define LOADED_HIGH   0x01
#define XLF_KERNEL_64 0x01

static uint32_t rd(const uint8_t *p, size_t off, size_t n)
{
	uint32_t v = 0;
	memcpy(&v, p + off, n);
	return v;
}

static const char *bzimage_sizes(struct bzimage *b)
{
	unsigned sects = b->file[HDR_SETUP_SECTS];
	if (sects == 0)
		sects = 4; /* what the protocol says a 0 means */
	b->setup_size = (size_t)(sects + 1) * 512;
	if (b->setup_size >= b->file_size)
		return "truncated: the file ends inside its setup code";
	b->kernel_size = b->file_size - b->setup_size;
	/* syssize: the protected-mode kernel's size in 16-byte units. */
	if (b->kernel_size < (uint64_t)rd(b->file, HDR_SYSSIZE, 4) * 16)
		return "truncated: the file is shorter than its header says";
	b->init_size = rd(b->file, HDR_INIT_SIZE, 4);
	b->initrd_addr_max = rd(b->file, HDR_INITRD_MAX, 4);
	b->cmdline_size = rd(b->file, HDR_CMDLINE_SIZE, 4);
	b->alignment = rd(b->file, HDR_ALIGN, 4);
	if (b->init_size < b->kernel_size)
		return "truncated or damaged: its kernel is larger than the "
		       "memory its header asks for (init_size)";
	return NULL;
}

int bzimage_parse(struct bzimage *b, const uint8_t *file, size_t size,
		  const char **why)
{
	memset(b, 0, sizeof(*b));
	b->file = file;
	b->file_size = size;
	const char *bad = NULL;
	if (size < HDR_END || rd(file, HDR_BOOT_FLAG, 2) != 0xaa55 ||
	    memcmp(file + HDR_MAGIC, "HdrS", 4) != 0)
		bad = size < HDR_END && size >= HDR_MAGIC + 4 &&
				      !memcmp(file + HDR_MAGIC, "HdrS", 4)
			      ? "truncated: the file ends inside its setup "
				"header"
			      : "not a bzImage (no \"HdrS\" setup header): "
				"give "
				"the kernel's vmlinuz, not vmlinux or a module";
	else if ((b->version = rd(file, HDR_VERSION, 2)) < LINUX_PROTO_MIN ||
		 !(rd(file, HDR_XLOADFLAGS, 2) & XLF_KERNEL_64))
		bad = "its boot protocol is too old for the 64-bit entry "
		      "(needs 2.12 with XLF_KERNEL_64: Linux 3.8 or later)";
	else if (!(file[HDR_LOADFLAGS] & LOADED_HIGH))
		bad = "not a bzImage (a zImage, loaded low)";
	else
		bad = bzimage_sizes(b);
	*why = bad;
	return bad ? -1 : 0;
}
