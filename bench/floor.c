/* The raw-KVM floor: the least a KVM process can do to run one instruction. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * A vCPU comes out of KVM_CREATE_VCPU in the x86 reset state: real mode,
 * CS.base 0xffff0000, IP 0xfff0, so its first instruction is fetched from
 * physical 0xfffffff0. One page slotted at the top of the 4 GiB space holds
 * that instruction, and no register needs setting: the floor pays for
 * CREATE_VM, one memory slot, CREATE_VCPU, the kvm_run mapping and one
 * KVM_RUN, nothing else. The instruction is `out %al, $PORT`, the exit mote's
 * shim uses. Checked on kvm_pvm (which emulates real mode) and meant for
 * bare-metal KVM alike: the exit is KVM_EXIT_IO on PORT.
 */
#define SLOT_GPA  0xfffff000ULL
#define SLOT_SIZE 4096
#define RESET_OFF 0xff0 /* 0xfffffff0 - SLOT_GPA */
#define PORT	  0x10

static int fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return 1;
}

static int check_exit(const struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT &&
	    run->io.direction == KVM_EXIT_IO_OUT)
		return 0;
	fprintf(stderr,
		"floor: unexpected exit reason %u (want KVM_EXIT_IO "
		"on port %#x)\n",
		run->exit_reason, PORT);
	return 1;
}

static int run_one(int kvm, int vm, uint8_t *mem)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = SLOT_GPA,
		.memory_size = SLOT_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0)
		return fail("KVM_CREATE_VCPU");
	int err = 1;
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED) {
		fail("mmap kvm_run");
		goto out_close;
	}
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		fail("KVM_RUN");
	else
		err = check_exit(run);
	munmap(run, run_size);
out_close:
	close(cpu);
	return err;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	int err = 1;
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fail("KVM_CREATE_VM");
		goto out_kvm;
	}
	uint8_t *mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap guest memory");
		goto out_vm;
	}
	mem[RESET_OFF] = 0xe6; /* out %al, imm8 */
	mem[RESET_OFF + 1] = PORT;
	err = run_one(kvm, vm, mem);
	munmap(mem, SLOT_SIZE);
out_vm:
	close(vm);
out_kvm:
	close(kvm);
	return err;
}
