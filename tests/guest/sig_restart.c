/* A signal handler interrupting a blocked system call: without SA_RESTART
 * read, wait4 and futex(FUTEX_WAIT) return EINTR; with SA_RESTART read and
 * wait4 are restarted and return what arrives later (from a child); poll
 * and nanosleep return EINTR even with SA_RESTART, nanosleep with the time
 * left. The signal is a SIGALRM from a 100 ms timer. */
#define _GNU_SOURCE
#include "futex.h"
#include "proc.h"
#include <poll.h>
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* Installs the handler and arms a one-shot 100 ms timer. */
static void arm(int flags)
{
	struct sigaction sa;
	struct itimerval it;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 100000;
	alarms = 0;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

/* A child that sleeps `ms` then writes "late" into fd and exits 0. */
static pid_t late_writer(int fd, long ms)
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		sleep_ms(ms);
		_exit(write(fd, "late", 4) == 4 ? 0 : 1);
	}
	return pid;
}

static void reads(void)
{
	int p[2];
	char buf[8];
	CHECK(pipe(p) == 0);
	arm(0);
	long long t0 = now_ms();
	CHECK(read(p[0], buf, sizeof(buf)) == -1 && errno == EINTR);
	CHECK(alarms == 1 && now_ms() - t0 >= 90);

	pid_t pid = late_writer(p[1], 400);
	arm(SA_RESTART);
	t0 = now_ms();
	CHECK(read(p[0], buf, sizeof(buf)) == 4 && !memcmp(buf, "late", 4));
	CHECK(alarms == 1 && now_ms() - t0 >= 390);
	wait_exit(pid, 0);

	/* poll is not restarted, SA_RESTART or not. */
	struct pollfd pf = {p[0], POLLIN, 0};
	arm(SA_RESTART);
	CHECK(poll(&pf, 1, 2000) == -1 && errno == EINTR && alarms == 1);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
}

static void waits(void)
{
	int p[2], st;
	CHECK(pipe(p) == 0);
	pid_t pid = late_writer(p[1], 400);
	arm(0);
	CHECK(waitpid(pid, &st, 0) == -1 && errno == EINTR && alarms == 1);
	arm(SA_RESTART);
	CHECK(waitpid(pid, &st, 0) == pid && alarms == 1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
}

static void sleeps(void)
{
	struct timespec req = {2, 0}, rem = {0, 0};
	arm(SA_RESTART);
	long long t0 = now_ms();
	CHECK(nanosleep(&req, &rem) == -1 && errno == EINTR);
	CHECK(alarms == 1 && now_ms() - t0 < 1500);
	CHECK(rem.tv_sec >= 1 || rem.tv_nsec > 400000000);
	CHECK(rem.tv_sec < 2);
}

static void futex_wait(void)
{
	static int word;
	arm(0);
	CHECK(futex(&word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0) ==
	      -1);
	CHECK(errno == EINTR && alarms == 1);
}

int main(void)
{
	reads();
	waits();
	sleeps();
	futex_wait();
	success();
}
