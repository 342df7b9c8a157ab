/* A CPU spin under --timeout 1: mote stops the guest after a second and
 * exits with status 124, like timeout(1). argv[1] says what spins:
 * "main" (the first thread, at CPL 3 with no exits), "thread" (a second
 * thread, the first one blocked in join), "child" (a forked child, the
 * parent blocked in wait), "read" (nothing: blocked in a read nobody
 * answers), "all" (a child, a thread and a blocked first thread).
 * tests/suites/limits.sh runs each with a check that no process is left.
 * Natively: timeout 1 lim_spin.gcc all. */
// mote-args: --timeout 1
// args: all
// expect-status: 124
// expect-stdout: spinning
// expect-stderr: mote: --timeout 1s elapsed: the guest was stopped
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>
#include <stdbool.h>

static void *spin(void *arg)
{
	(void)arg;
	for (volatile unsigned long i = 0;; i++)
		;
	return NULL;
}

static void block(void)
{
	int p[2];
	char c;
	CHECK(pipe(p) == 0);
	printf("spinning\n");
	fflush(stdout);
	CHECK(read(p[0], &c, 1) == 1);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *what = argv[1];
	bool all = !strcmp(what, "all");
	if (!strcmp(what, "main")) {
		printf("spinning\n");
		fflush(stdout);
		spin(NULL);
	}
	if (all || !strcmp(what, "child")) {
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			spin(NULL);
		if (!all) {
			printf("spinning\n");
			fflush(stdout);
			wait_for(pid);
		}
	}
	if (all || !strcmp(what, "thread")) {
		pthread_t th;
		CHECK(pthread_create(&th, NULL, spin, NULL) == 0);
		if (!all) {
			printf("spinning\n");
			fflush(stdout);
			pthread_join(th, NULL);
		}
	}
	block();
	printf("FAIL: the spin ended\n");
	return 1;
}
