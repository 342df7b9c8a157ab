/* config.json to lx_opts: what a container's spec asks and how mote's own
 * run gives it; what it cannot honour is an error or a warning, never
 * silence (docs/oci.md lists them). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "oci/oci.h"
#include "util.h"

static const cJSON *get(const cJSON *j, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(j, key);
}

static const char *get_str(const cJSON *j, const char *key)
{
	const cJSON *v = get(j, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A NULL-terminated copy of an array of strings, or NULL if j is not one. */
static char **str_array(const cJSON *j, int *n)
{
	if (!cJSON_IsArray(j))
		return NULL;
	int len = cJSON_GetArraySize(j);
	char **v = calloc((size_t)len + 1, sizeof(char *));
	if (!v)
		die(MOTE_EXIT_FAIL, "out of memory");
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, j)
	{
		if (!cJSON_IsString(e)) {
			free(v);
			return NULL;
		}
		v[i++] = e->valuestring;
	}
	if (n)
		*n = len;
	return v;
}

static bool has_path(char **env)
{
	for (char **e = env; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return true;
	return false;
}

static const char *env_path(char **env)
{
	for (char **e = env; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return LX_DEFAULT_PATH;
}

/* Opens guest path g inside the root (its symlinks stay inside). */
static int open_in_root(int root, const char *g)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT |
					  RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, root, g, &how, sizeof(how));
}

/* An executable regular file at guest path g: its host path into host. */
static bool exe_at(int root, const char *g, char *host, size_t len)
{
	int fd = open_in_root(root, g);
	struct stat st;
	bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		  (st.st_mode & 0111);
	if (ok) {
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, host, len - 1);
		ok = n > 0;
		if (ok)
			host[n] = 0;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Finds process.args[0] in the container's root as a shell in it would:
 * a name without '/' in the spec's PATH, else a path (from cwd). */
static int find_program(struct oci_spec *s)
{
	const char *name = s->o.argv[0];
	int root = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		oci_err("root.path %s: %s (the bundle's rootfs must be a "
			"directory)",
			s->rootfs, strerror(errno));
		return -1;
	}
	bool found = false;
	if (strchr(name, '/')) {
		if (name[0] == '/')
			snprintf(s->exe, sizeof(s->exe), "%s", name);
		else
			snprintf(s->exe, sizeof(s->exe), "%s/%s",
				 strcmp(s->o.cwd, "/") ? s->o.cwd : "", name);
		found = exe_at(root, s->exe, s->program, sizeof(s->program));
	}
	for (const char *p = env_path(s->o.envp); !found && *p;) {
		size_t n = strcspn(p, ":");
		snprintf(s->exe, sizeof(s->exe), "%.*s/%s", (int)n, p, name);
		found = n && p[0] == '/' &&
			exe_at(root, s->exe, s->program, sizeof(s->program));
		p += n + (p[n] == ':');
	}
	close(root);
	if (!found) {
		oci_err("process.args[0] %s: no such executable in the "
			"container's root %s (PATH %s)",
			name, s->rootfs, env_path(s->o.envp));
		return -1;
	}
	s->o.program = s->program;
	s->o.exe = s->exe;
	return 0;
}

/* ---- process ---- */

static int set_rlimit(struct oci_spec *s, const cJSON *r)
{
	const char *type = get_str(r, "type");
	const cJSON *hard = get(r, "hard"), *soft = get(r, "soft");
	if (!type || !cJSON_IsNumber(hard) || !cJSON_IsNumber(soft)) {
		oci_err("process.rlimits: each needs type, soft and hard");
		return -1;
	}
	double h = hard->valuedouble;
	if (!strcmp(type, "RLIMIT_NOFILE")) {
		s->o.max_fds = h > LX_NOFILE_MAX ? LX_NOFILE_MAX
			       : h < 4		 ? 4
						 : (uint32_t)h;
		if (h > LX_NOFILE_MAX)
			oci_warn("process.rlimits RLIMIT_NOFILE %.0f: mote's "
				 "cap is %d",
				 h, LX_NOFILE_MAX);
	} else if (!strcmp(type, "RLIMIT_FSIZE")) {
		s->o.fsize = (uint64_t)h;
		s->o.fsize_set = h < (double)RLIM_INFINITY;
	} else if (!strcmp(type, "RLIMIT_NPROC")) {
		oci_warn("process.rlimits RLIMIT_NPROC: not applied; "
			 "linux.resources.pids.limit (--pids) caps processes");
	} else {
		oci_warn("process.rlimits %s: not supported by mote, ignored",
			 type);
	}
	return 0;
}

