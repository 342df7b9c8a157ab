/* The runtime dir of a run: ROOT/ID with ctl.sock and state, removed when
 * the run ends; stale dirs of killed monitors; request parsing
 * (docs/control.md).
 *
 * The dir is built under a temporary name (".new-PID", never a valid id)
 * and renamed into place with RENAME_NOREPLACE, so a dir named ID is
 * always whole: a second run asking for a name a live run holds sees its
 * socket answer, and a probe never races a run half set up. The first
 * monitor makes the temporary dir before its sandbox; with --name it
 * builds and places it then too, before the guest starts; with a
 * generated id the control thread does, while the guest runs (mkdir,
 * bind and the state file's creation are the slowest calls of a start).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "lx/lx.h"
#include "util.h"

/* The one run of this process, for ctl_remove_now. */
static struct ctl_run *cur;

int ctl_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	if (n == 0 || n > CTL_ID_MAX) {
		snprintf(err, errlen, "must be 1 to %d characters long",
			 CTL_ID_MAX);
		return -1;
	}
	if (name[0] == '.') {
		snprintf(err, errlen, "must not start with '.'");
		return -1;
	}
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") != n) {
		snprintf(err, errlen,
			 "may hold only letters, digits, '.', '_' and '-'");
		return -1;
	}
	return 0;
}

static const char *root_override;

void ctl_set_root(const char *dir)
{
	root_override = dir;
}

void ctl_root(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (root_override)
		snprintf(buf, len, "%s", root_override);
	else if (x && x[0] == '/')
		snprintf(buf, len, "%s/mote", x);
	else
		snprintf(buf, len, "/run/mote");
}

void ctl_fd_path(char *buf, size_t len, int dir_fd, const char *name)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", dir_fd, name);
}

/* mkdir -p, each missing component 0700. */
static int mkdirs(char *path)
{
	for (char *s = strchr(path + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = 0;
		int r = mkdir(path, 0700);
		int e = errno;
		if (s)
			*s = '/';
		if (r < 0 && e != EEXIST)
			return -e;
		if (!s)
			return 0;
	}
}

int ctl_open_root(char *root, size_t len, bool mk)
{
	ctl_root(root, len);
	/* Made only when missing: a mkdir of each existing component
	 * would cost a lookup apiece on every run. */
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !mk)
		return fd < 0 ? -errno : fd;
	int err = mkdirs(root);
	if (err)
		return err;
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ctl_connect(int root_fd, const char *id)
{
	int dir = openat(root_fd, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	ctl_fd_path(a.sun_path, sizeof(a.sun_path), dir, CTL_SOCK);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = 0;
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		err = -errno;
	close(dir);
	if (err && s >= 0)
		close(s);
	return err ? err : s;
}

/* The pid in ROOT/ID/state, or 0. */
static pid_t state_pid(int root_fd, const char *id)
{
	char path[CTL_ID_MAX + 16], buf[4096];
	snprintf(path, sizeof(path), "%s/%s", id, CTL_STATE);
	int fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cJSON *j = n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
	cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
	pid_t r = cJSON_IsNumber(pid) ? (pid_t)pid->valuedouble : 0;
	cJSON_Delete(j);
	return r;
}

enum ctl_probe ctl_probe(int root_fd, const char *id, pid_t *pid)
{
	struct stat st;
	*pid = 0;
	if (fstatat(root_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return CTL_NONE;
	*pid = state_pid(root_fd, id);
	int s = ctl_connect(root_fd, id);
	if (s >= 0) {
		close(s);
		return CTL_LIVE;
	}
	/* A socket that refuses (or is missing) has no server: the monitor
	 * that made it is gone, even if its pid has been reused. */
	return CTL_STALE;
}

void ctl_dir_remove(int root_fd, const char *id)
{
	int dir = openat(root_fd, id,
			 O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir >= 0) {
		unlinkat(dir, CTL_SOCK, 0);
		unlinkat(dir, CTL_STATE, 0);
		close(dir);
	}
	unlinkat(root_fd, id, AT_REMOVEDIR);
}

/* ---- making the dir ---- */

#define ID_LEN 8 /* a generated id's, always: the state is patched in place */

static void new_id(char *id)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)(mono_ns() ^ (uint64_t)getpid() << 16);
	snprintf(id, ID_LEN + 1, "%08x", r);
}

/* The socket, 0600 (a chmod after bind: the control thread must not
 * change the umask, which the guest's file creations use; the dir is
 * 0700 meanwhile). */
static int listen_in(int dir_fd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	ctl_fd_path(a.sun_path, sizeof(a.sun_path), dir_fd, CTL_SOCK);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    fchmodat(dir_fd, CTL_SOCK, 0600, 0) < 0 || listen(s, 8) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return fd_high(s);
}

/* The state's text, built by hand: cJSON (and the scanf its numbers
 * use) would otherwise run on every start. */
struct text {
	char *s;
	size_t n, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			die(MOTE_EXIT_FAIL, "out of memory");
	}
	memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n] = 0;
}

