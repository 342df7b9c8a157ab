/* Post-copy's receiving side (postcopy.h).
 *
 * The VM's memory is the received memfd, mapped copy-on-write
 * (vm_create_from); a lazy page is a hole in it until it comes. Its host
 * range is registered with userfaultfd for missing pages, so a read or
 * write of a hole, by the guest through KVM or by the monitor, waits, and
 * the fault is reported here. This thread alone then:
 *   - asks the source for a lazy page (and the few after it) not yet
 *     asked for, and wakes the faulting thread when it has come;
 *   - stores every page the source sends (pwrite into the memfd, where
 *     the retried fault finds it) and wakes whoever waits on it; a page
 *     the source finds zero (ZERO) is no lazy page any more;
 *   - answers a fault on a hole that is no lazy page (a zero page of the
 *     snapshot, in a registered range) with the zero page.
 * Once every lazy page has come, the userfaultfd is closed: nothing is
 * registered any more, and the VM runs as a restored one does.
 *
 * A page is found by its host address: address - mem is its offset in the
 * file, as long as no mapping has moved. gm_move, gm_move_file and fork
 * wait (vm->settle) until all the pages have come.
 *
 * After READY the VM is only the receiver's: a stream that breaks, a
 * source that stops sending or sends what was not asked for ends it, with
 * the reason. There is no way back. */
#define _GNU_SOURCE
#include "snap/postcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lx/lx.h"
#include "util.h"

#define ASK_PAGES 16   /* a fault asks for its page and up to 15 after */
#define TIMED_MAX 64   /* requests timed at once (one per waiting thread) */
#define WAITS_MAX 4096 /* waits kept for the figures */
#define SILENCE_MS                                                             \
	60000 /* a source that sends nothing for this long is dead             \
	       */

struct postcopy {
	struct mig m;
	int memfd, uffd;
	uint64_t mem_off, pages; /* user pages */
	struct mig_range *lazy;	 /* the runs, in the file's offsets */
	size_t nlazy;
	uint64_t *was;	 /* lazy pages, one bit each */
	uint64_t *want;	 /* lazy pages not here yet */
	uint64_t *asked; /* of those, asked for */
	uint64_t left;	 /* bits in want */
	struct vm *vm;
	/* How long a fault waits for its page, from the request to the
	 * page's arrival: the requests on their way, and the waits (us). */
	struct {
		uint64_t page, t;
	} timed[TIMED_MAX];
	size_t ntimed, nwaits;
	uint32_t waits[WAITS_MAX];
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

/* The one of this monitor: vm->settle finds it here. */
static struct postcopy *active;

static void pc_free(struct postcopy *pc)
{
	if (pc->m.fd >= 0)
		close(pc->m.fd);
	if (pc->memfd >= 0)
		close(pc->memfd);
	free(pc->was);
	free(pc->want);
	free(pc->asked);
	free(pc);
}

/* A userfaultfd that reports the kernel's faults too (KVM's): the
 * syscall, else /dev/userfaultfd (Linux 6.1 on), which hosts may open to
 * a group. -1 with errno. */
static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 || (errno != EPERM && errno != ENOSYS))
		return fd;
	int e = errno, dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		errno = e;
		return -1;
	}
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	if (fd < 0)
		errno = e;
	return fd;
}

int postcopy_attach(struct postcopy *pc, const struct mig *m)
{
	pc->m = *m;
	pc->m.fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	return pc->m.fd < 0 ? -1 : 0;
}

