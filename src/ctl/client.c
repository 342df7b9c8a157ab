/* mote ps|stop|pause|resume|stats|snapshot: the control socket's client
 * (mote migrate's own part is migrate.c)
 * (docs/control.md). It runs with the user's rights, outside any sandbox:
 * it opens snapshot files and reads /proc/PID/smaps_rollup of the run's
 * monitors, which the sandboxed monitor could not.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "util.h"

#define REPLY_MAX (1 << 20)
/* A reply's wait: more than the server gives a stuck client before it
 * serves the next (5 s), and than a pause's hold (2 s). */
#define REPLY_MS 15000

static const char *const commands[] = {"ps",	"stop",	    "pause",  "resume",
				       "stats", "snapshot", "migrate"};

bool ctl_is_command(const char *argv1)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv1, commands[i]))
			return true;
	return false;
}

noreturn void ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mote: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see mote --help)\n");
	va_end(ap);
	exit(MOTE_EXIT_FAIL);
}

/* ---- talking to a run ---- */

/* Sends one request line, with fd (if >= 0) as SCM_RIGHTS. */
static int send_req(int s, const char *line, int fd)
{
	size_t len = strlen(line);
	return send_with_fd(s, line, len, fd, 0) == (ssize_t)len ? 0 : -1;
}

/* Reads one reply line within timeout_ms: the parsed object or NULL. */
static cJSON *read_reply(int s, int timeout_ms)
{
	char *buf = malloc(REPLY_MAX + 1);
	size_t n = 0;
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	cJSON *j = NULL;
	while (buf && n < REPLY_MAX) {
		uint64_t now = mono_ns();
		struct pollfd pfd = {s, POLLIN, 0};
		if (now >= end ||
		    poll(&pfd, 1, (int)((end - now) / 1000000) + 1) <= 0)
			break;
		ssize_t r = read(s, buf + n, REPLY_MAX - n);
		if (r <= 0)
			break;
		char *nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
		if (nl) {
			j = cJSON_ParseWithLength(buf, (size_t)(nl - buf));
			break;
		}
	}
	free(buf);
	return j;
}

const char *ctl_id_arg(const char *id)
{
	char err[96];
	if (ctl_name_check(id, err, sizeof(err)) < 0) {
		fprintf(stderr, "mote: no VM with id %s (see mote ps)\n", id);
		exit(MOTE_EXIT_FAIL);
	}
	return id;
}

int ctl_open_root_or_die(const char *id)
{
	char root[PATH_MAX];
	int fd = ctl_open_root(root, sizeof(root), false);
	if (fd >= 0)
		return fd;
	if (fd == -ENOENT && id) {
		fprintf(stderr, "mote: no VM with id %s (see mote ps)\n", id);
		exit(MOTE_EXIT_FAIL);
	}
	if (fd == -ENOENT)
		return -1;
	fprintf(stderr, "mote: %s: %s%s\n", root, strerror(-fd),
		fd == -EACCES ? " (it is another user's: set XDG_RUNTIME_DIR "
				"to your own)"
			      : "");
	exit(MOTE_EXIT_FAIL);
}

/* Connects to run id or exits with the reason. */
static int connect_or_die(int root_fd, const char *id)
{
	int s = ctl_connect(root_fd, id);
	if (s >= 0)
		return s;
	if (s == -EACCES) {
		fprintf(stderr,
			"mote: %s: permission denied (the VM is another "
			"user's: run this as that user or root)\n",
			id);
	} else {
		/* ENOENT; ECONNREFUSED: left by a monitor that is gone. */
		if (s == -ECONNREFUSED)
			ctl_dir_remove(root_fd, id);
		fprintf(stderr, "mote: no VM with id %s (see mote ps)\n", id);
	}
	exit(MOTE_EXIT_FAIL);
}

int ctl_request_start(int root_fd, const char *id, const char *line, int fd)
{
	int s = connect_or_die(root_fd, id);
	if (send_req(s, line, fd) < 0) {
		close(s);
		return -1;
	}
	return s;
}

