/* signalfd: a blocked SIGUSR1 read as a signalfd_siginfo, readiness for
 * poll and epoll, a blocking read woken by another process's kill, two
 * signals in one read, a mask update, a fork's child reading its own. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

static int readable(int fd, int ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	return poll(&pfd, 1, ms);
}

static void basics(int sfd)
{
	struct signalfd_siginfo si;
	CHECK_ERR(read(sfd, &si, sizeof(si)), EAGAIN);
	CHECK(readable(sfd, 0) == 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK(readable(sfd, 1000) == 1);
	CHECK(read(sfd, &si, sizeof(si)) == sizeof(si));
	CHECK(si.ssi_signo == SIGUSR1 && si.ssi_code == SI_USER);
	CHECK(si.ssi_pid == (uint32_t)getpid() && si.ssi_uid == getuid());
	CHECK(readable(sfd, 0) == 0);
	sigset_t pend;
	CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR1));
}

static void two_in_one(int sfd)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	CHECK(signalfd(sfd, &m, 0) == sfd); /* the mask grows */
	CHECK(kill(getpid(), SIGUSR2) == 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	struct signalfd_siginfo si[4];
	CHECK(read(sfd, si, sizeof(si)) == 2 * sizeof(si[0]));
	CHECK(si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2);
	/* Through epoll. */
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = 9}, out[2];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e) == 0);
	CHECK(epoll_wait(ep, out, 2, 0) == 0);
	CHECK(kill(getpid(), SIGUSR2) == 0);
	CHECK(epoll_wait(ep, out, 2, 1000) == 1 && out[0].data.u32 == 9);
	CHECK(read(sfd, si, sizeof(si)) == sizeof(si[0]));
	CHECK(si[0].ssi_signo == SIGUSR2);
	close(ep);
}

/* A blocking read that another process's kill ends. */
static void blocking(int sfd)
{
	CHECK(fcntl(sfd, F_SETFL, 0) == 0);
	pid_t parent = getpid();
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		struct timespec nap = {0, 50000000L};
		nanosleep(&nap, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct signalfd_siginfo si;
	CHECK(read(sfd, &si, sizeof(si)) == sizeof(si));
	CHECK(si.ssi_signo == SIGUSR1 && si.ssi_pid == (uint32_t)c);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(fcntl(sfd, F_SETFL, O_NONBLOCK) == 0);
}

/* The child's signalfd reads the child's signals, not the parent's. */
static void forked(int sfd)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		struct signalfd_siginfo si;
		CHECK(readable(sfd, 0) == 0);
		CHECK(kill(getpid(), SIGUSR2) == 0);
		CHECK(readable(sfd, 1000) == 1);
		CHECK(read(sfd, &si, sizeof(si)) == sizeof(si));
		CHECK(si.ssi_signo == SIGUSR2);
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(readable(sfd, 0) == 0);
}

static void errors(int sfd)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK_ERR(syscall(SYS_signalfd4, -1, BAD_PTR, 8, 0), EFAULT);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &m, 8, 0x1), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, 999, &m, 8, 0), EBADF);
	CHECK_ERR(syscall(SYS_signalfd4, p[0], &m, 8, 0), EINVAL);
	char small[64];
	CHECK_ERR(read(sfd, small, sizeof(small)), EINVAL);
	CHECK_ERR(write(sfd, small, sizeof(small)), EINVAL);
	/* A bad buffer loses the signal it was to take, as on Linux. */
	CHECK(kill(getpid(), SIGUSR1) == 0);
	CHECK_ERR(read(sfd, BAD_PTR, 128), EFAULT);
	CHECK(readable(sfd, 0) == 0);
}

int main(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(sfd >= 0 && fcntl(sfd, F_GETFD) == FD_CLOEXEC);
	basics(sfd);
	/* A signal pending before the signalfd exists is readable too. */
	CHECK(kill(getpid(), SIGUSR1) == 0);
	int sfd2 = syscall(SYS_signalfd, -1, &m, 8);
	CHECK(sfd2 >= 0 && readable(sfd2, 0) == 1);
	struct signalfd_siginfo si;
	CHECK(fcntl(sfd2, F_SETFL, O_NONBLOCK) == 0);
	CHECK(read(sfd2, &si, sizeof(si)) == sizeof(si));
	CHECK_ERR(read(sfd2, &si, sizeof(si)), EAGAIN);
	close(sfd2);
	two_in_one(sfd);
	blocking(sfd);
	forked(sfd);
	errors(sfd);
	success();
}
