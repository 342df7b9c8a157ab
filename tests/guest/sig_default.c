/* Default signal actions seen from the parent's wait: terminate (SIGTERM,
 * SIGUSR1, SIGKILL even when everything else is blocked), core (SIGQUIT, a
 * NULL write's SIGSEGV), ignore (SIGCHLD, SIGURG, SIGWINCH; and SIG_IGN
 * for SIGINT), stop and continue (WUNTRACED / WCONTINUED); SIGPIPE for a
 * write to a pipe without readers, EPIPE when it is ignored; across exec,
 * ignored signals stay ignored, handled ones go back to the default, and
 * the blocked mask is kept. */
#define _GNU_SOURCE
#include "proc.h"

/* A child that reports ready (one byte on `ready`) and then blocks reading
 * `go`; it exits 0 when a byte arrives. setup() runs first in the child. */
static pid_t blocked_child(void (*setup)(void), int go[2])
{
	int ready[2];
	char c;
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		if (setup)
			setup();
		close(go[1]);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 3);
	}
	CHECK(close(ready[1]) == 0 && close(go[0]) == 0);
	CHECK(read(ready[0], &c, 1) == 1);
	CHECK(close(ready[0]) == 0);
	return pid;
}

static void release(pid_t pid, int go[2], int code)
{
	CHECK(write(go[1], "g", 1) == 1);
	wait_exit(pid, code);
	CHECK(close(go[1]) == 0);
}

static void block_all(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
}

static void ignore_int(void)
{
	signal(SIGINT, SIG_IGN);
}

static void terminate(void)
{
	int go[2];
	pid_t pid = blocked_child(NULL, go);
	CHECK(kill(pid, SIGTERM) == 0);
	CHECK(wait_for(pid) == SIGTERM);
	CHECK(close(go[1]) == 0);

	pid = blocked_child(NULL, go);
	CHECK(kill(pid, SIGUSR1) == 0);
	wait_signaled(pid, SIGUSR1);
	CHECK(close(go[1]) == 0);

	pid = blocked_child(block_all, go);
	CHECK(kill(pid, SIGTERM) == 0 && kill(pid, SIGINT) == 0);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_for(pid) == SIGKILL);
	CHECK(close(go[1]) == 0);
}

static void core(void)
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		no_core();
		raise(SIGQUIT);
		_exit(1);
	}
	wait_signaled(pid, SIGQUIT);
	pid = fork_checked();
	if (pid == 0) {
		no_core();
		*(volatile int *volatile)NULL = 1;
		_exit(1);
	}
	wait_signaled(pid, SIGSEGV);
}

static void ignore(void)
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		raise(SIGCHLD);
		raise(SIGURG);
		raise(SIGWINCH);
		_exit(6);
	}
	wait_exit(pid, 6);

	int go[2];
	pid = blocked_child(ignore_int, go);
	CHECK(kill(pid, SIGINT) == 0);
	release(pid, go, 0);
}

static void pipes(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(close(p[0]) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		ssize_t r = write(p[1], "x", 1);
		_exit(r == -1 && errno == EPIPE ? 7 : 8);
	}
	wait_signaled(pid, SIGPIPE);
	CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
	/* Also in a child, which inherits SIG_IGN. */
	pid = fork_checked();
	if (pid == 0) {
		ssize_t r = write(p[1], "x", 1);
		_exit(r == -1 && errno == EPIPE ? 7 : 8);
	}
	wait_exit(pid, 7);
	CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	CHECK(close(p[1]) == 0);
}

/* A child that answers every byte on go[0] with a byte on ack[1] and
 * exits 0 at EOF. */
static pid_t echo_child(int go[2], int ack[2])
{
	CHECK(pipe(go) == 0 && pipe(ack) == 0);
	pid_t pid = fork_checked();
	if (pid == 0) {
		char c;
		close(go[1]);
		close(ack[0]);
		while (read(go[0], &c, 1) == 1)
			if (write(ack[1], &c, 1) != 1)
				_exit(2);
		_exit(0);
	}
	CHECK(close(go[0]) == 0 && close(ack[1]) == 0);
	return pid;
}

static void stop_cont(void)
{
	int go[2], ack[2], st;
	char c;
	pid_t pid = echo_child(go, ack);
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP && st == 0x137f);
	/* A stopped child does not run: no answer comes. */
	CHECK(write(go[1], "g", 1) == 1);
	sleep_ms(50);
	CHECK(fcntl(ack[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(read(ack[0], &c, 1) == -1 && errno == EAGAIN);
	CHECK(waitpid(pid, &st, WNOHANG | WUNTRACED | WCONTINUED) == 0);
	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid);
	CHECK(WIFCONTINUED(st) && st == 0xffff);
	CHECK(fcntl(ack[0], F_SETFL, 0) == 0);
	CHECK(read(ack[0], &c, 1) == 1 && c == 'g');
	CHECK(close(go[1]) == 0);
	wait_exit(pid, 0);
	CHECK(close(ack[0]) == 0);

	/* SIGKILL ends a stopped child. */
	pid = echo_child(go, ack);
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	CHECK(kill(pid, SIGKILL) == 0);
	wait_signaled(pid, SIGKILL);
	CHECK(close(go[1]) == 0 && close(ack[0]) == 0);
}

static void on_term(int sig)
{
	_exit(99);
}

/* Runs `cmd` in busybox sh in a child after setup(); returns the status. */
static int exec_after(void (*setup)(void), const char *cmd)
{
	pid_t pid = fork_checked();
	if (pid == 0) {
		char *argv[] = {BB, "sh", "-c", (char *)cmd, NULL};
		setup();
		execve(BB, argv, test_env);
		_exit(127);
	}
	return wait_for(pid);
}

static void handle_term(void)
{
	signal(SIGTERM, on_term);
}

static void block_term(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static void across_exec(void)
{
	int st = exec_after(ignore_int, "kill -INT $$; exit 4");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4);
	st = exec_after(handle_term, "kill -TERM $$; exit 4");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	st = exec_after(block_term, "kill -TERM $$; exit 4");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4);
}

int main(void)
{
	terminate();
	core();
	ignore();
	pipes();
	stop_cont();
	across_exec();
	success();
}
