/* --max-file-size is RLIMIT_FSIZE: getrlimit shows it (soft and hard);
 * every way of growing a file stops at it (write and pwrite are cut
 * short, then fail with EFBIG and raise SIGXFSZ for the writing thread);
 * truncate, fallocate, sendfile, splice and copy_file_range too; files
 * below it and non-files are not touched; the guest may lower it and
 * raise it back up to the hard limit, never above; a forked child keeps
 * it and dies of SIGXFSZ under the default action.
 * Natively: prlimit --fsize=65536 lim_fsize.gcc (with /data writable). */
// mote-args: --max-file-size 64K --volume @TMP@:/data:rw
#define _GNU_SOURCE
#include "proc.h"
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define LIM (64 * 1024)

static volatile sig_atomic_t xfsz;
static void on_xfsz(int sig)
{
	(void)sig;
	xfsz++;
}

/* The call must fail with EFBIG and raise exactly one SIGXFSZ. */
#define CHECK_EFBIG(call)                                                      \
	do {                                                                   \
		int before_ = xfsz;                                            \
		CHECK_ERR(call, EFBIG);                                        \
		CHECK(xfsz == before_ + 1);                                    \
	} while (0)

static char buf[3 * LIM];

static void writes(int fd)
{
	int before = xfsz;
	/* Cut short at the limit, without a signal. */
	CHECK(write(fd, buf, 48 * 1024) == 48 * 1024);
	CHECK(write(fd, buf, 48 * 1024) == 16 * 1024);
	CHECK(xfsz == before);
	CHECK_EFBIG(write(fd, buf, 1));
	CHECK_EFBIG(pwrite(fd, buf, 10, LIM));
	CHECK_EFBIG(pwrite(fd, buf, 10, 10 * LIM));
	struct iovec iov[2] = {{buf, 100}, {buf, 100}};
	CHECK(lseek(fd, 0, SEEK_CUR) == LIM);
	CHECK_EFBIG(writev(fd, iov, 2));
	CHECK(lseek(fd, LIM - 150, SEEK_SET) == LIM - 150);
	CHECK(writev(fd, iov, 2) == 150);
	CHECK(pwrite(fd, buf, 4096, LIM - 1024) == 1024);
	/* Below the limit all is as usual. */
	CHECK(pwrite(fd, buf, 4096, 0) == 4096);
	CHECK(xfsz == before + 4);
}

static void growth(int fd)
{
	CHECK_EFBIG(ftruncate(fd, LIM + 1));
	CHECK_EFBIG(truncate("/data/f", 2 * LIM));
	CHECK(ftruncate(fd, LIM) == 0);
	CHECK(ftruncate(fd, 100) == 0);
	CHECK_EFBIG(fallocate(fd, 0, 0, LIM + 4096));
	CHECK(fallocate(fd, 0, 0, 4096) == 0);

	/* Into the file from a pipe and from another file. */
	int src = open("/data/src", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(src >= 0);
	CHECK(write(src, buf, 8192) == 8192);
	off_t off = 0;
	CHECK(lseek(fd, LIM, SEEK_SET) == LIM);
	CHECK_EFBIG(sendfile(fd, src, &off, 8192));
	loff_t in = 0, out = LIM;
	CHECK_EFBIG(copy_file_range(src, &in, fd, &out, 8192, 0));
	out = LIM - 10;
	in = 0;
	CHECK(copy_file_range(src, &in, fd, &out, 8192, 0) == 10);
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], buf, 100) == 100);
	out = LIM;
	CHECK_EFBIG(splice(p[0], NULL, fd, &out, 100, 0));
	close(p[0]);
	close(p[1]);
	close(src);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == LIM);
}

/* A pipe is no file: no limit. */
static void not_files(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 2 * LIM) >= 2 * LIM);
	CHECK(write(p[1], buf, LIM + 4096) == LIM + 4096);
	close(p[0]);
	close(p[1]);
}

static void limits(int fd)
{
	struct rlimit r;
	CHECK(getrlimit(RLIMIT_FSIZE, &r) == 0);
	CHECK(r.rlim_cur == LIM && r.rlim_max == LIM);
	r.rlim_cur = 4096;
	CHECK(setrlimit(RLIMIT_FSIZE, &r) == 0);
	CHECK(pwrite(fd, buf, 8192, 0) == 4096);
	CHECK_EFBIG(pwrite(fd, buf, 1, 4096));
	/* /proc files are made by the monitor; a lowered soft limit is no
	 * matter for them. */
	int m = open("/proc/self/maps", O_RDONLY);
	CHECK(m >= 0);
	CHECK(read(m, buf, sizeof(buf)) > 0);
	close(m);
	r.rlim_cur = LIM;
	CHECK(setrlimit(RLIMIT_FSIZE, &r) == 0);
	CHECK(pwrite(fd, buf, 1, 4096) == 1);
	r.rlim_cur = r.rlim_max = LIM + 1;
	CHECK_ERR(setrlimit(RLIMIT_FSIZE, &r), EPERM);
	r = (struct rlimit){RLIM_INFINITY, LIM};
	CHECK_ERR(setrlimit(RLIMIT_FSIZE, &r), EINVAL);
}

/* The default action of SIGXFSZ ends the process (with a core). */
static void child_dies(void)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_DFL);
		int fd = open("/data/g", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || pwrite(fd, buf, 1, LIM) >= 0)
			_exit(1);
		_exit(2);
	}
	int st = wait_for(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ);
}

int main(void)
{
	signal(SIGXFSZ, on_xfsz);
	memset(buf, 'x', sizeof(buf));
	int fd = open("/data/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	writes(fd);
	growth(fd);
	not_files();
	limits(fd);
	child_dies();
	CHECK(close(fd) == 0);
	success();
}
