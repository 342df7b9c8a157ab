/* poll, ppoll, select and pselect6 on pipes: ready, timeout, bad fds. */
#define _GNU_SOURCE
#include "guest.h"
#include <poll.h>
#include <sys/select.h>
#include <time.h>

#define MS 1000000LL

static long long now_ns(void)
{
	struct timespec ts;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void polls(int r, int w)
{
	struct pollfd f[3] = {{r, POLLIN, 7}, {w, POLLOUT, 7}, {-1, POLLIN, 7}};
	CHECK(poll(f, 3, 0) == 1);
	CHECK(f[0].revents == 0 && f[1].revents == POLLOUT);
	CHECK(f[2].revents == 0);
	CHECK(write(w, "x", 1) == 1);
	CHECK(poll(f, 3, -1) == 2);
	CHECK(f[0].revents == POLLIN && f[1].revents == POLLOUT);
	char c;
	CHECK(read(r, &c, 1) == 1);

	long long t0 = now_ns();
	CHECK(poll(f, 1, 20) == 0 && f[0].revents == 0);
	CHECK(now_ns() - t0 >= 19 * MS);

	/* A closed fd is reported, and counts as ready. */
	struct pollfd bad[2] = {{r, POLLIN, 0}, {77, POLLIN, 0}};
	CHECK(poll(bad, 2, 1000) == 1);
	CHECK(bad[0].revents == 0 && bad[1].revents == POLLNVAL);
	CHECK(syscall(SYS_poll, NULL, 0, 0) == 0);
	CHECK_ERR(syscall(SYS_poll, f, 1025, 0), EINVAL);
	CHECK_ERR(syscall(SYS_poll, BAD_PTR, 1, 0), EFAULT);
}

static void ppolls(int r, int w)
{
	struct pollfd f = {r, POLLIN, 0};
	struct timespec ts = {0, 20 * MS};
	long long t0 = now_ns();
	CHECK(syscall(SYS_ppoll, &f, 1, &ts, NULL, 8) == 0);
	CHECK(now_ns() - t0 >= 19 * MS);
	CHECK(write(w, "x", 1) == 1);
	CHECK(syscall(SYS_ppoll, &f, 1, NULL, NULL, 8) == 1);
	CHECK(f.revents == POLLIN);
	unsigned long long mask = 0;
	CHECK(syscall(SYS_ppoll, &f, 1, &ts, &mask, 8) == 1);
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &ts, &mask, 4), EINVAL);
	struct timespec bad = {0, 1000000000};
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &bad, NULL, 8), EINVAL);
	bad = (struct timespec){-1, 0};
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, &bad, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_ppoll, &f, 1, BAD_PTR, NULL, 8), EFAULT);
	char c;
	CHECK(read(r, &c, 1) == 1);
	/* The peer went away: the reader gets POLLHUP. */
	int p[2];
	CHECK(pipe(p) == 0 && close(p[1]) == 0);
	f.fd = p[0];
	CHECK(poll(&f, 1, 0) == 1 && (f.revents & POLLHUP));
	CHECK(close(p[0]) == 0);
}

static void selects(int r, int w)
{
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(r, &rd);
	FD_SET(w, &wr);
	struct timeval tv = {0, 0};
	CHECK(select(w + 1, &rd, &wr, NULL, &tv) == 1);
	CHECK(!FD_ISSET(r, &rd) && FD_ISSET(w, &wr));

	CHECK(write(w, "x", 1) == 1);
	FD_SET(r, &rd);
	CHECK(select(w + 1, &rd, &wr, NULL, NULL) == 2);
	CHECK(FD_ISSET(r, &rd) && FD_ISSET(w, &wr));
	char c;
	CHECK(read(r, &c, 1) == 1);

	FD_ZERO(&rd);
	FD_SET(r, &rd);
	tv = (struct timeval){0, 20000};
	long long t0 = now_ns();
	CHECK(select(r + 1, &rd, NULL, NULL, &tv) == 0);
	CHECK(now_ns() - t0 >= 19 * MS);
	CHECK(!FD_ISSET(r, &rd));

	/* An fd beyond nfds is not looked at. */
	FD_SET(90, &rd);
	tv = (struct timeval){0, 0};
	CHECK(syscall(SYS_select, 90, &rd, NULL, NULL, &tv) == 0);
	FD_SET(90, &rd);
	CHECK_ERR(syscall(SYS_select, 91, &rd, NULL, NULL, &tv), EBADF);
	CHECK_ERR(syscall(SYS_select, -1, &rd, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){0, 1000000};
	CHECK_ERR(syscall(SYS_select, 1, NULL, NULL, NULL, &tv), EINVAL);
	CHECK_ERR(syscall(SYS_select, 91, BAD_PTR, NULL, NULL, NULL), EFAULT);
	tv = (struct timeval){0, 0};
	CHECK(syscall(SYS_select, 0, NULL, NULL, NULL, &tv) == 0);
}

static void pselects(int r, int w)
{
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(r, &rd);
	struct timespec ts = {0, 20 * MS};
	long long t0 = now_ns();
	CHECK(syscall(SYS_pselect6, r + 1, &rd, NULL, NULL, &ts, NULL) == 0);
	CHECK(now_ns() - t0 >= 19 * MS);
	CHECK(write(w, "x", 1) == 1);
	FD_SET(r, &rd);
	unsigned long long mask = 0;
	struct {
		void *set;
		size_t size;
	} sig = {&mask, 8};
	CHECK(syscall(SYS_pselect6, r + 1, &rd, NULL, NULL, &ts, &sig) == 1);
	CHECK(FD_ISSET(r, &rd));
	sig.size = 4;
	CHECK_ERR(syscall(SYS_pselect6, r + 1, &rd, NULL, NULL, &ts, &sig),
		  EINVAL);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(syscall(SYS_pselect6, r + 1, &rd, NULL, NULL, &ts, NULL),
		  EINVAL);
	char c;
	CHECK(read(r, &c, 1) == 1);
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	polls(p[0], p[1]);
	ppolls(p[0], p[1]);
	selects(p[0], p[1]);
	pselects(p[0], p[1]);
	success();
}
