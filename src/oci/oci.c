/* mote oci (or argv[0] mote-oci): runc's command line. create forks the
 * container's monitor, which waits on the state dir's FIFO until start,
 * then runs the init as a named mote run whose control socket lives in the
 * state dir: kill, pause, resume and ps are control requests. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "oci/oci.h"
#include "run/run.h"
#include "util.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "0.1.0"
#endif
#define MOTE_OCI_VERSION MOTE_VERSION

static FILE *log_file;
static bool log_json;

void oci_log_open(const char *path, bool json)
{
	log_file = fopen(path, "ae");
	log_json = json;
	if (!log_file)
		fprintf(stderr, "mote-oci: --log %s: %s\n", path,
			strerror(errno));
}

static void log_line(const char *level, const char *text)
{
	if (!log_file)
		return;
	if (log_json) {
		cJSON *j = cJSON_CreateObject();
		char t[40];
		time_t now = time(NULL);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		cJSON_AddStringToObject(j, "level", level);
		cJSON_AddStringToObject(j, "msg", text);
		cJSON_AddStringToObject(j, "time", t);
		char *s = cJSON_PrintUnformatted(j);
		fprintf(log_file, "%s\n", s ? s : "");
		free(s);
		cJSON_Delete(j);
	} else {
		fprintf(log_file, "mote-oci: %s: %s\n", level, text);
	}
	fflush(log_file);
}

void oci_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mote-oci: %s\n", buf);
	log_line("error", buf);
}

void oci_warn(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_file)
		log_line("warning", buf);
	else
		fprintf(stderr, "mote-oci: warning: %s\n", buf);
}

noreturn void oci_usage_err(const char *fmt, const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof(buf), fmt, arg);
	oci_err("%s (see mote oci --help)", buf);
	exit(1);
}

static const char oci_usage[] =
	"usage: mote oci [--root DIR] [--log FILE] [--log-format text|json]\n"
	"                [--systemd-cgroup] COMMAND ...   (or mote-oci ...)\n"
	"\n"
	"runc's command line (docs/oci.md): each container is a tree of mote\n"
	"microVMs.\n"
	"  create --bundle DIR [--pid-file F] [--console-socket S] ID\n"
	"  start ID\n"
	"  run --bundle DIR [--pid-file F] [--console-socket S] [--detach] ID\n"
	"  state ID                  the runtime-spec state JSON\n"
	"  kill [--all] ID [SIGNAL]  a name (TERM, SIGKILL) or number; "
	"default TERM\n"
	"  delete [--force] ID\n"
	"  exec [--process F | ARGS...] [--detach] [--pid-file F] [--tty]\n"
	"       [--console-socket S] ID\n"
	"  ps [--format table|json] ID, pause ID, resume ID\n"
	"  list [--format table|json] [-q], features, --version\n"
	"--root: the state dir, default /run/mote-oci. --systemd-cgroup is\n"
	"accepted and does nothing: mote makes no cgroup.\n";

/* ---- create, start, run ---- */

struct create_args {
	const char *bundle, *pid_file, *console;
	bool detach;
};

static const struct option create_opts[] = {
	{"bundle", required_argument, NULL, 'b'},
	{"pid-file", required_argument, NULL, 'p'},
	{"console-socket", required_argument, NULL, 'c'},
	{"detach", no_argument, NULL, 'd'},
	{"no-pivot", no_argument, NULL, 'N'},
	{"no-new-keyring", no_argument, NULL, 'N'},
	{"preserve-fds", required_argument, NULL, 'P'},
	{0},
};

