/* From a KVM_RUN's result to its handler, without KVM: vm_exit_of on
 * fabricated exit records and errnos, vm_exit_dispatch on a table that
 * records which handler ran, and the checked vCPU calls on a vCPU with no
 * fd, whose host failure must end mote with the registers, not reach the
 * guest. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mote/abi.h"
#include "unit.h"
#include "util.h"
#include "vm/exit.h"
#include "vm/vm.h"

#define DOORBELL 0x40600000ULL

static struct kvm_run run;

/* A record with the sync'd CS at privilege level cpl. */
static void reset(unsigned reason, unsigned cpl)
{
	memset(&run, 0, sizeof(run));
	run.exit_reason = reason;
	run.s.regs.sregs.cs.selector = (uint16_t)(0x10 | cpl);
}

static void port_out(unsigned port, unsigned cpl)
{
	reset(KVM_EXIT_IO, cpl);
	run.io.direction = KVM_EXIT_IO_OUT;
	run.io.size = 1;
	run.io.port = (uint16_t)port;
	run.io.count = 1;
}

static void doorbell_write(uint64_t gpa, unsigned len, int write)
{
	reset(KVM_EXIT_MMIO, 3);
	run.mmio.phys_addr = gpa;
	run.mmio.len = len;
	run.mmio.is_write = (uint8_t)write;
}

static enum vm_exit class_of(int err)
{
	return vm_exit_of(err, &run, DOORBELL).class;
}

static void of_guest_exits(void)
{
	port_out(MOTE_PORT_SYSCALL, 0);
	struct vcpu_exit x = vm_exit_of(0, &run, DOORBELL);
	CHECK(x.class == VMX_SYSCALL && x.cpl == 0 && x.reason == KVM_EXIT_IO &&
	      x.err == 0 && x.efaults == 0);
	port_out(MOTE_PORT_EXCEPTION, 0);
	CHECK(class_of(0) == VMX_EXCEPTION);
	port_out(MOTE_PORT_HYPERCALL, 0);
	CHECK(class_of(0) == VMX_HYPERCALL);
	doorbell_write(DOORBELL, 1, 1);
	x = vm_exit_of(0, &run, DOORBELL);
	CHECK(x.class == VMX_SYSCALL && x.cpl == 3 &&
	      x.reason == KVM_EXIT_MMIO);
	reset(KVM_EXIT_SHUTDOWN, 0);
	CHECK(class_of(0) == VMX_SHUTDOWN);
	reset(KVM_EXIT_INTR, 3);
	CHECK(class_of(0) == VMX_INTR);
}

/* The CPL comes from the sync'd CS: ports from user mode are refused. */
static void of_cpl(void)
{
	for (unsigned cpl = 0; cpl < 4; cpl++) {
		port_out(MOTE_PORT_SYSCALL, cpl);
		struct vcpu_exit x = vm_exit_of(0, &run, DOORBELL);
		CHECK(x.cpl == cpl);
		CHECK(x.class == (cpl ? VMX_BAD_IO : VMX_SYSCALL));
	}
}

static void of_bad_values(void)
{
	port_out(0x3f8, 0);
	CHECK(class_of(0) == VMX_BAD_IO);
	port_out(MOTE_PORT_SYSCALL, 0);
	run.io.size = 4;
	CHECK(class_of(0) == VMX_BAD_IO);
	port_out(MOTE_PORT_SYSCALL, 0);
	run.io.direction = KVM_EXIT_IO_IN;
	CHECK(class_of(0) == VMX_BAD_IO);
	doorbell_write(DOORBELL, 8, 1);
	CHECK(class_of(0) == VMX_BAD_DOORBELL);
	doorbell_write(DOORBELL, 1, 0);
	CHECK(class_of(0) == VMX_BAD_DOORBELL);
	doorbell_write(DOORBELL + 8, 1, 1);
	CHECK(class_of(0) == VMX_BAD_DOORBELL);
	doorbell_write(DOORBELL + 0x1000, 1, 1);
	CHECK(class_of(0) == VMX_UNEXPECTED);
	doorbell_write(DOORBELL, 1, 1);
	CHECK(vm_exit_of(0, &run, 0).class == VMX_UNEXPECTED);
}

