/* Loading a checked bzImage into a plain VM: the protected-mode kernel at
 * 16 MiB, the command line, the initrd at the top of what the kernel can
 * reach, and boot_params with the setup header, the e820 map and where
 * each of them is. */
#include <string.h>

#include "linux/linux.h"
#include "vm/plain.h"

/* Offsets in boot_params (arch/x86/include/uapi/asm/bootparam.h). */
enum {
	BP_EXT_RAMDISK_IMAGE = 0x0c0,
	BP_EXT_RAMDISK_SIZE = 0x0c4,
	BP_EXT_CMD_LINE_PTR = 0x0c8,
	BP_E820_ENTRIES = 0x1e8,
	BP_HDR = 0x1f1,
	BP_VID_MODE = 0x1fa,
	BP_JUMP_LEN = 0x201, /* the header ends at 0x202 + this byte */
	BP_TYPE_OF_LOADER = 0x210,
	BP_CODE32_START = 0x214,
	BP_RAMDISK_IMAGE = 0x218,
	BP_RAMDISK_SIZE = 0x21c,
	BP_CMD_LINE_PTR = 0x228,
	BP_HDR_MAX = 0x290, /* boot_params' header area ends here */
	BP_E820_TABLE = 0x2d0,
	BP_E820_MAX = 128,
};
#define E820_RAM      1
#define E820_RESERVED 2
#define ENTRY_64      0x200 /* the 64-bit entry, from the load address */

static void put(uint8_t *zp, size_t off, uint64_t v, size_t n)
{
	memcpy(zp + off, &v, n);
}

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[BP_E820_ENTRIES];
	uint8_t *e = zp + BP_E820_TABLE + (size_t)n * 20;
	put(e, 0, addr, 8);
	put(e, 8, size, 8);
	put(e, 16, type, 4);
	zp[BP_E820_ENTRIES] = n + 1;
}

static void zero_page(uint8_t *zp, const struct bzimage *b, uint64_t mem)
{
	memset(zp, 0, 4096);
	size_t end = 0x202 + (size_t)b->file[BP_JUMP_LEN];
	if (end > BP_HDR_MAX)
		end = BP_HDR_MAX;
	memcpy(zp + BP_HDR, b->file + BP_HDR, end - BP_HDR);
	put(zp, BP_VID_MODE, 0xffff, 2); /* "normal" */
	zp[BP_TYPE_OF_LOADER] = 0xff;	 /* a loader without an ID */
	put(zp, BP_CODE32_START, PLAIN_KERNEL, 4);
	put(zp, BP_CMD_LINE_PTR, PLAIN_CMDLINE, 4);
	put(zp, BP_EXT_CMD_LINE_PTR, 0, 4);
	e820_add(zp, 0, PLAIN_LOW_END, E820_RAM);
	e820_add(zp, PLAIN_LOW_END, 0xa0000 - PLAIN_LOW_END, E820_RESERVED);
	e820_add(zp, PLAIN_ACPI, PLAIN_HIGH - PLAIN_ACPI, E820_RESERVED);
	e820_add(zp, PLAIN_HIGH, mem - PLAIN_HIGH, E820_RAM);
}

/* Where the initrd goes: as high as the kernel can reach, page aligned,
 * above the kernel's own memory. 0 if it does not fit. */
static uint64_t initrd_addr(const struct bzimage *b, uint64_t mem, size_t size)
{
	uint64_t top = mem;
	if (b->initrd_addr_max && (uint64_t)b->initrd_addr_max + 1 < top)
		top = (uint64_t)b->initrd_addr_max + 1;
	uint64_t low = PLAIN_KERNEL + b->init_size;
	if (size > top || top - size < low)
		return 0;
	return (top - size) & ~0xfffULL;
}

static const char *load_initrd(struct vm *vm, const struct bzimage *b,
			       const struct linux_load *l, uint8_t *zp)
{
	if (!l->initrd)
		return NULL;
	uint64_t at = initrd_addr(b, l->mem_size, l->initrd_size);
	uint8_t *dst = at ? gm_phys(vm, at, l->initrd_size) : NULL;
	if (!dst)
		return "the initrd does not fit in the guest's memory beside "
		       "the kernel (give more --memory)";
	memcpy(dst, l->initrd, l->initrd_size);
	put(zp, BP_RAMDISK_IMAGE, at, 4);
	put(zp, BP_RAMDISK_SIZE, l->initrd_size, 4);
	put(zp, BP_EXT_RAMDISK_IMAGE, at >> 32, 4);
	put(zp, BP_EXT_RAMDISK_SIZE, (uint64_t)l->initrd_size >> 32, 4);
	return NULL;
}

uint64_t linux_load(struct vm *vm, const struct bzimage *b,
		    const struct linux_load *l, const char **why)
{
	size_t clen = strlen(l->cmdline);
	uint64_t cmax = b->cmdline_size ? b->cmdline_size : 255;
	if (cmax > PLAIN_CMDLINE_MAX - 1)
		cmax = PLAIN_CMDLINE_MAX - 1;
	uint8_t *kern = gm_phys(vm, PLAIN_KERNEL, b->init_size);
	uint8_t *zp = gm_phys(vm, PLAIN_ZERO_PAGE, 4096);
	uint8_t *cmd = gm_phys(vm, PLAIN_CMDLINE, clen + 1);
	*why = NULL;
	if (clen > cmax)
		*why = "the kernel command line is longer than this kernel "
		       "takes (its header's cmdline_size)";
	else if (!kern || !zp || !cmd)
		*why = "the kernel does not fit in the guest's memory (give "
		       "more --memory)";
	if (*why)
		return 0;
	memcpy(kern, b->file + b->setup_size, b->kernel_size);
	memcpy(cmd, l->cmdline, clen + 1);
	zero_page(zp, b, l->mem_size);
	*why = load_initrd(vm, b, l, zp);
	return *why ? 0 : PLAIN_KERNEL + ENTRY_64;
}
