/* The subsystems' save and restore hooks (src/lx/subsys.h) on the fake
 * process (tests/lib/fake.c), no KVM: what one process saves, a fresh one
 * restores to the same state; a record cut short anywhere, or holding
 * values no process can have, is refused without a crash and without
 * half of it applied where that could hurt; the records come in one order
 * and a foreign one stops the restore; a listening socket listens again;
 * eventfd, timerfd, epoll and signalfd come back with their state.
 * (The thread record needs a vCPU: the snapshot suite covers it on KVM.) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "fake.h"
#include "lx/fdobj.h"
#include "lx/subsys.h"
#include "snap/state.h"
#include "unit.h"
#include "vm/layout.h"

static struct fake fk;

static const struct lx_subsys *const subs[] = {
	&lx_task_subsys, &lx_vfs_subsys, &lx_sig_subsys,
	&lx_fd_subsys,	 &lx_mm_subsys,
};
#define NSUBS (sizeof(subs) / sizeof(subs[0]))

#define MAP_AT (USER_MIN + (16ULL << 20))

/* A process with something in every subsystem. */
static void dirty(struct lx_proc *p)
{
	p->task.pid = 4242;
	snprintf(p->task.exe, sizeof(p->task.exe), "/f");
	snprintf(p->task.comm, sizeof(p->task.comm), "worker");
	snprintf(p->fs.cwd, sizeof(p->fs.cwd), "/d");
	p->fs.umask = 027;
	p->sig.act[SIGUSR1 - 1].handler = 0x401000;
	p->sig.act[SIGUSR1 - 1].flags = 0x04000000;
	p->sig.pending = 1ULL << (SIGUSR2 - 1);
	p->sig.info[SIGUSR2].si_pid = 77;
	p->sig.rt_extra[40] = 3;
	int h = openat(p->fs.mounts[0].host_fd, "f", O_RDONLY | O_CLOEXEC);
	CHECK(h >= 0);
	CHECK(lseek(h, 7, SEEK_SET) == 7);
	CHECK(lx_fd_install_at(p, 5, h, 0, LX_FD_FILE, strdup("/f")) == 5);
	CHECK(lx_mm_map(p, MAP_AT, MAP_AT + 8 * PAGE_SIZE, PT_READ | PT_WRITE,
			VMA_ANON) == 0);
	p->mm.brk_start = p->mm.brk = MAP_AT - PAGE_SIZE;
}

/* Every subsystem's record but the threads', as lx_state_save frames
 * them. */
static struct wbuf save_all(struct lx_proc *p)
{
	struct wbuf w = {0};
	char err[128] = "";
	struct lx_save s = {.err = err, .errlen = sizeof(err)};
	for (size_t i = 0; i < NSUBS; i++) {
		size_t m = w_rec_begin(&w, subs[i]->tag);
		CHECK(subs[i]->save(p, &s, &w) == 0);
		w_rec_end(&w, m);
	}
	CHECK(!w.oom);
	return w;
}

/* Restores records from w into p, one subsystem after another. */
static int restore_all(struct lx_proc *p, const struct wbuf *w)
{
	struct rbuf r = {.d = w->d, .n = w->n}, body;
	for (size_t i = 0; i < NSUBS; i++) {
		if (!r_rec(&r, subs[i]->tag, &body) ||
		    subs[i]->restore(p, &body) < 0 || !r_done(&body))
			return -1;
	}
	return 0;
}

static void reset(void)
{
	struct lx_proc *p = fk.p;
	if (p->task.exe_fd >= 0)
		close(p->task.exe_fd);
	p->task.exe_fd = -1;
	p->task.pid = getpid();
	p->task.restored = false;
	fake_reset(&fk);
}