cJSON *ctl_request_finish(int s, const char *id, int timeout_ms, bool quiet)
{
	cJSON *j = s >= 0 ? read_reply(s, timeout_ms) : NULL;
	if (s >= 0)
		close(s);
	if (quiet && j &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		cJSON_Delete(j);
		return NULL;
	}
	if (!j) {
		fprintf(stderr,
			"mote: %s: no reply from the VM's monitor within %d s "
			"(it may be busy with another client; try again)\n",
			id, timeout_ms / 1000);
		return NULL;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		fprintf(stderr, "mote: %s: %s\n", id,
			cJSON_IsString(e) ? e->valuestring : "request failed");
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

cJSON *ctl_request(int root_fd, const char *id, const char *line, int fd,
		   int timeout_ms)
{
	return ctl_request_finish(ctl_request_start(root_fd, id, line, fd), id,
				  timeout_ms, false);
}

/* The same, exiting with status 125 if it fails. */
static cJSON *call(int root_fd, const char *id, const char *line, int fd,
		   int timeout_ms)
{
	cJSON *j = ctl_request(root_fd, id, line, fd, timeout_ms);
	if (!j)
		exit(MOTE_EXIT_FAIL);
	return j;
}

double ctl_num(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* ---- memory, from /proc/PID/smaps_rollup ---- */

struct mem {
	uint64_t rss, pss, shared, private;
	int threads; /* of the processes but the first: their vCPUs */
};

static void add_rollup(pid_t pid, struct mem *m)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		unsigned long long kb;
		if (sscanf(line, "%63[^:]: %llu kB", key, &kb) != 2)
			continue;
		uint64_t b = kb * 1024;
		if (!strcmp(key, "Rss"))
			m->rss += b;
		else if (!strcmp(key, "Pss"))
			m->pss += b;
		else if (!strncmp(key, "Shared_", 7))
			m->shared += b;
		else if (!strncmp(key, "Private_", 8))
			m->private += b;
	}
	fclose(f);
}

static int threads_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* Memory of every process in the reply, by "proc_pids" (the pids the
 * host's /proc knows them by: in a pid namespace without its own /proc,
 * not the ones they have); threads of all but the first (the run's first
 * process, whose vCPUs the reply counts) if skip_first. */
static struct mem memory_of(const cJSON *j, bool skip_first)
{
	struct mem m = {0};
	const cJSON *pid;
	bool first = skip_first;
	cJSON_ArrayForEach(pid,
			   cJSON_GetObjectItemCaseSensitive(j, "proc_pids"))
	{
		if (!cJSON_IsNumber(pid))
			continue;
		add_rollup((pid_t)pid->valuedouble, &m);
		if (!first)
			m.threads += threads_of((pid_t)pid->valuedouble);
		first = false;
	}
	return m;
}

static void add_memory(cJSON *j, const struct mem *m)
{
	cJSON *o = cJSON_AddObjectToObject(j, "memory");
	cJSON_AddNumberToObject(o, "resident", (double)m->rss);
	cJSON_AddNumberToObject(o, "pss", (double)m->pss);
	cJSON_AddNumberToObject(o, "shared", (double)m->shared);
	cJSON_AddNumberToObject(o, "private", (double)m->private);
}

static const char *human(double b, char *buf, size_t len)
{
	const char *u = "BKMGT";
	while (b >= 1024 && u[1]) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, *u == 'B' ? "%.0f%c" : "%.1f%c", b, *u);
	return buf;
}

static const char *duration(double s, char *buf, size_t len)
{
	unsigned long v = (unsigned long)s;
	if (v < 60)
		snprintf(buf, len, "%lus", v);
	else if (v < 3600)
		snprintf(buf, len, "%lum%02lus", v / 60, v % 60);
	else if (v < 86400)
		snprintf(buf, len, "%luh%02lum", v / 3600, v / 60 % 60);
	else
		snprintf(buf, len, "%lud%02luh", v / 86400, v / 3600 % 24);
	return buf;
}

