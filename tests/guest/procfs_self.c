/* The guest's own /proc/self: maps shows its stack, a mapped file by its
 * guest path and an anonymous mapping with the right permissions; status
 * and task/ count its threads; fd/ lists and names its fds (a file, a
 * pipe) and reopens them; cmdline is argv; exe, cwd and /dev/fd lead where
 * Linux's do. Nothing of the host's /proc shows, nothing is writable, and
 * bad pointers give EFAULT. */
// args: one "two words" three
#define _GNU_SOURCE
#include "guest.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char buf[65536];

/* Reads a whole file into buf (NUL-terminated); returns its length. */
static long slurp(const char *path)
{
	long fd = syscall(SYS_open, path, O_RDONLY, 0);
	CHECK(fd >= 0);
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	CHECK(r == 0 && close(fd) == 0);
	buf[n] = 0;
	return n;
}

/* The maps line whose range holds addr, copied into line. */
static int maps_line(uintptr_t addr, char *line, size_t len)
{
	slurp("/proc/self/maps");
	for (char *s = buf; *s;) {
		char *nl = strchr(s, '\n');
		CHECK(nl);
		unsigned long lo, hi;
		CHECK(sscanf(s, "%lx-%lx", &lo, &hi) == 2);
		if (addr >= lo && addr < hi) {
			snprintf(line, len, "%.*s", (int)(nl - s), s);
			return 1;
		}
		s = nl + 1;
	}
	return 0;
}

static void maps(void)
{
	char line[512];
	int local = 0;
	CHECK(maps_line((uintptr_t)&local, line, sizeof(line)));
	CHECK(strstr(line, " rw-p ") && strstr(line, "[stack]"));
	long fd = syscall(SYS_open, "/etc/passwd", O_RDONLY, 0);
	CHECK(fd >= 0);
	void *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	CHECK(maps_line((uintptr_t)f, line, sizeof(line)));
	char ino[32];
	snprintf(ino, sizeof(ino), " %lu ", (unsigned long)st.st_ino);
	CHECK(strstr(line, " r--p 00000000 ") && strstr(line, ino));
	CHECK(strlen(line) > 12 &&
	      strcmp(line + strlen(line) - 12, " /etc/passwd") == 0);
	char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	CHECK(mprotect(a + 4096, 4096, PROT_NONE) == 0);
	CHECK(maps_line((uintptr_t)a, line, sizeof(line)));
	char want[64];
	snprintf(want, sizeof(want), "%08lx-%08lx rw-p 00000000 00:00 0",
		 (unsigned long)a, (unsigned long)a + 4096);
	CHECK(strncmp(line, want, strlen(want)) == 0);
	CHECK(maps_line((uintptr_t)a + 4096, line, sizeof(line)));
	CHECK(strstr(line, " ---p "));
	CHECK(munmap(a, 3 * 4096) == 0 && munmap(f, 4096) == 0);
	CHECK(!maps_line((uintptr_t)a, line, sizeof(line)));
	CHECK(close(fd) == 0);
}