static void warn_user(const cJSON *user)
{
	const cJSON *uid = get(user, "uid"), *gid = get(user, "gid");
	const cJSON *extra = get(user, "additionalGids");
	if ((cJSON_IsNumber(uid) && uid->valuedouble != geteuid()) ||
	    (cJSON_IsNumber(gid) && gid->valuedouble != getegid()))
		oci_warn("process.user %d:%d: the guest runs with the "
			 "monitor's ids %d:%d (run the engine as that user)",
			 cJSON_IsNumber(uid) ? uid->valueint : -1,
			 cJSON_IsNumber(gid) ? gid->valueint : -1,
			 (int)geteuid(), (int)getegid());
	if (cJSON_GetArraySize(extra) > 0)
		oci_warn("process.user.additionalGids: not applied");
}

int oci_spec_process(struct oci_spec *s, const cJSON *pr)
{
	if (!cJSON_IsObject(pr)) {
		oci_err("process: missing or not an object (the spec must "
			"say what to run)");
		return -1;
	}
	int n = 0;
	s->o.argv = str_array(get(pr, "args"), &n);
	if (!s->o.argv || n == 0) {
		oci_err("process.args: must be a non-empty array of strings");
		return -1;
	}
	const cJSON *env = get(pr, "env");
	char **e = env ? str_array(env, &n) : calloc(1, sizeof(char *));
	if (!e) {
		oci_err("process.env: must be an array of \"K=V\" strings");
		return -1;
	}
	if (!has_path(e)) {
		char **e2 = calloc((size_t)n + 2, sizeof(char *));
		memcpy(e2, e, (size_t)n * sizeof(char *));
		e2[n] = "PATH=" LX_DEFAULT_PATH;
		free(e);
		e = e2;
	}
	s->o.envp = e;
	const char *cwd = get_str(pr, "cwd");
	if (cwd && cwd[0] != '/') {
		oci_err("process.cwd %s: must be an absolute path", cwd);
		return -1;
	}
	s->o.cwd = cwd ? cwd : "/";
	s->terminal = cJSON_IsTrue(get(pr, "terminal"));
	if (get(pr, "user"))
		warn_user(get(pr, "user"));
	const cJSON *r;
	cJSON_ArrayForEach(r, get(pr, "rlimits")) if (set_rlimit(s, r) < 0)
		return -1;
	static const char *const ignored[] = {
		"capabilities", "apparmorProfile", "selinuxLabel",
		"oomScoreAdj", "noNewPrivileges"};
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		if (get(pr, ignored[i]))
			oci_warn("process.%s: not applied (a mote guest has no "
				 "host capabilities; the monitor's seccomp "
				 "and Landlock sandbox confine it)",
				 ignored[i]);
	return find_program(s);
}

/* ---- mounts ---- */

/* Served by mote's own /proc, /dev, /sys (or meaningless in a microVM). */
static bool mote_serves(const char *type, const char *dst)
{
	static const char *const types[] = {"proc",   "sysfs",	 "devpts",
					    "mqueue", "cgroup", "cgroup2"};
	static const char *const dsts[] = {"/proc", "/dev", "/dev/pts",
					   "/dev/shm", "/dev/mqueue", "/sys",
					   "/sys/fs/cgroup"};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (type && !strcmp(type, types[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(dsts); i++)
		if (!strcmp(dst, dsts[i]))
			return true;
	return false;
}

static bool has_option(const cJSON *m, const char *opt)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, get(m, "options")) if (cJSON_IsString(o) &&
						     !strcmp(o->valuestring,
							     opt)) return true;
	return false;
}

