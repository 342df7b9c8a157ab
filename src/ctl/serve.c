/* The control socket's server: one thread of the first monitor, serving
 * one client at a time (docs/control.md).
 *
 * It reads the run's bookkeeping (stats, threads, the tree's pids) and
 * holds, releases or ends the run through the same calls the monitor uses
 * itself; it never touches guest memory. A client has CTL_IDLE_MS to send
 * each whole request line, however slowly it trickles in, so a stuck one
 * cannot hold the socket for long; a line over CTL_LINE_MAX ends its
 * connection. Neither affects the VM.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "lx/lx.h"
#include "snap/snap.h"
#include "util.h"
#include "vm/exit.h"

#define CTL_IDLE_MS 5000
#define HOLD_MS	    2000
/* The thread's stack: a snapshot, its deepest request, takes ~25 KiB. A
 * small one also never gets a transparent huge page (an 8 MiB default
 * one may, where THP is "always": 2 MiB resident for an idle thread). */
#define CTL_STACK (256 << 10)

/* A connection: bytes read but not yet a whole line, and the fd that
 * came with them (a snapshot's file), or -1. */
struct conn {
	int fd;
	char *buf;
	size_t n;
	int passed_fd;
	uint64_t deadline; /* for the whole of the next line */
};

static bool stopping(struct lx_ctl *c)
{
	return __atomic_load_n(&c->stopping, __ATOMIC_SEQ_CST);
}

/* ---- replies ---- */

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Sends j (consumed) as one line. */
static void reply(struct conn *cn, cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text) {
		static const char oom[] = "{\"ok\":false,\"error\":\"out of "
					  "memory\"}\n";
		send_all(cn->fd, oom, sizeof(oom) - 1);
		return;
	}
	send_all(cn->fd, text, strlen(text));
	send_all(cn->fd, "\n", 1);
	free(text);
}

static cJSON *ok(void)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddTrueToObject(j, "ok");
	return j;
}

static void reply_error(struct conn *cn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_error(struct conn *cn, const char *fmt, ...)
{
	char e[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e, sizeof(e), fmt, ap);
	va_end(ap);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddFalseToObject(j, "ok");
	cJSON_AddStringToObject(j, "error", e);
	reply(cn, j);
}

/* ---- what is reported ---- */

static void add_pids(cJSON *j, struct lx_proc *p)
{
	pid_t pids[1024], procs[1024];
	int n = lx_tree_pids(p->task.tree, pids, procs, (int)ARRAY_SIZE(pids));
	cJSON *a = cJSON_AddArrayToObject(j, "pids");
	cJSON *b = cJSON_AddArrayToObject(j, "proc_pids");
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateNumber(pids[i]));
		cJSON_AddItemToArray(b, cJSON_CreateNumber(procs[i]));
	}
}

static int running_threads(struct lx_proc *p)
{
	pthread_mutex_lock(&p->lock);
	int n = p->nrunning;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void sample_rate(struct lx_ctl *c, struct lx_proc *p)
{
	uint64_t now = mono_ns();
	uint64_t exits = __atomic_load_n(&p->stats.exits, __ATOMIC_RELAXED);
	if (c->rate_ns && now - c->rate_ns < 1000000000ULL)
		return;
	if (c->rate_ns)
		c->exits_per_s = (double)(exits - c->rate_exits) * 1e9 /
				 (double)(now - c->rate_ns);
	c->rate_ns = now;
	c->rate_exits = exits;
}

static void do_info(struct conn *cn, struct lx_ctl *c, struct lx_proc *p)
{
	cJSON *j = ok();
	cJSON_AddStringToObject(j, "id", c->id);
	cJSON_AddNumberToObject(j, "pid", c->owner);
	cJSON_AddStringToObject(j, "program", p->task.exe);
	cJSON_AddStringToObject(j, "state", lx_held(p) ? "paused" : "running");
	cJSON_AddNumberToObject(j, "uptime_s", (mono_ns() - c->start_ns) / 1e9);
	cJSON_AddNumberToObject(j, "vcpus", running_threads(p));
	cJSON_AddNumberToObject(j, "exits", (double)p->stats.exits);
	cJSON_AddNumberToObject(j, "exits_per_s", c->exits_per_s);
	add_pids(j, p);
	reply(cn, j);
}

/* A thread's CPU clock by its host tid, as pthread_getcpuclockid makes it
 * (CPUCLOCK_SCHED, per thread): the pthread_t of a thread that has just
 * exited would be freed memory, a dead tid is only EINVAL. */
static uint64_t thread_cpu_ns(pid_t tid)
{
	clockid_t id = (clockid_t)((~(unsigned)tid) << 3) | 6;
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void add_vcpus(cJSON *j, struct lx_proc *p)
{
	cJSON *a = cJSON_AddArrayToObject(j, "vcpus");
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (!t || !t->running)
			continue;
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "id", i);
		cJSON_AddNumberToObject(v, "tid", t->tid);
		cJSON_AddNumberToObject(v, "cpu_ns",
					(double)thread_cpu_ns(t->host_tid));
		cJSON_AddItemToArray(a, v);
	}
	pthread_mutex_unlock(&p->lock);
}