static void round_trip(void)
{
	struct lx_proc *p = fk.p;
	dirty(p);
	struct wbuf w = save_all(p);
	reset();
	CHECK(restore_all(p, &w) == 0);
	CHECK(p->task.restored && p->task.pid == 4242);
	CHECK(!strcmp(p->task.exe, "/f") && p->task.exe_fd >= 0);
	CHECK(!strcmp(p->task.comm, "worker"));
	CHECK(!strcmp(p->fs.cwd, "/d") && p->fs.umask == 027);
	CHECK(p->sig.act[SIGUSR1 - 1].handler == 0x401000);
	CHECK(p->sig.pending == 1ULL << (SIGUSR2 - 1));
	CHECK(p->sig.info[SIGUSR2].si_pid == 77 && p->sig.rt_extra[40] == 3);
	struct lx_fd *f = lx_fd_get(p, 5);
	CHECK(f && f->kind == LX_FD_FILE && f->path && !strcmp(f->path, "/f"));
	CHECK(f && lseek(f->host, 0, SEEK_CUR) == 7);
	/* stdio was /dev/null, not this process's stdio: it cannot come back
	 * as mote's own, and comes back dead (a pipe) or as the device. */
	CHECK(lx_fd_get(p, 0) != NULL);
	const struct lx_vma *v = lx_vma_find(&p->mm, MAP_AT);
	CHECK(v && v->start == MAP_AT && v->end == MAP_AT + 8 * PAGE_SIZE);
	CHECK(p->mm.brk == MAP_AT - PAGE_SIZE);
	fake_check_fds(p);
	free(w.d);
	reset();
}

/* Every prefix of every record: refused (or not read to its end, which
 * lx_state_restore refuses), never a crash. */
static void truncated(void)
{
	struct lx_proc *p = fk.p;
	dirty(p);
	struct wbuf w = save_all(p);
	reset();
	struct rbuf r = {.d = w.d, .n = w.n}, body;
	for (size_t i = 0; i < NSUBS; i++) {
		CHECK(r_rec(&r, subs[i]->tag, &body));
		for (size_t n = 0; n < body.n; n++) {
			struct rbuf cut = {.d = body.d, .n = n};
			int rc = subs[i]->restore(p, &cut);
			CHECK(rc < 0 || !r_done(&cut));
			reset();
		}
	}
	free(w.d);
}

/* Values no process can have, each in an otherwise whole record. */
static void bad_values(void)
{
	struct lx_proc *p = fk.p;
	struct wbuf w = {0};
	/* A VMA below user memory. */
	uint64_t zero = 0, n1 = 1, lo = PAGE_SIZE, hi = 2 * PAGE_SIZE;
	uint32_t prot = PT_READ, kind = VMA_ANON;
	uint8_t shared = 0;
	for (int i = 0; i < 9; i++)
		W(&w, zero);
	uint32_t n = (uint32_t)n1;
	W(&w, n);
	W(&w, lo);
	W(&w, hi);
	W(&w, prot);
	W(&w, kind);
	W(&w, shared);
	w_str(&w, NULL);
	W(&w, zero);
	W(&w, zero);
	W(&w, zero);
	struct rbuf r = {.d = w.d, .n = w.n};
	CHECK(lx_mm_subsys.restore(p, &r) < 0);
	free(w.d);
	reset();
	/* A relative cwd. */
	w = (struct wbuf){0};
	uint32_t umask = 022;
	w_str(&w, "etc");
	W(&w, umask);
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(lx_vfs_subsys.restore(p, &r) < 0);
	CHECK(!strcmp(p->fs.cwd, "/"));
	free(w.d);
	/* An fd table whose soft limit is over its hard one. */
	w = (struct wbuf){0};
	uint64_t cur = 64, max = 32;
	W(&w, cur);
	W(&w, max);
	n = 0;
	W(&w, n);
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(lx_fd_subsys.restore(p, &r) < 0);
	free(w.d);
	/* A pid of 0. */
	w = (struct wbuf){0};
	pid_t pid = 0;
	char comm[16] = "x";
	uint8_t has_rl = 0;
	W(&w, pid);
	w_str(&w, "/f");
	W(&w, comm);
	W(&w, has_rl);
	r = (struct rbuf){.d = w.d, .n = w.n};
	CHECK(lx_task_subsys.restore(p, &r) < 0);
	CHECK(!p->task.restored);
	free(w.d);
	reset();
}