static void add_volume(struct oci_spec *s, const char *host,
		       const char *guest, bool rw)
{
	struct lx_opts *o = &s->o;
	o->volumes =
		realloc(o->volumes, (o->nvolumes + 1) * sizeof(*o->volumes));
	if (!o->volumes)
		die(MOTE_EXIT_FAIL, "out of memory");
	o->volumes[o->nvolumes++] = (struct lx_volume){host, guest, rw};
}

/* A single-file bind (podman's /etc/hosts, /etc/resolv.conf): mote's
 * volumes are directories, so the file is copied into the writable root. */
static int copy_file(struct oci_spec *s, const char *src, const char *dst)
{
	if (!s->o.root_rw) {
		oci_warn("mount %s: a single-file bind mount needs a writable "
			 "root (root.readonly false); not mounted",
			 dst);
		return 0;
	}
	int root = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {.flags = O_WRONLY | O_CREAT | O_TRUNC |
					O_CLOEXEC | O_NOFOLLOW,
			       .mode = 0644,
			       .resolve = RESOLVE_IN_ROOT};
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = root < 0 ? -1
			   : (int)syscall(SYS_openat2, root, dst, &how,
					  sizeof(how));
	int err = in < 0 || out < 0 ? errno : 0;
	char buf[65536];
	ssize_t n;
	while (!err && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			err = errno;
	if (root >= 0)
		close(root);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err)
		oci_warn("mount %s: cannot copy %s into the root: %s; not "
			 "mounted",
			 dst, src, strerror(err));
	return 0;
}

/* A tmpfs mount: a dir of the state dir, a rw volume, gone with delete. */
static int add_tmpfs(struct oci_spec *s, const char *state, int i,
		     const char *dst, bool make)
{
	char *dir;
	if (asprintf(&dir, "%s/tmpfs-%d", state, i) < 0)
		die(MOTE_EXIT_FAIL, "out of memory");
	if (make && mkdir(dir, 01777) < 0 && errno != EEXIST) {
		oci_err("mount %s: cannot make %s: %s", dst, dir,
			strerror(errno));
		return -1;
	}
	if (make)
		chmod(dir, 01777);
	add_volume(s, dir, dst, true);
	return 0;
}

static int add_mount(struct oci_spec *s, const cJSON *m, int i,
		     const char *state, bool make)
{
	const char *dst = get_str(m, "destination");
	const char *type = get_str(m, "type");
	const char *src = get_str(m, "source");
	if (!dst || dst[0] != '/') {
		oci_err("mounts[%d]: destination must be an absolute path", i);
		return -1;
	}
	if (mote_serves(type, dst))
		return 0;
	bool bind = (type && !strcmp(type, "bind")) ||
		    has_option(m, "bind") || has_option(m, "rbind");
	if (type && !strcmp(type, "tmpfs"))
		return add_tmpfs(s, state, i, dst, make);
	if (!bind) {
		oci_err("mount %s: type %s is not supported by mote (use a "
			"bind mount or tmpfs)",
			dst, type ? type : "(none)");
		return -1;
	}
	struct stat st;
	if (!src || stat(src, &st) < 0) {
		oci_err("mount %s: source %s: %s", dst, src ? src : "(none)",
			src ? strerror(errno) : "missing");
		return -1;
	}
	if (!strcmp(dst, "/")) {
		oci_err("mount /: use root.path for the container's root");
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		add_volume(s, src, dst, !has_option(m, "ro"));
		return 0;
	}
	return make ? copy_file(s, src, dst) : 0;
}

/* ---- linux ---- */