/* The value of a "Key:\t..." line of /proc/self/status. */
static long status_field(const char *key)
{
	slurp("/proc/self/status");
	char *s = strstr(buf, key);
	CHECK(s && s[strlen(key)] == ':');
	return strtol(s + strlen(key) + 1, NULL, 10);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	CHECK(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	CHECK(closedir(d) == 0);
	return n;
}

static volatile int go;

static void *idle(void *arg)
{
	while (!go)
		sched_yield();
	return arg;
}

static void status(void)
{
	CHECK(status_field("Pid") == getpid());
	CHECK(status_field("Tgid") == getpid());
	CHECK(status_field("PPid") == getppid());
	CHECK(status_field("Threads") == 1);
	CHECK(count_entries("/proc/self/task") == 1);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, idle, NULL) == 0);
	CHECK(status_field("Threads") == 2);
	CHECK(count_entries("/proc/self/task") == 2);
	go = 1;
	CHECK(pthread_join(th, NULL) == 0);
	/* The blocked mask is the calling thread's. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	slurp("/proc/self/status");
	CHECK(strstr(buf, "SigBlk:\t0000000000000200\n"));
	CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
	char want[64];
	slurp("/proc/self/stat");
	snprintf(want, sizeof(want), "%d (", getpid());
	CHECK(strncmp(buf, want, strlen(want)) == 0);
	char *f = strrchr(buf, ')');
	int fields = 2;
	for (char *s = f + 1; *s; s++)
		fields += *s == ' ';
	CHECK(fields == 52);
}

static void fds(void)
{
	char link[256], path[64];
	int p[2];
	CHECK(pipe(p) == 0);
	long fd = syscall(SYS_open, "/etc/passwd", O_RDONLY, 0);
	CHECK(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	long n = readlink(path, link, sizeof(link));
	CHECK(n == 11 && memcmp(link, "/etc/passwd", 11) == 0);
	struct stat st, lst;
	CHECK(fstat(p[0], &st) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	n = readlink(path, link, sizeof(link));
	char want[64];
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	CHECK(n == (long)strlen(want) && memcmp(link, want, n) == 0);
	CHECK(lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode));
	CHECK(stat(path, &lst) == 0 && S_ISFIFO(lst.st_mode) &&
	      lst.st_ino == st.st_ino);
	/* fd/N opens the object anew: the pipe's write end is the same. */
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	long w = syscall(SYS_open, path, O_WRONLY, 0);
	CHECK(w >= 0 && write(w, "x", 1) == 1 && close(w) == 0);
	CHECK(read(p[0], link, 1) == 1 && link[0] == 'x');
	/* The listing has exactly the open fds. */
	DIR *d = opendir("/proc/self/fd");
	CHECK(d);
	int seen = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		long n = strtol(e->d_name, NULL, 10);
		CHECK(e->d_type == DT_LNK && fcntl(n, F_GETFD) >= 0);
		seen |= (n == fd) | (n == p[0]) << 1 | (n == p[1]) << 2 |
			(n == dirfd(d)) << 3;
	}
	CHECK(seen == 15 && closedir(d) == 0);
	/* A file reopened through fd/N reads from its start. */
	char c;
	CHECK(read(fd, &c, 1) == 1);
	snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	long r = syscall(SYS_open, path, O_RDONLY, 0);
	CHECK(r >= 0 && read(r, link, 5) == 5 && memcmp(link, "root:", 5) == 0);
	CHECK_ERR(syscall(SYS_open, path, O_WRONLY, 0), EROFS);
	CHECK_ERR(syscall(SYS_open, path, O_RDONLY | O_NOFOLLOW, 0), ELOOP);
	CHECK(close(r) == 0 && close(fd) == 0);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
	CHECK_ERR(readlink(path, link, sizeof(link)), ENOENT);
}

static void cmdline(int argc, char **argv)
{
	long n = slurp("/proc/self/cmdline");
	long at = 0;
	for (int i = 0; i < argc; i++) {
		CHECK(at < n && strcmp(buf + at, argv[i]) == 0);
		at += strlen(argv[i]) + 1;
	}
	CHECK(at == n);
	slurp("/proc/self/comm");
	CHECK(strchr(buf, '\n') && strlen(buf) <= 16);
	slurp("/proc/self/environ");
	CHECK(strncmp(buf, "PATH=", 5) == 0);
}

static void links(const char *argv0)
{
	char link[256], cwd[256];
	long n = readlink("/proc/self/exe", link, sizeof(link));
	const char *base =
		strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	CHECK(n > 0 && link[0] == '/' &&
	      memcmp(link + n - strlen(base), base, strlen(base)) == 0);
	struct stat a, b;
	CHECK(stat("/proc/self/exe", &a) == 0 && S_ISREG(a.st_mode));
	long fd = syscall(SYS_open, "/proc/self/exe", O_RDONLY, 0);
	CHECK(fd >= 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino);
	CHECK(read(fd, link, 4) == 4 && memcmp(link, "\177ELF", 4) == 0);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_open, "/proc/self/exe", O_RDWR, 0), ETXTBSY);
	CHECK(getcwd(cwd, sizeof(cwd)));
	n = readlink("/proc/self/cwd", link, sizeof(link));
	CHECK(n == (long)strlen(cwd) && memcmp(link, cwd, n) == 0);
	n = readlink("/proc/self", link, sizeof(link));
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK(n == (long)strlen(pid) && memcmp(link, pid, n) == 0);
	CHECK(stat("/proc/self/root/etc/passwd", &a) == 0 &&
	      stat("/etc/passwd", &b) == 0 && a.st_ino == b.st_ino);
	CHECK(stat("/proc/self/cwd/.", &a) == 0 && S_ISDIR(a.st_mode));
	n = readlink("/dev/stdin", link, sizeof(link));
	CHECK(n == 15 && memcmp(link, "/proc/self/fd/0", 15) == 0);
	CHECK(lstat("/proc/self", &a) == 0 && S_ISLNK(a.st_mode));
	CHECK(stat("/proc/self", &a) == 0 && S_ISDIR(a.st_mode));
	CHECK(stat("/proc/thread-self/status", &a) == 0 && S_ISREG(a.st_mode));
	/* A /proc directory works as a dirfd and as the cwd. */
	long d = syscall(SYS_open, "/proc/self", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0);
	long s = syscall(SYS_openat, d, "status", O_RDONLY, 0);
	CHECK(s >= 0 && close(s) == 0);
	CHECK(fchdir(d) == 0 && access("maps", R_OK) == 0);
	CHECK(chdir(cwd) == 0 && close(d) == 0);
}