/* A listening TCP socket comes back listening on its address, as a new
 * socket; without --net it comes back dead. */
static void listening(void)
{
	struct lx_proc *p = fk.p;
	int h = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	CHECK(bind(h, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      listen(h, 4) == 0 &&
	      getsockname(h, (struct sockaddr *)&a, &l) == 0);
	CHECK(lx_fd_install_at(p, 6, h, 0, LX_FD_SOCK, NULL) == 6);
	struct wbuf w = {0};
	char err[64];
	struct lx_save s = {.err = err, .errlen = sizeof(err)};
	CHECK(lx_fd_subsys.save(p, &s, &w) == 0);
	for (int net = 1; net >= 0; net--) {
		reset(); /* closes the original: its port is free again */
		fk.opts.net = net;
		struct rbuf r = {.d = w.d, .n = w.n};
		CHECK(lx_fd_subsys.restore(p, &r) == 0 && r_done(&r));
		struct lx_fd *f = lx_fd_get(p, 6);
		struct sockaddr_in b = {0};
		l = sizeof(b);
		bool listens =
			f && f->kind == LX_FD_SOCK &&
			getsockname(f->host, (struct sockaddr *)&b, &l) == 0 &&
			b.sin_port == a.sin_port;
		CHECK(listens == (net == 1));
		CHECK(net || (f && f->kind == LX_FD_PIPE));
	}
	fk.opts.net = false;
	free(w.d);
	reset();
}

/* An eventfd (a semaphore, with a count), an armed periodic timerfd and
 * an epoll watching the eventfd come back with that state, as new host
 * objects; every prefix of their record is refused. */
static void event_objects(void)
{
	struct lx_proc *p = fk.p;
	int ev = eventfd(5, EFD_CLOEXEC | EFD_SEMAPHORE);
	int tm = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct itimerspec it = {.it_value = {7, 0}, .it_interval = {100, 0}};
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0x99};
	CHECK(ev >= 0 && tm >= 0 && ep >= 0 &&
	      timerfd_settime(tm, 0, &it, NULL) == 0 &&
	      epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0);
	CHECK(lx_fd_install_at(p, 7, ev, 0, LX_FD_OTHER, NULL) == 7);
	CHECK(lx_fd_install_at(p, 8, tm, 0, LX_FD_OTHER, NULL) == 8);
	CHECK(lx_fd_install_at(p, 9, ep, 0, LX_FD_OTHER, NULL) == 9);
	lx_fd_get(p, 7)->efd = LX_EFD_SEM;
	struct wbuf w = {0};
	char err[64];
	struct lx_save s = {.err = err, .errlen = sizeof(err)};
	CHECK(lx_fd_subsys.save(p, &s, &w) == 0);
	reset();
	struct rbuf r = {.d = w.d, .n = w.n};
	CHECK(lx_fd_subsys.restore(p, &r) == 0 && r_done(&r));
	struct lx_fd *fe = lx_fd_get(p, 7), *ft = lx_fd_get(p, 8),
		     *fp = lx_fd_get(p, 9);
	CHECK(fe && ft && fp && fe->kind == LX_FD_OTHER);
	struct epoll_event out = {0};
	CHECK(fp && epoll_wait(fp->host, &out, 1, 0) == 1 &&
	      out.data.u64 == 0x99);
	uint64_t v = 0;
	/* A semaphore: one at a time. */
	CHECK(fe && read(fe->host, &v, 8) == 8 && v == 1);
	struct itimerspec g = {0};
	CHECK(ft && timerfd_gettime(ft->host, &g) == 0 &&
	      g.it_interval.tv_sec == 100 && g.it_value.tv_sec <= 7 &&
	      (g.it_value.tv_sec || g.it_value.tv_nsec));
	reset();
	for (size_t n = 0; n < w.n; n++) {
		struct rbuf cut = {.d = w.d, .n = n};
		CHECK(lx_fd_subsys.restore(p, &cut) < 0 || !r_done(&cut));
		reset();
	}
	free(w.d);
}