struct postcopy *postcopy_prepare(int memfd, const struct mig_fwd *f,
				  const struct snap_header *h, char *err,
				  size_t errlen)
{
	struct postcopy *pc = calloc(1, sizeof(*pc));
	uint64_t pages = h->user_size / 4096, words = (pages + 63) / 64;
	if (pc)
		pc->m.fd = pc->memfd = -1;
	if (!pc || !(pc->was = calloc(words, 8)) ||
	    !(pc->want = calloc(words, 8)) || !(pc->asked = calloc(words, 8))) {
		if (pc)
			pc_free(pc);
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	/* The fd is this object's own: the caller closes its. */
	pc->memfd = fcntl(memfd, F_DUPFD_CLOEXEC, 0);
	pc->mem_off = h->mem_off;
	pc->pages = pages;
	pc->lazy = f->lazy;
	pc->nlazy = f->nlazy;
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->cond, NULL);
	if (pc->memfd < 0) {
		err_set(err, errlen, "post-copy: %s", strerror(errno));
		pc_free(pc);
		return NULL;
	}
	for (size_t i = 0; i < f->nlazy; i++) {
		const struct mig_range *r = &f->lazy[i];
		/* Only user memory comes late: the system region (page
		 * tables, vCPU stacks) must be whole before any vCPU runs. */
		if (r->off < h->mem_off || r->off - h->mem_off > h->user_size ||
		    r->len > h->user_size - (r->off - h->mem_off)) {
			pc_free(pc);
			err_set(err, errlen,
				"the source left out pages outside user memory "
				"(%#llx+%#llx)",
				(unsigned long long)r->off,
				(unsigned long long)r->len);
			return NULL;
		}
		for (uint64_t p = (r->off - h->mem_off) / 4096,
			      e = p + r->len / 4096;
		     p < e; p++)
			if (!bit_get(pc->want, p)) {
				bit_put(pc->was, p, true);
				bit_put(pc->want, p, true);
				pc->left++;
			}
	}
	pc->uffd = uffd_open();
	struct uffdio_api api = {.api = UFFD_API};
	if (pc->uffd < 0 || ioctl(pc->uffd, UFFDIO_API, &api) < 0) {
		int e = errno;
		if (pc->uffd >= 0)
			close(pc->uffd);
		pc_free(pc);
		if (e == EPERM)
			err_set(err, errlen,
				"post-copy needs a userfaultfd that sees KVM's "
				"faults, which this host allows only to root "
				"(run mote receive as root, or set sysctl "
				"vm.unprivileged_userfaultfd=1)");
		else
			err_set(err, errlen, "post-copy: userfaultfd: %s",
				strerror(e));
		return NULL;
	}
	return pc;
}

static int uffd_register(struct postcopy *pc, uint64_t off, uint64_t end)
{
	struct uffdio_register r = {
		.range = {.start = (uintptr_t)pc->vm->mem + off - pc->mem_off,
			  .len = end - off},
		.mode = UFFDIO_REGISTER_MODE_MISSING};
	return ioctl(pc->uffd, UFFDIO_REGISTER, &r);
}

/* Registers the lazy runs: one range over as many runs as it can span (a
 * mapping of another file between two runs cannot be registered, so a
 * range stops before it), few ranges, few split host mappings. */
static int register_all(struct postcopy *pc, char *err, size_t errlen)
{
	for (size_t i = 0; i < pc->nlazy;) {
		uint64_t start = pc->lazy[i].off;
		if (uffd_register(pc, start, start + pc->lazy[i].len) < 0)
			return err_set(
				err, errlen,
				"post-copy: cannot watch guest memory "
				"%#llx+%#llx: %s",
				(unsigned long long)(start - pc->mem_off),
				(unsigned long long)pc->lazy[i].len,
				strerror(errno));
		for (i++; i < pc->nlazy && pc->lazy[i].off > start &&
			  uffd_register(pc, start,
					pc->lazy[i].off + pc->lazy[i].len) == 0;
		     i++)
			;
	}
	return 0;
}

/* Ends the monitor from this thread, as the paths that cannot unwind do
 * (the vCPU threads may wait on a page in the kernel): the line, the
 * runtime dir removed, _exit. */
static noreturn void fatal(const char *why)
{
	msg("post-copy: %s; the VM ran here with pages still at the source, "
	    "and cannot go on",
	    why);
	if (lx_hooks.dying)
		lx_hooks.dying();
	_exit(MOTE_EXIT_FAIL);
}

static void wake(struct postcopy *pc, uint64_t page, uint64_t n)
{
	struct uffdio_range r = {.start = (uintptr_t)pc->vm->mem + page * 4096,
				 .len = n * 4096};
	if (ioctl(pc->uffd, UFFDIO_WAKE, &r) < 0)
		fatal("cannot wake a thread waiting for a page");
}