static void of_unknown_reasons(void)
{
	static const unsigned reasons[] = {KVM_EXIT_UNKNOWN,
					   KVM_EXIT_EXCEPTION,
					   KVM_EXIT_HYPERCALL,
					   KVM_EXIT_DEBUG,
					   KVM_EXIT_HLT,
					   KVM_EXIT_FAIL_ENTRY,
					   KVM_EXIT_INTERNAL_ERROR,
					   1000,
					   ~0U};
	for (unsigned i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
		reset(reasons[i], 0);
		struct vcpu_exit x = vm_exit_of(0, &run, DOORBELL);
		CHECK(x.class == VMX_UNEXPECTED && x.reason == reasons[i]);
	}
}

/* A failed KVM_RUN is classified by its errno alone: the record holds the
 * previous exit's reason, which must not be served again. */
static void of_run_errors(void)
{
	port_out(MOTE_PORT_SYSCALL, 0);
	CHECK(class_of(EINTR) == VMX_INTR);
	CHECK(class_of(EAGAIN) == VMX_INTR);
	CHECK(class_of(EFAULT) == VMX_EFAULT);
	static const int fails[] = {EBADF, EINVAL, ENOMEM, ENOEXEC, EIO, -1};
	for (unsigned i = 0; i < sizeof(fails) / sizeof(*fails); i++) {
		struct vcpu_exit x = vm_exit_of(fails[i], &run, DOORBELL);
		CHECK(x.class == VMX_RUN_FAILED && x.err == fails[i]);
	}
}

/* ---- dispatch ---- */

static int ran[VMX_NR];
static struct vcpu_exit seen;

static bool record(void *ctx, const struct vcpu_exit *x)
{
	CHECK(ctx == &ran);
	seen = *x;
	ran[x->class < VMX_NR ? x->class : VMX_UNEXPECTED]++;
	return x->class != VMX_EFAULT;
}

static bool unexpected(void *ctx, const struct vcpu_exit *x)
{
	ran[VMX_UNEXPECTED]++;
	return false;
}

static void dispatch_each_class(void)
{
	vm_exit_handler *table[VMX_NR];
	for (int e = 0; e < VMX_NR; e++)
		table[e] = record;
	for (int e = 0; e < VMX_NR; e++) {
		memset(ran, 0, sizeof(ran));
		struct vcpu_exit x = {.class = e, .reason = 1234 + e};
		bool deliver = vm_exit_dispatch(table, &ran, &x);
		CHECK(ran[e] == 1 && seen.reason == 1234U + e);
		CHECK(deliver == (e != VMX_EFAULT));
		int total = 0;
		for (int i = 0; i < VMX_NR; i++)
			total += ran[i];
		CHECK(total == 1);
	}
}

/* A class with no handler, or out of range, goes to VMX_UNEXPECTED's. */
static void dispatch_fallback(void)
{
	vm_exit_handler *table[VMX_NR] = {
		[VMX_SYSCALL] = record, [VMX_UNEXPECTED] = unexpected};
	static const int classes[] = {VMX_EXCEPTION, VMX_EFAULT, VMX_NR,
				      VMX_NR + 100, -1};
	for (unsigned i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
		memset(ran, 0, sizeof(ran));
		struct vcpu_exit x = {.class = (enum vm_exit)classes[i]};
		CHECK(!vm_exit_dispatch(table, &ran, &x));
		CHECK(ran[VMX_UNEXPECTED] == 1);
	}
	memset(ran, 0, sizeof(ran));
	port_out(MOTE_PORT_SYSCALL, 0);
	struct vcpu_exit x = vm_exit_of(0, &run, DOORBELL);
	CHECK(vm_exit_dispatch(table, &ran, &x));
	CHECK(ran[VMX_SYSCALL] == 1 && ran[VMX_UNEXPECTED] == 0);
}

static void names_of_new_classes(void)
{
	CHECK(strcmp(vm_exit_name(VMX_EFAULT), "?") != 0);
	CHECK(strcmp(vm_exit_name(VMX_RUN_FAILED), "?") != 0);
	CHECK(strcmp(vm_exit_name(VMX_NR), "?") == 0);
}

/* ---- checked and raw vCPU calls ---- */