/* One fd record (a fresh fd table's limits, the fd at 4 of `kind`) whose
 * object is `obj`: restored if `good`, else refused. */
static void one_object(bool good, uint32_t kind, const void *obj, size_t len)
{
	struct lx_proc *p = fk.p;
	struct wbuf w = {0};
	uint64_t cur = 64, max = 64, dev = 0, ino = 0;
	int64_t off = -1;
	uint32_t n = 1;
	int32_t gfd = 4, fdflags = 0, flags = O_RDWR, stdio = -1;
	uint8_t listening = 0;
	W(&w, cur);
	W(&w, max);
	W(&w, n);
	W(&w, gfd);
	W(&w, kind);
	W(&w, fdflags);
	W(&w, flags);
	W(&w, off);
	w_str(&w, NULL);
	W(&w, stdio);
	W(&w, dev);
	W(&w, ino);
	W(&w, listening);
	w_bytes(&w, obj, len);
	uint64_t pair = 0; /* no socket pair's end */
	uint8_t pair_end = 0;
	W(&w, pair);
	W(&w, pair_end);
	struct rbuf r = {.d = w.d, .n = w.n};
	int rc = lx_fd_subsys.restore(p, &r);
	CHECK(good ? rc == 0 && r_done(&r) && lx_fd_get(p, 4) : rc < 0);
	free(w.d);
	reset();
}
#define bad_object(...) one_object(false, __VA_ARGS__)

static void bad_objects(void)
{
	struct __attribute__((packed)) {
		uint8_t type;
		uint64_t count;
		uint8_t sem;
	} efd = {LX_OBJ_EVENTFD, UINT64_MAX, 0}, efd2 = {LX_OBJ_EVENTFD, 1, 2};
	bad_object(LX_FD_OTHER, &efd, sizeof(efd));
	bad_object(LX_FD_OTHER, &efd2, sizeof(efd2));
	/* The same record with fitting values is taken. */
	efd.count = 1;
	one_object(true, LX_FD_OTHER, &efd, sizeof(efd));
	/* An eventfd on a kind that is no anonymous file. */
	bad_object(LX_FD_PIPE, &efd, sizeof(efd));
	struct __attribute__((packed)) {
		uint8_t type;
		int32_t clockid, tflags;
		uint64_t ticks;
		struct itimerspec its;
	} tfd[] = {
		{LX_OBJ_TIMERFD, 42, 0, 0, {{0, 0}, {1, 0}}},
		{LX_OBJ_TIMERFD,
		 CLOCK_MONOTONIC,
		 TFD_TIMER_ABSTIME,
		 0,
		 {{0, 0}, {0, 0}}},
		{LX_OBJ_TIMERFD, CLOCK_REALTIME, 0x100, 0, {{0, 0}, {0, 0}}},
		{LX_OBJ_TIMERFD, CLOCK_MONOTONIC, 0, 0, {{0, 0}, {0, -1}}},
		{LX_OBJ_TIMERFD,
		 CLOCK_MONOTONIC,
		 0,
		 0,
		 {{0, 1000000000}, {0, 0}}},
		{LX_OBJ_TIMERFD, CLOCK_MONOTONIC, 0, 0, {{-1, 0}, {0, 0}}},
	};
	for (size_t i = 0; i < sizeof(tfd) / sizeof(tfd[0]); i++)
		bad_object(LX_FD_OTHER, &tfd[i], sizeof(tfd[i]));
	tfd[0].clockid = CLOCK_BOOTTIME;
	one_object(true, LX_FD_OTHER, &tfd[0], sizeof(tfd[0]));
	/* An epoll of 2^32 - 1 registrations in a few bytes, and one naming
	 * a negative fd. */
	struct __attribute__((packed)) {
		uint8_t type;
		uint32_t lost, nreg;
		struct lx_epoll_reg reg;
	} ep = {LX_OBJ_EPOLL, 0, UINT32_MAX, {4, EPOLLIN, 0}},
	  ep2 = {LX_OBJ_EPOLL, 0, 1, {-3, EPOLLIN, 0}};
	bad_object(LX_FD_OTHER, &ep, sizeof(ep));
	bad_object(LX_FD_OTHER, &ep2, sizeof(ep2));
	/* A signalfd on an fd that is not one, an unknown type. */
	struct __attribute__((packed)) {
		uint8_t type;
		uint64_t mask;
	} sfd = {LX_OBJ_SIGNALFD, 1}, unknown = {77, 0};
	bad_object(LX_FD_OTHER, &sfd, sizeof(sfd));
	bad_object(LX_FD_OTHER, &unknown, sizeof(unknown));
	one_object(true, LX_FD_SFD, &sfd, sizeof(sfd));
}