/* One fault at host address a. */
static void fault(struct postcopy *pc, uint64_t a)
{
	uintptr_t mem = (uintptr_t)pc->vm->mem;
	if (a < mem || a - mem >= pc->pages * 4096)
		fatal("a fault outside user memory was reported");
	uint64_t pg = (a - mem) / 4096;
	if (bit_get(pc->want, pg)) {
		if (bit_get(pc->asked, pg))
			return; /* woken when it comes */
		uint64_t n = 0;
		while (n < ASK_PAGES && pg + n < pc->pages &&
		       bit_get(pc->want, pg + n) && !bit_get(pc->asked, pg + n))
			bit_put(pc->asked, pg + n++, true);
		uint64_t v[2] = {pc->mem_off + pg * 4096, n * 4096};
		uint64_t t = mono_ns();
		if (mig_send(&pc->m, MIG_WANT, v, sizeof(v)) < 0)
			fatal("cannot ask the source for a page (the link "
			      "failed)");
		if (pc->ntimed < TIMED_MAX) {
			pc->timed[pc->ntimed].page = pg;
			pc->timed[pc->ntimed++].t = t;
		}
		return;
	}
	if (bit_get(pc->was, pg)) {
		wake(pc, pg, 1); /* it came as this fault was reported */
		return;
	}
	/* A zero page of the snapshot, in a registered range. */
	struct uffdio_zeropage z = {
		.range = {.start = mem + pg * 4096, .len = 4096}};
	if (ioctl(pc->uffd, UFFDIO_ZEROPAGE, &z) == 0)
		return;
	if (errno != EEXIST)
		fatal("cannot map a zero page");
	wake(pc, pg, 1);
}

/* Every fault reported so far. */
static void faults(struct postcopy *pc)
{
	struct uffd_msg msg[16];
	for (;;) {
		ssize_t n = read(pc->uffd, msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 || n % sizeof(msg[0]))
			fatal("cannot read the userfaultfd");
		for (size_t i = 0; i < n / sizeof(msg[0]); i++)
			if (msg[i].event == UFFD_EVENT_PAGEFAULT)
				fault(pc,
				      msg[i].arg.pagefault.address & ~4095ULL);
	}
}

/* The first of n lazy pages at the file's offset off (n bytes of pages,
 * which must all still be wanted), or a fatal end. */
static uint64_t lazy_pages(struct postcopy *pc, uint64_t off, uint64_t bytes)
{
	uint64_t n = bytes / 4096;
	if (!bytes || bytes % 4096 || off < pc->mem_off ||
	    (off - pc->mem_off) % 4096 ||
	    (off - pc->mem_off) / 4096 > pc->pages ||
	    n > pc->pages - (off - pc->mem_off) / 4096)
		fatal("the source sent pages that are not whole pages of user "
		      "memory");
	uint64_t pg = (off - pc->mem_off) / 4096;
	for (uint64_t i = 0; i < n; i++)
		if (!bit_get(pc->want, pg + i))
			fatal("the source sent a page that was not left out, "
			      "or twice");
	return pg;
}

