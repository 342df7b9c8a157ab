/* The control socket's server: one thread of the first monitor, serving
 * one client at a time (docs/control.md).
 *
 * Each request goes to the VM's personality through its ops table
 * (struct ctl_ops: mote run's in lxops.c, mote boot's in
 * src/run/bootctl.c), which reads the VM's bookkeeping and holds,
 * releases or ends it through the calls its monitor uses itself. A
 * client has CTL_IDLE_MS to send each whole request line, however slowly
 * it trickles in, so a stuck one cannot hold the socket for long; a line
 * over CTL_LINE_MAX ends its connection. Neither affects the VM.
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
#include <time.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "util.h"

#define CTL_IDLE_MS 5000
/* The thread's stack: a snapshot, its deepest request, takes ~25 KiB. A
 * small one also never gets a transparent huge page (an 8 MiB default
 * one may, where THP is "always": 2 MiB resident for an idle thread). */
#define CTL_STACK (256 << 10)

/* A connection: bytes read but not yet a whole line, and the fd that
 * came with them (a snapshot's file), or -1. */
struct ctl_conn {
	struct ctl_run *c;
	int fd;
	char *buf;
	size_t n;
	int passed_fd;
	uint64_t deadline; /* for the whole of the next line */
};

static bool stopping(struct ctl_run *c)
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

void ctl_reply(struct ctl_conn *cn, cJSON *j)
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

cJSON *ctl_ok(void)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddTrueToObject(j, "ok");
	return j;
}

struct cJSON *ctl_snapshot_reply(struct ctl_conn *cn, int r, const char *err,
				 double bytes, double ms)
{
	if (r < 0) {
		ctl_reply_error(cn, "snapshot failed: %s", err);
		return NULL;
	}
	cJSON *j = ctl_ok();
	cJSON_AddNumberToObject(j, "bytes", bytes);
	cJSON_AddNumberToObject(j, "ms", ms);
	return j;
}

void ctl_reply_error(struct ctl_conn *cn, const char *fmt, ...)
{
	char e[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e, sizeof(e), fmt, ap);
	va_end(ap);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddFalseToObject(j, "ok");
	cJSON_AddStringToObject(j, "error", e);
	ctl_reply(cn, j);
}

int ctl_conn_fd(const struct ctl_conn *cn)
{
	return cn->passed_fd;
}

const char *ctl_conn_id(const struct ctl_conn *cn)
{
	return cn->c->id;
}

pid_t ctl_conn_pid(const struct ctl_conn *cn)
{
	return cn->c->owner;
}

double ctl_conn_uptime(const struct ctl_conn *cn)
{
	return (mono_ns() - cn->c->start_ns) / 1e9;
}

void ctl_rate_sample(struct ctl_rate *r, uint64_t exits)
{
	uint64_t now = mono_ns();
	if (r->ns && now - r->ns < 1000000000ULL)
		return;
	if (r->ns)
		r->per_s = (double)(exits - r->exits) * 1e9 /
			   (double)(now - r->ns);
	r->ns = now;
	r->exits = exits;
}

static void handle(struct ctl_conn *cn, struct ctl_run *c, char *line,
		   size_t len)
{
	struct ctl_req req;
	char err[160];
	if (ctl_parse(line, len, &req, err, sizeof(err)) < 0) {
		ctl_reply_error(cn, "%s", err);
		return;
	}
	if (c->ops->ending(c->vm)) {
		ctl_reply_error(cn, "the VM is ending");
		return;
	}
	ctl_handler *h = c->ops->cmd[req.cmd];
	if (h)
		h(cn, c->vm, &req);
	else
		ctl_reply_error(cn, "%s: %s", ctl_cmd_name(req.cmd),
				c->ops->unsupported);
}

/* ---- reading requests ---- */

/* Reads more bytes (and any fd passed with them). 1, 0 at EOF or the
 * idle timeout, -1 on error. */
static int fill(struct ctl_conn *cn)
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

static void drop_fd(struct ctl_conn *cn)
{
	if (cn->passed_fd >= 0)
		close(cn->passed_fd);
	cn->passed_fd = -1;
}

/* Serves requests until EOF, an idle client or an over-long line. */
static void serve_conn(struct ctl_conn *cn, struct ctl_run *c)
{
	cn->deadline = mono_ns() + CTL_IDLE_MS * 1000000ULL;
	for (;;) {
		char *nl = memchr(cn->buf, '\n', cn->n);
		if (nl) {
			*nl = 0;
			size_t len = (size_t)(nl - cn->buf);
			pthread_mutex_lock(&c->lock);
			if (!stopping(c))
				handle(cn, c, cn->buf, len);
			pthread_mutex_unlock(&c->lock);
			drop_fd(cn);
			cn->n -= len + 1;
			memmove(cn->buf, nl + 1, cn->n);
			cn->deadline = mono_ns() + CTL_IDLE_MS * 1000000ULL;
			continue;
		}
		if (cn->n > CTL_LINE_MAX) {
			ctl_reply_error(cn, "request line longer than %d bytes",
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
static void accept_one(struct ctl_run *c)
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
	struct ctl_conn cn = {c, fd, buf, 0, -1, 0};
	c->conn_fd = fd;
	uid_t uid = 0;
	if (peer_allowed(fd, &uid))
		serve_conn(&cn, c);
	else
		ctl_reply_error(&cn,
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
	struct ctl_run *c = arg;
	if (c->building && ctl_build(c, NULL))
		return NULL;
	while (!stopping(c)) {
		struct pollfd pfd = {c->listen_fd, POLLIN, 0};
		struct timespec ts = {1, 0};
		int r = ppoll(&pfd, 1, &ts, NULL);
		if (c->ops->tick)
			c->ops->tick(c, c->vm);
		if (r > 0 && !stopping(c))
			accept_one(c);
	}
	return NULL;
}

void ctl_run_serve(struct ctl_run *c)
{
	if (!c)
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
	int err = pthread_create(&th, &attr, serve, c);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die(MOTE_EXIT_FAIL, "cannot start the control thread: %s",
		    strerror(err));
}