static void add_syscalls(cJSON *j, const struct lx_stats *s)
{
	cJSON *a = cJSON_AddArrayToObject(j, "syscalls");
	for (int nr = 0; nr < LX_NSYSCALLS; nr++) {
		if (!s->calls[nr])
			continue;
		const char *name = lx_sys_name((uint64_t)nr);
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "nr", nr);
		cJSON_AddStringToObject(v, "name", name ? name : "?");
		cJSON_AddNumberToObject(v, "count", (double)s->calls[nr]);
		cJSON_AddNumberToObject(v, "ns", (double)s->ns[nr]);
		cJSON_AddNumberToObject(v, "enosys", (double)s->enosys[nr]);
		cJSON_AddItemToArray(a, v);
	}
}

static void do_stats(struct conn *cn, struct lx_ctl *c, struct lx_proc *p)
{
	const struct lx_stats *s = &p->stats;
	cJSON *j = ok();
	cJSON_AddStringToObject(j, "id", c->id);
	cJSON_AddNumberToObject(j, "pid", c->owner);
	cJSON_AddStringToObject(j, "state", lx_held(p) ? "paused" : "running");
	cJSON_AddNumberToObject(j, "uptime_s", (mono_ns() - c->start_ns) / 1e9);
	cJSON_AddNumberToObject(j, "exits", (double)s->exits);
	cJSON *r = cJSON_AddObjectToObject(j, "exit_reasons");
	for (int e = 0; e < VMX_NR; e++)
		cJSON_AddNumberToObject(r, vm_exit_name((enum vm_exit)e),
					(double)s->exit_class[e]);
	add_syscalls(j, s);
	cJSON_AddNumberToObject(j, "page_faults", (double)s->faults);
	add_vcpus(j, p);
	add_pids(j, p);
	reply(cn, j);
}

/* ---- what is done ---- */

static void do_pause(struct conn *cn, struct lx_proc *p)
{
	cJSON *j = ok();
	if (lx_held(p)) {
		cJSON_AddTrueToObject(j, "already");
	} else {
		int r = lx_hold(p, NULL, HOLD_MS);
		/* A thread still in a host call parks as soon as it is out. */
		cJSON_AddBoolToObject(j, "complete", r == 0);
	}
	reply(cn, j);
}

static void do_resume(struct conn *cn, struct lx_proc *p)
{
	cJSON *j = ok();
	if (!lx_held(p))
		cJSON_AddTrueToObject(j, "already");
	else
		lx_release(p);
	reply(cn, j);
}

/* sig for the guest's first process, as if sent from outside the VM
 * (si_pid 0); its threads are kicked to take it. */