/* ---- mote ps ---- */

/* A ".new-PID" dir of a monitor that died while making its dir. */
static void sweep_tmp(int root_fd, const char *name)
{
	int pid = atoi(name + 5);
	if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
		ctl_dir_remove(root_fd, name);
}

/* The row of one live run (NULL: stale, removed, or not answering). */
static cJSON *ps_one(int root_fd, const char *id)
{
	int s = ctl_connect(root_fd, id);
	if (s < 0) {
		if (s == -ECONNREFUSED || s == -ENOENT)
			ctl_dir_remove(root_fd, id);
		return NULL;
	}
	cJSON *j = send_req(s, "{\"cmd\":\"info\"}\n", -1) == 0
			   ? read_reply(s, REPLY_MS)
			   : NULL;
	close(s);
	if (!j || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", id);
		cJSON_AddStringToObject(j, "state", "not answering");
		return j;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(j, "ok");
	struct mem m = memory_of(j, true);
	cJSON_ReplaceItemInObjectCaseSensitive(
		j, "vcpus",
		cJSON_CreateNumber(ctl_num(j, "vcpus") + m.threads));
	add_memory(j, &m);
	return j;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids under the runtime root, sorted; stale temporaries removed. */
static char **list_ids(int root_fd, int *n)
{
	int dfd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	char **ids = NULL;
	*n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strncmp(e->d_name, ".new-", 5))
			sweep_tmp(root_fd, e->d_name);
		if (e->d_name[0] == '.')
			continue;
		ids = realloc(ids, (size_t)(*n + 1) * sizeof(*ids));
		if (!ids || !(ids[*n] = strdup(e->d_name)))
			die(MOTE_EXIT_FAIL, "out of memory");
		(*n)++;
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(ids, (size_t)*n, sizeof(*ids), id_cmp);
	return ids;
}

/* A booted Linux guest's row or stats (mote boot), not a run's. */
static bool is_boot(const cJSON *j)
{
	return !strcmp(str(j, "kind"), "boot");
}

static void ps_print(const cJSON *rows)
{
	printf("%-16s %8s %-8s %8s %5s %8s %9s  %s\n", "ID", "PID", "STATE",
	       "UPTIME", "VCPUS", "RSS", "EXITS/S", "PROGRAM");
	const cJSON *r;
	cJSON_ArrayForEach(r, rows)
	{
		char up[32], rss[32];
		const cJSON *mem =
			cJSON_GetObjectItemCaseSensitive(r, "memory");
		printf("%-16s %8.0f %-8s %8s %5.0f %8s %9.0f  %s%s\n",
		       str(r, "id"), ctl_num(r, "pid"), str(r, "state"),
		       duration(ctl_num(r, "uptime_s"), up, sizeof(up)),
		       ctl_num(r, "vcpus"),
		       human(ctl_num(mem, "resident"), rss, 32),
		       ctl_num(r, "exits_per_s"), is_boot(r) ? "boot " : "",
		       str(r, "program"));
	}
}

static int cmd_ps(int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			ctl_usage_error("ps: unknown argument %s", argv[i]);
		json = true;
	}
	int root_fd = ctl_open_root_or_die(NULL);
	cJSON *rows = cJSON_CreateArray();
	int n = 0;
	char **ids = root_fd >= 0 ? list_ids(root_fd, &n) : NULL;
	for (int i = 0; i < n; i++) {
		cJSON *r = ps_one(root_fd, ids[i]);
		if (r)
			cJSON_AddItemToArray(rows, r);
		free(ids[i]);
	}
	free(ids);
	if (json) {
		char *t = cJSON_Print(rows);
		printf("%s\n", t);
		free(t);
	} else {
		ps_print(rows);
	}
	cJSON_Delete(rows);
	return 0;
}

