/* memfd_create: two shared mappings of one memfd see each other's
 * stores, the fd sees them, a fork's child writes through too, seals. */
#define _GNU_SOURCE
#include "guest.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	int fd = memfd_create("mote-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(ftruncate(fd, 8192) == 0);
	char *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
	strcpy(a, "hello");
	CHECK(strcmp(b, "hello") == 0);
	b[4096] = 'x';
	CHECK(a[4096] == 'x');
	char buf[8] = {0};
	CHECK(pread(fd, buf, 5, 0) == 5 && strcmp(buf, "hello") == 0);
	CHECK(pwrite(fd, "J", 1, 0) == 1 && a[0] == 'J' && b[0] == 'J');
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		a[1] = 'E';
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(b[1] == 'E');
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0);
	CHECK_ERR(ftruncate(fd, 16384), EPERM);
	CHECK(munmap(a, 8192) == 0 && munmap(b, 8192) == 0);
	/* Without sealing allowed, sealing fails. */
	int fd2 = memfd_create("", 0);
	CHECK(fd2 >= 0 && fcntl(fd2, F_GETFD) == 0);
	CHECK_ERR(fcntl(fd2, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	CHECK_ERR(memfd_create(BAD_PTR, 0), EFAULT);
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK_ERR(memfd_create(name, 0), EINVAL);
	CHECK_ERR(memfd_create("x", 0x1000), EINVAL);
	success();
}
