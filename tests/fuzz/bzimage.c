/* libFuzzer harness over mote boot's loader: the input is a kernel file.
 * bzimage_parse checks it (its result is checked against what it
 * promises); an accepted one is loaded as mote boot loads it (linux_load,
 * with a small initrd and a command line, and linux_mptable) into a
 * plain VM's RAM that is host memory alone: no KVM. ASan catches any
 * write outside that RAM. */
#include <stdlib.h>
#include <string.h>

#include "linux/linux.h"
#include "vm/plain.h"

#define RAM (64ULL << 20)

static struct vm vm;

static void check_parse(const struct bzimage *b, size_t size)
{
	if (b->setup_size < 2 * 512 || b->setup_size >= size ||
	    b->setup_size + b->kernel_size != size ||
	    b->kernel_size > b->init_size || b->version < LINUX_PROTO_MIN)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!vm.mem) {
		vm.mem = calloc(1, RAM);
		vm.user_size = RAM;
		if (!vm.mem)
			abort();
	}
	struct bzimage b;
	const char *why;
	if (bzimage_parse(&b, data, size, &why) < 0) {
		if (!why || !*why)
			abort();
		return 0;
	}
	check_parse(&b, size);
	static const uint8_t initrd[4096];
	struct linux_load l = {
		.cmdline = "console=ttyS0 reboot=k panic=-1",
		.initrd = initrd,
		.initrd_size = sizeof(initrd),
		.mem_size = RAM,
	};
	uint64_t entry = linux_load(&vm, &b, &l, &why);
	if (!entry && (!why || !*why))
		abort();
	/* mote boot's PCI functions: slots 1-9 on lines 10 and 11. */
	static const struct linux_pci_irq pci[] = {
		{1, 10}, {2, 11}, {3, 10}, {4, 11}, {5, 10},
		{6, 11}, {7, 10}, {8, 11}, {9, 10},
	};
	if (linux_mptable(&vm, 1 + size % 64, pci, 1 + size % 9) < 0)
		abort();
	return 0;
}
