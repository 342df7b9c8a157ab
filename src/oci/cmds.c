/* The runc commands on a container that exists: state and list, kill and
 * delete, exec, ps, pause and resume, features (oci.c has create, start
 * and run, and the dispatch). */
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

/* ---- state, list ---- */

static cJSON *state_json(struct oci_state *st)
{
	enum oci_status s = oci_status(st);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "ociVersion", OCI_VERSION);
	cJSON_AddStringToObject(j, "id", st->id);
	cJSON_AddStringToObject(j, "status", oci_status_name(s));
	cJSON_AddNumberToObject(j, "pid", s == OCI_STOPPED ? 0 : st->pid);
	cJSON_AddStringToObject(j, "bundle", st->bundle);
	cJSON_AddStringToObject(j, "created", st->created);
	const cJSON *an =
		cJSON_GetObjectItemCaseSensitive(st->json, "annotations");
	cJSON_AddItemToObject(j, "annotations",
			      an ? cJSON_Duplicate(an, 1)
				 : cJSON_CreateObject());
	return j;
}

static void print_json(cJSON *j)
{
	char *s = cJSON_Print(j);
	printf("%s\n", s ? s : "null");
	free(s);
	cJSON_Delete(j);
}

static const char *one_id(int argc, char **argv)
{
	if (argc != 2)
		oci_usage_err("%s: expected one container ID", argv[0]);
	return argv[1];
}

int oci_cmd_state(int argc, char **argv)
{
	struct oci_state st;
	if (oci_state_read(one_id(argc, argv), &st) < 0)
		return 1;
	print_json(state_json(&st));
	return 0;
}

int oci_cmd_list(int argc, char **argv)
{
	bool json = false, quiet = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if ((!strcmp(argv[i], "--format") ||
			  !strcmp(argv[i], "-f")) &&
			 i + 1 < argc)
			json = !strcmp(argv[++i], "json");
		else if (!strcmp(argv[i], "--format=json"))
			json = true;
		else
			oci_usage_err("list: unknown argument %s", argv[i]);
	}
	cJSON *all = cJSON_CreateArray();
	DIR *d = opendir(oci_root);
	struct dirent *e;
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %s\n", "ID", "PID", "STATUS",
		       "BUNDLE");
	while (d && (e = readdir(d))) {
		struct oci_state st;
		if (e->d_name[0] == '.')
			continue;
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s/state.json", oci_root,
			 e->d_name);
		if (access(path, F_OK) < 0 || oci_state_read(e->d_name, &st))
			continue;
		cJSON *j = state_json(&st);
		if (quiet)
			printf("%s\n", st.id);
		else if (!json)
			printf("%-20s %-8d %-10s %s\n", st.id,
			       cJSON_GetObjectItem(j, "pid")->valueint,
			       cJSON_GetObjectItem(j, "status")->valuestring,
			       st.bundle);
		cJSON_AddItemToArray(all, j);
	}
	if (d)
		closedir(d);
	if (json)
		print_json(all);
	else
		cJSON_Delete(all);
	return 0;
}

/* ---- kill, delete ---- */

static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && !*end)
		return n >= 1 && n <= 64 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < 32; i++) {
		const char *a = sigabbrev_np(i);
		if (a && !strcasecmp(a, s))
			return i;
	}
	return -1;
}

/* sig for every run of the container (all) or its init's. */
static int signal_runs(struct oci_state *st, int sig, bool all)
{
	char line[64];
	snprintf(line, sizeof(line), "{\"cmd\":\"signal\",\"signal\":%d}", sig);
	cJSON *j = oci_ctl(st, st->id, line);
	int r = j ? 0 : -1;
	cJSON_Delete(j);
	char **runs = all || sig == SIGKILL ? oci_runs(st) : NULL;
	for (char **p = runs; p && *p; p++) {
		if (strcmp(*p, st->id))
			cJSON_Delete(oci_ctl(st, *p, line));
		free(*p);
	}
	free(runs);
	if (r < 0 && sig == SIGKILL && oci_proc_start(st->pid) == st->start)
		r = kill(st->pid, SIGKILL);
	return r;
}