/* The requests that pages [pg, pg + n) answer, timed. */
static void timed_end(struct postcopy *pc, uint64_t pg, uint64_t n)
{
	uint64_t now = mono_ns();
	for (size_t i = 0; i < pc->ntimed;) {
		if (pc->timed[i].page - pg >= n) {
			i++;
			continue;
		}
		if (pc->nwaits < WAITS_MAX)
			pc->waits[pc->nwaits++] = (uint32_t)MIN(
				(now - pc->timed[i].t) / 1000, UINT32_MAX);
		pc->timed[i] = pc->timed[--pc->ntimed];
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The receiver's DONE: the requests timed, their median wait and the
 * longest, in microseconds. */
static void send_done(struct postcopy *pc)
{
	uint64_t v[3] = {pc->nwaits, 0, 0};
	if (pc->nwaits) {
		qsort(pc->waits, pc->nwaits, sizeof(pc->waits[0]), cmp_u32);
		v[1] = pc->waits[pc->nwaits / 2];
		v[2] = pc->waits[pc->nwaits - 1];
	}
	mig_send(&pc->m, MIG_DONE, v, sizeof(v));
}

/* A frame of pages (DATA: stored) or of zero pages (ZERO: not lazy after
 * all, so a fault on one gets the zero page), and their waiters woken. */
static void store(struct postcopy *pc, uint32_t type, const uint8_t *buf,
		  uint32_t len)
{
	uint64_t v[2] = {0, 0};
	memcpy(v, buf, MIN(len, sizeof(v)));
	if (type == MIG_ZERO && len != 16)
		fatal("the source sent a malformed frame");
	uint64_t bytes = type == MIG_ZERO ? v[1] : len - 8;
	if (type == MIG_DATA && len <= 8)
		bytes = 0;
	uint64_t pg = lazy_pages(pc, v[0], bytes), n = bytes / 4096;
	if (type == MIG_DATA &&
	    pwrite(pc->memfd, buf + 8, len - 8, (off_t)v[0]) != len - 8)
		fatal("cannot store a page");
	for (uint64_t i = 0; i < n; i++) {
		bit_put(pc->want, pg + i, false);
		if (type == MIG_ZERO)
			bit_put(pc->was, pg + i, false);
	}
	pc->left -= n;
	timed_end(pc, pg, n);
	wake(pc, pg, n);
}

static void *run(void *arg)
{
	struct postcopy *pc = arg;
	uint8_t *buf = malloc(MIG_FRAME_MAX);
	char err[256];
	if (!buf)
		fatal("out of memory");
	for (;;) {
		struct pollfd pf[2] = {{pc->uffd, POLLIN, 0},
				       {pc->m.fd, POLLIN, 0}};
		struct timespec ts = {SILENCE_MS / 1000, 0};
		int r = ppoll(pf, 2, &ts, NULL); /* the sandbox has no poll */
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			fatal("the source sent nothing for a minute");
		if (pf[0].revents)
			faults(pc);
		if (!pf[1].revents)
			continue;
		uint32_t type, len;
		if (mig_recv(&pc->m, &type, buf, MIG_FRAME_MAX, &len,
			     SILENCE_MS, err, sizeof(err)) < 0)
			fatal(err);
		if (type == MIG_DATA || type == MIG_ZERO) {
			store(pc, type, buf, len);
			continue;
		}
		if (type != MIG_DONE || len != 8)
			fatal("the source sent an unexpected frame");
		if (pc->left)
			fatal("the source ended with pages still left out");
		break;
	}
	free(buf);
	/* Nothing is missing any more: closing the userfaultfd unregisters
	 * every range and wakes whatever still waits, to find its page. */
	close(pc->uffd);
	send_done(pc);
	close(pc->m.fd);
	close(pc->memfd);
	pthread_mutex_lock(&pc->lock);
	pc->done = true;
	pthread_cond_broadcast(&pc->cond);
	pthread_mutex_unlock(&pc->lock);
	return NULL;
}

void postcopy_wait(struct postcopy *pc)
{
	pthread_mutex_lock(&pc->lock);
	while (!pc->done)
		pthread_cond_wait(&pc->cond, &pc->lock);
	pthread_mutex_unlock(&pc->lock);
}

static void settle(struct vm *vm)
{
	(void)vm;
	if (active)
		postcopy_wait(active);
}

int postcopy_start(struct postcopy *pc, struct vm *vm, char *err, size_t errlen)
{
	pc->vm = vm;
	if (register_all(pc, err, errlen) < 0)
		return -1;
	active = pc;
	vm->settle = settle;
	/* The memfd must stay open for the stores: it is this thread's. */
	int e = pthread_create(&pc->th, NULL, run, pc);
	if (e)
		return err_set(err, errlen,
			       "post-copy: cannot start its thread: %s",
			       strerror(e));
	pthread_detach(pc->th);
	return 0;
}