/* A vCPU whose KVM calls fail (EBADF), stopped in a port-I/O exit. */
static struct vm fake_vm;
static struct vcpu dead_vcpu(void)
{
	port_out(MOTE_PORT_SYSCALL, 0);
	run.s.regs.regs.rip = 0x401234;
	return (struct vcpu){.vm = &fake_vm, .id = 2, .fd = -1, .run = &run};
}

/* Runs fn in a child with stderr in a pipe: its exit status, and what it
 * printed in out. */
static int in_child(void (*fn)(void), char *out, size_t len)
{
	int fd[2];
	if (pipe(fd) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		fn();
		_exit(0);
	}
	close(fd[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < len && (r = read(fd[0], out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(fd[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void get_fpu(void)
{
	struct vcpu c = dead_vcpu();
	struct kvm_xsave xs;
	vcpu_get_fpu(&c, &xs);
}

static void save(void)
{
	struct vcpu c = dead_vcpu();
	static struct vcpu_state st;
	vcpu_save(&c, &st);
}

/* Stopped half-way through a doorbell store, which must be finished
 * before the registers are replaced. */
static void set_user(void)
{
	struct vcpu c = dead_vcpu();
	fake_vm.doorbell = true;
	run.exit_reason = KVM_EXIT_MMIO;
	vcpu_set_user(&c, &(struct kvm_regs){.rip = 0x1000});
}

static void checked_calls_are_fatal(void)
{
	char out[4096];
	CHECK(in_child(get_fpu, out, sizeof(out)) == MOTE_EXIT_FAIL);
	CHECK(strstr(out, "internal error: KVM_GET_XSAVE") != NULL);
	CHECK(strstr(out, "vCPU 2 registers") && strstr(out, "401234"));
	CHECK(in_child(save, out, sizeof(out)) == MOTE_EXIT_FAIL);
	CHECK(strstr(out, "internal error: ") && strstr(out, "401234"));
	CHECK(in_child(set_user, out, sizeof(out)) == MOTE_EXIT_FAIL);
	CHECK(strstr(out, "internal error: KVM_RUN to complete an exit") &&
	      strstr(out, "401234"));
}

static struct vcpu_exit report_exit;
static void report(void)
{
	struct vcpu c = dead_vcpu();
	vcpu_report(&c, &report_exit);
}

/* The report of an exit mote does not serve names it and the registers. */
static void internal_error_report(void)
{
	char out[4096];
	report_exit = (struct vcpu_exit){.class = VMX_SHUTDOWN,
					 .reason = KVM_EXIT_SHUTDOWN};
	CHECK(in_child(report, out, sizeof(out)) == 0);
	CHECK(strstr(out, "internal error: shutdown (triple fault) (exit "
			  "reason SHUTDOWN); vCPU 2 registers:") != NULL);
	CHECK(strstr(out, "rip 0000000000401234") != NULL);
	report_exit =
		(struct vcpu_exit){.class = VMX_RUN_FAILED, .err = ENOEXEC};
	CHECK(in_child(report, out, sizeof(out)) == 0);
	CHECK(strstr(out, "internal error: KVM_RUN: Exec format error") &&
	      strstr(out, "401234"));
}

static void raw_calls_return(void)
{
	struct vcpu c = dead_vcpu();
	static struct kvm_xsave xs;
	errno = 0;
	CHECK(vcpu_try_set_fpu(&c, &xs) < 0 && errno == EBADF);
	errno = 0;
	CHECK(vcpu_complete_io(&c) < 0 && errno == EBADF);
	/* Nothing to complete: KVM is not called. */
	reset(KVM_EXIT_INTR, 0);
	CHECK(vcpu_complete_io(&c) == 0);
}

static void cases(void)
{
	RUN(of_guest_exits);
	RUN(of_cpl);
	RUN(of_bad_values);
	RUN(of_unknown_reasons);
	RUN(of_run_errors);
	RUN(dispatch_each_class);
	RUN(dispatch_fallback);
	RUN(names_of_new_classes);
	RUN(checked_calls_are_fatal);
	RUN(internal_error_report);
	RUN(raw_calls_return);
}

int main(void)
{
	return unit_main(cases, NULL);
}