int oci_cmd_kill(int argc, char **argv)
{
	bool all = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))
			all = true;
		else
			oci_usage_err("kill: unknown option %s", argv[i]);
	}
	if (i >= argc || argc - i > 2)
		oci_usage_err("%s: expected ID [SIGNAL]", "kill");
	int sig = i + 1 < argc ? parse_signal(argv[i + 1]) : SIGTERM;
	if (sig < 0)
		oci_usage_err(
			"kill: signal %s: expected a name (TERM, SIGKILL) or "
			"a number from 1 to 64",
			argv[i + 1]);
	struct oci_state st;
	if (oci_state_read(argv[i], &st) < 0)
		return 1;
	enum oci_status s = oci_status(&st);
	if (s == OCI_STOPPED) {
		oci_err("container %s is not running", st.id);
		return 1;
	}
	int r = s == OCI_CREATED ? kill(st.pid, sig)
				 : signal_runs(&st, sig, all);
	if (r < 0) {
		oci_err("container %s: signal %d not delivered", st.id, sig);
		return 1;
	}
	return 0;
}

int oci_cmd_delete(int argc, char **argv)
{
	bool force = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else
			oci_usage_err("delete: unknown option %s", argv[i]);
	}
	if (i != argc - 1)
		oci_usage_err("%s: expected one container ID", "delete");
	struct oci_state st;
	if (oci_state_read(argv[i], &st) < 0)
		return 1;
	enum oci_status s = oci_status(&st);
	if ((s == OCI_RUNNING || s == OCI_PAUSED) && !force) {
		oci_err("container %s is %s (stop it first, or delete "
			"--force)",
			st.id, oci_status_name(s));
		return 1;
	}
	/* A stopped container's execs may still run: they end too. */
	if (s == OCI_CREATED)
		kill(st.pid, SIGKILL);
	else
		signal_runs(&st, SIGKILL, true);
	for (int k = 0; k < 5000 && oci_proc_start(st.pid) == st.start; k++)
		usleep(1000);
	if (oci_proc_start(st.pid) == st.start)
		kill(st.pid, SIGKILL);
	oci_rmtree(st.dir);
	return 0;
}

/* ---- exec, ps, pause, resume ---- */

static const struct option exec_opts[] = {
	{"process", required_argument, NULL, 'p'},
	{"pid-file", required_argument, NULL, 'P'},
	{"console-socket", required_argument, NULL, 'c'},
	{"detach", no_argument, NULL, 'd'},
	{"tty", no_argument, NULL, 't'},
	{0},
};

static cJSON *read_process(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = f ? getdelim(&buf, &cap, 0, f) : -1;
	if (f)
		fclose(f);
	cJSON *j = n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
	free(buf);
	if (!j)
		oci_err("--process %s: %s", path,
			n > 0 ? "not valid JSON" : strerror(errno));
	return j;
}

int oci_cmd_exec(int argc, char **argv)
{
	const char *process = NULL, *pid_file = NULL, *console = NULL;
	bool detach = false, tty = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+:dt", exec_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'p': process = optarg; break;
		case 'P': pid_file = optarg; break;
		case 'c': console = optarg; break;
		case 'd': detach = true; break;
		case 't': tty = true; break;
		case ':':
			oci_usage_err("option %s needs a value",
				      argv[optind - 1]);
		default:
			oci_usage_err("exec: unknown option %s",
				      argv[optind - 1]);
		}
	}
	if (optind >= argc || (!process && optind + 1 >= argc))
		oci_usage_err("%s: expected ID and --process FILE or ARGS...",
			      "exec");
	struct oci_state st;
	if (oci_state_read(argv[optind], &st) < 0)
		return 1;
	enum oci_status s = oci_status(&st);
	if (s != OCI_RUNNING) {
		oci_err("container %s is %s: exec needs a running one", st.id,
			oci_status_name(s));
		return 1;
	}
	struct oci_spec sp;
	if (oci_spec_load(&sp, st.bundle, st.dir, false) < 0)
		return 1;
	if (process) {
		cJSON *pj = read_process(process);
		if (!pj || oci_spec_process(&sp, pj) < 0)
			return 1;
	} else {
		cJSON *pr = cJSON_Duplicate(
			cJSON_GetObjectItem(sp.json, "process"), 1);
		cJSON *args = cJSON_CreateStringArray(
			(const char *const *)argv + optind + 1,
			argc - optind - 1);
		cJSON_ReplaceItemInObject(pr, "args", args);
		cJSON_ReplaceItemInObject(pr, "terminal",
					  cJSON_CreateBool(tty));
		if (oci_spec_process(&sp, pr) < 0)
			return 1;
	}
	int t = -1;
	if (sp.terminal && console && (t = oci_console(console)) < 0)
		return 1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		oci_monitor(&sp, &st, -1, t);
	if (t >= 0)
		close(t);
	if (pid < 0 || oci_write_pid_file(pid_file, pid) < 0) {
		oci_err("exec: cannot fork the monitor: %s", strerror(errno));
		return 1;
	}
	return detach ? 0 : oci_wait_status(pid);
}

