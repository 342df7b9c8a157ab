/* A file mapping that reaches past the end of its file: the page holding
 * the end reads zeros after it, the pages beyond raise SIGBUS (BUS_ADRERR,
 * si_addr the byte touched), until the file grows; a file shrunk under its
 * mapping, by this process or by another, raises SIGBUS too; a syscall
 * given such a page gets EFAULT. */
// mote-args: --volume @TMP@:/w:rw
// args: /w
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PG 4096L
#define RW (PROT_READ | PROT_WRITE)

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile char sink;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static int faults(char *p, int write)
{
	got_sig = got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(jb, 1))
		return 1;
	if (write)
		*(volatile char *)p = 1;
	else
		sink = *(volatile char *)p;
	return 0;
}

static void expect_bus(char *p, int write)
{
	CHECK(faults(p, write));
	CHECK(got_sig == SIGBUS && got_code == BUS_ADRERR && got_addr == p);
}

static void check(int fd, int type)
{
	CHECK(ftruncate(fd, 0) == 0 && ftruncate(fd, 100) == 0);
	char *p = mmap(NULL, 3 * PG, RW, type, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(!faults(p + 200, 0) && p[200] == 0 && !faults(p + PG - 1, 1));
	expect_bus(p + PG, 0);
	expect_bus(p + 2 * PG + 17, 1);
	/* The kernel refuses such a page as a buffer. */
	CHECK_ERR(write(1, p + PG, 1), EFAULT);
	/* The file grows: the pages are there. */
	CHECK(ftruncate(fd, 3 * PG) == 0);
	CHECK(!faults(p + PG, 0) && !faults(p + 2 * PG + 17, 1));
	/* It shrinks again: they are gone. */
	CHECK(ftruncate(fd, PG) == 0);
	expect_bus(p + 2 * PG, 0);
	expect_bus(p + PG + 5, 1);
	CHECK(!faults(p, 0));
	/* Shrunk by another process: this one learns it at the touch. */
	CHECK(ftruncate(fd, 3 * PG) == 0);
	CHECK(!faults(p + 2 * PG, 0));
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(ftruncate(fd, PG) == 0 ? 0 : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && st == 0);
	expect_bus(p + 2 * PG + 1, 0);
	expect_bus(p + PG, 1);
	CHECK(munmap(p, 3 * PG) == 0);
}

/* With "copy" (tests/suites/mm.sh): a page gone under the mapping given
 * to a syscall whose argument the monitor copies; Linux says EFAULT. */
static void copy(int fd)
{
	CHECK(ftruncate(fd, 2 * PG) == 0);
	char *p = mmap(NULL, 2 * PG, RW, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	strcpy(p + PG, "/tmp");
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(ftruncate(fd, PG) == 0 ? 0 : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && st == 0);
	struct stat sb;
	CHECK_ERR(stat(p + PG, &sb), EFAULT);
	success();
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/short", argc > 1 ? argv[1] : "/w");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (argc > 2 && strcmp(argv[2], "copy") == 0)
		copy(fd);
	check(fd, MAP_SHARED);
	check(fd, MAP_PRIVATE);
	success();
}