/* The first n of mote's CPUs, as --cpus N. */
static void set_cpus(struct oci_spec *s, long n)
{
	cpu_set_t own, set;
	if (sched_getaffinity(0, sizeof(own), &own) < 0)
		return;
	if (n > CPU_COUNT(&own) && n != CPU_SETSIZE)
		oci_warn("linux.resources.cpu: %ld CPUs asked, %d available; "
			 "using %d",
			 n, CPU_COUNT(&own), CPU_COUNT(&own));
	if (n > CPU_COUNT(&own))
		n = CPU_COUNT(&own);
	CPU_ZERO(&set);
	for (int i = 0, k = 0; i < CPU_SETSIZE && k < n; i++)
		if (CPU_ISSET(i, &own)) {
			CPU_SET(i, &set);
			k++;
		}
	memcpy(s->o.cpus, &set, sizeof(s->o.cpus));
	s->o.ncpus = (int)n;
}

static long count_cpuset(const char *list)
{
	long n = 0;
	for (const char *p = list; *p;) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += b - a + 1;
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	return n;
}

static int set_resources(struct oci_spec *s, const cJSON *r)
{
	const cJSON *mem = get(get(r, "memory"), "limit");
	if (cJSON_IsNumber(mem) && mem->valuedouble > 0) {
		uint64_t v = (uint64_t)mem->valuedouble;
		if (v < (16ULL << 20)) {
			oci_warn("linux.resources.memory.limit %llu: mote's "
				 "least is 16M; using 16M",
				 (unsigned long long)v);
			v = 16ULL << 20;
		}
		s->o.memory = ALIGN_UP(v, 2ULL << 20);
	}
	const cJSON *pids = get(get(r, "pids"), "limit");
	if (cJSON_IsNumber(pids) && pids->valuedouble > 0)
		s->o.pids = pids->valuedouble > 65536
				    ? 65536
				    : (uint32_t)pids->valuedouble;
	const cJSON *cpu = get(r, "cpu");
	const cJSON *quota = get(cpu, "quota"), *period = get(cpu, "period");
	const char *cpus = get_str(cpu, "cpus");
	if (cJSON_IsNumber(quota) && quota->valuedouble > 0 &&
	    cJSON_IsNumber(period) && period->valuedouble > 0) {
		long n = (long)((quota->valuedouble + period->valuedouble - 1) /
				period->valuedouble);
		set_cpus(s, n < 1 ? 1 : n);
	} else if (cpus && *cpus) {
		set_cpus(s, count_cpuset(cpus));
	}
	if (get(cpu, "shares") || get(r, "blockIO") || get(r, "hugepageLimits"))
		oci_warn("linux.resources: cpu shares, blockIO and hugepage "
			 "limits are not applied by mote");
	return 0;
}

static int set_namespaces(struct oci_spec *s, const cJSON *l)
{
	const cJSON *ns;
	bool netns = false;
	cJSON_ArrayForEach(ns, get(l, "namespaces"))
	{
		const char *type = get_str(ns, "type");
		const char *path = get_str(ns, "path");
		if (!type) {
			oci_err("linux.namespaces: each needs a type");
			return -1;
		}
		if (!strcmp(type, "network")) {
			netns = true;
			s->netns = path && *path ? (char *)path : NULL;
		} else if (!strcmp(type, "user")) {
			oci_warn("linux.namespaces user: not applied (the "
				 "guest has the monitor's ids)");
		} else if (path && *path) {
			oci_warn("linux.namespaces %s path %s: not joined "
				 "(mote's microVM is its own %s namespace)",
				 type, path, type);
		}
	}
	/* No network namespace: the host's network, as runc gives. */
	s->o.net = !netns || s->netns;
	if (get(l, "uidMappings") || get(l, "gidMappings"))
		oci_warn("linux.uidMappings/gidMappings: not applied");
	return 0;
}