int oci_cmd_ps(int argc, char **argv)
{
	bool json = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--format=json"))
			json = true;
		else if ((!strcmp(argv[i], "--format") ||
			  !strcmp(argv[i], "-f")) &&
			 i + 1 < argc)
			json = !strcmp(argv[++i], "json");
		else
			oci_usage_err("ps: unknown option %s", argv[i]);
	}
	if (i != argc - 1)
		oci_usage_err("%s: expected one container ID", "ps");
	struct oci_state st;
	if (oci_state_read(argv[i], &st) < 0)
		return 1;
	if (oci_status(&st) == OCI_STOPPED) {
		oci_err("container %s is not running", st.id);
		return 1;
	}
	cJSON *pids = cJSON_CreateArray();
	char **runs = oci_runs(&st);
	for (char **p = runs; *p; p++) {
		cJSON *j = oci_ctl(&st, *p, "{\"cmd\":\"info\"}");
		const cJSON *v;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "pids"))
			cJSON_AddItemToArray(pids,
					     cJSON_CreateNumber(v->valueint));
		cJSON_Delete(j);
		free(*p);
	}
	free(runs);
	if (cJSON_GetArraySize(pids) == 0)
		cJSON_AddItemToArray(pids, cJSON_CreateNumber(st.pid));
	if (json) {
		char *s = cJSON_PrintUnformatted(pids);
		printf("%s\n", s);
		free(s);
	} else {
		printf("PID\tCMD\n");
		const cJSON *v;
		cJSON_ArrayForEach(v, pids)
		{
			char path[64], comm[64] = "?";
			snprintf(path, sizeof(path), "/proc/%d/comm",
				 v->valueint);
			FILE *f = fopen(path, "re");
			if (f && fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			if (f)
				fclose(f);
			printf("%d\t%s\n", v->valueint, comm);
		}
	}
	cJSON_Delete(pids);
	return 0;
}

int oci_cmd_pause(int argc, char **argv, bool pause)
{
	struct oci_state st;
	if (oci_state_read(one_id(argc, argv), &st) < 0)
		return 1;
	enum oci_status s = oci_status(&st);
	if (s != (pause ? OCI_RUNNING : OCI_PAUSED)) {
		oci_err("container %s is %s, not %s", st.id, oci_status_name(s),
			pause ? "running" : "paused");
		return 1;
	}
	const char *line =
		pause ? "{\"cmd\":\"pause\"}" : "{\"cmd\":\"resume\"}";
	int r = 0;
	char **runs = oci_runs(&st);
	for (char **p = runs; *p; p++) {
		cJSON *j = oci_ctl(&st, *p, line);
		if (!j && !strcmp(*p, st.id))
			r = 1;
		cJSON_Delete(j);
		free(*p);
	}
	free(runs);
	if (r)
		oci_err("container %s: its monitor did not answer", st.id);
	return r;
}

int oci_cmd_features(void)
{
	printf("{\n  \"ociVersionMin\": \"1.0.0\",\n  \"ociVersionMax\": "
	       "\"" OCI_VERSION "\",\n  \"hooks\": [],\n"
	       "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\"],\n"
	       "  \"linux\": {\n    \"namespaces\": [\"network\", \"pid\", "
	       "\"ipc\", \"uts\", \"mount\"],\n    \"capabilities\": [],\n"
	       "    \"cgroup\": {\"v1\": false, \"v2\": false},\n"
	       "    \"seccomp\": {\"enabled\": false},\n"
	       "    \"apparmor\": {\"enabled\": false},\n"
	       "    \"selinux\": {\"enabled\": false}\n  },\n"
	       "  \"annotations\": {\"io.mote.merge\": \"false\", "
	       "\"io.mote.aslr\": \"true\", \"io.mote.timeout\": \"\"}\n}\n");
	return 0;
}
