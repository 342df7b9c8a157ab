/* A forking server, snapshotted with its workers: the parent forks three
 * workers, each with a pipe of requests; all answer on one shared pipe.
 * Worker 1 leads a process group of its own. Worker 0 also greets the
 * parent with two messages on a SOCK_SEQPACKET socket pair, which the
 * parent reads only after the snapshot; and every worker counts its
 * answers in one page of shared anonymous memory. The snapshot is taken with
 * answers still in the pipe, unread, and the workers blocked in reads:
 * by the guest itself (`self`: the parent writes /dev/mote-snapshot) or
 * from outside (`wait`: the parent prints "ready" and reads a line from
 * stdin, which the test answers once `mote snapshot` has run; `sleep`:
 * it prints "ready" and sleeps 2 s, for `mote migrate`).
 *
 * Then it sends more work, and checks what a process tree must keep: every
 * answer's pid is the one fork returned, every worker's parent is the
 * parent, waitpid gives each worker's own exit status, worker 1 leads its
 * group and the others are in the parent's. It prints one line, the same
 * in the original and in every restored copy.
 *
 * usage: forkserver self|wait|sleep */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define ITEMS	10

struct answer {
	int w, pid, ppid, n, sq;
};

static long *count; /* answers, in memory all the processes share */

static void worker(int w, int in, int out)
{
	if (w == 1 && setpgid(0, 0) < 0)
		_exit(2);
	int n;
	while (read(in, &n, sizeof(n)) == sizeof(n) && n >= 0) {
		struct answer a = {w, getpid(), getppid(), n, n * n};
		__atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
		if (write(out, &a, sizeof(a)) != sizeof(a))
			_exit(3);
	}
	_exit(10 + w);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int req[WORKERS][2], resp[2], sp[2];
	pid_t pid[WORKERS];
	count = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED || pipe(resp) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
		return 3;
	for (int w = 0; w < WORKERS; w++) {
		if (pipe(req[w]) < 0)
			return 3;
		pid[w] = fork();
		if (pid[w] < 0)
			return 4;
		if (pid[w] == 0) {
			close(resp[0]);
			close(req[w][1]);
			close(sp[0]);
			if (w == 0 && (send(sp[1], "hi", 2, 0) != 2 ||
				       send(sp[1], "there", 5, 0) != 5))
				_exit(4);
			worker(w, req[w][0], resp[1]);
		}
		close(req[w][0]);
	}
	close(resp[1]);
	long sum = 0;
	int bad_pid = 0, got = 0;
	for (int n = 0; n < ITEMS / 2; n++)
		for (int w = 0; w < WORKERS; w++)
			if (write(req[w][1], &n, sizeof(n)) != sizeof(n))
				return 5;
	/* Some answers read, one from each worker at least (worker 1 has
	 * its group then), the rest left in the pipe. */
	struct answer a;
	int seen = 0;
	for (; (got < 9 || seen != 7) &&
	       read(resp[0], &a, sizeof(a)) == sizeof(a);
	     got++) {
		sum += a.sq + a.w;
		bad_pid += a.pid != pid[a.w] || a.ppid != getpid();
		seen |= 1 << (a.w & 3);
	}
	if (!strcmp(argv[1], "self")) {
		int s = open("/dev/mote-snapshot", O_WRONLY);
		if (s < 0 || write(s, "x", 1) != 1) {
			perror("snapshot");
			return 6;
		}
		close(s);
	} else {
		printf("ready\n");
		fflush(stdout);
		char line[16];
		/* sleep: a while for mote migrate to move the tree. */
		if (!strcmp(argv[1], "sleep"))
			sleep(2);
		else if (!fgets(line, sizeof(line), stdin))
			return 7;
	}
	/* Worker 0's greeting: two messages, kept apart. */
	char g1[8] = {0}, g2[8] = {0};
	int greet_ok = recv(sp[0], g1, sizeof(g1), 0) == 2 &&
		       recv(sp[0], g2, sizeof(g2), 0) == 5 &&
		       !strcmp(g1, "hi") && !strcmp(g2, "there");
	/* The workers live, blocked in their reads. */
	int pgid_ok = getpgid(pid[1]) == pid[1] && kill(-pid[1], 0) == 0 &&
		      getpgid(pid[0]) == getpgrp() &&
		      getpgid(pid[2]) == getpgrp();
	for (int n = ITEMS / 2; n <= ITEMS; n++)
		for (int w = 0; w < WORKERS; w++) {
			int v = n < ITEMS ? n : -1;
			if (write(req[w][1], &v, sizeof(v)) != sizeof(v))
				return 5;
		}
	for (; read(resp[0], &a, sizeof(a)) == sizeof(a); got++) {
		sum += a.sq + a.w;
		bad_pid += a.pid != pid[a.w] || a.ppid != getpid();
	}
	int status_ok = 0;
	for (int w = 0; w < WORKERS; w++) {
		int ws;
		status_ok += waitpid(pid[w], &ws, 0) == pid[w] &&
			     WIFEXITED(ws) && WEXITSTATUS(ws) == 10 + w;
	}
	printf("answers %d sum %ld bad-pids %d exits-ok %d pgid-ok %d "
	       "greeting-ok %d shared %ld\n",
	       got, sum, bad_pid, status_ok, pgid_ok, greet_ok,
	       __atomic_load_n(count, __ATOMIC_SEQ_CST));
	return 0;
}