static void guest_signal(struct lx_proc *p, int sig)
{
	siginfo_t si = {.si_signo = sig, .si_code = SI_USER};
	lx_signal_raise(p, sig, &si);
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < SYS_MAX_VCPUS; i++) {
		struct lx_thread *t = p->threads[i];
		if (t && t->running)
			lx_kick(t);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Ends the whole tree now; the first monitor then removes the dir. */
static void kill_run(struct lx_proc *p, const char *why)
{
	lx_kill(p, SIGKILL, why);
	lx_tree_kill_all(p->task.tree);
	lx_release(p);
}

static void do_stop(struct conn *cn, struct lx_proc *p, bool force)
{
	if (force) {
		kill_run(p, " (mote stop)");
	} else {
		/* A paused guest could not act on it. */
		lx_release(p);
		guest_signal(p, SIGTERM);
	}
	reply(cn, ok());
}

/* Any signal for the guest's first process; SIGKILL ends the whole tree
 * as a forced stop does (the guest could not catch it either). A paused
 * guest keeps its hold: the signal waits, as it would for a stopped
 * process. */
static void do_signal(struct conn *cn, struct lx_proc *p, int sig)
{
	if (sig == SIGKILL)
		kill_run(p, " (signal 9)");
	else
		guest_signal(p, sig);
	reply(cn, ok());
}

static void do_snapshot(struct conn *cn, struct lx_proc *p, bool stop,
			bool stream, bool lazy)
{
	char err[256] = "";
	if (cn->passed_fd < 0) {
		reply_error(cn, "no file came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	bool was_held = lx_held(p);
	uint64_t t0 = mono_ns();
	if (!was_held && lx_hold(p, NULL, HOLD_MS) < 0) {
		lx_release(p);
		reply_error(cn,
			    "a vCPU did not stop within %d ms (it is in a "
			    "long host call); try again",
			    HOLD_MS);
		return;
	}
	struct snap_sent sent = {0};
	if (lazy && (!stream || stop)) {
		if (!was_held)
			lx_release(p);
		reply_error(cn, "\"lazy\" is for a stream snapshot of a VM "
				"that goes on (post-copy)");
		return;
	}
	int r = stream ? snap_save_stream(p, cn->passed_fd, lazy, &sent, err,
					  sizeof(err))
		       : snap_save(p, cn->passed_fd, NULL, 0, err, sizeof(err));
	struct stat st;
	/* What it takes on disk: the file is sparse. */
	double bytes = stream ? (double)sent.pages * PAGE_SIZE
		       : fstat(cn->passed_fd, &st) == 0
			       ? (double)st.st_blocks * 512
			       : 0;
	double ms = (mono_ns() - t0) / 1e6;
	if (r == 0 && stop)
		kill_run(p, " (mote snapshot --stop)");
	else if (!was_held)
		lx_release(p);
	if (r < 0) {
		reply_error(cn, "snapshot failed: %s", err);
		return;
	}
	cJSON *j = ok();
	cJSON_AddNumberToObject(j, "bytes", bytes);
	cJSON_AddNumberToObject(j, "ms", ms);
	if (stream)
		cJSON_AddNumberToObject(j, "zero_pages", (double)sent.zeros);
	if (lazy)
		cJSON_AddNumberToObject(j, "lazy_pages", (double)sent.lazy);
	reply(cn, j);
}

/* Post-copy's source side: once the receiver runs the VM, the pages a
 * lazy snapshot left out go into the socket that came with the request,
 * those the receiver asks for first. Only while the VM is paused here:
 * its memory is the receiver's now, and must not change. */
static void do_postcopy(struct conn *cn, struct lx_proc *p)
{
	if (cn->passed_fd < 0) {
		reply_error(cn, "no socket came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	if (!lx_held(p)) {
		reply_error(cn, "the VM is not paused: post-copy follows a "
				"lazy snapshot of a paused VM");
		return;
	}
	char err[256] = "";
	struct snap_sent sent = {0};
	uint64_t t0 = mono_ns();
	int r = snap_postcopy(p, cn->passed_fd, &sent, err, sizeof(err));
	double ms = (mono_ns() - t0) / 1e6;
	if (r < 0) {
		reply_error(cn, "post-copy failed: %s", err);
		return;
	}
	cJSON *j = ok();
	cJSON_AddNumberToObject(j, "pages", (double)sent.pages);
	cJSON_AddNumberToObject(j, "asked_pages", (double)sent.asked);
	cJSON_AddNumberToObject(j, "ms", ms);
	reply(cn, j);
}

/* A round of mote migrate's pre-copy, into the pipe that came with it,
 * while the VM runs; or, with end, the tracking stopped (the migration
 * was given up). The round's pages and time are the client's measure of
 * the link and of the guest's rate of writes. */
static void do_precopy(struct conn *cn, struct lx_proc *p, bool end)
{
	if (end) {
		snap_round_end(p);
		snap_lazy_drop();
		reply(cn, ok());
		return;
	}
	if (cn->passed_fd < 0) {
		reply_error(cn, "no pipe came with the request (pass its fd "
				"with SCM_RIGHTS)");
		return;
	}
	if (lx_tree_count(p->task.tree) > 1) {
		reply_error(cn,
			    "the VM has %d processes; a migration moves a "
			    "VM of one process",
			    lx_tree_count(p->task.tree));
		return;
	}
	char err[256] = "";
	struct snap_sent sent = {0};
	uint64_t t0 = mono_ns();
	int r = snap_round(p, cn->passed_fd, &sent, err, sizeof(err));
	double ms = (mono_ns() - t0) / 1e6;
	if (r < 0) {
		snap_round_end(p);
		reply_error(cn, "pre-copy failed: %s", err);
		return;
	}
	cJSON *j = ok();
	cJSON_AddNumberToObject(j, "pages", (double)sent.pages);
	cJSON_AddNumberToObject(j, "zero_pages", (double)sent.zeros);
	cJSON_AddNumberToObject(j, "ms", ms);
	reply(cn, j);
}

/* mote migrate's last word: the paused VM's snapshot runs on another host
 * now, so this one ends, with status 0 and one line saying where it went.
 * Only a paused VM: one that ran on since its snapshot must not end. */
static void do_migrated(struct conn *cn, struct lx_proc *p, const char *to,
			bool lost)
{
	if (!lx_held(p)) {
		reply_error(cn, "the VM is not paused: it may have run on "
				"since its snapshot, so it stays");
		return;
	}
	/* Lost: the receiver ran it, so it cannot run here again, but it
	 * did not get all of its memory (mote migrate said why). */
	if (lost)
		msg("post-copy to %s failed after the VM ran there: the VM is "
		    "lost",
		    to);
	else
		msg("migrated to %s", to);
	snap_lazy_drop();
	lx_proc_exit(p, lost ? MOTE_EXIT_FAIL : 0);
	lx_tree_kill_all(p->task.tree);
	lx_release(p);
	reply(cn, ok());
}

static void handle(struct conn *cn, struct lx_ctl *c, struct lx_proc *p,
		   char *line, size_t len)
{
	struct ctl_req req;
	char err[160];
	if (ctl_parse(line, len, &req, err, sizeof(err)) < 0) {
		reply_error(cn, "%s", err);
		return;
	}
	if (p->task.exited) {
		reply_error(cn, "the VM is ending");
		return;
	}
	switch (req.cmd) {
	case CTL_INFO: do_info(cn, c, p); break;
	case CTL_PAUSE: do_pause(cn, p); break;
	case CTL_RESUME: do_resume(cn, p); break;
	case CTL_STOP: do_stop(cn, p, req.force); break;
	case CTL_STATS: do_stats(cn, c, p); break;
	case CTL_SNAPSHOT:
		do_snapshot(cn, p, req.stop, req.stream, req.lazy);
		break;
	case CTL_PRECOPY: do_precopy(cn, p, req.end); break;
	case CTL_SIGNAL: do_signal(cn, p, req.sig); break;
	case CTL_MIGRATED: do_migrated(cn, p, req.to, req.lost); break;
	case CTL_POSTCOPY: do_postcopy(cn, p); break;
	}
}

/* ---- reading requests ---- */

/* Reads more bytes (and any fd passed with them). 1, 0 at EOF or the
 * idle timeout, -1 on error. */
static int fill(struct conn *cn)
{
	struct pollfd pfd = {cn->fd, POLLIN, 0};
	uint64_t now = mono_ns();
	if (now >= cn->deadline)
		return 0;
	uint64_t left = cn->deadline - now;
	struct timespec ts = {(time_t)(left / 1000000000),
			      (long)(left % 1000000000)};
	if (ppoll(&pfd, 1, &ts, NULL) <= 0)
		return 0;
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {cn->buf + cn->n, CTL_LINE_MAX + 1 - cn->n};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.space,
			   .msg_controllen = sizeof(ctl.space)};
	ssize_t r = recvmsg(cn->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int))) {
		if (cn->passed_fd >= 0)
			close(cn->passed_fd);
		memcpy(&cn->passed_fd, CMSG_DATA(h), sizeof(int));
	}
	cn->n += (size_t)r;
	return r > 0;
}

static void drop_fd(struct conn *cn)
{
	if (cn->passed_fd >= 0)
		close(cn->passed_fd);
	cn->passed_fd = -1;
}

/* Serves requests until EOF, an idle client or an over-long line. */
static void serve_conn(struct conn *cn, struct lx_ctl *c, struct lx_proc *p)
{
	cn->deadline = mono_ns() + CTL_IDLE_MS * 1000000ULL;
	for (;;) {
		char *nl = memchr(cn->buf, '\n', cn->n);
		if (nl) {
			*nl = 0;
			size_t len = (size_t)(nl - cn->buf);
			pthread_mutex_lock(&c->lock);
			if (!stopping(c))
				handle(cn, c, p, cn->buf, len);
			pthread_mutex_unlock(&c->lock);
			drop_fd(cn);
			cn->n -= len + 1;
			memmove(cn->buf, nl + 1, cn->n);
			cn->deadline = mono_ns() + CTL_IDLE_MS * 1000000ULL;
			continue;
		}
		if (cn->n > CTL_LINE_MAX) {
			reply_error(cn, "request line longer than %d bytes",
				    CTL_LINE_MAX);
			return;
		}
		if (fill(cn) <= 0)
			return;
	}
}

/* Same user as the monitor, or root; the 0700 dir already keeps others
 * from reaching the socket, this holds if its mode is ever changed. */
static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

/* The line buffer is mapped for a connection and unmapped after it: an
 * idle run keeps none (nor the malloc arena this thread would get). */
static void accept_one(struct lx_ctl *c, struct lx_proc *p)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	char *buf = mmap(NULL, CTL_LINE_MAX + 1, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		close(fd);
		return;
	}
	struct timeval tv = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct conn cn = {fd, buf, 0, -1, 0};
	c->conn_fd = fd;
	uid_t uid = 0;
	if (peer_allowed(fd, &uid))
		serve_conn(&cn, c, p);
	else
		reply_error(&cn,
			    "permission denied: uid %u does not own "
			    "this VM",
			    (unsigned)uid);
	drop_fd(&cn);
	c->conn_fd = -1;
	close(fd);
	munmap(buf, CTL_LINE_MAX + 1);
}

static void *serve(void *arg)
{
	struct lx_proc *p = arg;
	struct lx_ctl *c = p->ctl;
	if (c->building && ctl_build(c, NULL))
		return NULL;
	while (!stopping(c)) {
		struct pollfd pfd = {c->listen_fd, POLLIN, 0};
		struct timespec ts = {1, 0};
		int r = ppoll(&pfd, 1, &ts, NULL);
		sample_rate(c, p);
		if (r > 0 && !stopping(c))
			accept_one(c, p);
	}
	return NULL;
}

void ctl_serve(struct lx_proc *p)
{
	if (!p->ctl)
		return;
	sigset_t all, old;
	sigfillset(&all);
	/* but SIGSYS: a call the sandbox refuses is reported, not a silent
	 * death (a blocked SIGSYS kills at once). */
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CTL_STACK);
	pthread_t th;
	int err = pthread_create(&th, &attr, serve, p);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die(MOTE_EXIT_FAIL, "cannot start the control thread: %s",
		    strerror(err));
}
