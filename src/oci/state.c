/* The containers' state: ROOT/ID holds state.json (written by create), a
 * "started" mark, the "start" FIFO the waiting monitor reads, tmpfs dirs
 * and mote's control root (ROOT/ID/mote, one run dir per microVM tree:
 * the init's named ID, each exec's generated). The status is read from
 * the monitor's pid and start time, so a crashed one reads as stopped. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/internal.h"
#include "oci/oci.h"
#include "util.h"

const char *oci_root = "/run/mote-oci";

unsigned long long oci_proc_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* After the comm's last ')': state is field 3, starttime 22. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	p += 2;
	for (int f = 3; f < 22 && p; f++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

static cJSON *read_file_json(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
}

int oci_state_read(const char *id, struct oci_state *st)
{
	*st = (struct oci_state){0};
	char err[96], path[4200];
	if (ctl_name_check(id, err, sizeof(err)) < 0) {
		oci_err("container %s does not exist (an id %s)", id, err);
		return -1;
	}
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", oci_root, id);
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	st->json = read_file_json(path);
	if (!st->json) {
		oci_err("container %s does not exist (no %s; see mote oci "
			"list)",
			id, path);
		return -1;
	}
	const cJSON *v;
	v = cJSON_GetObjectItemCaseSensitive(st->json, "pid");
	st->pid = cJSON_IsNumber(v) ? (pid_t)v->valueint : 0;
	v = cJSON_GetObjectItemCaseSensitive(st->json, "start_time");
	st->start = cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0;
	v = cJSON_GetObjectItemCaseSensitive(st->json, "bundle");
	snprintf(st->bundle, sizeof(st->bundle), "%s",
		 cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItemCaseSensitive(st->json, "created");
	snprintf(st->created, sizeof(st->created), "%s",
		 cJSON_IsString(v) ? v->valuestring : "");
	return 0;
}

int oci_state_write(struct oci_state *st, const cJSON *annotations)
{
	cJSON *j = cJSON_CreateObject();
	char start[32], path[4200], tmp[4200];
	snprintf(start, sizeof(start), "%llu", st->start);
	cJSON_AddStringToObject(j, "id", st->id);
	cJSON_AddNumberToObject(j, "pid", st->pid);
	cJSON_AddStringToObject(j, "start_time", start);
	cJSON_AddStringToObject(j, "bundle", st->bundle);
	cJSON_AddStringToObject(j, "created", st->created);
	cJSON_AddItemToObject(j, "annotations",
			      annotations ? cJSON_Duplicate(annotations, 1)
					  : cJSON_CreateObject());
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.json", st->dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = text ? strlen(text) : 0;
	int err = fd < 0 || !text || write(fd, text, n) != (ssize_t)n;
	if (fd >= 0)
		close(fd);
	free(text);
	if (err || rename(tmp, path) < 0) {
		oci_err("%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *oci_status_name(enum oci_status s)
{
	static const char *const names[] = {"created", "running", "paused",
					    "stopped"};
	return names[s];
}

static bool started(struct oci_state *st)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/started", st->dir);
	return access(path, F_OK) == 0;
}

enum oci_status oci_status(struct oci_state *st)
{
	if (st->pid <= 0 || oci_proc_start(st->pid) != st->start)
		return OCI_STOPPED;
	if (!started(st))
		return OCI_CREATED;
	cJSON *j = oci_ctl(st, st->id, "{\"cmd\":\"info\"}");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state");
	enum oci_status r = cJSON_IsString(s) &&
					    !strcmp(s->valuestring, "paused")
				    ? OCI_PAUSED
				    : OCI_RUNNING;
	cJSON_Delete(j);
	return r;
}

cJSON *oci_ctl(struct oci_state *st, const char *run, const char *line)
{
	char root[4200];
	snprintf(root, sizeof(root), "%s/mote", st->dir);
	int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return NULL;
	int s = ctl_connect(root_fd, run);
	close(root_fd);
	if (s < 0)
		return NULL;
	struct timeval tv = {5, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[CTL_LINE_MAX / 4];
	size_t n = 0;
	cJSON *j = NULL;
	if (write(s, line, strlen(line)) == (ssize_t)strlen(line) &&
	    write(s, "\n", 1) == 1) {
		ssize_t r;
		while (n < sizeof(buf) &&
		       (r = read(s, buf + n, sizeof(buf) - n)) > 0) {
			n += (size_t)r;
			if (memchr(buf, '\n', n))
				break;
		}
		j = n ? cJSON_ParseWithLength(buf, n) : NULL;
	}
	close(s);
	if (j && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		oci_warn("container %s: %s", st->id,
			 cJSON_IsString(e) ? e->valuestring : "request failed");
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

char **oci_runs(struct oci_state *st)
{
	char root[4200];
	snprintf(root, sizeof(root), "%s/mote", st->dir);
	char **v = calloc(1, sizeof(char *));
	int n = 0;
	DIR *d = opendir(root);
	struct dirent *e;
	while (d && v && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		v = realloc(v, (size_t)(n + 2) * sizeof(char *));
		if (v) {
			v[n++] = strdup(e->d_name);
			v[n] = NULL;
		}
	}
	if (d)
		closedir(d);
	if (!v)
		die(MOTE_EXIT_FAIL, "out of memory");
	return v;
}

static void rm_at(int dir, const char *name)
{
	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					   O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rm_at(fd, e->d_name);
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	unlinkat(dir, name, AT_REMOVEDIR);
}

void oci_rmtree(const char *path)
{
	rm_at(AT_FDCWD, path);
}