static int set_linux(struct oci_spec *s, const cJSON *l)
{
	if (set_namespaces(s, l) < 0 ||
	    (get(l, "resources") && set_resources(s, get(l, "resources")) < 0))
		return -1;
	if (get(l, "seccomp"))
		oci_warn("linux.seccomp: not applied (the guest's calls are "
			 "served by mote under its own policy)");
	if (cJSON_GetArraySize(get(l, "sysctl")) > 0)
		oci_warn("linux.sysctl: not applied");
	if (get(l, "cgroupsPath"))
		oci_warn("linux.cgroupsPath: mote makes no cgroup; its limits "
			 "are --memory, --pids and --cpus");
	return 0;
}

/* ---- annotations: io.mote.* are mote's own options ---- */

static int set_annotation(struct oci_spec *s, const char *k, const char *v)
{
	if (!strcmp(k, "io.mote.merge")) {
		s->o.merge = !strcmp(v, "true");
	} else if (!strcmp(k, "io.mote.aslr")) {
		s->o.aslr = strcmp(v, "false") != 0;
	} else if (!strcmp(k, "io.mote.timeout")) {
		char *end;
		double t = strtod(v, &end);
		if (*end || t < 0.001) {
			oci_err("annotation io.mote.timeout=%s: expected "
				"seconds, like 30 or 0.5",
				v);
			return -1;
		}
		s->o.timeout_ns = (uint64_t)(t * 1e9);
		s->o.timeout_arg = v;
	} else {
		oci_err("annotation %s: unknown (mote's are io.mote.merge, "
			"io.mote.aslr, io.mote.timeout)",
			k);
		return -1;
	}
	return 0;
}

static int set_annotations(struct oci_spec *s)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, s->annotations)
	{
		if (strncmp(a->string, "io.mote.", 8))
			continue;
		if (!cJSON_IsString(a) ||
		    set_annotation(s, a->string, a->valuestring) < 0)
			return -1;
	}
	return 0;
}

/* ---- the whole ---- */

static cJSON *read_json(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		oci_err("%s: %s (is --bundle the bundle's directory?)", path,
			strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	cJSON *j = buf ? cJSON_ParseWithLength(buf, n) : NULL;
	free(buf);
	if (!j)
		oci_err("%s: not valid JSON", path);
	return j;
}

static int set_root(struct oci_spec *s, const char *bundle)
{
	const cJSON *root = get(s->json, "root");
	const char *path = get_str(root, "path");
	if (!path) {
		oci_err("config.json: root.path is missing (the container's "
			"root filesystem)");
		return -1;
	}
	char joined[4096];
	snprintf(joined, sizeof(joined), "%s/%s", bundle, path);
	if (!realpath(path[0] == '/' ? path : joined, s->rootfs)) {
		oci_err("root.path %s: %s", path, strerror(errno));
		return -1;
	}
	s->o.root = s->rootfs;
	s->o.root_rw = !cJSON_IsTrue(get(root, "readonly"));
	return 0;
}

int oci_spec_load(struct oci_spec *s, const char *bundle, const char *state,
		  bool make)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	*s = (struct oci_spec){0};
	s->o = (struct lx_opts){.memory = LX_DEFAULT_MEMORY,
				.pids = LX_DEFAULT_PIDS,
				.aslr = true,
				.t_start = mono_ns()};
	s->json = read_json(path);
	if (!s->json)
		return -1;
	if (!cJSON_IsObject(s->json)) {
		oci_err("%s: not a JSON object", path);
		return -1;
	}
	s->annotations = (cJSON *)get(s->json, "annotations");
	const char *host = get_str(s->json, "hostname");
	s->o.hostname = host && *host ? host : NULL;
	if (get(s->json, "hooks"))
		oci_warn("hooks: not run by mote");
	if (set_root(s, bundle) < 0 || set_linux(s, get(s->json, "linux")) ||
	    set_annotations(s) < 0)
		return -1;
	int i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, get(s->json, "mounts"))
	{
		if (add_mount(s, m, i++, state, make) < 0)
			return -1;
	}
	if (!s->o.ncpus)
		set_cpus(s, CPU_SETSIZE);
	return oci_spec_process(s, get(s->json, "process"));
}
