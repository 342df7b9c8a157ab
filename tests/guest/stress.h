/* Shared by the fork stress tests: with the argument "hold" the program
 * stops before and after its work (printing "hold before" / "hold after"
 * and reading one byte from stdin each time), so that tests/suites/stress.sh
 * can look at the host processes, threads and fds of the run at those
 * points; one fork + wait comes before the first stop, so that whatever
 * the monitor sets up once, on a first fork, is in both pictures. The open
 * guest fds at the end must be those at the start. */
#ifndef MOTE_TEST_STRESS_H
#define MOTE_TEST_STRESS_H

#include "proc.h"

#define STRESS_FDS 64

struct fd_snapshot {
	char open[STRESS_FDS];
};

static inline void fd_snap(struct fd_snapshot *s)
{
	for (int fd = 0; fd < STRESS_FDS; fd++)
		s->open[fd] = fcntl(fd, F_GETFD) != -1;
}

static inline void fd_same(const struct fd_snapshot *before)
{
	struct fd_snapshot now;
	fd_snap(&now);
	for (int fd = 0; fd < STRESS_FDS; fd++)
		if (now.open[fd] != before->open[fd]) {
			printf("FAIL: fd %d %s\n", fd,
			       now.open[fd] ? "leaked" : "lost");
			exit(1);
		}
}

/* With "hold": reports `what` on stdout and waits for a byte on stdin. */
static inline void hold(int argc, char **argv, const char *what)
{
	char c;
	if (argc < 2 || strcmp(argv[1], "hold"))
		return;
	if (!strcmp(what, "before")) {
		pid_t pid = fork_checked();
		if (pid == 0)
			_exit(0);
		wait_exit(pid, 0);
	}
	printf("hold %s\n", what);
	fflush(stdout);
	CHECK(read(0, &c, 1) == 1);
}

#endif
