/* The runtime dir of a run: ROOT/ID with ctl.sock and state, made by the
 * first monitor before its sandbox and removed when the run ends; stale
 * dirs of killed monitors; request parsing (docs/control.md).
 *
 * The dir is built under a temporary name (".new-PID", never a valid id)
 * and renamed into place with RENAME_NOREPLACE, so a dir named ID is
 * always whole: a second run asking for a name a live run holds sees its
 * socket answer, and a probe never races a run half set up.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
static struct lx_ctl *cur;

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

void ctl_root(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (x && x[0] == '/')
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
	if (mk) {
		int err = mkdirs(root);
		if (err)
			return err;
	}
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
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

static void new_id(char *id)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)(mono_ns() ^ (uint64_t)getpid() << 16);
	snprintf(id, CTL_ID_MAX + 1, "%08x", r);
}

static int listen_in(int dir_fd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	ctl_fd_path(a.sun_path, sizeof(a.sun_path), dir_fd, CTL_SOCK);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/* The socket is made 0600 by the umask, never wider for a moment. */
	mode_t old = umask(0177);
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(s, 8) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return fd_high(s);
}

/* state: {"id", "pid", "program", "argv", "start"}. Written in the dir
 * before it is renamed into place, so it is whole whenever seen (and
 * rewritten the same way if a generated id has to be drawn again). */
static int write_state(struct lx_ctl *c, struct lx_proc *p, const char *program)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", c->id);
	cJSON_AddNumberToObject(j, "pid", getpid());
	cJSON_AddStringToObject(j, "program", program);
	cJSON *argv = cJSON_AddArrayToObject(j, "argv");
	for (char **a = p->opts->argv; a && *a; a++)
		cJSON_AddItemToArray(argv, cJSON_CreateString(*a));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cJSON_AddNumberToObject(j, "start", now.tv_sec + now.tv_nsec / 1e9);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		return -ENOMEM;
	int fd = openat(c->dir_fd, CTL_STATE,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = fd < 0 ? -errno : 0;
	size_t n = strlen(text);
	if (!err &&
	    (write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1))
		err = -EIO;
	if (fd >= 0)
		close(fd);
	free(text);
	return err;
}

/* The dir under its temporary name, with the socket in it. */
static int make_tmp(struct lx_ctl *c, char *tmp, size_t len)
{
	snprintf(tmp, len, ".new-%d", (int)getpid());
	int r = mkdirat(c->root_fd, tmp, 0700);
	if (r < 0 && errno == EEXIST) {
		/* Left by a monitor of this pid that died: it is not ours. */
		ctl_dir_remove(c->root_fd, tmp);
		r = mkdirat(c->root_fd, tmp, 0700);
	}
	if (r < 0)
		return -errno;
	c->dir_fd = openat(c->root_fd, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0)
		return -errno;
	c->dir_fd = fd_high(c->dir_fd);
	c->listen_fd = listen_in(c->dir_fd);
	return c->listen_fd < 0 ? c->listen_fd : 0;
}

/* A name a live run holds: the message and status; a stale one: cleared. */
static int claim_name(struct lx_ctl *c, const char *name)
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

/* Renames the dir into place as name (or a fresh id). */
static int place(struct lx_ctl *c, struct lx_proc *p, const char *name,
		 const char *tmp, const char *program)
{
	for (int i = 0; i < 8; i++) {
		if (name && claim_name(c, name))
			return MOTE_EXIT_FAIL;
		if (name)
			snprintf(c->id, sizeof(c->id), "%s", name);
		else
			new_id(c->id);
		int err = write_state(c, p, program);
		if (err) {
			msg("%s: cannot write the state file: %s", c->id,
			    strerror(-err));
			return MOTE_EXIT_FAIL;
		}
		if (renameat2(c->root_fd, tmp, c->root_fd, c->id,
			      RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST && errno != ENOTEMPTY) {
			msg("%s: cannot make the runtime dir: %s", c->id,
			    strerror(errno));
			return MOTE_EXIT_FAIL;
		}
	}
	msg("cannot find a free VM id in the runtime dir");
	return MOTE_EXIT_FAIL;
}

static void close_fds(struct lx_ctl *c)
{
	int *fds[] = {&c->listen_fd, &c->conn_fd, &c->dir_fd, &c->root_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int ctl_start(struct lx_proc *p, const char *name, char *id_out)
{
	char err[96], root[PATH_MAX], tmp[32];
	if (name && ctl_name_check(name, err, sizeof(err)) < 0) {
		msg("--name %s: %s", name, err);
		return MOTE_EXIT_FAIL;
	}
	struct lx_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		die(MOTE_EXIT_FAIL, "out of memory");
	*c = (struct lx_ctl){.owner = getpid(),
			     .dir_fd = -1,
			     .listen_fd = -1,
			     .conn_fd = -1,
			     .start_ns = mono_ns()};
	pthread_mutex_init(&c->lock, NULL);
	id_out[0] = 0;
	c->root_fd = ctl_open_root(root, sizeof(root), true);
	int e = c->root_fd < 0 ? c->root_fd : 0;
	if (!e) {
		c->root_fd = fd_high(c->root_fd);
		e = make_tmp(c, tmp, sizeof(tmp));
		if (e)
			ctl_dir_remove(c->root_fd, tmp);
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
	if (place(c, p, name, tmp, p->exe)) {
		ctl_dir_remove(c->root_fd, tmp);
		close_fds(c);
		free(c);
		return MOTE_EXIT_FAIL;
	}
	snprintf(id_out, CTL_ID_MAX + 1, "%s", c->id);
	p->ctl = c;
	cur = c;
	return 0;
}

void ctl_remove_now(void)
{
	struct lx_ctl *c = cur;
	if (!c || c->owner != getpid() || c->dir_fd < 0)
		return;
	unlinkat(c->dir_fd, CTL_SOCK, 0);
	unlinkat(c->dir_fd, CTL_STATE, 0);
	unlinkat(c->root_fd, c->id, AT_REMOVEDIR);
}

void ctl_stop(struct lx_proc *p)
{
	struct lx_ctl *c = p->ctl;
	if (!c)
		return;
	/* A request under way finishes first; none is served after. */
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	ctl_remove_now();
	pthread_mutex_unlock(&c->lock);
}

void ctl_forked(struct lx_proc *p)
{
	struct lx_ctl *c = p->ctl;
	p->ctl = NULL;
	cur = NULL;
	/* The parent's struct: its lock may be held by the serving thread,
	 * which is not here, so nothing but the descriptors is touched. */
	if (c)
		close_fds(c);
}

int ctl_root_fd(const struct lx_proc *p)
{
	return p->ctl ? p->ctl->root_fd : -1;
}

int ctl_dir_fd(const struct lx_proc *p)
{
	return p->ctl ? p->ctl->dir_fd : -1;
}

/* ---- requests ---- */

static const char *const cmd_names[] = {
	[CTL_INFO] = "info", [CTL_PAUSE] = "pause", [CTL_RESUME] = "resume",
	[CTL_STOP] = "stop", [CTL_STATS] = "stats", [CTL_SNAPSHOT] = "snapshot",
};

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
			return get_bool(j, "force", &req->force, err, errlen)
				       ?: get_bool(j, "stop", &req->stop, err,
						   errlen);
		}
	snprintf(err, errlen,
		 "unknown command \"%.32s\" (info, pause, resume, stop, "
		 "stats, snapshot)",
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