static void refused(void)
{
	struct stat st;
	char b[64];
	CHECK_ERR(syscall(SYS_open, "/proc/self/status", O_WRONLY, 0), EACCES);
	CHECK_ERR(syscall(SYS_open, "/proc/self/status", O_RDWR, 0), EACCES);
	CHECK_ERR(syscall(SYS_open, "/proc/cpuinfo", O_WRONLY | O_TRUNC, 0),
		  EACCES);
	CHECK_ERR(syscall(SYS_open, "/proc/self", O_WRONLY, 0), EISDIR);
	CHECK_ERR(syscall(SYS_open, "/proc/self/status", O_CREAT | O_EXCL, 0),
		  EEXIST);
	CHECK_ERR(syscall(SYS_open, "/proc/new", O_CREAT | O_WRONLY, 0644),
		  ENOENT);
	CHECK_ERR(syscall(SYS_mkdir, "/proc/x", 0755), EACCES);
	CHECK_ERR(syscall(SYS_unlink, "/proc/self/status"), EACCES);
	CHECK_ERR(syscall(SYS_chmod, "/proc/self/status", 0666), EROFS);
	CHECK_ERR(syscall(SYS_truncate, "/proc/self/status", 0L), EROFS);
	CHECK_ERR(syscall(SYS_access, "/proc/self/status", W_OK), EACCES);
	CHECK(syscall(SYS_access, "/proc/self/status", R_OK) == 0);
	long fd = syscall(SYS_open, "/proc/self/status", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0), ENODEV);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
	CHECK(close(fd) == 0);
	/* Other processes' entries are not there: never the host's. */
	if (getpid() != 1) {
		CHECK_ERR(syscall(SYS_open, "/proc/1/cmdline", O_RDONLY, 0),
			  ENOENT);
		CHECK_ERR(syscall(SYS_stat, "/proc/1", &st), ENOENT);
		CHECK_ERR(readlink("/proc/1/exe", b, sizeof(b)), ENOENT);
	}
	CHECK_ERR(syscall(SYS_open, "/proc/self/mem", O_RDONLY, 0), ENOENT);
	CHECK_ERR(syscall(SYS_open, "/proc/self/fd/999", O_RDONLY, 0), ENOENT);
	CHECK_ERR(syscall(SYS_open, "/proc/self/status/x", O_RDONLY, 0),
		  ENOTDIR);
	CHECK_ERR(syscall(SYS_open, "/proc/kcore", O_RDONLY, 0), ENOENT);
	CHECK_ERR(syscall(SYS_open, "/proc/self/fd/00", O_RDONLY, 0), ENOENT);
	/* Bad pointers. */
	CHECK_ERR(syscall(SYS_open, BAD_PTR, O_RDONLY, 0), EFAULT);
	CHECK_ERR(readlink("/proc/self/exe", BAD_PTR, 64), EFAULT);
	CHECK_ERR(readlink("/proc/self/fd/0", SHIM_PTR, 64), EFAULT);
	CHECK_ERR(syscall(SYS_stat, "/proc/self/maps", BAD_PTR), EFAULT);
	fd = syscall(SYS_open, "/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	CHECK_ERR(syscall(SYS_getdents64, fd, BAD_PTR, 4096), EFAULT);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 0x7fffffff), EFAULT);
	CHECK_ERR(read(fd, buf, 1), EISDIR);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_getdents64, 999, buf, sizeof(buf)), EBADF);
}

int main(int argc, char **argv)
{
	maps();
	status();
	fds();
	cmdline(argc, argv);
	links(argv[0]);
	refused();
	success();
}