/* A snapshot's own records with pipes, shared memory (shm, or none) and
 * (tree) a tree after them, as snap_state_read takes them: true if it
 * does. */
static bool read_records_shm(const void *pipes, size_t plen, const void *shm,
			     size_t slen, const void *tree, size_t tlen)
{
	struct wbuf w = {0};
	struct snap_state st = {0};
	st.h.user_size = fk.p->vm.user_size;
	snap_opts_write(&w, fk.p);
	snap_image_write(&w, &st);
	size_t m = w_rec_begin(&w, SNAP_TAG_PIPES);
	w_bytes(&w, pipes, plen);
	w_rec_end(&w, m);
	uint32_t none = 0;
	m = w_rec_begin(&w, SNAP_TAG_SHARED);
	w_bytes(&w, shm ? shm : &none, shm ? slen : sizeof(none));
	w_rec_end(&w, m);
	if (tree) {
		m = w_rec_begin(&w, SNAP_TAG_TREE);
		w_bytes(&w, tree, tlen);
		w_rec_end(&w, m);
	}
	st.state = w.d;
	st.state_len = w.n;
	bool ok = snap_state_read(&st);
	snap_state_free(&st);
	return ok;
}

static bool read_records(const void *pipes, size_t plen, const void *tree,
			 size_t tlen)
{
	return read_records_shm(pipes, plen, NULL, 0, tree, tlen);
}

/* A pipe's bytes are saved without being taken, and come back in a new
 * pipe that the process's fds share; the pipes and tree records refuse
 * what no snapshot holds. */