/* A JSON string, escaped as cJSON does: quotes, backslashes and control
 * characters; any other byte as it is. */
static void put_json(struct text *t, const char *s)
{
	put(t, "\"", 1);
	while (*s) {
		size_t k = 0;
		while (s[k] && (unsigned char)s[k] >= 0x20 && s[k] != '"' &&
		       s[k] != '\\')
			k++;
		put(t, s, k);
		s += k;
		if (!*s)
			break;
		char e[8];
		int n = *s == '"' || *s == '\\'
				? snprintf(e, sizeof(e), "\\%c", *s)
				: snprintf(e, sizeof(e), "\\u%04x",
					   (unsigned char)*s);
		put(t, e, (size_t)n);
		s++;
	}
	put(t, "\"", 1);
}

/* state: {"id", "pid", "program", "argv", "start"}, the id at id_off (an
 * id needs no escaping: ctl_name_check). */
static void format_state(struct ctl_run *c, const char *program,
			 char *const *argv)
{
	struct text t = {0};
	char num[64];
	put(&t, "{\"id\":\"", 7);
	c->id_off = t.n;
	put(&t, c->id, strlen(c->id));
	int n = snprintf(num, sizeof(num),
			 "\",\"pid\":%d,\"program\":", (int)getpid());
	put(&t, num, (size_t)n);
	put_json(&t, program);
	put(&t, ",\"argv\":[", 9);
	for (char *const *a = argv; a && *a; a++) {
		if (a != argv)
			put(&t, ",", 1);
		put_json(&t, *a);
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	n = snprintf(num, sizeof(num), "],\"start\":%lld.%06ld}\n",
		     (long long)now.tv_sec, now.tv_nsec / 1000);
	put(&t, num, (size_t)n);
	c->state = t.s;
	c->state_len = t.n;
}

/* The dir under its temporary name (before the sandbox: Landlock's rules
 * for building and removing it are on its inode). */
static int make_tmp(struct ctl_run *c)
{
	snprintf(c->tmp, sizeof(c->tmp), ".new-%d", (int)getpid());
	int r = mkdirat(c->root_fd, c->tmp, 0700);
	if (r < 0 && errno == EEXIST) {
		/* Left by a monitor of this pid that died: it is not ours. */
		ctl_dir_remove(c->root_fd, c->tmp);
		r = mkdirat(c->root_fd, c->tmp, 0700);
	}
	if (r < 0)
		return -errno;
	c->dir_fd =
		openat(c->root_fd, c->tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0)
		return -errno;
	c->dir_fd = fd_high(c->dir_fd);
	return 0;
}

/* The state file, whole (the dir is not in place yet). Its fd, or -errno. */
static int write_state(struct ctl_run *c)
{
	int fd = openat(c->dir_fd, CTL_STATE,
			O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* 0600 whatever the umask is at the moment (the guest's, maybe). */
	if (fchmod(fd, 0600) < 0 ||
	    write(fd, c->state, c->state_len) != (ssize_t)c->state_len) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static void close_fds(struct ctl_run *c)
{
	int *fds[] = {&c->listen_fd, &c->conn_fd, &c->dir_fd, &c->root_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		int fd = __atomic_exchange_n(fds[i], -1, __ATOMIC_SEQ_CST);
		if (fd >= 0)
			close(fd);
	}
}

/* Whether ROOT/name is the run's dir (own: its stat), not one made since. */
static bool is_ours(const struct ctl_run *c, const char *name,
		    const struct stat *own)
{
	struct stat st;
	return fstatat(c->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_ino == own->st_ino && st.st_dev == own->st_dev;
}

/* Removes the dir under whichever name it has, whatever step of building
 * it the control thread is at: it is tried again until the dir is gone
 * (no links left), and once it is, nothing the thread still does can
 * bring it back: each step creates in the dir or renames it. Bounded, for
 * a thread stopped for good in a step. Async-signal-safe. */
static void remove_dir(struct ctl_run *c)
{
	struct stat own;
	for (int i = 0; i < 1000; i++) {
		if (fstat(c->dir_fd, &own) < 0 || own.st_nlink == 0)
			return;
		if (i)
			sched_yield();
		unlinkat(c->dir_fd, CTL_SOCK, 0);
		unlinkat(c->dir_fd, CTL_STATE, 0);
		if (is_ours(c, c->tmp, &own))
			unlinkat(c->root_fd, c->tmp, AT_REMOVEDIR);
		if (__atomic_load_n(&c->named, __ATOMIC_SEQ_CST) &&
		    is_ours(c, c->id, &own))
			unlinkat(c->root_fd, c->id, AT_REMOVEDIR);
	}
}

/* A name a live run holds: the message and status; a stale one: cleared. */
static int claim_name(struct ctl_run *c, const char *name)
{
	pid_t pid;
	switch (ctl_probe(c->root_fd, name, &pid)) {
	case CTL_LIVE:
		msg("a VM named %s is already running (pid %d); pick another "
		    "--name",
		    name, (int)pid);
		return MOTE_EXIT_FAIL;
	case CTL_STALE: ctl_dir_remove(c->root_fd, name); break;
	case CTL_NONE: break;
	}
	return 0;
}

/* A failure to build the dir: an error with a name (the VM does not
 * start), a warning without (the run goes on without a control socket);
 * nothing once the run is ending (the dir went under the thread). */
static void build_failed(const struct ctl_run *c, const char *name,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void build_failed(const struct ctl_run *c, const char *name,
			 const char *fmt, ...)
{
	if (__atomic_load_n(&c->stopping, __ATOMIC_SEQ_CST))
		return;
	char e[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e, sizeof(e), fmt, ap);
	va_end(ap);
	msg("%s%s%s", name ? "" : "warning: ", e,
	    name ? "" : "; this run has no control socket");
}

/* Renames the dir into place as the name, or as the id, drawn again
 * (and patched into the state) while one is taken. 0, MOTE_EXIT_FAIL
 * after a message. */
static int place(struct ctl_run *c, const char *name, int state_fd)
{
	for (int i = 0; i < 8; i++) {
		if (name && claim_name(c, name))
			return MOTE_EXIT_FAIL;
		if (i && !name) {
			/* remove_dir reads the id while this is set */
			__atomic_store_n(&c->named, false, __ATOMIC_SEQ_CST);
			new_id(c->id);
			memcpy(c->state + c->id_off, c->id, ID_LEN);
			if (pwrite(state_fd, c->id, ID_LEN, (off_t)c->id_off) !=
			    ID_LEN) {
				build_failed(c, name,
					     "%s: cannot write the state file",
					     c->id);
				return MOTE_EXIT_FAIL;
			}
		}
		__atomic_store_n(&c->named, true, __ATOMIC_SEQ_CST);
		if (renameat2(c->root_fd, c->tmp, c->root_fd, c->id,
			      RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST && errno != ENOTEMPTY) {
			build_failed(c, name,
				     "%s: cannot make the runtime dir: %s",
				     c->id, strerror(errno));
			return MOTE_EXIT_FAIL;
		}
	}
	build_failed(c, name, "cannot find a free VM id in the runtime dir");
	return MOTE_EXIT_FAIL;
}

int ctl_build(struct ctl_run *c, const char *name)
{
	int r = MOTE_EXIT_FAIL;
	int s = listen_in(c->dir_fd);
	int fd = s < 0 ? s : write_state(c);
	if (s < 0)
		build_failed(c, name, "%s: cannot make the control socket: %s",
			     c->tmp, strerror(-s));
	else if (fd < 0)
		build_failed(c, name, "%s: cannot write the state file: %s",
			     c->tmp, strerror(-fd));
	else
		r = place(c, name, fd);
	if (s >= 0)
		__atomic_store_n(&c->listen_fd, s, __ATOMIC_SEQ_CST);
	if (fd >= 0)
		close(fd);
	if (r)
		remove_dir(c);
	return r;
}

int ctl_open(struct ctl_run **out, const char *name, const struct ctl_ops *ops,
	     void *vm, const char *program, char *const *argv, bool build_now)
{
	char err[96], root[PATH_MAX];
	if (name && ctl_name_check(name, err, sizeof(err)) < 0) {
		msg("--name %s: %s", name, err);
		return MOTE_EXIT_FAIL;
	}
	*out = NULL;
	struct ctl_run *c = calloc(1, sizeof(*c));
	if (!c)
		die(MOTE_EXIT_FAIL, "out of memory");
	*c = (struct ctl_run){.ops = ops,
			      .vm = vm,
			      .owner = getpid(),
			      .dir_fd = -1,
			      .listen_fd = -1,
			      .conn_fd = -1,
			      .start_ns = mono_ns(),
			      .building = !build_now};
	pthread_mutex_init(&c->lock, NULL);
	if (name)
		snprintf(c->id, sizeof(c->id), "%s", name);
	else
		new_id(c->id);
	c->root_fd = ctl_open_root(root, sizeof(root), true);
	int e = c->root_fd < 0 ? c->root_fd : 0;
	if (!e) {
		c->root_fd = fd_high(c->root_fd);
		e = make_tmp(c);
	}
	if (e) {
		/* A user without a runtime dir of their own (no
		 * XDG_RUNTIME_DIR, /run not theirs) can still run a VM, if
		 * they did not ask for a name to control it by. */
		msg("%s%s: cannot make the run's control socket there: %s (set "
		    "XDG_RUNTIME_DIR to a directory of yours)%s",
		    name ? "" : "warning: ", root, strerror(-e),
		    name ? "" : "; this run has none");
		close_fds(c);
		free(c);
		return name ? MOTE_EXIT_FAIL : 0;
	}
	format_state(c, program, argv);
	*out = c;
	cur = c;
	/* A generated id is free whatever the dir's name is: the control
	 * thread builds the rest while the guest runs. A name must be
	 * claimed before the guest starts. */
	if (build_now && ctl_build(c, name)) {
		*out = cur = NULL;
		close_fds(c);
		free(c->state);
		free(c);
		return name ? MOTE_EXIT_FAIL : 0;
	}
	return 0;
}

int ctl_start(struct lx_proc *p, const char *name)
{
	return ctl_open(&p->ctl, name, &ctl_lx_ops, p, p->task.exe,
			p->opts->argv, name != NULL);
}

void ctl_serve(struct lx_proc *p)
{
	ctl_run_serve(p->ctl);
}

void ctl_remove_now(void)
{
	struct ctl_run *c = cur;
	if (!c || c->owner != getpid() || c->dir_fd < 0)
		return;
	__atomic_store_n(&c->stopping, true, __ATOMIC_SEQ_CST);
	remove_dir(c);
}

void ctl_stop(struct lx_proc *p)
{
	ctl_run_stop(p->ctl);
}

void ctl_run_stop(struct ctl_run *c)
{
	if (!c)
		return;
	/* A request under way finishes first; none is served after. */
	pthread_mutex_lock(&c->lock);
	ctl_remove_now();
	pthread_mutex_unlock(&c->lock);
}

void ctl_forked(struct lx_proc *p)
{
	struct ctl_run *c = p->ctl;
	p->ctl = NULL;
	cur = NULL;
	/* The parent's struct: its lock may be held by the serving thread,
	 * which is not here, so nothing but the descriptors is touched. */
	if (c)
		close_fds(c);
}

bool ctl_building(const struct lx_proc *p)
{
	return p->ctl && p->ctl->building;
}

int ctl_root_fd(const struct lx_proc *p)
{
	return ctl_run_root_fd(p->ctl);
}

int ctl_dir_fd(const struct lx_proc *p)
{
	return ctl_run_dir_fd(p->ctl);
}

int ctl_run_root_fd(const struct ctl_run *c)
{
	return c ? c->root_fd : -1;
}

int ctl_run_dir_fd(const struct ctl_run *c)
{
	return c ? c->dir_fd : -1;
}

/* ---- requests ---- */

static const char *const cmd_names[] = {
	[CTL_INFO] = "info",	   [CTL_PAUSE] = "pause",
	[CTL_RESUME] = "resume",   [CTL_STOP] = "stop",
	[CTL_STATS] = "stats",	   [CTL_SNAPSHOT] = "snapshot",
	[CTL_SIGNAL] = "signal",   [CTL_MIGRATED] = "migrated",
	[CTL_PRECOPY] = "precopy", [CTL_POSTCOPY] = "postcopy",
};
_Static_assert(ARRAY_SIZE(cmd_names) == CTL_NCMDS, "cmd_names");

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	return cmd_names[cmd];
}

/* migrated's destination: required, printable, shorter than req->to. */
static int get_to(const cJSON *j, struct ctl_req *req, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "to");
	size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
	bool ok = n > 0 && n < sizeof(req->to);
	for (size_t i = 0; ok && i < n; i++)
		ok = v->valuestring[i] > ' ' && v->valuestring[i] < 127;
	if (!ok) {
		snprintf(err, errlen,
			 "\"to\" must be the address the VM went to "
			 "(ADDR:PORT)");
		return -1;
	}
	memcpy(req->to, v->valuestring, n + 1);
	return 0;
}

/* signal's number: required, 1 to 64. */
static int get_sig(const cJSON *j, struct ctl_req *req, char *err,
		   size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "signal");
	if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble ||
	    v->valueint < 1 || v->valueint > 64) {
		snprintf(err, errlen,
			 "\"signal\" must be a signal number from 1 to 64");
		return -1;
	}
	req->sig = v->valueint;
	return 0;
}

/* An optional boolean field: 0, or -1 with the reason. */
static int get_bool(const cJSON *j, const char *key, bool *out, char *err,
		    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

static int parse_obj(const cJSON *j, struct ctl_req *req, char *err,
		     size_t errlen)
{
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "a request is a JSON object");
		return -1;
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j, "cmd");
	if (!cJSON_IsString(cmd)) {
		snprintf(err, errlen, "\"cmd\" must be a string");
		return -1;
	}
	*req = (struct ctl_req){0};
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (!strcmp(cmd->valuestring, cmd_names[i])) {
			req->cmd = (enum ctl_cmd)i;
			if (req->cmd == CTL_SIGNAL)
				return get_sig(j, req, err, errlen);
			if (req->cmd == CTL_MIGRATED)
				return get_to(j, req, err, errlen)
					       ?: get_bool(j, "lost",
							   &req->lost, err,
							   errlen);
			return get_bool(j, "force", &req->force, err, errlen)
				       ?: get_bool(j, "stop", &req->stop, err,
						   errlen)
				       ?: get_bool(j, "stream", &req->stream,
						   err, errlen)
				       ?: get_bool(j, "lazy", &req->lazy, err,
						   errlen)
				       ?: get_bool(j, "end", &req->end, err,
						   errlen);
		}
	snprintf(err, errlen,
		 "unknown command \"%.32s\" (info, pause, resume, stop, "
		 "stats, snapshot, signal, migrated, precopy, postcopy)",
		 cmd->valuestring);
	return -1;
}

int ctl_parse(const char *line, size_t len, struct ctl_req *req, char *err,
	      size_t errlen)
{
	/* cJSON reads to a NUL: one inside the line would hide the rest. */
	cJSON *j = memchr(line, 0, len)
			   ? NULL
			   : cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
	if (!j) {
		snprintf(err, errlen, "invalid JSON");
		return -1;
	}
	int r = parse_obj(j, req, err, errlen);
	cJSON_Delete(j);
	return r;
}