/* ---- mote stop ---- */

static bool dir_gone(int root_fd, const char *id)
{
	struct stat st;
	return fstatat(root_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0;
}

static bool wait_gone(int root_fd, const char *id, double secs)
{
	uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
	while (!dir_gone(root_fd, id)) {
		if (mono_ns() >= end)
			return false;
		nanosleep(&(struct timespec){0, 20000000}, NULL);
	}
	return true;
}

/* The monitor did not end after a forced stop (a host call no kick
 * ends): its processes are killed from here and the dir removed. */
static void kill_pids(int root_fd, const char *id, const cJSON *info)
{
	const cJSON *pid;
	cJSON_ArrayForEach(pid, cJSON_GetObjectItemCaseSensitive(
					info, "pids")) if (cJSON_IsNumber(pid))
		kill((pid_t)pid->valuedouble, SIGKILL);
	wait_gone(root_fd, id, 2);
	ctl_dir_remove(root_fd, id);
}

static double parse_grace(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (end == arg || *end || !(v >= 0 && v <= 86400))
		ctl_usage_error("stop: --grace %s: expected seconds from 0 to "
				"86400",
				arg);
	return v;
}

static int cmd_stop(int argc, char **argv)
{
	const char *id = NULL;
	bool force = false;
	double grace = 10;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--grace") && i + 1 < argc)
			grace = parse_grace(argv[++i]);
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			ctl_usage_error("stop: unexpected argument %s",
					argv[i]);
	}
	if (!id)
		ctl_usage_error("stop: no VM id given");
	int root_fd = ctl_open_root_or_die(ctl_id_arg(id));
	cJSON *info = call(root_fd, id, "{\"cmd\":\"info\"}\n", -1, REPLY_MS);
	cJSON_Delete(call(root_fd, id,
			  force ? "{\"cmd\":\"stop\",\"force\":true}\n"
				: "{\"cmd\":\"stop\",\"force\":false}\n",
			  -1, REPLY_MS));
	if (!force && !wait_gone(root_fd, id, grace)) {
		int s = ctl_connect(root_fd, id);
		if (s >= 0) {
			send_req(s, "{\"cmd\":\"stop\",\"force\":true}\n", -1);
			cJSON_Delete(read_reply(s, REPLY_MS));
			close(s);
		}
	}
	if (!wait_gone(root_fd, id, 10))
		kill_pids(root_fd, id, info);
	cJSON_Delete(info);
	return 0;
}

/* ---- mote pause, resume ---- */

static const char *one_id(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		ctl_usage_error("%s: expected one VM id", argv[0]);
	return ctl_id_arg(argv[1]);
}

static int cmd_pause(int argc, char **argv)
{
	const char *id = one_id(argc, argv);
	int root_fd = ctl_open_root_or_die(id);
	bool pause = !strcmp(argv[0], "pause");
	cJSON *j =
		call(root_fd, id,
		     pause ? "{\"cmd\":\"pause\"}\n" : "{\"cmd\":\"resume\"}\n",
		     -1, REPLY_MS);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "already")))
		fprintf(stderr, "mote: %s was already %s\n", id,
			pause ? "paused" : "running");
	if (pause &&
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "complete")))
		fprintf(stderr,
			"mote: %s: paused, but a vCPU is still in a host call "
			"(a blocking read, a wait): it stops as soon as the "
			"call returns\n",
			id);
	cJSON_Delete(j);
	return 0;
}

/* ---- mote stats ---- */

