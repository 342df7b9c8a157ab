/* mote boot's snapshots (docs/boot.md, "Snapshots"): the held guest
 * written to a file (its vCPUs, VM, devices and RAM; snap/boot.h), and
 * mote restore of one: the same VM built on the file's memory image,
 * copy-on-write, every piece of state set back in the order KVM needs,
 * and the guest run on; with -n COUNT, COUNT monitors forked from the
 * checked snapshot, whose consoles this process multiplexes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "run/bootint.h"
#include "snap/boot.h"
#include "util.h"

_Static_assert(SNAP_BOOT_DISKS == BOOT_DISKS_MAX,
	       "a snapshot holds every disk");
_Static_assert(SNAP_BOOT_CPUS == BOOT_CPUS_MAX, "and every vCPU");

int boot_snap_paths(struct guest *g, const struct boot_opts *o)
{
	char cwd[PATH_MAX];
	for (unsigned i = 0; i < o->ndisks; i++) {
		/* The file's path alone: :ro is the ro flag beside it. */
		const char *d = o->disk[i];
		int n = (int)strlen(d);
		if (n > 3 &&
		    (!strcmp(d + n - 3, ":ro") || !strcmp(d + n - 3, ":rw")))
			n -= 3;
		int r = d[0] == '/' ? asprintf(&g->disk_spec[i], "%.*s", n, d)
			: getcwd(cwd, sizeof(cwd))
				? asprintf(&g->disk_spec[i], "%s/%.*s", cwd, n,
					   d)
				: -1;
		if (r < 0) {
			msg("--disk %s: cannot make its path absolute for "
			    "snapshots: %s",
			    d, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---- saving ---- */

/* The devices whose threads (the console's, virtio-net's rx) could
 * change them or guest memory while the snapshot is written. */
static void devices_lock(struct guest *g, bool lock)
{
	int (*f)(pthread_mutex_t *) =
		lock ? pthread_mutex_lock : pthread_mutex_unlock;
	f(&g->uart.lock);
	for (unsigned i = 0; i < g->dev.nfn; i++)
		f(&g->dev.fn[i].pci.lock);
}

/* The BDEV record: the port devices, the PCI bus, the shared lines and
 * each function in slot order. */
static void devices_save(struct guest *g, struct wbuf *w)
{
	size_t mark = w_rec_begin(w, SNAP_TAG_BDEV);
	uart_save(&g->uart, w);
	cmos_save(&g->cmos, w);
	acpi_pm_save(&g->pm, w);
	W(w, g->dev.bus.addr);
	pci_dev_save(&g->dev.bus.host_bridge, w);
	intx_save(&g->dev.intx, w);
	for (unsigned i = 0; i < g->dev.nfn; i++)
		virtio_pci_save(&g->dev.fn[i], w);
	if (g->dev.has_net)
		net_save(&g->dev.net, w);
	w_rec_end(w, mark);
}

/* The configuration, the VM's and the vCPUs' records. */
static int state_save(struct guest *g, struct wbuf *w, char *err, size_t errlen)
{
	struct snap_boot b = {.memory = g->vm.user_size,
			      .ncpus = g->ncpus,
			      .kernel = (char *)g->o->kernel,
			      .ndisks = g->dev.ndisks,
			      .net = (char *)g->o->net};
	for (unsigned i = 0; i < g->dev.ndisks; i++)
		b.disk[i] = (struct snap_boot_disk){
			.path = g->disk_spec[i],
			.ro = g->dev.disk[i].ro,
			.size = g->dev.disk[i].capacity * 512};
	snap_boot_opts_write(w, &b);
	if (plain_vm_save(&g->vm, &b.vm, err, errlen) < 0)
		return -1;
	plain_vm_write(w, &b.vm);
	struct plain_cpu *c = malloc(sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int r = 0;
	for (unsigned i = 0; i < g->ncpus && !r; i++) {
		r = plain_cpu_save(&g->cpu[i], &g->msrs, c, err, errlen);
		if (!r)
			plain_cpu_write(w, c);
	}
	free(c);
	return r;
}

/* The CPU features the guest was shown, and the XCR0 vCPU 0 runs with. */
static void cpu_features(struct guest *g, struct snap_cpu *cpu)
{
	struct kvm_xcrs x;
	memset(cpu, 0, sizeof(*cpu));
	snap_cpu_words(g->vm.cpuid, cpu);
	cpu->xsave_size = sizeof(struct kvm_xsave);
	if (kvm_ioctl(g->cpu[0].fd, KVM_GET_XCRS, &x) == 0)
		for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (x.xcrs[i].xcr == 0)
				cpu->xcr0 = x.xcrs[i].value;
}

int boot_snap_save(void *arg, int fd, char *err, size_t errlen)
{
	struct guest *g = arg;
	struct wbuf w = {0};
	struct snap_cpu cpu;
	cpu_features(g, &cpu);
	devices_lock(g, true);
	int r = state_save(g, &w, err, errlen);
	if (!r)
		devices_save(g, &w);
	if (!r && w.oom) {
		snprintf(err, errlen, "out of memory");
		r = -1;
	}
	if (!r)
		r = snap_boot_write(fd, g->vm.mem, g->vm.user_size, g->ncpus,
				    &cpu, w.d, w.n, err, errlen);
	devices_lock(g, false);
	free(w.d);
	return r;
}

/* ---- restoring ---- */

/* The devices' state from the BDEV record, once the irqchip is set (the
 * lines held high are raised again). 0, or -1 after a message. */
static int devices_load(struct guest *g, struct rbuf r, const char *file)
{
	bool ok = uart_load(&g->uart, &r) && cmos_load(&g->cmos, &r) &&
		  acpi_pm_load(&g->pm, &r);
	R(&r, g->dev.bus.addr);
	pci_dev_load(&g->dev.bus.host_bridge, &r);
	ok = ok && !r.bad && intx_load(&g->dev.intx, g->dev.nfn, &r);
	for (unsigned i = 0; ok && i < g->dev.nfn; i++)
		ok = virtio_pci_load(&g->dev.fn[i], &r);
	if (ok && g->dev.has_net)
		ok = net_load(&g->dev.net, &r);
	if (ok && r_done(&r))
		return 0;
	msg("%s: the snapshot's device state is malformed (a damaged or "
	    "crafted snapshot)",
	    file);
	return -1;
}

/* The VM on the file's memory, its vCPUs and devices, and all their
 * state. 0 or an exit status. */
static int restore_setup(struct guest *g, const struct boot_opts *o,
			 struct snap_boot *b, int fd, const char *file)
{
	enum vm_error e =
		vm_plain_create_from(&g->vm, b->memory, fd, b->h.mem_off);
	if (e != VM_OK) {
		vm_error_msg(e);
		return MOTE_EXIT_FAIL;
	}
	g->ncpus = o->cpus;
	g->o = o;
	bootdev_start(&g->dev, &g->vm);
	for (unsigned i = 0; i < g->ncpus; i++)
		if (vm_plain_vcpu(&g->vm, &g->cpu[i], (int)i, 0, 0) < 0) {
			msg("internal error: cannot create vCPU %u: %s", i,
			    strerror(errno));
			return MOTE_EXIT_FAIL;
		}
	boot_devices(g);
	char err[160];
	int r = plain_vm_load_chips(&g->vm, &b->vm, err, sizeof(err));
	for (unsigned i = 0; !r && i < g->ncpus; i++)
		r = plain_cpu_load(&g->cpu[i], &b->cpu[i], err, sizeof(err));
	if (!r)
		r = plain_vm_load_clock(&g->vm, &b->vm, err, sizeof(err));
	if (r) {
		msg("%s: KVM refused the snapshot's state: %s (a damaged "
		    "snapshot, or one from a host with another CPU or KVM)",
		    file, err);
		return MOTE_EXIT_FAIL;
	}
	return devices_load(g, b->dev, file) < 0 ? MOTE_EXIT_FAIL : 0;
}

/* Each disk where the snapshot had it, as large as it was: the guest's
 * kernel knows its size. 0, or -1 after a message. */
static int disks_check(const struct guest *g, const struct snap_boot *b,
		       const char *file)
{
	for (unsigned i = 0; i < b->ndisks; i++) {
		uint64_t size = g->dev.disk[i].capacity * 512;
		if (size != b->disk[i].size) {
			msg("%s: disk %s is %llu bytes; it was %llu when the "
			    "snapshot was taken (give the guest its disk as "
			    "it was)",
			    file, b->disk[i].path, (unsigned long long)size,
			    (unsigned long long)b->disk[i].size);
			return -1;
		}
	}
	return 0;
}

/* Checked before anything is opened: one line for a disk that is gone. */
static int disks_there(const struct snap_boot *b, const char *file)
{
	for (unsigned i = 0; i < b->ndisks; i++) {
		struct stat st;
		if (stat(b->disk[i].path, &st) < 0) {
			msg("%s: the guest's disk %s: %s (restore needs it at "
			    "the path it had)",
			    file, b->disk[i].path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One guest from the checked snapshot, its console on in_fd and out_fd;
 * returns only if it cannot start. */
static int restore_one(const char *file, struct snap_boot *b, int fd,
		       const struct boot_opts *o, int in_fd, int out_fd)
{
	struct guest *g = &the_guest;
	g->in_fd = in_fd;
	g->out_fd = out_fd;
	if (disks_there(b, file) < 0 ||
	    bootdev_open(&g->dev, &g->vm, o->disk, o->ndisks, o->net) < 0)
		return MOTE_EXIT_FAIL;
	if (disks_check(g, b, file) < 0)
		return MOTE_EXIT_FAIL;
	for (unsigned i = 0; i < o->ndisks; i++)
		g->disk_spec[i] = b->disk[i].path;
	if (vm_kvm_is_pvm()) {
		msg("this host's KVM is kvm_pvm, which cannot run a booted "
		    "Linux guest: restore it where KVM is kvm-intel or "
		    "kvm-amd");
		return MOTE_EXIT_FAIL;
	}
	boot_hold_init(&g->hold, g->cpu, o->cpus, o, boot_snap_save, g);
	int st = boot_ctl_open(&g->hold, o->name);
	if (st)
		return st;
	st = restore_setup(g, o, b, fd, file);
	if (st) {
		boot_ctl_close(&g->hold);
		return st;
	}
	return boot_go(g, o);
}

/* ---- clones ---- */

/* A clone's console as the restoring process sees it: the pipe its
 * input goes into, the one its output comes from, and the output line
 * under way (written whole, after the clone's number, so that the
 * clones' lines do not mix). */
struct clone_con {
	pid_t pid;
	int in, out;
	size_t n;
	bool mid; /* a partial line was flushed: no number before the rest */
	bool dropped; /* input was lost (said once) */
	char line[4096];
};

static void con_flush(struct clone_con *c, unsigned i, bool partial)
{
	char *nl;
	while ((nl = memchr(c->line, '\n', c->n)) || (partial && c->n) ||
	       c->n == sizeof(c->line)) {
		size_t len = nl ? (size_t)(nl - c->line) + 1 : c->n;
		if (!c->mid)
			dprintf(STDOUT_FILENO, "[%u] ", i + 1);
		dprintf(STDOUT_FILENO, "%.*s", (int)len, c->line);
		c->mid = !nl;
		memmove(c->line, c->line + len, c->n - len);
		c->n -= len;
	}
}

/* Input for one clone. Its pipe does not block: a clone whose guest
 * reads nothing must not stop the others' consoles, so what its full
 * pipe cannot take is dropped (once said); a clone gone takes no more. */
static void con_input(struct clone_con *c, const char *buf, size_t len)
{
	if (c->in < 0)
		return;
	ssize_t n = write(c->in, buf, len);
	if (n >= 0 && (size_t)n == len)
		return;
	if (n >= 0 || errno == EAGAIN) {
		if (!c->dropped)
			msg("restore: a clone reads no console input; some of "
			    "it is lost");
		c->dropped = true;
		return;
	}
	close(c->in);
	c->in = -1;
}

/* Stdin to every clone; at its end, every clone's input ends. false
 * then. */
static bool mux_stdin(struct clone_con *c, unsigned count)
{
	char buf[4096];
	ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
	if (k < 0 && errno == EINTR)
		return true;
	for (unsigned i = 0; i < count; i++) {
		if (k > 0)
			con_input(&c[i], buf, (size_t)k);
		else if (c[i].in >= 0) {
			close(c[i].in);
			c[i].in = -1;
		}
	}
	return k > 0;
}

/* Clone i's output, its lines to stdout: false at its end. */
static bool mux_output(struct clone_con *c, unsigned i)
{
	ssize_t k = read(c->out, c->line + c->n, sizeof(c->line) - c->n);
	if (k < 0 && errno == EINTR)
		return true;
	if (k <= 0) {
		con_flush(c, i, true);
		close(c->out);
		return false;
	}
	c->n += (size_t)k;
	con_flush(c, i, false);
	return true;
}

/* Copies stdin to every clone and their outputs to stdout until every
 * clone has closed its output; a line left partial for 200 ms is written
 * as it is. */
static void clones_mux(struct clone_con *c, unsigned count)
{
	struct pollfd *p = calloc(count + 1, sizeof(*p));
	if (!p)
		die(MOTE_EXIT_FAIL, "out of memory");
	p[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
	for (unsigned i = 0; i < count; i++)
		p[i + 1] = (struct pollfd){.fd = c[i].out, .events = POLLIN};
	for (unsigned open = count; open;) {
		int n = poll(p, count + 1, 200);
		for (unsigned i = 0; n == 0 && i < count; i++)
			con_flush(&c[i], i, true);
		if (n > 0 && p[0].revents && !mux_stdin(c, count))
			p[0].fd = -1;
		for (unsigned i = 0; n > 0 && i < count; i++)
			if (p[i + 1].revents && !mux_output(&c[i], i)) {
				p[i + 1].fd = -1;
				open--;
			}
	}
	free(p);
}

/* In clone i's process: its console on its pipes, its name NAME-i. */
static noreturn void clone_main(const char *file, struct snap_boot *b, int fd,
				struct boot_opts *o, struct clone_con *c,
				unsigned i, unsigned count, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(MOTE_EXIT_FAIL);
	for (unsigned k = 0; k < count; k++) {
		if (k != i && c[k].in >= 0)
			close(c[k].in);
		if (k != i && c[k].out >= 0)
			close(c[k].out);
	}
	char name[CTL_ID_MAX + 16];
	if (o->name) {
		snprintf(name, sizeof(name), "%s-%u", o->name, i + 1);
		o->name = name;
	}
	_exit(restore_one(file, b, fd, o, c[i].in, c[i].out));
}

/* -n COUNT: one monitor per clone, forked once the snapshot is read. */
static int restore_many(const char *file, struct snap_boot *b, int fd,
			struct boot_opts *o, unsigned count)
{
	struct clone_con *c = calloc(count, sizeof(*c));
	if (!c)
		die(MOTE_EXIT_FAIL, "out of memory");
	signal(SIGPIPE, SIG_IGN); /* a clone gone: its input fails, no more */
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	unsigned started = 0;
	for (; started < count; started++) {
		int in[2], out[2];
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
			msg("restore: could start %u of %u clones: %s", started,
			    count, strerror(errno));
			break;
		}
		c[started] = (struct clone_con){.in = in[1], .out = out[0]};
		pid_t pid = fork();
		if (pid == 0) {
			c[started].in = in[0];
			c[started].out = out[1];
			close(in[1]);
			close(out[0]);
			clone_main(file, b, fd, o, c, started, started + 1,
				   parent);
		}
		close(in[0]);
		close(out[1]);
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		if (pid < 0) {
			msg("restore: could start %u of %u clones: %s", started,
			    count, strerror(errno));
			close(in[1]);
			close(out[0]);
			break;
		}
		c[started].pid = pid;
	}
	clones_mux(c, started);
	int status = started == count ? 0 : MOTE_EXIT_FAIL;
	for (unsigned i = 0; i < started; i++) {
		int ws;
		while (waitpid(c[i].pid, &ws, 0) < 0 && errno == EINTR)
			;
		int s = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		if (s && !status)
			status = s;
	}
	free(c);
	return status;
}

/* Clones may share only what none writes: :ro disks, no tap (one VM
 * attaches a tap). 0, or -1 after a message. */
static int clones_allowed(const char *file, const struct snap_boot *b,
			  unsigned count)
{
	if (count < 2)
		return 0;
	for (unsigned i = 0; i < b->ndisks; i++)
		if (!b->disk[i].ro) {
			msg("restore -n %u: %s has a writable disk (%s), "
			    "which clones would all write; restore it once, "
			    "or snapshot a guest whose disks are :ro",
			    count, file, b->disk[i].path);
			return -1;
		}
	if (b->net) {
		msg("restore -n %u: %s has a network card on tap %s, which "
		    "one VM at a time can attach; restore it once",
		    count, file, b->net);
		return -1;
	}
	return 0;
}

int boot_restore(const char *file, const char *name, unsigned count,
		 uint64_t timeout_ns, const char *timeout_arg)
{
	struct snap_boot b;
	int fd = snap_boot_open(file, &b);
	if (fd < 0)
		return -fd;
	struct boot_opts o = {.kernel = b.kernel,
			      .memory = b.memory,
			      .cpus = b.ncpus,
			      .timeout_ns = timeout_ns,
			      .timeout_arg = timeout_arg,
			      .ndisks = b.ndisks,
			      .net = b.net,
			      .name = name};
	/* Each disk opened as the flag says, whatever its path looks like. */
	char *spec[SNAP_BOOT_DISKS] = {0};
	for (unsigned i = 0; i < b.ndisks; i++)
		if (asprintf(&spec[i], "%s:%s", b.disk[i].path,
			     b.disk[i].ro ? "ro" : "rw") < 0)
			die(MOTE_EXIT_FAIL, "out of memory");
		else
			o.disk[i] = spec[i];
	int st = clones_allowed(file, &b, count);
	if (!st)
		st = count > 1 ? restore_many(file, &b, fd, &o, count)
			       : restore_one(file, &b, fd, &o, STDIN_FILENO,
					     STDOUT_FILENO);
	else
		st = MOTE_EXIT_FAIL;
	for (unsigned i = 0; i < b.ndisks; i++)
		free(spec[i]);
	snap_boot_free(&b);
	close(fd);
	return st;
}
