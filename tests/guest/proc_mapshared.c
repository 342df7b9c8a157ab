/* Memory across fork: MAP_PRIVATE (and the heap, stack and data) is
 * copied, so a child's writes stay its own; MAP_SHARED | MAP_ANONYMOUS
 * stays shared between parent and child (both ways), and a futex on it
 * (the non-private kind) wakes across the processes. */
#define _GNU_SOURCE
#include "futex.h"
#include "proc.h"
#include <sys/mman.h>

static int data_word = 1;

static void private_copies(void)
{
	char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(priv != MAP_FAILED);
	char *heap = malloc(100);
	CHECK(heap != NULL);
	strcpy(priv, "parent");
	strcpy(heap, "parent");
	pid_t pid = fork_checked();
	if (pid == 0) {
		strcpy(priv, "child");
		strcpy(heap, "child");
		data_word = 2;
		_exit(0);
	}
	wait_exit(pid, 0);
	CHECK(strcmp(priv, "parent") == 0 && strcmp(heap, "parent") == 0);
	CHECK(data_word == 1);
	CHECK(munmap(priv, 4096) == 0);
	free(heap);
}

static void shared(void)
{
	uint32_t *sh = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh[0] = 1;
	sh[1024] = 0;
	pid_t pid = fork_checked();
	if (pid == 0) {
		/* Sees the parent's value, answers in the second page. */
		if (sh[0] != 1)
			_exit(2);
		__atomic_store_n(&sh[1024], 7, __ATOMIC_SEQ_CST);
		/* Then waits (a shared futex) until the parent writes 3 and
		 * wakes it; a lost wake times out. */
		struct timespec ts = {5, 0};
		while (__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST) == 1)
			if (futex(&sh[0], FUTEX_WAIT, 1, &ts, NULL, 0) == -1 &&
			    errno == ETIMEDOUT)
				_exit(4);
		_exit(sh[0] == 3 ? 0 : 3);
	}
	long long t0 = now_ms();
	while (__atomic_load_n(&sh[1024], __ATOMIC_SEQ_CST) != 7) {
		CHECK(now_ms() - t0 < 10000);
		sleep_ms(1);
	}
	sleep_ms(20);
	__atomic_store_n(&sh[0], 3, __ATOMIC_SEQ_CST);
	CHECK(futex(&sh[0], FUTEX_WAKE, 1, NULL, NULL, 0) >= 0);
	wait_exit(pid, 0);
	CHECK(munmap(sh, 8192) == 0);
}

int main(void)
{
	private_copies();
	shared();
	success();
}