static const char *parse_create(int argc, char **argv, struct create_args *a)
{
	int c;
	optind = 1;
	opterr = 0;
	*a = (struct create_args){.bundle = "."};
	while ((c = getopt_long_only(argc, argv, ":b:d", create_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'b': a->bundle = optarg; break;
		case 'p': a->pid_file = optarg; break;
		case 'c': a->console = optarg; break;
		case 'd': a->detach = true; break;
		case 'N': break;
		case 'P':
			if (strcmp(optarg, "0"))
				oci_usage_err(
					"--preserve-fds %s: not supported "
					"(mote passes stdio alone)",
					optarg);
			break;
		case ':':
			oci_usage_err("option %s needs a value",
				      argv[optind - 1]);
		default: oci_usage_err("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		oci_usage_err("%s: expected exactly one container ID", argv[0]);
	return argv[optind];
}

int oci_write_pid_file(const char *path, pid_t pid)
{
	if (!path)
		return 0;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		oci_err("--pid-file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The monitor: a session of its own, the pty as stdio, then (for the
 * init) the start byte, then the run. */
noreturn void oci_monitor(struct oci_spec *s, struct oci_state *st, int fifo,
			  int tty)
{
	setsid();
	if (tty >= 0) {
		ioctl(tty, TIOCSCTTY, 0);
		for (int i = 0; i < 3; i++)
			dup2(tty, i);
		close(tty);
	}
	if (fifo >= 0) {
		char b;
		ssize_t r;
		do
			r = read(fifo, &b, 1);
		while (r < 0 && errno == EINTR);
		if (r != 1)
			_exit(MOTE_EXIT_FAIL);
		close(fifo);
	}
	if (s->netns) {
		int fd = open(s->netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			oci_err("network namespace %s: %s", s->netns,
				strerror(errno));
			_exit(MOTE_EXIT_FAIL);
		}
		close(fd);
	}
	/* What the run needs of the spec is in s->o now but for strings of
	 * process, mounts, annotations and hostname: the rest (podman's
	 * linux object holds its seccomp profile, some 80 KiB of heap) goes
	 * back to the system before the long run. */
	cJSON_DeleteItemFromObjectCaseSensitive(s->json, "linux");
	cJSON_DeleteItemFromObjectCaseSensitive(s->json, "hooks");
	cJSON_DeleteItemFromObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(s->json, "process"),
		"capabilities");
	s->netns = NULL;
	malloc_trim(0);
	static char root[4200];
	snprintf(root, sizeof(root), "%s/mote", st->dir);
	ctl_set_root(root);
	if (fifo >= 0)
		s->o.name = st->id;
	if (log_file)
		fclose(log_file);
	fflush(stdout);
	exit(run_program(&s->o));
}

static void now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static int make_state_dir(const char *id, struct oci_state *st)
{
	char err[96];
	if (ctl_name_check(id, err, sizeof(err)) < 0) {
		oci_err("container id %s: %s", id, err);
		return -1;
	}
	*st = (struct oci_state){0};
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", oci_root, id);
	char root[4200];
	snprintf(root, sizeof(root), "%s/", oci_root);
	for (char *p = strchr(root + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		mkdir(root, 0711);
		*p = '/';
	}
	if (mkdir(st->dir, 0711) < 0) {
		if (errno == EEXIST)
			oci_err("container %s already exists (delete it "
				"first: mote oci delete %s)",
				id, id);
		else
			oci_err("--root %s: cannot make %s: %s", oci_root,
				st->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* create, and run's first half: the monitor's pid, or -1. */
static pid_t create(const char *id, const struct create_args *a, bool fg)
{
	struct oci_state st;
	struct oci_spec s;
	if (make_state_dir(id, &st) < 0)
		return -1;
	char bundle[4096], fifo_path[4200];
	if (!realpath(a->bundle, bundle)) {
		oci_err("--bundle %s: %s", a->bundle, strerror(errno));
		goto err_dir;
	}
	if (oci_spec_load(&s, bundle, st.dir, true) < 0)
		goto err_dir;
	int tty = -1;
	if (s.terminal && a->console) {
		if ((tty = oci_console(a->console)) < 0)
			goto err_dir;
	} else if (s.terminal && !fg) {
		oci_err("process.terminal is true: --console-socket is "
			"required (or set terminal false)");
		goto err_dir;
	}
	snprintf(fifo_path, sizeof(fifo_path), "%s/start", st.dir);
	int fifo = mkfifo(fifo_path, 0600) == 0
			   ? open(fifo_path, O_RDWR | O_CLOEXEC)
			   : -1;
	if (fifo < 0) {
		oci_err("%s: %s", fifo_path, strerror(errno));
		goto err_dir;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		oci_monitor(&s, &st, fifo, tty);
	close(fifo);
	if (tty >= 0)
		close(tty);
	if (pid < 0) {
		oci_err("cannot fork the monitor: %s", strerror(errno));
		goto err_dir;
	}
	st.pid = pid;
	for (int i = 0; i < 1000 && !(st.start = oci_proc_start(pid)); i++)
		usleep(100);
	snprintf(st.bundle, sizeof(st.bundle), "%s", bundle);
	now_rfc3339(st.created, sizeof(st.created));
	if (oci_state_write(&st, s.annotations) < 0 ||
	    oci_write_pid_file(a->pid_file, pid) < 0) {
		kill(pid, SIGKILL);
		goto err_dir;
	}
	return pid;
err_dir:
	oci_rmtree(st.dir);
	return -1;
}

static int cmd_create(int argc, char **argv)
{
	struct create_args a;
	const char *id = parse_create(argc, argv, &a);
	return create(id, &a, false) < 0 ? 1 : 0;
}

static int start(const char *id)
{
	struct oci_state st;
	if (oci_state_read(id, &st) < 0)
		return 1;
	enum oci_status s = oci_status(&st);
	if (s != OCI_CREATED) {
		oci_err("container %s is %s, not created (start runs a "
			"created container once)",
			id, oci_status_name(s));
		return 1;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/start", st.dir);
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/started", st.dir);
	int mark = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (mark >= 0)
		close(mark);
	if (fd < 0 || write(fd, "s", 1) != 1) {
		oci_err("container %s: its monitor is gone: %s (delete it)", id,
			strerror(errno));
		return 1;
	}
	close(fd);
	/* Running once its control socket answers (or it has ended). */
	for (int i = 0; i < 5000; i++) {
		cJSON *j = oci_ctl(&st, id, "{\"cmd\":\"info\"}");
		if (j || oci_proc_start(st.pid) != st.start) {
			cJSON_Delete(j);
			break;
		}
		usleep(1000);
	}
	return 0;
}

static int cmd_start(int argc, char **argv)
{
	if (argc != 2)
		oci_usage_err("%s: expected one container ID", "start");
	return start(argv[1]);
}

int oci_wait_status(pid_t pid)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return MOTE_EXIT_FAIL;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int cmd_run(int argc, char **argv)
{
	struct create_args a;
	const char *id = parse_create(argc, argv, &a);
	pid_t pid = create(id, &a, !a.detach);
	if (pid < 0)
		return 1;
	if (start(id))
		return 1;
	if (a.detach)
		return 0;
	int status = oci_wait_status(pid);
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/%s", oci_root, id);
	oci_rmtree(dir);
	return status;
}

/* ---- dispatch ---- */

static int dispatch(int argc, char **argv)
{
	const char *c = argv[0];
	if (!strcmp(c, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(c, "start"))
		return cmd_start(argc, argv);
	if (!strcmp(c, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(c, "state"))
		return oci_cmd_state(argc, argv);
	if (!strcmp(c, "kill"))
		return oci_cmd_kill(argc, argv);
	if (!strcmp(c, "delete"))
		return oci_cmd_delete(argc, argv);
	if (!strcmp(c, "exec"))
		return oci_cmd_exec(argc, argv);
	if (!strcmp(c, "ps"))
		return oci_cmd_ps(argc, argv);
	if (!strcmp(c, "pause"))
		return oci_cmd_pause(argc, argv, true);
	if (!strcmp(c, "resume"))
		return oci_cmd_pause(argc, argv, false);
	if (!strcmp(c, "list"))
		return oci_cmd_list(argc, argv);
	if (!strcmp(c, "features"))
		return oci_cmd_features();
	oci_err("unknown command '%s' (see mote oci --help)", c);
	return 1;
}

int oci_main(int argc, char **argv)
{
	int i = 1;
	bool json = false;
	const char *log = NULL;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i] + (argv[i][1] == '-');
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char *eq = strchr(a, '=');
		size_t klen = eq ? (size_t)(eq - a) : strlen(a);
		bool takes = !strncmp(a, "-root", klen) ||
			     !strncmp(a, "-log", klen) ||
			     !strncmp(a, "-log-format", klen) ||
			     !strncmp(a, "-criu", klen);
		if (eq)
			v = eq + 1;
		else if (takes)
			i++;
		if (takes && !v)
			oci_usage_err("option %s needs a value", argv[i]);
		if (!strncmp(a, "-root", klen) && klen == 5)
			oci_root = v;
		else if (!strncmp(a, "-log", klen) && klen == 4)
			log = v;
		else if (!strncmp(a, "-log-format", klen) && klen == 11)
			json = !strcmp(v, "json");
		else if (!strcmp(a, "-systemd-cgroup") ||
			 !strcmp(a, "-debug") ||
			 (!strncmp(a, "-criu", klen) && klen == 5))
			continue;
		else if (!strcmp(a, "-version") || !strcmp(a, "v")) {
			printf("mote-oci version " MOTE_OCI_VERSION
			       "\nspec: " OCI_VERSION "\n");
			return 0;
		} else if (!strcmp(a, "-help") || !strcmp(a, "h")) {
			fputs(oci_usage, stdout);
			return 0;
		} else {
			oci_usage_err("unknown global option %s", argv[i]);
		}
	}
	if (log)
		oci_log_open(log, json);
	if (oci_root[0] != '/')
		oci_usage_err("--root %s: must be an absolute path", oci_root);
	if (i >= argc) {
		fputs(oci_usage, stderr);
		return 1;
	}
	return dispatch(argc - i, argv + i);
}
