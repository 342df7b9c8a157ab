/* vm_exit_classify on fabricated exit records: no KVM needed. */
#include <linux/kvm.h>
#include <string.h>

#include "mote/abi.h"
#include "unit.h"
#include "vm/exit.h"

static struct kvm_run run;

/* A well-formed `out %al, $port` from the shim. */
static void io_exit(unsigned port)
{
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_IO;
	run.io.direction = KVM_EXIT_IO_OUT;
	run.io.size = 1;
	run.io.port = port;
	run.io.count = 1;
	run.io.data_offset = 4096;
}

static enum vm_exit classify_reason(unsigned reason)
{
	memset(&run, 0, sizeof(run));
	run.exit_reason = reason;
	return vm_exit_classify(&run, 0, 0);
}

static void exit_ports(void)
{
	io_exit(MOTE_PORT_SYSCALL);
	CHECK(vm_exit_classify(&run, 0, 0) == VMX_SYSCALL);
	io_exit(MOTE_PORT_EXCEPTION);
	CHECK(vm_exit_classify(&run, 0, 0) == VMX_EXCEPTION);
	io_exit(MOTE_PORT_HYPERCALL);
	CHECK(vm_exit_classify(&run, 0, 0) == VMX_HYPERCALL);
}

static void exit_bad_io(void)
{
	static const unsigned ports[] = {MOTE_PORT_SYSCALL, MOTE_PORT_EXCEPTION,
					 MOTE_PORT_HYPERCALL};
	for (unsigned i = 0; i < 3; i++) {
		io_exit(ports[i]);
		for (unsigned cpl = 1; cpl < 4; cpl++)
			CHECK(vm_exit_classify(&run, cpl, 0) == VMX_BAD_IO);
		run.io.direction = KVM_EXIT_IO_IN;
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
		io_exit(ports[i]);
		run.io.size = 2;
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
		run.io.size = 4;
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
		io_exit(ports[i]);
		run.io.count = 2;
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
		run.io.count = 0;
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
	}
	static const unsigned others[] = {0, 0x80, 0x3f8, 0xdf, 0xe3, 0xffff};
	for (unsigned i = 0; i < 6; i++) {
		io_exit(others[i]);
		CHECK(vm_exit_classify(&run, 0, 0) == VMX_BAD_IO);
	}
	/* The port is ignored for anything but KVM_EXIT_IO. */
	io_exit(MOTE_PORT_SYSCALL);
	run.exit_reason = KVM_EXIT_MMIO;
	CHECK(vm_exit_classify(&run, 0, 0) == VMX_UNEXPECTED);
}

static void exit_reasons(void)
{
	CHECK(classify_reason(KVM_EXIT_SHUTDOWN) == VMX_SHUTDOWN);
	CHECK(classify_reason(KVM_EXIT_INTR) == VMX_INTR);
	CHECK(classify_reason(KVM_EXIT_MMIO) == VMX_UNEXPECTED);
	CHECK(classify_reason(KVM_EXIT_HLT) == VMX_UNEXPECTED);
	CHECK(classify_reason(KVM_EXIT_FAIL_ENTRY) == VMX_UNEXPECTED);
	CHECK(classify_reason(KVM_EXIT_INTERNAL_ERROR) == VMX_UNEXPECTED);
	CHECK(classify_reason(KVM_EXIT_UNKNOWN) == VMX_UNEXPECTED);
	CHECK(classify_reason(KVM_EXIT_DEBUG) == VMX_UNEXPECTED);
	CHECK(classify_reason(1000) == VMX_UNEXPECTED);
	CHECK(classify_reason(~0U) == VMX_UNEXPECTED);
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_INTR;
	CHECK(vm_exit_classify(&run, 3, 0) == VMX_INTR);
}

/* A one-byte write to the doorbell is a syscall; any other access to its
 * page is the guest's fault; MMIO elsewhere is unexpected. */
static void exit_doorbell(void)
{
	const uint64_t db = 0x40600000;
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_MMIO;
	run.mmio.phys_addr = db;
	run.mmio.len = 1;
	run.mmio.is_write = 1;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_SYSCALL);
	CHECK(vm_exit_classify(&run, 3, 0) == VMX_UNEXPECTED);
	run.mmio.is_write = 0;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_BAD_DOORBELL);
	run.mmio.is_write = 1;
	run.mmio.len = 8;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_BAD_DOORBELL);
	run.mmio.len = 1;
	run.mmio.phys_addr = db + 0x10;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_BAD_DOORBELL);
	run.mmio.phys_addr = db + 0x1000;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_UNEXPECTED);
	run.mmio.phys_addr = db - 1;
	CHECK(vm_exit_classify(&run, 3, db) == VMX_UNEXPECTED);
}

static void exit_names(void)
{
	for (int e = 0; e < VMX_NR; e++)
		CHECK(vm_exit_name(e) && *vm_exit_name(e));
	CHECK(strcmp(vm_exit_name(VMX_SYSCALL), "syscall") == 0);
	CHECK(vm_exit_name(VMX_NR) && vm_exit_name((enum vm_exit) - 1));
	for (unsigned r = 0; r < 256; r++)
		CHECK(kvm_exit_reason_name(r) && *kvm_exit_reason_name(r));
	CHECK(kvm_exit_reason_name(~0U) != NULL);
	CHECK(strcmp(kvm_exit_reason_name(KVM_EXIT_IO), "IO") == 0);
	CHECK(strcmp(kvm_exit_reason_name(KVM_EXIT_SHUTDOWN), "SHUTDOWN") == 0);
	CHECK(strcmp(kvm_exit_reason_name(1000), "OTHER") == 0);
}

static void cases(void)
{
	RUN(exit_ports);
	RUN(exit_bad_io);
	RUN(exit_reasons);
	RUN(exit_doorbell);
	RUN(exit_names);
}

int main(void)
{
	return unit_main(cases, NULL);
}
