/* Thread exit: a raw clone thread (CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID)
 * ending with the exit call ends only itself, and its clear-tid word is
 * zeroed and woken; set_tid_address; and the main thread leaving with
 * pthread_exit while a worker goes on to finish the process (exit status
 * 0 from the last thread). */
#define _GNU_SOURCE
#include "futex.h"
#include "proc.h"
#include <pthread.h>
#include <sched.h>

static volatile pid_t ptid_word, ctid_word;
static volatile int child_ran;

/* Runs with the parent's TLS (no CLONE_SETTLS): no libc calls here. Its
 * return makes the libc's clone wrapper call exit. */
static int clear_tid_child(void *arg)
{
	child_ran = 1;
	return 0;
}

static void clear_tid(void)
{
	enum { STACK = 64 * 1024 };
	char *stack = malloc(STACK);
	CHECK(stack != NULL);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
		    CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
		    CLONE_CHILD_CLEARTID;
	ctid_word = -1;
	int tid = clone(clear_tid_child, stack + STACK, flags, NULL, &ptid_word,
			NULL, &ctid_word);
	CHECK(tid > 0 && ptid_word == tid);
	long long t0 = now_ms();
	for (;;) {
		pid_t v = ctid_word;
		if (v == 0)
			break;
		CHECK(now_ms() - t0 < 10000);
		struct timespec ts = {0, 100000000};
		futex((void *)&ctid_word, FUTEX_WAIT, (uint32_t)v, &ts, NULL,
		      0);
	}
	CHECK(child_ran);
	free(stack);
}

static void *last_one(void *arg)
{
	pid_t main_pid = (pid_t)(long)arg;
	sleep_ms(100);
	/* The main thread has gone; the process has not. */
	if (getpid() != main_pid)
		return NULL;
	printf("SUCCESS\n");
	fflush(stdout);
	return NULL;
}

int main(void)
{
	pthread_t t;
	/* set_tid_address returns the tid. It is tried in a child: the libc
	 * relies on its own clear-tid address in the main thread. */
	pid_t pid = fork_checked();
	if (pid == 0) {
		long tid = syscall(SYS_set_tid_address, &ctid_word);
		_exit(tid == getpid() ? 0 : 1);
	}
	wait_exit(pid, 0);
	clear_tid();

	CHECK(pthread_create(&t, NULL, last_one, (void *)(long)getpid()) == 0);
	fflush(stdout);
	pthread_exit(NULL);
}
