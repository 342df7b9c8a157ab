/* fork and exec in multithreaded processes: fork while other threads run
 * gives a child with the calling thread only; fork from a worker thread
 * resumes the child in that thread's context (its stack and TLS); execve
 * from the main thread or from a worker ends the other threads and keeps
 * the pid. */
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

static __thread long tls_id;
static int block_pipe[2];

/* A thread that stays blocked in read until the process ends. */
static void *blocked(void *arg)
{
	char c;
	read(block_pipe[0], &c, 1);
	return NULL;
}

static volatile int spin_stop;

static void *spinner(void *arg)
{
	while (!spin_stop)
		;
	return NULL;
}

static void fork_beside_threads(void)
{
	pthread_t a, b;
	CHECK(pthread_create(&a, NULL, blocked, NULL) == 0);
	CHECK(pthread_create(&b, NULL, spinner, NULL) == 0);
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork_checked();
		if (pid == 0) {
			/* Only this thread exists: the libc still works. */
			char *p = malloc(1000);
			_exit(p ? 7 : 8);
		}
		wait_exit(pid, 7);
	}
	spin_stop = 1;
	CHECK(pthread_join(b, NULL) == 0);
}

static void *forking_worker(void *arg)
{
	volatile long on_stack = 4242;
	tls_id = 99;
	pid_t parent = getpid();
	pid_t pid = fork_checked();
	if (pid == 0) {
		int ok = tls_id == 99 && on_stack == 4242 &&
			 getppid() == parent && getpid() != parent &&
			 syscall(SYS_gettid) == getpid();
		_exit(ok ? 9 : 10);
	}
	wait_exit(pid, 9);
	return (void *)1;
}

static void fork_from_worker(void)
{
	pthread_t t;
	void *r;
	tls_id = 1;
	CHECK(pthread_create(&t, NULL, forking_worker, NULL) == 0);
	CHECK(pthread_join(t, &r) == 0 && r == (void *)1);
	CHECK(tls_id == 1);
}

static void *exec_worker(void *arg)
{
	char *argv[] = {BB, "sh", "-c", "echo $$; exit 5", NULL};
	execve(BB, argv, test_env);
	_exit(127);
}

/* In a child with a blocked thread: execve from `from_worker` ? a new
 * thread : the main thread. The shell prints its pid, which must be the
 * child's. */
static void exec_in_threaded_child(int from_worker)
{
	int p[2];
	char out[64];
	CHECK(pipe(p) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		pthread_t a, b;
		child_redirect(p[1], 1);
		if (pthread_create(&a, NULL, blocked, NULL))
			_exit(20);
		if (!from_worker)
			exec_worker(NULL);
		if (pthread_create(&b, NULL, exec_worker, NULL))
			_exit(21);
		pthread_join(b, NULL);
		_exit(22);
	}
	CHECK(close(p[1]) == 0);
	read_all(p[0], out, sizeof(out));
	CHECK(close(p[0]) == 0);
	wait_exit(pid, 5);
	CHECK(atoi(out) == pid);
}

int main(void)
{
	CHECK(pipe(block_pipe) == 0);
	fork_beside_threads();
	fork_from_worker();
	exec_in_threaded_child(0);
	exec_in_threaded_child(1);
	success();
}