static void stats_print(const cJSON *j)
{
	char a[32], b[32], c[32], d[32];
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "memory"), *v;
	printf("VM %s (pid %.0f), %s, up %s\n", str(j, "id"), ctl_num(j, "pid"),
	       str(j, "state"), duration(ctl_num(j, "uptime_s"), a, sizeof(a)));
	printf("memory: resident %s (shared %s, private %s), pss %s\n",
	       human(ctl_num(m, "resident"), a, 32),
	       human(ctl_num(m, "shared"), b, 32),
	       human(ctl_num(m, "private"), c, 32),
	       human(ctl_num(m, "pss"), d, 32));
	printf("exits: %.0f;", ctl_num(j, "exits"));
	cJSON_ArrayForEach(v,
			   cJSON_GetObjectItemCaseSensitive(
				   j, "exit_reasons")) if (v->valuedouble > 0)
		printf(" %s %.0f", v->string, v->valuedouble);
	if (is_boot(j))
		printf("\nguest memory: %s\n",
		       human(ctl_num(j, "guest_memory"), a, 32));
	else
		printf("\npage faults: %.0f\n", ctl_num(j, "page_faults"));
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vcpus"))
		printf("vCPU %.0f (tid %.0f): %.3f s CPU\n", ctl_num(v, "id"),
		       ctl_num(v, "tid"), ctl_num(v, "cpu_ns") / 1e9);
	if (is_boot(j))
		return;
	printf("%10s %12s  %s\n", "CALLS", "TIME(us)", "SYSCALL");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "syscalls"))
		printf("%10.0f %12.1f  %s (%.0f)\n", ctl_num(v, "count"),
		       ctl_num(v, "ns") / 1e3, str(v, "name"),
		       ctl_num(v, "nr"));
}

static int cmd_stats(int argc, char **argv)
{
	const char *id = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			ctl_usage_error("stats: unexpected argument %s",
					argv[i]);
	}
	if (!id)
		ctl_usage_error("stats: no VM id given");
	int root_fd = ctl_open_root_or_die(ctl_id_arg(id));
	cJSON *j = call(root_fd, id, "{\"cmd\":\"stats\"}\n", -1, REPLY_MS);
	cJSON_DeleteItemFromObjectCaseSensitive(j, "ok");
	struct mem m = memory_of(j, false);
	add_memory(j, &m);
	if (json) {
		char *t = cJSON_Print(j);
		printf("%s\n", t);
		free(t);
	} else {
		stats_print(j);
	}
	cJSON_Delete(j);
	return 0;
}

/* ---- mote snapshot ---- */

static int cmd_snapshot(int argc, char **argv)
{
	const char *id = NULL, *file = NULL;
	bool stop = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stop"))
			stop = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			ctl_usage_error("snapshot: unexpected argument %s",
					argv[i]);
	}
	if (!file)
		ctl_usage_error("snapshot: expected a VM id and a FILE");
	int root_fd = ctl_open_root_or_die(ctl_id_arg(id));
	/* No file is made for a VM that is not there. */
	close(connect_or_die(root_fd, id));
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "mote: %s: %s\n", file, strerror(errno));
		return MOTE_EXIT_FAIL;
	}
	cJSON *j = ctl_request(root_fd, id,
			       stop ? "{\"cmd\":\"snapshot\",\"stop\":true}\n"
				    : "{\"cmd\":\"snapshot\",\"stop\":false}\n",
			       fd, 600000);
	close(fd);
	if (!j) {
		unlink(file); /* a failed snapshot leaves no file behind */
		return MOTE_EXIT_FAIL;
	}
	char b[32];
	printf("%s: %s written to %s in %.1f ms\n", id,
	       human(ctl_num(j, "bytes"), b, sizeof(b)), file,
	       ctl_num(j, "ms"));
	cJSON_Delete(j);
	return 0;
}

int ctl_main(int argc, char **argv)
{
	if (!strcmp(argv[0], "ps"))
		return cmd_ps(argc, argv);
	if (!strcmp(argv[0], "stop"))
		return cmd_stop(argc, argv);
	if (!strcmp(argv[0], "pause") || !strcmp(argv[0], "resume"))
		return cmd_pause(argc, argv);
	if (!strcmp(argv[0], "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(argv[0], "migrate"))
		return ctl_migrate_main(argc, argv);
	return cmd_snapshot(argc, argv);
}
