/* Signals and threads: pthread_kill / tgkill reach the chosen thread (its
 * handler sees its own gettid); a process-directed kill goes to a thread
 * that does not block the signal; signal masks are per thread; a handler
 * interrupting pthread_cond_wait does not break the wait, nor is it lost
 * when it comes just as the thread blocks (in a futex wait or a read of an
 * empty pipe: many signals sent back to back); tgkill with a wrong thread
 * group fails. */
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

/* Signals sent one after the other to a thread that blocks again as soon
 * as each is handled. */
#define ROUNDS 100

static volatile long handled_by[65];
static volatile int handled_count[65];

static void on_sig(int sig)
{
	handled_by[sig] = syscall(SYS_gettid);
	handled_count[sig]++;
}

static void handle(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static sigset_t just(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	return s;
}

struct sleeper {
	int sig;
	volatile long tid;
	volatile int ready;
};

/* Blocks its signal, reports its tid, then sleeps in sigsuspend with the
 * signal open until its handler has run. */
static void *sleeper(void *arg)
{
	struct sleeper *s = arg;
	sigset_t blk = just(s->sig), open_mask;
	pthread_sigmask(SIG_BLOCK, &blk, &open_mask);
	sigdelset(&open_mask, s->sig);
	s->tid = syscall(SYS_gettid);
	__atomic_store_n(&s->ready, 1, __ATOMIC_SEQ_CST);
	while (handled_count[s->sig] == 0)
		sigsuspend(&open_mask);
	return NULL;
}

static void wait_ready(struct sleeper *s)
{
	while (!__atomic_load_n(&s->ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
}

static void directed(void)
{
	struct sleeper s = {SIGUSR1, 0, 0};
	pthread_t t;
	handle(SIGUSR1);
	/* The main thread blocks it too, so only the target can take it. */
	sigset_t blk = just(SIGUSR1), old;
	CHECK(pthread_sigmask(SIG_BLOCK, &blk, &old) == 0);
	CHECK(pthread_create(&t, NULL, sleeper, &s) == 0);
	wait_ready(&s);
	CHECK(pthread_kill(t, SIGUSR1) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(handled_by[SIGUSR1] == s.tid && s.tid != getpid());
	CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);

	/* tgkill to the same kind of target. */
	struct sleeper s2 = {SIGUSR2, 0, 0};
	handle(SIGUSR2);
	blk = just(SIGUSR2);
	CHECK(pthread_sigmask(SIG_BLOCK, &blk, &old) == 0);
	CHECK(pthread_create(&t, NULL, sleeper, &s2) == 0);
	wait_ready(&s2);
	/* A wrong thread group: no such process (EPERM if the monitor
	 * refuses the pid as outside the run's tree first). */
	errno = 0;
	CHECK(syscall(SYS_tgkill, getpid() + 100000, s2.tid, SIGUSR2) == -1);
	CHECK(errno == ESRCH || errno == EPERM);
	CHECK(syscall(SYS_tgkill, getpid(), s2.tid, SIGUSR2) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(handled_by[SIGUSR2] == s2.tid);
	CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
}

/* kill(getpid()) while the main thread blocks the signal: the worker,
 * sleeping with it open, takes it. */
static void process_directed(void)
{
	struct sleeper s = {SIGHUP, 0, 0};
	pthread_t t;
	handle(SIGHUP);
	sigset_t blk = just(SIGHUP), old, now;
	CHECK(pthread_sigmask(SIG_BLOCK, &blk, &old) == 0);
	CHECK(pthread_create(&t, NULL, sleeper, &s) == 0);
	wait_ready(&s);
	CHECK(kill(getpid(), SIGHUP) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(handled_by[SIGHUP] == s.tid);
	/* The worker's sigsuspend did not change this thread's mask. */
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0);
	CHECK(sigismember(&now, SIGHUP));
	CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int flag;
static volatile long waiter_tid;

static void *cond_waiter(void *arg)
{
	pthread_mutex_lock(&lock);
	waiter_tid = syscall(SYS_gettid);
	while (!flag)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void interrupted_wait(void)
{
	pthread_t t;
	handle(SIGWINCH);
	CHECK(pthread_create(&t, NULL, cond_waiter, NULL) == 0);
	while (!waiter_tid)
		sleep_ms(1);
	sleep_ms(50);
	for (int i = 0; i < ROUNDS; i++) {
		long long t0 = now_ms();
		CHECK(pthread_kill(t, SIGWINCH) == 0);
		while (handled_count[SIGWINCH] == i) {
			CHECK(now_ms() - t0 < 10000);
			sleep_ms(1);
		}
	}
	pthread_mutex_lock(&lock);
	flag = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(handled_count[SIGWINCH] == ROUNDS);
	CHECK(handled_by[SIGWINCH] == waiter_tid);
}

static int pipefd[2];
static volatile long reader_tid;

static void *reader(void *arg)
{
	(void)arg;
	reader_tid = syscall(SYS_gettid);
	char c;
	ssize_t n;
	while ((n = read(pipefd[0], &c, 1)) < 0 && errno == EINTR)
		;
	CHECK(n == 1);
	return NULL;
}

/* A handler without SA_RESTART: each signal ends the read with EINTR and
 * the reader reads again at once, so the next signal tends to come just as
 * it blocks. */
static void interrupted_read(void)
{
	pthread_t t;
	handle(SIGPWR);
	CHECK(pipe(pipefd) == 0);
	CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
	while (!reader_tid)
		sleep_ms(1);
	for (int i = 0; i < ROUNDS; i++) {
		long long t0 = now_ms();
		CHECK(pthread_kill(t, SIGPWR) == 0);
		while (handled_count[SIGPWR] == i) {
			CHECK(now_ms() - t0 < 10000);
			sched_yield();
		}
	}
	CHECK(write(pipefd[1], "x", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(handled_count[SIGPWR] == ROUNDS);
	CHECK(handled_by[SIGPWR] == reader_tid);
}

int main(void)
{
	directed();
	process_directed();
	interrupted_wait();
	interrupted_read();
	success();
}