static void pipes_and_tree(void)
{
	struct lx_proc *p = fk.p;
	int pp[2];
	CHECK(pipe2(pp, O_CLOEXEC) == 0 && write(pp[1], "abc", 3) == 3);
	CHECK(lx_fd_install_at(p, 4, pp[0], 0, LX_FD_PIPE, NULL) == 4);
	CHECK(lx_fd_install_at(p, 5, pp[1], 0, LX_FD_PIPE, NULL) == 5);
	struct wbuf w = {0};
	lx_fd_pipes_save(p, &w);
	struct __attribute__((packed)) {
		uint32_t n;
		uint64_t ino;
		uint8_t sock, end;
		uint32_t type, cap;
		uint8_t has;
		uint32_t nmsg, len;
		char data[3];
	} *rec = (void *)w.d;
	CHECK(w.n == sizeof(*rec) && rec->n == 1 && rec->has == 1 &&
	      rec->sock == 0 && rec->nmsg == 1 && rec->len == 3 &&
	      !memcmp(rec->data, "abc", 3));
	char b[4] = {0};
	/* Still there: peeked, not read. */
	CHECK(read(lx_fd_get(p, 4)->host, b, 3) == 3 && !strcmp(b, "abc"));
	CHECK(read_records(w.d, w.n, NULL, 0));
	typeof(*rec) bad = *rec;
	bad.len = 3;
	bad.cap = 2; /* more bytes than room */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	bad = *rec;
	bad.has = 0; /* bytes no process could read */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	bad = *rec;
	bad.n = 1000000; /* more pipes than bytes */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	bad = *rec;
	bad.sock = 1; /* a socket pair of no socket type */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	bad.type = SOCK_STREAM;
	CHECK(read_records(&bad, sizeof(bad), NULL, 0));
	bad.end = 2; /* a pair has two ends */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	bad = *rec;
	bad.nmsg = 2; /* a pipe's bytes are one run */
	CHECK(!read_records(&bad, sizeof(bad), NULL, 0));
	struct {
		typeof(*rec) a;
		uint64_t ino;
		uint8_t sock, end;
		uint32_t type, cap;
		uint8_t has;
		uint32_t nmsg;
	} __attribute__((packed)) twice = {*rec, rec->ino, 0, 0, 0, 4096, 0, 0};
	twice.a.n = 2; /* one pipe named twice */
	CHECK(!read_records(&twice, sizeof(twice), NULL, 0));
	uint32_t none = 0;
	CHECK(!read_records(NULL, 0, NULL, 0)); /* no count at all */
	struct {
		uint32_t n;
		struct snap_proc p[2];
	} __attribute__((packed))
	tree = {2, {{0, 10, 1, 10, 1}, {1ULL << 32, 11, 10, 10, 1}}};
	CHECK(read_records(&none, sizeof(none), &tree, sizeof(tree)));
	typeof(tree) t2 = tree;
	t2.p[1].base = 0; /* a second part at 0 */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.p[0].base = 4096; /* the first part elsewhere */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.p[1].base += 1; /* not on a page */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.p[1].pid = 10; /* one pid twice */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.p[1].pgid = -1; /* (0 is the kernel's: a child of an init) */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.n = 0;
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	t2 = tree;
	t2.n = 5000; /* more than the bytes hold */
	CHECK(!read_records(&none, sizeof(none), &t2, sizeof(t2)));
	/* Shared memory: in user memory, on pages, in order. */
	uint64_t u = USER_MIN + (1 << 20);
	struct {
		uint32_t n;
		struct snap_shm e[2];
	} __attribute__((packed))
	shm = {2, {{u, u + 8192, 77, 0}, {u + 8192, u + 12288, 77, 8192}}};
	CHECK(read_records_shm(&none, sizeof(none), &shm, sizeof(shm), NULL,
			       0));
	typeof(shm) s2 = shm;
	s2.e[0].start = 4096; /* below user memory */
	CHECK(!read_records_shm(&none, sizeof(none), &s2, sizeof(s2), NULL, 0));
	s2 = shm;
	s2.e[1].start = u; /* overlapping the one before */
	CHECK(!read_records_shm(&none, sizeof(none), &s2, sizeof(s2), NULL, 0));
	s2 = shm;
	s2.e[0].off = 100; /* not on a page */
	CHECK(!read_records_shm(&none, sizeof(none), &s2, sizeof(s2), NULL, 0));
	s2 = shm;
	s2.e[1].end = 1ULL << 50; /* past guest memory */
	CHECK(!read_records_shm(&none, sizeof(none), &s2, sizeof(s2), NULL, 0));
	s2 = shm;
	s2.n = 1000; /* more than the bytes hold */
	CHECK(!read_records_shm(&none, sizeof(none), &s2, sizeof(s2), NULL, 0));
	free(w.d);
	reset();
}

/* lx_state_restore takes the records in their one order only. */
static void order(void)
{
	struct lx_proc *p = fk.p;
	struct wbuf w = {0};
	size_t m = w_rec_begin(&w, lx_vfs_subsys.tag);
	w_rec_end(&w, m);
	struct rbuf r = {.d = w.d, .n = w.n};
	CHECK(lx_state_restore(p, &r) < 0);
	free(w.d);
	reset();
}

static void setup(void)
{
	fake_init(&fk, 64ULL << 20);
}

static void cases(void)
{
	RUN(round_trip);
	RUN(truncated);
	RUN(bad_values);
	RUN(listening);
	RUN(event_objects);
	RUN(bad_objects);
	RUN(pipes_and_tree);
	RUN(order);
}

int main(void)
{
	return unit_main(cases, setup);
}
