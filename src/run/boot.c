/* mote boot: reads and checks the kernel and initrd, makes the plain VM,
 * loads them through the boot protocol, runs the vCPU and serves its
 * exits with the devices, and turns the way the guest ended into mote's
 * exit status. */
#define _GNU_SOURCE
#include "run/bootint.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dev/i8042.h"
#include "dev/ioport.h"
#include "dev/pvpanic.h"
#include "linux/acpi.h"
#include "linux/linux.h"
#include "sandbox.h"
#include "util.h"

/* Taken by the first vCPU thread that ends the guest, never given back:
 * the others wait in it while that one exits. */
static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;
/* One register dump at a time. */
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

/* Set by signal handlers, read by vCPU 0's loop. */
static volatile sig_atomic_t timed_out, quit;
static struct vcpu *volatile kick_cpu;
static pthread_t vcpu_thread;

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		timed_out = 1;
	else
		quit = 1;
	struct vcpu *c = kick_cpu;
	if (c)
		vcpu_kick(c);
}

static void console_quit(void *ctx)
{
	pthread_kill(vcpu_thread, SIGUSR1);
}

/* Maps a whole file read-only. NULL with the line printed. */
static const uint8_t *map_file(const char *path, const char *what, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		msg("%s %s: %s (give a readable file)", what, path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*size = (size_t)st.st_size;
	void *p = st.st_size ? mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0)
			     : MAP_FAILED;
	close(fd);
	if (p == MAP_FAILED) {
		msg("%s %s: %s", what, path,
		    st.st_size ? strerror(errno) : "the file is empty");
		return NULL;
	}
	return p;
}

/* The vCPUs: 0 at the entry, the others waiting for its INIT/SIPI; the
 * ACPI tables that describe them, the PCI functions (a host bridge with
 * their interrupts), power-off and pvpanic; and the MP table, which says
 * the same of CPUs and interrupts to a kernel booted with acpi=off. 0 or
 * -1. */
static int boot_vcpus(struct guest *g, uint64_t entry)
{
	for (unsigned i = 0; i < g->ncpus; i++)
		if (vm_plain_vcpu(&g->vm, &g->cpu[i], (int)i, entry,
				  PLAIN_ZERO_PAGE) < 0) {
			msg("internal error: cannot create vCPU %u: %s", i,
			    strerror(errno));
			return -1;
		}
	if (linux_mptable(&g->vm, g->ncpus, g->dev.irq, g->dev.nfn) < 0) {
		msg("internal error: the MP table for %u vCPUs does not fit",
		    g->ncpus);
		return -1;
	}
	if (linux_acpi(&g->vm, g->ncpus, g->dev.irq, g->dev.nfn) < 0) {
		msg("internal error: the ACPI tables for %u vCPUs do not fit",
		    g->ncpus);
		return -1;
	}
	return 0;
}

/* Makes the VM and loads the guest into it. 0 or an exit status. */
static int boot_setup(struct guest *g, const struct boot_opts *o,
		      const struct bzimage *b, const struct linux_load *l)
{
	enum vm_error e = vm_plain_create(&g->vm, o->memory);
	if (e != VM_OK) {
		vm_error_msg(e);
		return MOTE_EXIT_FAIL;
	}
	const char *why;
	uint64_t entry = linux_load(&g->vm, b, l, &why);
	if (!entry) {
		msg("%s: %s", o->kernel, why);
		return MOTE_EXIT_FAIL;
	}
	g->ncpus = o->cpus;
	g->o = o;
	bootdev_start(&g->dev, &g->vm);
	if (boot_vcpus(g, entry) < 0)
		return MOTE_EXIT_FAIL;
	boot_devices(g);
	return 0;
}

void boot_devices(struct guest *g)
{
	/* A failure leaves the guest without snapshots, which say why. */
	plain_msrs_probe(&g->cpu[0], &g->msrs);
	uart_init(&g->uart, &g->vm, UART_COM1_IRQ, g->out_fd);
	g->devs[0] = uart_ioport(&g->uart, UART_COM1);
	g->devs[1] = i8042_ioport(&g->bus);
	cmos_init(&g->cmos);
	g->devs[2] = cmos_ioport(&g->cmos);
	acpi_pm_init(&g->pm, &g->bus);
	g->devs[3] = acpi_pm_ioport(&g->pm);
	g->devs[4] = pvpanic_ioport(&g->bus);
	g->devs[5] = bootdev_ioport(&g->dev);
	g->bus.devs = g->devs;
	g->bus.n = 6;
}

/* An MMIO access outside RAM and the in-kernel devices: reads all-ones,
 * writes dropped, counted. */
static void mmio_unhandled(struct guest *g, const struct plain_mmio *m)
{
	__atomic_fetch_add(&g->mmio_unhandled, 1, __ATOMIC_RELAXED);
	if (!m->write)
		memset(m->data, 0xff, m->len);
}

/* Ends the guest from any vCPU thread: the first to come takes end_lock
 * for good (the others wait there until the process is gone), puts the
 * terminal back, prints the one line saying why and exits with st. */
static noreturn void boot_end(struct guest *g, int st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static noreturn void boot_end(struct guest *g, int st, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	pthread_mutex_lock(&end_lock);
	/* After a request under way: a forced stop's reply is sent. */
	boot_ctl_close(&g->hold);
	console_restore(&g->con);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	msg("%s", line);
	exit(st);
}

/* What ends the guest from outside it, seen by vCPU 0 (the signals reach
 * its thread alone; mote stop kicks it). Returns if nothing does. */
static void boot_outside(struct guest *g)
{
	if (timed_out)
		boot_end(g, MOTE_EXIT_TIMEOUT,
			 "the guest ran past --timeout %s; stopped",
			 g->o->timeout_arg);
	if (quit)
		boot_end(g, BOOT_EXIT_REBOOT, "quit (Ctrl-A x)");
	if (boot_hold_stopping(&g->hold))
		boot_end(g, BOOT_EXIT_STOPPED, "stopped (mote stop)");
}

/* Ends the guest if a device said it ended. */
static void boot_stopped(struct guest *g)
{
	switch (__atomic_load_n(&g->bus.stop, __ATOMIC_RELAXED)) {
	case DEV_RESET: boot_end(g, BOOT_EXIT_REBOOT, "the guest rebooted");
	case DEV_POWEROFF:
		boot_end(g, BOOT_EXIT_POWEROFF, "the guest powered off");
	case DEV_PANIC:
		boot_end(g, BOOT_EXIT_PANIC,
			 "the guest's kernel panicked (its console says why)");
	case DEV_RUN:
	case DEV_QUIT: return;
	}
}

/* Serves one exit of vCPU c; returns unless the guest ended. */
static void boot_exit(struct guest *g, struct vcpu *c,
		      const struct plain_exit_rec *x)
{
	switch (x->kind) {
	case PX_IO:
		ioport_dispatch(&g->bus, x->io.port, x->io.size, x->io.out,
				x->io.count, x->io.data);
		boot_stopped(g);
		return;
	case PX_MMIO:
		if (!bootdev_mmio(&g->dev, &x->mmio))
			mmio_unhandled(g, &x->mmio);
		return;
	case PX_INTR: return;
	case PX_SHUTDOWN:
		boot_end(g, BOOT_EXIT_CPU_RESET,
			 "the guest's kernel reset the CPU (a triple fault)");
	case PX_FAIL:
		boot_end(g, MOTE_EXIT_FAIL, "internal error: KVM_RUN: %s",
			 strerror(x->err));
	case PX_OTHER: break;
	}
	pthread_mutex_lock(&dump_lock);
	vm_plain_dump(c);
	boot_end(g, MOTE_EXIT_FAIL,
		 "internal error: vCPU %d stopped with an exit mote does not "
		 "serve (%s)",
		 c->id, kvm_exit_reason_name(x->reason));
}

/* Before vCPU c parks for a hold: the exit it stopped in is finished
 * (KVM_RUN with immediate_exit; hardware KVM completes a port-I/O or
 * MMIO exit only on the next run), so its registers are its state for a
 * snapshot. true if that ran: the exit was finished, or KVM had another
 * for it first (string I/O), which is served. */
static bool boot_complete(struct guest *g, struct vcpu *c)
{
	unsigned why = c->run->exit_reason;
	if (why != KVM_EXIT_IO && why != KVM_EXIT_MMIO)
		return false;
	vcpu_kick(c);
	struct plain_exit_rec x = vm_plain_run(c);
	if (x.kind == PX_INTR)
		c->run->exit_reason = KVM_EXIT_INTR; /* finished */
	else
		boot_exit(g, c, &x);
	return true;
}

/* Runs vCPU c until the guest ends. */
static noreturn void boot_loop(struct guest *g, struct vcpu *c)
{
	boot_hold_thread(&g->hold, c);
	for (;;) {
		if (c->id == 0)
			boot_outside(g);
		if (boot_hold_paused(&g->hold) && boot_complete(g, c))
			continue;
		if (!boot_hold_wait(&g->hold, c))
			continue;
		struct plain_exit_rec x = vm_plain_run(c);
		boot_exit(g, c, &x);
	}
}

/* One guest a process: the AP threads find it here. */
struct guest the_guest = {.out_fd = STDOUT_FILENO};

static void *boot_ap(void *arg)
{
	boot_loop(&the_guest, arg);
}

/* The signals that kick the vCPU: SIGALRM (--timeout) and SIGUSR1 (the
 * console's Ctrl-A x). Blocked in the console thread and the devices'
 * threads, which inherit the mask set while they are made; the control
 * thread blocks every signal. */
static int boot_signals(const struct boot_opts *o, struct guest *g)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	vcpu_thread = pthread_self();
	kick_cpu = &g->cpu[0];
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int r = console_start(&g->con, &g->uart, g->in_fd, console_quit, NULL);
	for (unsigned i = 1; i < g->ncpus && r == 0; i++) {
		pthread_t t;
		errno = pthread_create(&t, NULL, boot_ap, &g->cpu[i]);
		r = errno ? -1 : 0;
	}
	if (r == 0)
		r = bootdev_threads(&g->dev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	boot_ctl_serve(&g->hold);
	if (r < 0) {
		msg("internal error: cannot start a thread: %s",
		    strerror(errno));
		return -1;
	}
	if (o->timeout_ns) {
		struct itimerval it = {
			.it_value = {.tv_sec = o->timeout_ns / 1000000000,
				     .tv_usec =
					     o->timeout_ns % 1000000000 / 1000},
		};
		if (!it.it_value.tv_sec && !it.it_value.tv_usec)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	return 0;
}

static int boot_files(const struct boot_opts *o, struct bzimage *b,
		      struct linux_load *l)
{
	size_t ksize;
	const uint8_t *k = map_file(o->kernel, "--kernel", &ksize);
	if (!k)
		return -1;
	const char *why;
	if (bzimage_parse(b, k, ksize, &why) < 0) {
		msg("%s: %s", o->kernel, why);
		return -1;
	}
	*l = (struct linux_load){.cmdline = o->cmdline, .mem_size = o->memory};
	if (o->initrd &&
	    !(l->initrd = map_file(o->initrd, "--initrd", &l->initrd_size)))
		return -1;
	return 0;
}

/* A syscall the sandbox refused: the terminal back from raw mode, then
 * the report (status 125). */
static void boot_sigsys(int sig, siginfo_t *si, void *uc)
{
	if (!sandbox_trapped(sig, si))
		return;
	console_restore(&the_guest.con);
	sandbox_violation(si);
}

/* The sandbox, once the VM is set up and before any vCPU runs (its
 * threads start after it, and inherit it): Landlock lets the monitor open
 * only the files the guest is given: the kernel and initrd to read, each
 * disk (by its open fd) to read, and to write unless :ro; and the control
 * dir's files and the dir itself to remove at the end. The tap is open
 * already, and is used through its fd alone. */
static int boot_sandbox(const struct guest *g, const struct boot_opts *o)
{
	struct sigaction sa = {.sa_sigaction = boot_sigsys,
			       .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	struct sandbox_file files[4 + BOOT_DISKS_MAX];
	size_t n = 0;
	/* A restored guest has no kernel or initrd files to read. */
	if (o->kernel_file)
		files[n++] = (struct sandbox_file){o->kernel, -1, SB_READ};
	if (o->initrd)
		files[n++] = (struct sandbox_file){o->initrd, -1, SB_READ};
	for (unsigned i = 0; i < g->dev.ndisks; i++)
		files[n++] = (struct sandbox_file){
			NULL, g->dev.disk[i].fd,
			g->dev.disk[i].ro ? SB_READ : SB_WRITE};
	if (boot_ctl_dir_fd(&g->hold) >= 0) {
		files[n++] = (struct sandbox_file){
			NULL, boot_ctl_dir_fd(&g->hold), SB_REMOVE_FILE};
		files[n++] = (struct sandbox_file){
			NULL, boot_ctl_root_fd(&g->hold), SB_REMOVE_DIR};
	}
	return sandbox_enter_boot(files, n, o->no_sandbox);
}

int boot_main(const struct boot_opts *o)
{
	struct guest *g = &the_guest;
	struct bzimage b;
	struct linux_load l;
	if (bootdev_open(&g->dev, &g->vm, o->disk, o->ndisks, o->net) < 0 ||
	    boot_files(o, &b, &l) < 0 || boot_snap_paths(g, o) < 0)
		return MOTE_EXIT_FAIL;
	if (vm_kvm_is_pvm()) {
		msg("this host's KVM is kvm_pvm, which cannot boot a stock "
		    "kernel: run mote boot where KVM is kvm-intel or kvm-amd "
		    "(bare metal, or a VM with nested virtualization)");
		return MOTE_EXIT_FAIL;
	}
	/* Before the sandbox, which cannot make it, and the VM: a name a
	 * live guest holds is refused at once. */
	boot_hold_init(&g->hold, g->cpu, o->cpus, o, boot_snap_save, g);
	int st = boot_ctl_open(&g->hold, o->name);
	if (st)
		return st;
	st = boot_setup(g, o, &b, &l);
	if (!st) {
		/* Copied into guest memory: the files' pages would only stay
		 * in the monitor's resident memory (8 MiB for Debian's
		 * kernel). */
		munmap((void *)b.file, b.file_size);
		if (l.initrd)
			munmap((void *)l.initrd, l.initrd_size);
	}
	if (st) {
		boot_ctl_close(&g->hold);
		return st;
	}
	return boot_go(g, o);
}

int boot_go(struct guest *g, const struct boot_opts *o)
{
	if (boot_sandbox(g, o) < 0 || boot_signals(o, g) < 0) {
		boot_ctl_close(&g->hold);
		return MOTE_EXIT_FAIL;
	}
	boot_loop(g, &g->cpu[0]);
}
